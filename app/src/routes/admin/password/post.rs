use axum::{
    Extension,
    extract::State,
    response::{IntoResponse, Redirect, Response},
};
use http::StatusCode;

use crate::client_addr::ClientAddr;
use crate::{
    audit::{self, AuditAction, NewEvent},
    auth::{Session, password, sessions, users},
    error::PageError,
    extract::{CsrfForm, HasCsrf},
    pages::{self, admin::password::PasswordModel},
    state::AppState,
};

#[derive(serde::Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    confirm: String,
}

impl HasCsrf for PasswordForm {
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }
}

pub async fn change_password(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    client: ClientAddr,
    CsrfForm(form): CsrfForm<PasswordForm>,
) -> Result<Response, PageError> {
    Ok(match change(&state, &session, client, form).await? {
        Ok(()) => Redirect::to("/admin?notice=password-changed").into_response(),
        Err(message) => {
            let model = PasswordModel {
                staff: (&session).into(),
                must_change: session.user.must_change_password,
                error: Some(message),
            };
            pages::render("/admin/password", StatusCode::UNPROCESSABLE_ENTITY, pages::admin::password::page(model))
                .await
        }
    })
}

/// `Ok(Err(msg))`: the person must fix their input.
async fn change(
    state: &AppState,
    session: &Session,
    client: ClientAddr,
    form: PasswordForm,
) -> Result<Result<(), String>, PageError> {
    let stored = users::password_hash(&state.pool, session.user.id).await?.ok_or(PageError::NotFound)?;
    let current = form.current.clone();
    let ok = state.cpu.run(move || password::verify(&current, &stored)).await?;
    if !ok {
        return Ok(Err("The current password is not right.".into()));
    }
    if form.new != form.confirm {
        return Ok(Err("The two new passwords differ.".into()));
    }
    if let Err(rule) = password::check_new(&form.current, &form.new) {
        return Ok(Err(rule.to_string()));
    }
    let new = form.new;
    let hash = state.cpu.run(move || password::hash(&new)).await?;
    let mut tx = state.pool.begin().await?;
    users::set_password(&mut tx, session.user.id, &hash, false).await?;
    let ended = sessions::end_others(&mut tx, session.user.id, &session.token_hash).await?;
    audit::append(
        &mut tx,
        NewEvent {
            actor: session.actor(),
            action: AuditAction::PasswordChanged,
            subject: format!("user:{}", session.user.email),
            details: serde_json::json!({
                "was_one_time": session.user.must_change_password,
                "other_sessions_ended": ended,
            }),
            client_addr: client.0.into(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(()))
}
