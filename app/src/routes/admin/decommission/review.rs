use axum::{Extension, extract::State, response::Response};

use super::act::answer;
use crate::client_addr::ClientAddr;
use crate::{
    auth::Session,
    decommission::{DecommissionId, procedure},
    error::PageError,
    extract::{CsrfForm, HasCsrf, PathOr404},
    state::AppState,
};

#[derive(serde::Deserialize)]
pub struct ReviewForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    review: String,
}

impl HasCsrf for ReviewForm {
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }
}

pub async fn record_review(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    client: ClientAddr,
    PathOr404(DecommissionId(id)): PathOr404<DecommissionId>,
    CsrfForm(form): CsrfForm<ReviewForm>,
) -> Result<Response, PageError> {
    let (actor, addr) = (session.actor(), client.0);
    let result = procedure::record_review(&state.decommissioning(), id, &actor, addr, &form.review).await;
    answer(&state, &session, result).await
}
