use axum::{
    Extension, Form,
    extract::{Path, State, rejection::FormRejection},
    response::{IntoResponse, Redirect, Response},
};

use crate::client_addr::ClientAddr;
use crate::{
    auth::{Session, accounts},
    error::PageError,
    routes::admin::{CsrfOnly, checked_form},
    state::AppState,
};

pub async fn disable_account(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    client: ClientAddr,
    Path(id): Path<String>,
    form: Result<Form<CsrfOnly>, FormRejection>,
) -> Response {
    let result: Result<(), PageError> = async {
        checked_form(&session, form)?;
        let id = uuid::Uuid::parse_str(&id).map_err(|_| PageError::NotFound)?;
        accounts::disable(&state.pool, id, &session.actor(), Some(session.user.id), &client.to_string()).await?;
        Ok(())
    }
    .await;
    match result {
        Ok(()) => Redirect::to("/admin/users").into_response(),
        Err(e) => e.into_page("/admin/users").await,
    }
}
