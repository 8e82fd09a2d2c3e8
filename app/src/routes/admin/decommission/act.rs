use axum::response::{IntoResponse, Redirect, Response};

use super::{PAGE, get::model};
use crate::{
    auth::Session,
    decommission::DecommissionError,
    error::PageError,
    pages::{self, admin::StaffView},
    state::AppState,
};

/// Back to the page when the action worked. When the procedure refused it
/// (bad input, a step out of turn), the page again with the reason beside
/// what can be done instead, under the status `error.rs` gives the refusal.
pub async fn answer(
    state: &AppState,
    session: &Session,
    result: Result<(), DecommissionError>,
) -> Result<Response, PageError> {
    let refused = match result {
        Ok(()) => return Ok(Redirect::to(PAGE).into_response()),
        Err(e) => PageError::from(e),
    };
    let (PageError::BadRequest(reason) | PageError::Conflict(reason)) = &refused else {
        return Err(refused);
    };
    let m = model(state, StaffView::from(session), Some(reason.clone())).await?;
    Ok(pages::render(PAGE, refused.status(), pages::admin::decommission::page(m)).await)
}
