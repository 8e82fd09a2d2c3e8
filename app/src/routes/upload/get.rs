use axum::{extract::State, response::Response};
use http::StatusCode;

use crate::{
    error::PageError,
    gate::{self, UploadGate},
    pages,
    state::AppState,
};

pub async fn upload_form(State(state): State<AppState>) -> Response {
    match gate::upload_gate(&state.pool).await {
        Ok(UploadGate::Open) => {}
        Ok(gate) => return pages::render("/", StatusCode::OK, pages::closure::page(gate)).await,
        Err(e) => return PageError::from(e).into_page("/").await,
    }
    let max_mb = state.limits.max_bytes / (1024 * 1024);
    pages::render("/", StatusCode::OK, pages::upload::page(max_mb)).await
}

/// Once Easel is decommissioned (its data destroyed), the merchant pages that
/// would show artworks show the closure notice instead of broken images.
pub async fn closure_notice(state: &AppState, path: &str) -> Option<Response> {
    match gate::upload_gate(&state.pool).await {
        Ok(UploadGate::Closed) => {
            Some(pages::render(path, StatusCode::OK, pages::closure::page(UploadGate::Closed)).await)
        }
        Ok(_) => None,
        Err(e) => Some(PageError::from(e).into_page(path).await),
    }
}
