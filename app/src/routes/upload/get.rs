use axum::{extract::State, response::Response};
use http::StatusCode;

use crate::{pages, state::AppState};

pub async fn upload_form(State(state): State<AppState>) -> Response {
    let max_mb = state.limits.max_bytes / (1024 * 1024);
    pages::render("/", StatusCode::OK, pages::upload::page(max_mb)).await
}
