use axum::{
    extract::{Query, State},
    response::{IntoResponse, Redirect, Response},
};
use http::{StatusCode, header};

use crate::{
    auth::{
        csrf::LOGIN_COOKIE,
        password::random_token,
        sessions::{self, COOKIE},
    },
    guards::staff::safe_next,
    pages::{self, admin::login::LoginModel},
    state::AppState,
};

#[derive(serde::Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

pub async fn login_form(
    State(state): State<AppState>,
    headers: http::HeaderMap,
    Query(q): Query<NextQuery>,
) -> Response {
    let next = safe_next(q.next.as_deref()).to_owned();
    if let Some(token) = sessions::read_cookie(&headers, COOKIE)
        && let Ok(Some(_)) = sessions::lookup(&state.pool, token, &state.auth.sessions).await
    {
        return Redirect::to(&next).into_response();
    }
    render(&state, LoginModel { next, ..Default::default() }, StatusCode::OK).await
}

/// The sign-in page with a fresh double-submit CSRF token in a cookie and
/// in the form.
pub async fn render(state: &AppState, mut model: LoginModel, status: StatusCode) -> Response {
    model.csrf = random_token();
    let cookie =
        sessions::set_cookie(LOGIN_COOKIE, Some(&model.csrf), "/admin/login", state.auth.sessions.secure_cookie);
    let mut res = pages::render("/admin/login", status, pages::admin::login::page(model)).await;
    res.headers_mut().append(header::SET_COOKIE, cookie);
    res
}
