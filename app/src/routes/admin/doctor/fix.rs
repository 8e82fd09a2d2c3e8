use axum::{
    Extension, Form,
    extract::{Path, State, rejection::FormRejection},
    response::{IntoResponse, Redirect, Response},
};
use http::StatusCode;

use crate::client_addr::ClientAddr;
use crate::{
    auth::Session,
    error::PageError,
    pages,
    routes::admin::{CsrfOnly, checked_form},
    state::AppState,
    support::doctor,
};

fn parse(fix: &str) -> Result<doctor::Fix, PageError> {
    doctor::Fix::parse(fix).ok_or(PageError::NotFound)
}

/// The diff of what the fix would write, with the form that applies it.
pub async fn review_fix(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(fix): Path<String>,
) -> Response {
    let path = format!("/admin/doctor/fix/{fix}");
    let result: Result<doctor::Proposal, PageError> = async {
        let fix = parse(&fix)?;
        let spec = state.support.spec().await?;
        let live = doctor::examine(&state.support, &spec).await?;
        Ok(doctor::review(&spec, &state.support.trigger(&spec), &live, fix)?)
    }
    .await;
    match result {
        Ok(p) => pages::render(&path, StatusCode::OK, pages::admin::doctor::fix_page((&session).into(), p)).await,
        Err(e) => e.into_page(&path).await,
    }
}

/// Applies the fix as it stands now (re-read, re-validated), then records
/// what it changed.
pub async fn apply_fix(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    client: ClientAddr,
    Path(fix): Path<String>,
    form: Result<Form<CsrfOnly>, FormRejection>,
) -> Response {
    let path = format!("/admin/doctor/fix/{fix}");
    let result: Result<String, PageError> = async {
        checked_form(&session, form)?;
        let fix = parse(&fix)?;
        match doctor::apply(&state.pool, &state.support, fix).await? {
            None => Ok(format!("/admin/doctor?unchanged={fix}")),
            Some(p) => {
                p.record(&state.pool, &session.actor(), &client.to_string(), serde_json::Value::Null).await?;
                Ok(format!("/admin/doctor?fixed={fix}"))
            }
        }
    }
    .await;
    match result {
        Ok(to) => Redirect::to(&to).into_response(),
        Err(e) => e.into_page(&path).await,
    }
}
