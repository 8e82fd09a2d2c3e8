use axum::{Extension, extract::State, response::Response};
use http::StatusCode;

use crate::client_addr::ClientAddr;
use crate::{
    auth::{Email, Role, Session, accounts},
    error::PageError,
    extract::{CsrfForm, HasCsrf},
    pages,
    state::AppState,
};

#[derive(serde::Deserialize)]
pub struct NewAccountForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
}

impl HasCsrf for NewAccountForm {
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }
}

pub async fn create_account(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    client: ClientAddr,
    CsrfForm(form): CsrfForm<NewAccountForm>,
) -> Result<Response, PageError> {
    let email = Email::parse(&form.email).map_err(|e| PageError::BadRequest(format!("{e}.")))?;
    let role =
        Role::parse(&form.role).ok_or_else(|| PageError::BadRequest("Choose the role admin or support.".into()))?;
    let (user, otp) = accounts::create(&state.pool, &email, role, &session.actor(), client.0.into()).await?;
    let page = pages::admin::users::one_time_password_page((&session).into(), user.email.to_string(), otp);
    Ok(pages::render("/admin/users", StatusCode::CREATED, page).await)
}
