use axum::{Extension, extract::State, response::Response};
use http::StatusCode;

use crate::{
    auth::{Session, users},
    error::PageError,
    pages::{self, admin::users::UsersModel},
    state::AppState,
};

pub async fn accounts(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
) -> Result<Response, PageError> {
    let users = users::list(&state.pool).await?;
    let model = UsersModel { staff: (&session).into(), users, error: None };
    Ok(pages::render("/admin/users", StatusCode::OK, pages::admin::users::page(model)).await)
}
