//! Sessions live in Postgres, so the console is stateless and scales out.
//! The browser holds a random token in an HttpOnly, SameSite=Strict cookie;
//! the table holds only its SHA-256.

use std::time::Duration;

use http::{HeaderMap, HeaderValue, header};
use sha2::{Digest, Sha256};
use sqlx::{PgPool, Postgres, Transaction};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{
    password::random_token,
    users::{User, UserRow},
};

pub const COOKIE: &str = "easel_session";

#[derive(Debug, Clone)]
pub struct SessionPolicy {
    /// Signed out after this long without a request.
    pub idle: Duration,
    /// Signed out this long after signing in, however active.
    pub absolute: Duration,
    /// Mark the cookie `Secure` (everywhere but loopback).
    pub secure_cookie: bool,
}

/// A signed-in staff member, as the handlers under `/admin` see them.
#[derive(Debug, Clone)]
pub struct Session {
    pub token_hash: Vec<u8>,
    pub user: User,
    pub csrf_token: String,
    pub client_addr: String,
    /// Set by `guards::decommission` while a decommission is under way, so
    /// every admin page shows it.
    pub decommission_banner: Option<String>,
}

impl Session {
    /// True when `submitted` is this session's CSRF token (constant time).
    pub fn csrf_matches(&self, submitted: Option<&str>) -> bool {
        submitted.is_some_and(|s| super::csrf::constant_time_eq(s.as_bytes(), self.csrf_token.as_bytes()))
    }

    pub fn actor(&self) -> crate::audit::Actor {
        crate::audit::Actor::Staff { email: self.user.email.to_string(), role: self.user.role.to_string() }
    }
}

pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Starts a session; returns the cookie token (shown to nobody else).
pub async fn create(
    tx: &mut Transaction<'_, Postgres>,
    user_id: Uuid,
    client_addr: std::net::IpAddr,
) -> Result<String, sqlx::Error> {
    let token = random_token();
    sqlx::query!(
        "INSERT INTO sessions (token_hash, user_id, csrf_token, client_addr) VALUES ($1, $2, $3, $4)",
        token_hash(&token),
        user_id,
        random_token(),
        client_addr.to_string(),
    )
    .execute(&mut **tx)
    .await?;
    Ok(token)
}

/// The live session for `token`, refreshing its idle timer. Expired
/// sessions and sessions of disabled accounts are removed and refused.
pub async fn lookup(pool: &PgPool, token: &str, policy: &SessionPolicy) -> Result<Option<Session>, sqlx::Error> {
    let hash = token_hash(token);
    let row = sqlx::query!(
        "SELECT u.id, u.email, u.role, u.must_change_password, u.disabled_at, u.created_at,
                s.csrf_token, s.created_at AS session_created, s.last_seen_at, s.client_addr AS session_addr
         FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1",
        &hash,
    )
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let now = OffsetDateTime::now_utc();
    let expired = now - row.last_seen_at > policy.idle || now - row.session_created > policy.absolute;
    if expired || row.disabled_at.is_some() {
        sqlx::query!("DELETE FROM sessions WHERE token_hash = $1", &hash).execute(pool).await?;
        return Ok(None);
    }
    sqlx::query!("UPDATE sessions SET last_seen_at = now() WHERE token_hash = $1", &hash).execute(pool).await?;
    let user = UserRow {
        id: row.id,
        email: row.email,
        role: row.role,
        must_change_password: row.must_change_password,
        disabled_at: row.disabled_at,
        created_at: row.created_at,
    };
    Ok(Some(Session {
        token_hash: hash,
        user: user.try_into()?,
        csrf_token: row.csrf_token,
        client_addr: row.session_addr,
        decommission_banner: None,
    }))
}

pub async fn delete(tx: &mut Transaction<'_, Postgres>, token_hash: &[u8]) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM sessions WHERE token_hash = $1", token_hash).execute(&mut **tx).await?;
    Ok(())
}

/// Ends every session of `user_id` except `keep` (the one in use), for
/// a password change: a stolen cookie must not outlive the old password.
pub async fn end_others(tx: &mut Transaction<'_, Postgres>, user_id: Uuid, keep: &[u8]) -> Result<u64, sqlx::Error> {
    let done = sqlx::query!("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2", user_id, keep)
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected())
}

/// Ends every session of `user_id`, this one included.
pub async fn end_all(tx: &mut Transaction<'_, Postgres>, user_id: Uuid) -> Result<u64, sqlx::Error> {
    let done = sqlx::query!("DELETE FROM sessions WHERE user_id = $1", user_id).execute(&mut **tx).await?;
    Ok(done.rows_affected())
}

/// The value of cookie `name` in the request, if any.
pub fn read_cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// `Set-Cookie` for `name`; `None` clears it.
pub fn set_cookie(name: &str, value: Option<&str>, path: &str, secure: bool) -> HeaderValue {
    let mut c = match value {
        Some(v) => format!("{name}={v}; Path={path}; HttpOnly; SameSite=Strict"),
        None => format!("{name}=; Path={path}; HttpOnly; SameSite=Strict; Max-Age=0"),
    };
    if secure {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c).expect("cookie values are hex tokens")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_read_among_others() {
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, HeaderValue::from_static("a=1; easel_session=abc; b=2"));
        assert_eq!(read_cookie(&h, COOKIE), Some("abc"));
        assert_eq!(read_cookie(&h, "missing"), None);
    }

    #[test]
    fn cookies_are_http_only_strict_and_secure_off_loopback() {
        let c = set_cookie(COOKIE, Some("tok"), "/", true);
        let c = c.to_str().unwrap();
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Strict") && c.ends_with("Secure"), "{c}");
        assert!(!set_cookie(COOKIE, Some("tok"), "/", false).to_str().unwrap().contains("Secure"));
        assert!(set_cookie(COOKIE, None, "/", false).to_str().unwrap().contains("Max-Age=0"));
    }
}
