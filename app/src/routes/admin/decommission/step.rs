//! `POST /admin/decommission/{id}/{archive|destroy|notify}`: the steps whose
//! form carries nothing but its CSRF token.

use axum::{
    Extension, Form,
    extract::{Path, State, rejection::FormRejection},
    response::Response,
};

use super::{
    PAGE,
    act::{answer, parse_id},
};
use crate::client_addr::ClientAddr;
use crate::{
    auth::Session,
    decommission::{DecommissionError, procedure},
    error::PageError,
    routes::admin::{CsrfOnly, checked_form},
    state::AppState,
};

pub async fn take_step(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    client: ClientAddr,
    Path((id, action)): Path<(String, String)>,
    form: Result<Form<CsrfOnly>, FormRejection>,
) -> Response {
    if !["archive", "destroy", "notify"].contains(&action.as_str()) {
        return PageError::NotFound.into_page(PAGE).await;
    }
    if let Err(e) = checked_form(&session, form) {
        return e.into_page(PAGE).await;
    }
    let (actor, addr) = (session.actor(), client.to_string());
    let result = async {
        let id = parse_id(&id)?;
        match action.as_str() {
            "archive" => procedure::start_archive(&state.decommissioning(), id, &actor, &addr).await,
            "destroy" => procedure::destroy(&state.decommissioning(), id, &actor, &addr).await,
            "notify" => procedure::notify_completion(&state.decommissioning(), id, &actor, &addr).await,
            _ => Err(DecommissionError::NotFound),
        }
    }
    .await;
    answer(&state, &session, result).await
}
