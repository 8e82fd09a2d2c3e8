//! Device cookies (OWASP): a browser that signed in to an account carries
//! a random token, of which only the SHA-256 is stored. Presented with the
//! same account's e-mail address, it lets the owner sign in while the
//! account is under attack from elsewhere (see `throttle`). It grants
//! nothing on its own: the password is still checked.

use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

use super::{password::random_token, sessions::token_hash};

pub const COOKIE: &str = "easel_device";
/// Where the browser sends it: only to the sign-in form.
pub const PATH: &str = "/admin/login";
/// A device is remembered for a year after its last sign-in.
const MAX_AGE_SECS: u64 = 365 * 24 * 3600;

/// A device cookie that belongs to an account: its token's SHA-256.
#[derive(Debug, Clone)]
pub struct KnownDevice {
    hash: Vec<u8>,
}

impl KnownDevice {
    /// What this device's attempts are counted against.
    pub fn throttle_key(&self) -> super::throttle::Key {
        super::throttle::Key::Device(hex::encode(&self.hash))
    }
}

/// The device behind `token`, if it is known and belongs to `email`.
pub async fn recognise(pool: &PgPool, token: &str, email: &str) -> Result<Option<KnownDevice>, sqlx::Error> {
    // Tokens are hex of a fixed length; anything else is not ours.
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let hash = token_hash(token);
    let max_age_secs = MAX_AGE_SECS as f64;
    let known: bool = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM known_devices d JOIN users u ON u.id = d.user_id
         WHERE d.token_hash = $1 AND u.email = $2 AND d.last_used_at > now() - make_interval(secs => $3)) AS "known!""#,
        &hash,
        email,
        max_age_secs,
    )
    .fetch_one(pool)
    .await?;
    Ok(known.then_some(KnownDevice { hash }))
}

/// Remembers this browser for `user_id` after a successful sign-in: the
/// device it already was, or a new one. Returns the cookie token to set.
pub async fn remember(
    tx: &mut Transaction<'_, Postgres>,
    user_id: Uuid,
    known: Option<&KnownDevice>,
) -> Result<String, sqlx::Error> {
    // A fresh token every time: a copied cookie stops working once the
    // owner signs in again.
    if let Some(d) = known {
        sqlx::query!("DELETE FROM known_devices WHERE token_hash = $1", &d.hash).execute(&mut **tx).await?;
    }
    let token = random_token();
    sqlx::query!("INSERT INTO known_devices (token_hash, user_id) VALUES ($1, $2)", token_hash(&token), user_id)
        .execute(&mut **tx)
        .await?;
    Ok(token)
}

/// `Set-Cookie` for the device token.
pub fn cookie(token: &str, secure: bool) -> http::HeaderValue {
    let mut c = format!("{COOKIE}={token}; Path={PATH}; HttpOnly; SameSite=Strict; Max-Age={MAX_AGE_SECS}");
    if secure {
        c.push_str("; Secure");
    }
    http::HeaderValue::from_str(&c).expect("device tokens are hex")
}
