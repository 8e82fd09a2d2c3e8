use axum::{
    Form,
    extract::State,
    response::{IntoResponse, Redirect, Response},
};
use http::{HeaderMap, StatusCode, header};

use super::get::render;
use crate::client_addr::ClientAddr;
use crate::{
    audit::{self, Actor, AuditAction, NewEvent},
    auth::{
        csrf::{LOGIN_COOKIE, constant_time_eq},
        middleware::{PASSWORD_PATH, safe_next},
        password,
        sessions::{self, COOKIE},
        throttle, users,
        users::Email,
    },
    error::PageError,
    pages::admin::login::LoginModel,
    state::AppState,
};

#[derive(serde::Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: Option<String>,
}

const WRONG: &str = "The e-mail address or password is not right.";

pub async fn sign_in(
    State(state): State<AppState>,
    client: ClientAddr,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    match attempt(&state, client, &headers, form).await {
        Ok(res) => res,
        Err(e) => e.into_page("/admin/login").await,
    }
}

async fn attempt(
    state: &AppState,
    client: ClientAddr,
    headers: &HeaderMap,
    form: SignInForm,
) -> Result<Response, PageError> {
    let cookie_token = sessions::read_cookie(headers, LOGIN_COOKIE).unwrap_or_default();
    if form.csrf.is_empty() || !constant_time_eq(cookie_token.as_bytes(), form.csrf.as_bytes()) {
        return Err(PageError::CsrfRejected);
    }
    let addr = client.to_string();
    let typed = form.email.trim().to_lowercase();
    let next = safe_next(form.next.as_deref()).to_owned();
    let again = |error: String| LoginModel {
        next: next.clone(),
        email: typed.clone(),
        error: Some(error),
        ..Default::default()
    };

    if let Err(t) = throttle::check(&state.pool, &typed, &addr, &state.auth.throttle).await? {
        let minutes = t.retry_after.as_secs().div_ceil(60);
        record_failure(state, &typed, &addr, "throttled").await?;
        let msg = format!(
            "Too many failed sign-ins for this account or from this address. Try again in {minutes} minute{}.",
            if minutes == 1 { "" } else { "s" }
        );
        return Ok(render(state, again(msg), StatusCode::TOO_MANY_REQUESTS).await);
    }

    let found = match Email::parse(&typed) {
        Ok(email) => users::find_for_sign_in(&state.pool, &email).await?,
        Err(_) => None,
    };
    let password = form.password;
    let (user, ok) = match found {
        Some((user, hash)) => {
            let ok = tokio::task::spawn_blocking(move || password::verify(&password, &hash))
                .await
                .map_err(|e| PageError::Unexpected(e.into()))?;
            (Some(user), ok)
        }
        None => {
            tokio::task::spawn_blocking(move || password::verify_against_nothing(&password))
                .await
                .map_err(|e| PageError::Unexpected(e.into()))?;
            (None, false)
        }
    };
    let user = match (user, ok) {
        (Some(u), true) if u.disabled_at.is_none() => u,
        (Some(_), true) => {
            record_failure(state, &typed, &addr, "account disabled").await?;
            return Ok(
                render(state, again("This account is disabled. Ask an admin.".into()), StatusCode::FORBIDDEN).await
            );
        }
        (Some(_), false) => {
            record_failure(state, &typed, &addr, "wrong password").await?;
            return Ok(render(state, again(WRONG.into()), StatusCode::UNAUTHORIZED).await);
        }
        (None, _) => {
            record_failure(state, &typed, &addr, "no such account").await?;
            return Ok(render(state, again(WRONG.into()), StatusCode::UNAUTHORIZED).await);
        }
    };

    let mut tx = state.pool.begin().await?;
    // A new session on every sign-in: a token planted before sign-in is worthless.
    if let Some(old) = sessions::read_cookie(headers, COOKIE) {
        sessions::delete(&mut tx, &sessions::token_hash(old)).await?;
    }
    let token = sessions::create(&mut tx, user.id, &addr).await?;
    throttle::forgive(&mut *tx, user.email.as_str()).await?;
    audit::append(
        &mut tx,
        NewEvent {
            actor: Actor::Staff { email: user.email.to_string(), role: user.role.to_string() },
            action: AuditAction::SignedIn,
            subject: format!("user:{}", user.email),
            details: serde_json::json!({ "one_time_password": user.must_change_password }),
            client_addr: addr,
        },
    )
    .await?;
    tx.commit().await?;

    let secure = state.auth.sessions.secure_cookie;
    let to = if user.must_change_password { PASSWORD_PATH.to_owned() } else { next };
    let mut res = Redirect::to(&to).into_response();
    res.headers_mut().append(header::SET_COOKIE, sessions::set_cookie(COOKIE, Some(&token), "/", secure));
    res.headers_mut().append(header::SET_COOKIE, sessions::set_cookie(LOGIN_COOKIE, None, "/admin/login", secure));
    Ok(res)
}

async fn record_failure(state: &AppState, email: &str, addr: &str, reason: &str) -> Result<(), PageError> {
    let mut tx = state.pool.begin().await?;
    throttle::record_failure(&mut *tx, email, addr).await?;
    audit::append(
        &mut tx,
        NewEvent {
            actor: Actor::Anonymous,
            action: AuditAction::SignInFailed,
            subject: format!("user:{}", email.chars().take(254).collect::<String>()),
            details: serde_json::json!({ "reason": reason }),
            client_addr: addr.to_owned(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
