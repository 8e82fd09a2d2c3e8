use axum::{Extension, extract::State, response::Response};

use super::act::answer;
use crate::client_addr::ClientAddr;
use crate::{
    auth::Session,
    decommission::{DecommissionId, procedure, repo::Plan},
    error::PageError,
    extract::{CsrfForm, HasCsrf, PathOr404},
    state::AppState,
};

#[derive(serde::Deserialize)]
pub struct PlanForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    steps: String,
    #[serde(default)]
    timeline: String,
    #[serde(default)]
    resources: String,
    #[serde(default)]
    contingency: String,
}

impl HasCsrf for PlanForm {
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }
}

pub async fn submit_plan(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    client: ClientAddr,
    PathOr404(DecommissionId(id)): PathOr404<DecommissionId>,
    CsrfForm(form): CsrfForm<PlanForm>,
) -> Result<Response, PageError> {
    let plan =
        Plan { steps: form.steps, timeline: form.timeline, resources: form.resources, contingency: form.contingency };
    let result = procedure::submit_plan(&state.decommissioning(), id, &session.actor(), client.0, plan).await;
    answer(&state, &session, result).await
}
