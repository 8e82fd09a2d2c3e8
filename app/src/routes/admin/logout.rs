use axum::{
    Extension,
    extract::State,
    response::{IntoResponse, Redirect, Response},
};
use http::header;

use crate::client_addr::ClientAddr;
use crate::{
    audit::{self, AuditAction, NewEvent},
    auth::{
        Session,
        sessions::{self, COOKIE},
    },
    error::PageError,
    extract::{CsrfForm, CsrfOnly},
    state::AppState,
};

pub async fn sign_out(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    client: ClientAddr,
    CsrfForm(_): CsrfForm<CsrfOnly>,
) -> Result<Response, PageError> {
    end_sessions(&state, &session, client, Scope::ThisSession).await
}

/// "Sign out everywhere": ends every session of this account, this one
/// too, so a cookie copied elsewhere stops working at once.
pub async fn sign_out_everywhere(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    client: ClientAddr,
    CsrfForm(_): CsrfForm<CsrfOnly>,
) -> Result<Response, PageError> {
    end_sessions(&state, &session, client, Scope::Everywhere).await
}

#[derive(Clone, Copy)]
enum Scope {
    ThisSession,
    Everywhere,
}

async fn end_sessions(
    state: &AppState,
    session: &Session,
    client: ClientAddr,
    scope: Scope,
) -> Result<Response, PageError> {
    let mut tx = state.pool.begin().await?;
    let details = match scope {
        Scope::ThisSession => {
            sessions::delete(&mut tx, &session.token_hash).await?;
            serde_json::json!({})
        }
        Scope::Everywhere => {
            let ended = sessions::end_all(&mut tx, session.user.id).await?;
            serde_json::json!({ "everywhere": true, "sessions_ended": ended })
        }
    };
    audit::append(
        &mut tx,
        NewEvent {
            actor: session.actor(),
            action: AuditAction::SignedOut,
            subject: format!("user:{}", session.user.email),
            details,
            client_addr: client.0.into(),
        },
    )
    .await?;
    tx.commit().await?;
    let clear = sessions::set_cookie(COOKIE, None, "/", state.auth.sessions.secure_cookie);
    Ok(([(header::SET_COOKIE, clear)], Redirect::to("/admin/login")).into_response())
}
