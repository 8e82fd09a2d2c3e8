use axum::{
    Form,
    extract::State,
    response::{IntoResponse, Redirect, Response},
};
use http::{HeaderMap, StatusCode, header};

use super::get::render;
use crate::client_addr::ClientAddr;
use crate::{
    audit::{self, Actor, AuditAction, NewEvent, Origin},
    auth::{
        csrf::{LOGIN_COOKIE, constant_time_eq},
        devices, password,
        sessions::{self, COOKIE},
        throttle::{self, Key},
        users,
        users::Email,
    },
    error::PageError,
    guards::staff::{PASSWORD_PATH, safe_next},
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
/// RFC 5321's limit on an address; longer input is refused before any
/// hashing or database write.
const MAX_EMAIL_BYTES: usize = 254;
/// Long enough for any passphrase or manager-made password; argon2 on
/// more is work an attacker chooses.
const MAX_PASSWORD_BYTES: usize = 1024;

pub async fn sign_in(
    State(state): State<AppState>,
    client: ClientAddr,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Result<Response, PageError> {
    if form.email.len() > MAX_EMAIL_BYTES || form.password.len() > MAX_PASSWORD_BYTES {
        return Err(PageError::BadRequest(format!(
            "An e-mail address has at most {MAX_EMAIL_BYTES} characters and a password at most {MAX_PASSWORD_BYTES}."
        )));
    }
    // Postgres refuses NUL in text, and no address has control characters.
    if form.email.chars().any(char::is_control) {
        return Err(PageError::BadRequest("An e-mail address cannot contain control characters.".into()));
    }
    let cookie_token = sessions::read_cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if form.csrf.is_empty() || !constant_time_eq(cookie_token.as_bytes(), form.csrf.as_bytes()) {
        return Err(PageError::CsrfRejected);
    }
    let addr = client.0;
    let typed = form.email.trim().to_lowercase();
    let next = safe_next(form.next.as_deref()).to_owned();
    let again = |error: String| LoginModel {
        next: next.clone(),
        email: typed.clone(),
        error: Some(error),
        ..Default::default()
    };

    // A browser that signed in to this account before is limited on its
    // own; everyone else by account and by address.
    let device = match sessions::read_cookie(&headers, devices::COOKIE) {
        Some(token) => devices::recognise(&state.pool, token, &typed).await?,
        None => None,
    };
    let keys = match &device {
        Some(d) => vec![d.throttle_key()],
        None => vec![Key::Account(typed.clone()), Key::Address(addr)],
    };
    if let Err(t) = throttle::reserve(&state.pool, &keys, &state.auth.throttle).await? {
        // A known device's refusals count under its account; everyone
        // else's under their address, whatever e-mail they typed, so a
        // flood of made-up addresses from one place sums into one row per
        // window (one per attacking address when the flood is spread).
        let (who, from) =
            if device.is_some() { (typed.as_str(), Origin::KnownDevices) } else { ("*", Origin::Client(addr)) };
        state.refusals.add(who, from, &state.auth.throttle);
        let minutes = t.retry_after.as_secs().div_ceil(60);
        let msg = format!(
            "Too many failed sign-ins for this account or from this address. Try again in {minutes} minute{}.",
            if minutes == 1 { "" } else { "s" }
        );
        return Ok(render(&state, again(msg), StatusCode::TOO_MANY_REQUESTS).await);
    }

    let found = match Email::parse(&typed) {
        Ok(email) => users::find_for_sign_in(&state.pool, &email).await?,
        Err(_) => None,
    };
    let password = form.password;
    let (user, hash) = found.unzip();
    let check = move || match hash {
        Some(hash) => password::verify(&password, &hash),
        // As long as a real check, so timing does not tell which accounts exist.
        None => {
            password::verify_against_nothing(&password);
            false
        }
    };
    let ok = if device.is_some() { state.cpu.run(check).await? } else { state.cpu.run_for_stranger(check).await? };
    let failed =
        |reason: &'static str| throttle::record_failure(&state.pool, &typed, addr, reason, &state.auth.throttle);
    let user = match (user, ok) {
        (Some(u), true) if u.disabled_at.is_none() => u,
        (Some(_), true) => {
            failed("account disabled").await?;
            return Ok(
                render(&state, again("This account is disabled. Ask an admin.".into()), StatusCode::FORBIDDEN).await
            );
        }
        (Some(_), false) => {
            failed("wrong password").await?;
            return Ok(render(&state, again(WRONG.into()), StatusCode::UNAUTHORIZED).await);
        }
        (None, _) => {
            failed("no such account").await?;
            return Ok(render(&state, again(WRONG.into()), StatusCode::UNAUTHORIZED).await);
        }
    };

    let mut tx = state.pool.begin().await?;
    // A new session on every sign-in: a token planted before sign-in is worthless.
    if let Some(old) = sessions::read_cookie(&headers, COOKIE) {
        sessions::delete(&mut tx, &sessions::token_hash(old)).await?;
    }
    let token = sessions::create(&mut tx, user.id, addr).await?;
    // Only the keys this attempt was counted against: the owner signing in
    // from a known device must not clear a block that unknown devices earned.
    throttle::succeeded(&mut tx, &keys).await?;
    let device_token = devices::remember(&mut tx, user.id, device.as_ref()).await?;
    audit::append(
        &mut tx,
        NewEvent {
            actor: Actor::Staff { email: user.email.to_string(), role: user.role.to_string() },
            action: AuditAction::SignedIn,
            subject: format!("user:{}", user.email),
            details: serde_json::json!({ "one_time_password": user.must_change_password, "known_device": device.is_some() }),
            client_addr: addr.into(),
        },
    )
    .await?;
    tx.commit().await?;

    let secure = state.auth.sessions.secure_cookie;
    let to = if user.must_change_password { PASSWORD_PATH.to_owned() } else { next };
    let mut res = Redirect::to(&to).into_response();
    res.headers_mut().append(header::SET_COOKIE, sessions::set_cookie(COOKIE, Some(&token), "/", secure));
    res.headers_mut().append(header::SET_COOKIE, sessions::set_cookie(LOGIN_COOKIE, None, "/admin/login", secure));
    res.headers_mut().append(header::SET_COOKIE, devices::cookie(&device_token, secure));
    Ok(res)
}
