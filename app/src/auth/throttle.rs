//! Sign-in throttling: after too many failures in a window, per account and
//! per client address, further attempts are refused until the window moves.

use std::time::Duration;

use sqlx::{PgExecutor, PgPool};
use time::OffsetDateTime;

#[derive(Debug, Clone)]
pub struct ThrottlePolicy {
    pub window: Duration,
    pub max_per_account: i64,
    pub max_per_address: i64,
}

/// Refused; try again after this long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    pub retry_after: Duration,
}

pub async fn check(
    pool: &PgPool,
    email: &str,
    addr: &str,
    p: &ThrottlePolicy,
) -> Result<Result<(), Throttled>, sqlx::Error> {
    let since = OffsetDateTime::now_utc() - p.window;
    // The oldest failure that still counts decides when the window frees up.
    let (by_account, oldest_account): (i64, Option<OffsetDateTime>) =
        sqlx::query_as("SELECT count(*), min(at) FROM login_failures WHERE email = $1 AND at > $2")
            .bind(email)
            .bind(since)
            .fetch_one(pool)
            .await?;
    let (by_addr, oldest_addr): (i64, Option<OffsetDateTime>) =
        sqlx::query_as("SELECT count(*), min(at) FROM login_failures WHERE client_addr = $1 AND at > $2")
            .bind(addr)
            .bind(since)
            .fetch_one(pool)
            .await?;
    let blocking = if by_account >= p.max_per_account {
        oldest_account
    } else if by_addr >= p.max_per_address {
        oldest_addr
    } else {
        None
    };
    Ok(match blocking {
        None => Ok(()),
        Some(oldest) => {
            let free_at = oldest + p.window;
            let wait = (free_at - OffsetDateTime::now_utc()).max(time::Duration::seconds(1));
            Err(Throttled { retry_after: Duration::from_secs(wait.whole_seconds().max(1) as u64) })
        }
    })
}

pub async fn record_failure(db: impl PgExecutor<'_>, email: &str, addr: &str) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO login_failures (email, client_addr) VALUES ($1, $2)")
        .bind(email)
        .bind(addr)
        .execute(db)
        .await?;
    Ok(())
}

/// A successful sign-in forgives the account's earlier failures.
pub async fn forgive(db: impl PgExecutor<'_>, email: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM login_failures WHERE email = $1").bind(email).execute(db).await?;
    Ok(())
}
