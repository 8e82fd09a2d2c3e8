use axum::{
    extract::{Path, State},
    response::Response,
};

use super::refusal;
use crate::{
    decommission::{DecommissionError, procedure, repo},
    state::AppState,
};

/// The request's reason document, for anyone holding a live link to it.
pub async fn reason_document(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let path = "/decommission/link/reason.pdf";
    let found = async {
        let view = procedure::view_link(&state.decommissioning(), &token).await?;
        repo::reason_pdf(&state.pool, view.decommission.id).await?.ok_or(DecommissionError::NotFound)
    }
    .await;
    match found {
        Ok((_, bytes)) => crate::routes::admin::decommission::pdf_response(bytes),
        Err(e) => refusal(path, e).await,
    }
}
