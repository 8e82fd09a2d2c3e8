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
    decommission::procedure,
    routes::admin::{CsrfOnly, checked_form},
    state::AppState,
};

/// A new link for one stakeholder; the old one stops working.
pub async fn resend_link(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    client: ClientAddr,
    Path((id, stakeholder)): Path<(String, String)>,
    form: Result<Form<CsrfOnly>, FormRejection>,
) -> Response {
    if let Err(e) = checked_form(&session, form) {
        return e.into_page(PAGE).await;
    }
    let addr = client.to_string();
    let result = async {
        procedure::resend(&state.decommissioning(), parse_id(&id)?, parse_id(&stakeholder)?, &session.actor(), &addr)
            .await
    }
    .await;
    answer(&state, &session, result).await
}

/// A message the outbox gave up on (or is still retrying), queued again.
pub async fn send_mail_again(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    client: ClientAddr,
    Path((id, mail)): Path<(String, String)>,
    form: Result<Form<CsrfOnly>, FormRejection>,
) -> Response {
    if let Err(e) = checked_form(&session, form) {
        return e.into_page(PAGE).await;
    }
    let addr = client.to_string();
    let result = async {
        let mail: i64 = mail.parse().map_err(|_| crate::decommission::DecommissionError::NotFound)?;
        procedure::send_mail_again(&state.decommissioning(), parse_id(&id)?, mail, &session.actor(), &addr).await
    }
    .await;
    answer(&state, &session, result).await
}
