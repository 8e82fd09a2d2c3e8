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
    decommission::procedure,
    routes::admin::{HasCsrf, checked_form},
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
    Path(id): Path<String>,
    form: Result<Form<ReviewForm>, FormRejection>,
) -> Response {
    let form = match checked_form(&session, form) {
        Ok(f) => f,
        Err(e) => return e.into_page(PAGE).await,
    };
    let addr = client.to_string();
    let result = async {
        procedure::record_review(&state.decommissioning(), parse_id(&id)?, &session.actor(), &addr, &form.review).await
    }
    .await;
    answer(&state, &session, result).await
}
