use axum::{
    Extension,
    extract::{Query, State},
    response::Response,
};
use http::StatusCode;

use crate::{
    artworks::orphans,
    auth::Session,
    error::PageError,
    pages::{self, admin::stuck::StuckModel},
    state::AppState,
    support::stuck,
};

#[derive(serde::Deserialize)]
pub struct StuckQuery {
    requested: Option<usize>,
}

pub async fn stuck_uploads(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Query(q): Query<StuckQuery>,
) -> Result<Response, PageError> {
    let uploads = stuck::list(&state.pool, &state.support).await?;
    let missing = orphans::missing_originals(&state.pool).await?;
    let swept = orphans::recently_removed(&state.pool, 20).await?;
    let m = StuckModel {
        staff: (&session).into(),
        notice: q.requested.map(|n| {
            format!("Sent {n} upload(s) to the resizer again. Renditions appear within seconds if it succeeds.")
        }),
        stuck_after_secs: state.support.stuck_after.as_secs(),
        uploads,
        missing,
        swept,
    };
    Ok(pages::render("/admin/uploads", StatusCode::OK, pages::admin::stuck::page(m)).await)
}
