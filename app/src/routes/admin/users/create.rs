use axum::{
    Extension, Form,
    extract::{State, rejection::FormRejection},
    response::Response,
};
use http::StatusCode;

use crate::client_addr::ClientAddr;
use crate::{
    auth::{Email, Role, Session, accounts},
    error::PageError,
    pages,
    routes::admin::{HasCsrf, checked_form},
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
    form: Result<Form<NewAccountForm>, FormRejection>,
) -> Response {
    let result: Result<(String, String), PageError> = async {
        let form = checked_form(&session, form)?;
        let email = Email::parse(&form.email).map_err(|e| PageError::BadRequest(format!("{e}.")))?;
        let role =
            Role::parse(&form.role).ok_or_else(|| PageError::BadRequest("Choose the role admin or support.".into()))?;
        let (user, otp) = accounts::create(&state.pool, &email, role, &session.actor(), &client.to_string()).await?;
        Ok((user.email.to_string(), otp))
    }
    .await;
    match result {
        Ok((email, otp)) => {
            let page = pages::admin::users::one_time_password_page((&session).into(), email, otp);
            pages::render("/admin/users", StatusCode::CREATED, page).await
        }
        Err(e) => e.into_page("/admin/users").await,
    }
}
