use axum::{Extension, extract::State, response::Response};
use http::StatusCode;
use time::OffsetDateTime;

use crate::{
    auth::Session,
    error::PageError,
    pages::{self, admin::backups::BackupsModel},
    state::AppState,
    support::backups,
};

pub async fn backups(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
) -> Result<Response, PageError> {
    let comparison = backups::verify(&state.support).await.map_err(PageError::from_aws_work)?;
    let now = OffsetDateTime::now_utc();
    let runs = backups::recent_runs(&state.pool, 10).await?.into_iter().map(|r| {
        let s = r.state(now);
        (r, s)
    });
    let m = BackupsModel {
        staff: (&session).into(),
        resized: state.buckets().resized.to_string(),
        backup: state.buckets().backup.to_string(),
        comparison,
        runs: runs.collect(),
    };
    Ok(pages::render("/admin/backups", StatusCode::OK, pages::admin::backups::page(m)).await)
}
