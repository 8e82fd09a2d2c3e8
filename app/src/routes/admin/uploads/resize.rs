use axum::{Extension, extract::State, response::Redirect};
use easel_resizer::keys::ArtworkId;

use crate::client_addr::ClientAddr;
use crate::{
    auth::Session,
    error::PageError,
    extract::{CsrfForm, CsrfOnly, HasCsrf, PathOr404},
    state::AppState,
    support::stuck,
};

/// The most uploads one bulk "resize again" sends (the page lists at most
/// that many).
const MAX_BULK: usize = 200;

async fn resize(
    state: &AppState,
    session: &Session,
    client: ClientAddr,
    ids: &[ArtworkId],
) -> Result<Redirect, PageError> {
    let keys = stuck::resize_again(&state.pool, &state.support, ids, &session.actor(), client.0.into()).await?;
    Ok(Redirect::to(&format!("/admin/uploads?requested={}", keys.len())))
}

pub async fn resize_one(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    client: ClientAddr,
    PathOr404(id): PathOr404<ArtworkId>,
    CsrfForm(_): CsrfForm<CsrfOnly>,
) -> Result<Redirect, PageError> {
    resize(&state, &session, client, &[id]).await
}

/// The bulk form repeats `ids`, which a struct form cannot hold, so the
/// body is read as its pairs.
#[derive(serde::Deserialize)]
#[serde(transparent)]
pub struct BulkForm {
    pairs: Vec<(String, String)>,
}

impl HasCsrf for BulkForm {
    fn csrf(&self) -> Option<&str> {
        self.pairs.iter().find(|(k, _)| k == "csrf").map(|(_, v)| v.as_str())
    }
}

pub async fn resize_selected(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    client: ClientAddr,
    CsrfForm(form): CsrfForm<BulkForm>,
) -> Result<Redirect, PageError> {
    let ids: Vec<ArtworkId> = form
        .pairs
        .iter()
        .filter(|(k, _)| k == "ids")
        .map(|(_, v)| ArtworkId::parse(v))
        .collect::<Result<_, _>>()
        .map_err(|_| PageError::BadRequest("The form named an upload id that is not valid.".into()))?;
    match ids.len() {
        0 => Err(PageError::BadRequest("Select at least one upload to resize again.".into())),
        n if n > MAX_BULK => {
            Err(PageError::BadRequest(format!("Select at most {MAX_BULK} uploads at a time ({n} were selected).")))
        }
        _ => resize(&state, &session, client, &ids).await,
    }
}
