use axum::{
    Extension, Form,
    extract::{State, rejection::FormRejection},
    response::{IntoResponse, Redirect, Response},
};
use http::header;

use super::{CsrfOnly, checked_form};
use crate::client_addr::ClientAddr;
use crate::{
    audit::{self, AuditAction, NewEvent},
    auth::{
        Session,
        sessions::{self, COOKIE},
    },
    error::PageError,
    state::AppState,
};

pub async fn sign_out(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    client: ClientAddr,
    form: Result<Form<CsrfOnly>, FormRejection>,
) -> Response {
    let result: Result<(), PageError> = async {
        checked_form(&session, form)?;
        let mut tx = state.pool.begin().await?;
        sessions::delete(&mut tx, &session.token_hash).await?;
        audit::append(
            &mut tx,
            NewEvent {
                actor: session.actor(),
                action: AuditAction::SignedOut,
                subject: format!("user:{}", session.user.email),
                details: serde_json::json!({}),
                client_addr: client.to_string(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
    .await;
    match result {
        Ok(()) => {
            let clear = sessions::set_cookie(COOKIE, None, "/", state.auth.sessions.secure_cookie);
            ([(header::SET_COOKIE, clear)], Redirect::to("/admin/login")).into_response()
        }
        Err(e) => e.into_page("/admin/logout").await,
    }
}
