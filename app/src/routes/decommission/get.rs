use axum::{
    extract::{Path, State},
    response::Response,
};
use http::StatusCode;

use super::refusal;
use crate::{decommission::procedure, pages, state::AppState};

pub async fn confirm_page(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let path = "/decommission/link";
    match procedure::view_link(&state.decommissioning(), &token).await {
        Ok(view) => pages::render(path, StatusCode::OK, pages::decommission::link_page(view, token)).await,
        Err(e) => refusal(path, e).await,
    }
}
