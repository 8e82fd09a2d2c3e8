use axum::{Extension, response::Response};
use http::StatusCode;

use crate::{
    auth::Session,
    pages::{self, admin::password::PasswordModel},
};

pub async fn password_form(Extension(session): Extension<Session>) -> Response {
    let model = PasswordModel { staff: (&session).into(), must_change: session.user.must_change_password, error: None };
    pages::render("/admin/password", StatusCode::OK, pages::admin::password::page(model)).await
}
