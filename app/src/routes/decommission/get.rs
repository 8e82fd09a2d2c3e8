use axum::{
    extract::{Path, State},
    response::Response,
};
use http::StatusCode;

use crate::{decommission::procedure, error::PageError, pages, state::AppState};

pub async fn confirm_page(State(state): State<AppState>, Path(token): Path<String>) -> Result<Response, PageError> {
    let view = procedure::view_link(&state.decommissioning(), &token).await.map_err(PageError::from_link)?;
    Ok(pages::render("/decommission/link", StatusCode::OK, pages::decommission::link_page(view, token)).await)
}
