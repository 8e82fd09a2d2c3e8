use axum::{
    Extension,
    extract::{Path, State},
    response::{IntoResponse, Redirect, Response},
};
use http::StatusCode;

use crate::client_addr::ClientAddr;
use crate::{
    auth::Session,
    error::PageError,
    extract::{CsrfForm, CsrfOnly},
    pages,
    state::AppState,
    support::doctor,
};

/// Fixes are named `role.aspect`; any other name is no page.
fn parse(fix: &str) -> Result<doctor::Fix, PageError> {
    doctor::Fix::parse(fix).ok_or(PageError::NotFound)
}

/// The diff of what the fix would write, with the form that applies it.
pub async fn review_fix(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(fix): Path<String>,
) -> Result<Response, PageError> {
    let fix = parse(&fix)?;
    let spec = state.support.spec().await?;
    let live = doctor::examine(&state.support, &spec).await?;
    let proposal = doctor::review(&spec, &state.support.trigger(&spec), &live, fix)?;
    let page = pages::admin::doctor::fix_page((&session).into(), proposal);
    Ok(pages::render(&format!("/admin/doctor/fix/{fix}"), StatusCode::OK, page).await)
}

/// Applies the fix as it stands now (re-read, re-validated), then records
/// what it changed.
pub async fn apply_fix(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    client: ClientAddr,
    Path(fix): Path<String>,
    CsrfForm(_): CsrfForm<CsrfOnly>,
) -> Result<Response, PageError> {
    let fix = parse(&fix)?;
    let to = match doctor::apply(&state.pool, &state.support, fix).await? {
        None => format!("/admin/doctor?unchanged={fix}"),
        Some(p) => {
            p.record(&state.pool, &session.actor(), client.0.into(), serde_json::Value::Null).await?;
            format!("/admin/doctor?fixed={fix}")
        }
    };
    Ok(Redirect::to(&to).into_response())
}
