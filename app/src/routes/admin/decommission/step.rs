//! `POST /admin/decommission/{id}/{archive|destroy|notify}`: the steps whose
//! form carries nothing but its CSRF token.

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

/// The steps taken by a bare form; any other word names no page.
#[derive(serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Step {
    Archive,
    Destroy,
    Notify,
}

pub async fn take_step(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    client: ClientAddr,
    PathOr404((DecommissionId(id), step)): PathOr404<(DecommissionId, Step)>,
    CsrfForm(_): CsrfForm<CsrfOnly>,
) -> Result<Response, PageError> {
    let (actor, addr, services) = (session.actor(), client.0, state.decommissioning());
    let result = match step {
        Step::Archive => procedure::start_archive(&services, id, &actor, addr).await,
        Step::Destroy => procedure::destroy(&services, id, &actor, addr).await,
        Step::Notify => procedure::notify_completion(&services, id, &actor, addr).await,
    };
    answer(&state, &session, result).await
}
