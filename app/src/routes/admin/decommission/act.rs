use axum::response::{IntoResponse, Redirect, Response};
use http::StatusCode;

use super::{PAGE, get::model};
use crate::{
    auth::Session,
    decommission::DecommissionError,
    error::PageError,
    pages::{self, admin::StaffView},
    state::AppState,
};

/// Back to the page when the action worked; the page again, with the reason,
/// when the procedure refused it.
pub async fn answer(state: &AppState, session: &Session, result: Result<(), DecommissionError>) -> Response {
    let status = match &result {
        Ok(()) => return Redirect::to(PAGE).into_response(),
        Err(DecommissionError::Invalid(_)) => StatusCode::BAD_REQUEST,
        Err(DecommissionError::Transition(_) | DecommissionError::AlreadyOpen) => StatusCode::CONFLICT,
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let e = result.expect_err("handled above");
    if status.is_server_error() {
        return PageError::from(e).into_page(PAGE).await;
    }
    match model(state, StaffView::from(session), Some(e.to_string())).await {
        Ok(m) => pages::render(PAGE, status, pages::admin::decommission::page(m)).await,
        Err(e) => e.into_page(PAGE).await,
    }
}

pub fn parse_id(id: &str) -> Result<uuid::Uuid, DecommissionError> {
    uuid::Uuid::parse_str(id).map_err(|_| DecommissionError::NotFound)
}
