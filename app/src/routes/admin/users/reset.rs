use axum::{Extension, extract::State, response::Response};
use http::StatusCode;
use uuid::Uuid;

use crate::client_addr::ClientAddr;
use crate::{
    auth::{Session, accounts},
    error::PageError,
    extract::{CsrfForm, CsrfOnly, PathOr404},
    pages,
    state::AppState,
};

pub async fn reset_account(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    client: ClientAddr,
    PathOr404(id): PathOr404<Uuid>,
    CsrfForm(_): CsrfForm<CsrfOnly>,
) -> Result<Response, PageError> {
    let (user, otp) =
        accounts::reset_password(&state.pool, id, &session.actor(), Some(session.user.id), client.0.into()).await?;
    let page = pages::admin::users::one_time_password_page((&session).into(), user.email.to_string(), otp);
    Ok(pages::render("/admin/users", StatusCode::OK, page).await)
}
