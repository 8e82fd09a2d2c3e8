use axum::{
    Extension,
    extract::{Query, State},
    response::Response,
};
use http::StatusCode;

use crate::{
    auth::Session,
    error::PageError,
    pages::{self, admin::doctor::DoctorModel},
    state::AppState,
    support::doctor::{self, Fix},
};

#[derive(serde::Deserialize)]
pub struct DoctorQuery {
    fixed: Option<String>,
    unchanged: Option<String>,
}

pub async fn doctor(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Query(q): Query<DoctorQuery>,
) -> Result<Response, PageError> {
    let decommissioned = crate::gate::decommissioned(&state.pool).await?;
    let (_, _, checks) = doctor::run(&state.support, decommissioned).await?;
    let notice = match (q.fixed.as_deref().and_then(Fix::parse), q.unchanged.as_deref().and_then(Fix::parse)) {
        (Some(f), _) => Some(format!("Applied the fix {f}. The checks below ran again afterwards.")),
        (_, Some(f)) => Some(format!("The fix {f} had nothing to change.")),
        _ => None,
    };
    let m = DoctorModel { staff: (&session).into(), notice, checks };
    Ok(pages::render("/admin/doctor", StatusCode::OK, pages::admin::doctor::page(m)).await)
}
