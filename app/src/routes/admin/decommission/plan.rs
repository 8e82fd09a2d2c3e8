use axum::{
    Extension, Form,
    extract::{Path, State, rejection::FormRejection},
    response::Response,
};

use super::{
    PAGE,
    act::{answer, parse_id},
};
use crate::client_addr::ClientAddr;
use crate::{
    auth::Session,
    decommission::{procedure, repo::Plan},
    routes::admin::{HasCsrf, checked_form},
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
    Path(id): Path<String>,
    form: Result<Form<PlanForm>, FormRejection>,
) -> Response {
    let form = match checked_form(&session, form) {
        Ok(f) => f,
        Err(e) => return e.into_page(PAGE).await,
    };
    let result = async {
        let plan = Plan {
            steps: form.steps,
            timeline: form.timeline,
            resources: form.resources,
            contingency: form.contingency,
        };
        procedure::submit_plan(&state.decommissioning(), parse_id(&id)?, &session.actor(), &client.to_string(), plan)
            .await
    }
    .await;
    answer(&state, &session, result).await
}
