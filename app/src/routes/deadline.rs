//! The page deadline (`EASEL_PAGE_DEADLINE_MS`): the backstop behind each
//! dependency's own timeout (`crate::deadlines`). A page still waiting when
//! it passes is dropped, which rolls back its open transaction, and the
//! browser gets the 503 page instead of a hang.

use axum::{
    extract::{Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::{
    error::{PageError, Unavailable},
    state::AppState,
};

pub async fn page_deadline(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    match tokio::time::timeout(state.deadlines.page, next.run(req)).await {
        Ok(res) => res,
        Err(_) => {
            tracing::warn!(path, deadline_ms = state.deadlines.page.as_millis() as u64, "page deadline passed");
            PageError::Unavailable(Unavailable::Slow).into_response()
        }
    }
}
