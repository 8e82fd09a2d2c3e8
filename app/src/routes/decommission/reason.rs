use axum::{
    extract::{Path, State},
    response::Response,
};

use crate::{
    decommission::{DecommissionError, procedure, repo},
    error::PageError,
    state::AppState,
};

/// The request's reason document, for anyone holding a live link to it.
pub async fn reason_document(State(state): State<AppState>, Path(token): Path<String>) -> Result<Response, PageError> {
    let found = async {
        let view = procedure::view_link(&state.decommissioning(), &token).await?;
        repo::reason_pdf(&state.pool, view.decommission.id).await?.ok_or(DecommissionError::NotFound)
    }
    .await;
    let (_, bytes) = found.map_err(PageError::from_link)?;
    Ok(crate::routes::admin::decommission::pdf_response(bytes))
}
