use axum::{Extension, extract::State, response::Response};
use http::StatusCode;

use crate::{
    auth::{Session, users},
    error::PageError,
    pages::{self, admin::users::UsersModel},
    state::AppState,
};

pub async fn accounts(State(state): State<AppState>, Extension(session): Extension<Session>) -> Response {
    match users::list(&state.pool).await.map_err(PageError::from) {
        Ok(users) => {
            let model = UsersModel { staff: (&session).into(), users, error: None };
            pages::render("/admin/users", StatusCode::OK, pages::admin::users::page(model)).await
        }
        Err(e) => e.into_page("/admin/users").await,
    }
}
