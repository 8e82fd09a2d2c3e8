use axum::{Extension, extract::State, response::Response};

use super::act::answer;
use crate::client_addr::ClientAddr;
use crate::{
    auth::Session,
    decommission::{DecommissionId, procedure},
    error::PageError,
    extract::{CsrfForm, CsrfOnly, PathOr404},
    state::AppState,
};

/// A new link for one stakeholder; the old one stops working.
pub async fn resend_link(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    client: ClientAddr,
    PathOr404((DecommissionId(id), stakeholder)): PathOr404<(DecommissionId, uuid::Uuid)>,
    CsrfForm(_): CsrfForm<CsrfOnly>,
) -> Result<Response, PageError> {
    let (actor, addr) = (session.actor(), client.0);
    let result = procedure::resend(&state.decommissioning(), id, stakeholder, &actor, addr).await;
    answer(&state, &session, result).await
}

/// A message the outbox gave up on (or is still retrying), queued again.
pub async fn send_mail_again(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    client: ClientAddr,
    PathOr404((DecommissionId(id), mail)): PathOr404<(DecommissionId, i64)>,
    CsrfForm(_): CsrfForm<CsrfOnly>,
) -> Result<Response, PageError> {
    let (actor, addr) = (session.actor(), client.0);
    let result = procedure::send_mail_again(&state.decommissioning(), id, mail, &actor, addr).await;
    answer(&state, &session, result).await
}
