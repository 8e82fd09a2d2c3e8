use axum::{
    Extension, Form,
    extract::{Path, State, rejection::FormRejection},
    response::Response,
};
use http::StatusCode;

use crate::client_addr::ClientAddr;
use crate::{
    auth::{Session, accounts},
    error::PageError,
    pages,
    routes::admin::{CsrfOnly, checked_form},
    state::AppState,
};

pub async fn reset_account(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    client: ClientAddr,
    Path(id): Path<String>,
    form: Result<Form<CsrfOnly>, FormRejection>,
) -> Response {
    let result: Result<(String, String), PageError> = async {
        checked_form(&session, form)?;
        let id = uuid::Uuid::parse_str(&id).map_err(|_| PageError::NotFound)?;
        let (user, otp) =
            accounts::reset_password(&state.pool, id, &session.actor(), Some(session.user.id), &client.to_string())
                .await?;
        Ok((user.email.to_string(), otp))
    }
    .await;
    match result {
        Ok((email, otp)) => {
            pages::render(
                "/admin/users",
                StatusCode::OK,
                pages::admin::users::one_time_password_page((&session).into(), email, otp),
            )
            .await
        }
        Err(e) => e.into_page("/admin/users").await,
    }
}
