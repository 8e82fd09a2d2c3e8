use axum::{
    Extension, Form,
    body::Bytes,
    extract::{Path, State, rejection::FormRejection},
    response::{IntoResponse, Redirect, Response},
};
use easel_resizer::keys::ArtworkId;

use crate::client_addr::ClientAddr;
use crate::{
    auth::Session,
    error::PageError,
    routes::admin::{CsrfOnly, checked_form},
    state::AppState,
    support::stuck,
};

/// The most uploads one bulk "resize again" sends (the page lists at most
/// that many).
const MAX_BULK: usize = 200;

async fn resize(state: &AppState, session: &Session, client: ClientAddr, ids: &[ArtworkId]) -> Response {
    let result = stuck::resize_again(&state.pool, &state.support, ids, &session.actor(), &client.to_string()).await;
    match result {
        Ok(keys) => Redirect::to(&format!("/admin/uploads?requested={}", keys.len())).into_response(),
        Err(e) => PageError::from(e).into_page("/admin/uploads").await,
    }
}

pub async fn resize_one(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    client: ClientAddr,
    Path(id): Path<String>,
    form: Result<Form<CsrfOnly>, FormRejection>,
) -> Response {
    if let Err(e) = checked_form(&session, form) {
        return e.into_page("/admin/uploads").await;
    }
    let Ok(id) = ArtworkId::parse(&id) else {
        return PageError::NotFound.into_page("/admin/uploads").await;
    };
    resize(&state, &session, client, &[id]).await
}

/// The bulk form repeats `ids`, which a struct form cannot hold, so the
/// body is read as pairs and its CSRF token checked here.
pub async fn resize_selected(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    client: ClientAddr,
    body: Bytes,
) -> Response {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let csrf = pairs.iter().find(|(k, _)| k == "csrf").map(|(_, v)| v.as_str());
    if !session.csrf_matches(csrf) {
        return PageError::CsrfRejected.into_page("/admin/uploads").await;
    }
    let ids: Result<Vec<ArtworkId>, _> =
        pairs.iter().filter(|(k, _)| k == "ids").map(|(_, v)| ArtworkId::parse(v)).collect();
    let refuse = |msg: String| PageError::BadRequest(msg).into_page("/admin/uploads");
    match ids {
        Ok(ids) if ids.len() > MAX_BULK => {
            refuse(format!("Select at most {MAX_BULK} uploads at a time ({} were selected).", ids.len())).await
        }
        Ok(ids) if !ids.is_empty() => resize(&state, &session, client, &ids).await,
        Ok(_) => refuse("Select at least one upload to resize again.".into()).await,
        Err(_) => refuse("The form named an upload id that is not valid.".into()).await,
    }
}
