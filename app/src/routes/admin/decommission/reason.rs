use axum::{
    extract::{Path, State},
    response::{IntoResponse, Response},
};

use super::{PAGE, act::parse_id};
use crate::{decommission::repo, error::PageError, state::AppState};

/// The reason document, as uploaded with the request.
pub async fn reason_pdf(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let found = async {
        let id = parse_id(&id).map_err(|_| PageError::NotFound)?;
        repo::reason_pdf(&state.pool, id).await?.ok_or(PageError::NotFound)
    }
    .await;
    match found {
        Ok((_, bytes)) => pdf_response(bytes),
        Err(e) => e.into_page(PAGE).await,
    }
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
