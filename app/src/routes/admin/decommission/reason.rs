use axum::{
    extract::State,
    response::{IntoResponse, Response},
};

use crate::{
    decommission::{DecommissionId, repo},
    error::PageError,
    extract::PathOr404,
    state::AppState,
};

/// The reason document, as uploaded with the request.
pub async fn reason_pdf(
    State(state): State<AppState>,
    PathOr404(DecommissionId(id)): PathOr404<DecommissionId>,
) -> Result<Response, PageError> {
    let (_, bytes) = repo::reason_pdf(&state.pool, id).await?.ok_or(PageError::NotFound)?;
    Ok(pdf_response(bytes))
}

/// The reason document as a download (never rendered inline on our origin).
pub fn pdf_response(bytes: Vec<u8>) -> Response {
    (
        [
            (http::header::CONTENT_TYPE, "application/pdf"),
            (http::header::CONTENT_DISPOSITION, "attachment; filename=\"reason.pdf\""),
        ],
        bytes,
    )
        .into_response()
}
