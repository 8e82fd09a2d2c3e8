use axum::{
    Extension,
    extract::State,
    response::{IntoResponse, Redirect, Response},
};
use uuid::Uuid;

use crate::client_addr::ClientAddr;
use crate::{
    auth::{Session, accounts},
    error::PageError,
    extract::{CsrfForm, CsrfOnly, PathOr404},
    state::AppState,
};

pub async fn disable_account(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    client: ClientAddr,
    PathOr404(id): PathOr404<Uuid>,
    CsrfForm(_): CsrfForm<CsrfOnly>,
) -> Result<Response, PageError> {
    accounts::disable(&state.pool, id, &session.actor(), Some(session.user.id), client.0.into()).await?;
    Ok(Redirect::to("/admin/users").into_response())
}
