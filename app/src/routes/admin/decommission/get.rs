use axum::{Extension, extract::State, response::Response};
use http::StatusCode;

use super::PAGE;
use crate::{
    auth::Session,
    decommission::repo,
    error::PageError,
    pages::{
        self,
        admin::{StaffView, decommission::DecommissionModel},
    },
    state::AppState,
};

pub async fn model(state: &AppState, staff: StaffView, error: Option<String>) -> Result<DecommissionModel, PageError> {
    let current = repo::current(&state.pool).await?;
    let (stakeholders, decisions, mails) = match &current {
        Some(d) => (
            repo::stakeholders(&state.pool, d.id).await?,
            repo::decisions(&state.pool, d.id).await?,
            repo::mails(&state.pool, d.id).await?,
        ),
        None => Default::default(),
    };
    let history = repo::all(&state.pool).await?;
    Ok(DecommissionModel { staff, current, stakeholders, decisions, mails, history, error })
}

pub async fn decommission_page(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
) -> Result<Response, PageError> {
    let m = model(&state, (&session).into(), None).await?;
    Ok(pages::render(PAGE, StatusCode::OK, pages::admin::decommission::page(m)).await)
}
