use axum::{
    Extension,
    extract::{Query, State, rejection::QueryRejection},
    response::Response,
};
use http::StatusCode;

use super::filter_from;
use crate::{
    audit,
    auth::Session,
    error::PageError,
    pages::{
        self,
        admin::audit::{AuditModel, AuditQuery},
    },
    state::AppState,
};

pub const PER_PAGE: i64 = 50;

pub async fn audit_list(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    let Query(q) = query.map_err(|_| PageError::BadRequest("That audit filter is not valid.".into()))?;
    let filter = filter_from(&q)?;
    let mut rows = audit::list(&state.pool, &filter, q.before, PER_PAGE + 1).await?;
    let older = (rows.len() as i64 > PER_PAGE).then(|| {
        rows.truncate(PER_PAGE as usize);
        let next = AuditQuery { before: rows.last().map(|r| r.id), ..q.clone() };
        format!("/admin/audit?{}", serde_urlencoded::to_string(&next).unwrap_or_default())
    });
    let export_query = serde_urlencoded::to_string(AuditQuery { before: None, ..q.clone() }).unwrap_or_default();
    let m = AuditModel {
        staff: (&session).into(),
        verdict: audit::anchor::verify_recent(&state.pool, state.audit_key.as_ref()).await?,
        query: q,
        rows,
        older,
        export_query,
    };
    Ok(pages::render("/admin/audit", StatusCode::OK, pages::admin::audit::page(m)).await)
}
