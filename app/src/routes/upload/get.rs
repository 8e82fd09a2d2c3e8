use axum::{extract::State, response::Response};
use http::StatusCode;

use crate::{
    error::PageError,
    gate::{self, UploadGate},
    pages,
    state::AppState,
};

pub async fn upload_form(State(state): State<AppState>) -> Result<Response, PageError> {
    match gate::upload_gate(&state.pool).await? {
        UploadGate::Open => {}
        gate => return Ok(pages::render("/", StatusCode::OK, pages::closure::page(gate)).await),
    }
    let max_mb = state.limits.max_bytes / (1024 * 1024);
    Ok(pages::render("/", StatusCode::OK, pages::upload::page(max_mb, state.uploads.max_files)).await)
}

/// Once Easel is decommissioned (its data destroyed), the merchant pages that
/// would show artworks show the closure notice instead of broken images.
pub async fn closure_notice(state: &AppState, path: &str) -> Result<Option<Response>, PageError> {
    Ok(match gate::upload_gate(&state.pool).await? {
        UploadGate::Closed => Some(pages::render(path, StatusCode::OK, pages::closure::page(UploadGate::Closed)).await),
        _ => None,
    })
}
