//! Sign-in throttling that limits guessing without handing attackers a
//! lockout (OWASP's "device cookies"):
//!
//! - A browser that has signed in to an account before carries a device
//!   cookie (see `devices`). Its attempts on that account count against
//!   that device alone, so a flood from elsewhere never locks the owner out.
//! - Every other attempt counts against the account and against the
//!   client address. Past either limit, attempts are refused for a while
//!   that doubles with each further block (up to a day).
//! - An attempt is counted *before* the password is checked, under a row
//!   lock, so N concurrent attempts cannot pass the limit. Once a key is
//!   blocked, an attempt costs one indexed read: no lock, no write, no
//!   argon2; refusals are tallied in memory (`Refusals`) and written every
//!   few seconds.
//! - Failures are summed per account, address and window in
//!   `login_failure_windows`; when the window closes, `flush_closed`
//!   appends one audit row carrying the counts, so a flood adds one row
//!   per account, address and window, not one per request.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

use sqlx::{PgPool, Postgres, Transaction, postgres::types::PgInterval};
use time::OffsetDateTime;

use crate::audit::Origin;

#[derive(Debug, Clone)]
pub struct ThrottlePolicy {
    pub window: Duration,
    /// Attempts per account from unknown devices, and per known device.
    pub max_per_account: i64,
    /// Attempts per client address from unknown devices (an office behind
    /// one NAT shares it, so it is higher).
    pub max_per_address: i64,
}

/// The longest a block lasts, however often the limit is passed.
const MAX_BLOCK: Duration = Duration::from_secs(24 * 3600);

/// Refused; try again after this long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    pub retry_after: Duration,
}

/// What attempts are counted against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key {
    Account(String),
    Address(IpAddr),
    /// A known device's token hash, hex.
    Device(String),
}

impl Key {
    fn scope(&self) -> &'static str {
        match self {
            Key::Account(_) => "account",
            Key::Address(_) => "address",
            Key::Device(_) => "device",
        }
    }

    /// The counter's name as stored.
    fn key(&self) -> String {
        match self {
            Key::Account(k) | Key::Device(k) => k.clone(),
            Key::Address(ip) => ip.to_string(),
        }
    }

    fn limit(&self, p: &ThrottlePolicy) -> i64 {
        match self {
            Key::Address(_) => p.max_per_address,
            Key::Account(_) | Key::Device(_) => p.max_per_account,
        }
    }
}

/// One key's counter, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counter {
    pub window_start: OffsetDateTime,
    pub attempts: i32,
    pub strikes: i32,
    pub blocked_until: Option<OffsetDateTime>,
}

impl Counter {
    /// Counts one attempt at `now`: the new counter, and whether the
    /// attempt may go on to the password check.
    pub fn take(self, now: OffsetDateTime, window: Duration, limit: i64) -> (Counter, Result<(), Throttled>) {
        if let Some(until) = self.blocked_until.filter(|&u| u > now) {
            return (self, Err(Throttled { retry_after: wait(until - now) }));
        }
        let mut c = self;
        if now - c.window_start >= window {
            c.window_start = now;
            c.attempts = 0;
        }
        c.attempts = c.attempts.saturating_add(1);
        if i64::from(c.attempts) <= limit {
            return (c, Ok(()));
        }
        c.strikes = c.strikes.saturating_add(1);
        let factor = 1u32 << (c.strikes - 1).clamp(0, 16) as u32;
        let block = window.saturating_mul(factor).min(MAX_BLOCK);
        let until = now + block;
        c.blocked_until = Some(until);
        // The next window starts after the block, with a clean count.
        c.window_start = until;
        c.attempts = 0;
        (c, Err(Throttled { retry_after: wait(until - now) }))
    }
}

fn wait(d: time::Duration) -> Duration {
    Duration::from_secs(d.whole_seconds().max(1) as u64)
}

/// Counts one attempt against every key, atomically: the rows are locked
/// in a fixed order, so concurrent attempts queue rather than overtake
/// each other. Refused when any key is over its limit.
pub async fn reserve(pool: &PgPool, keys: &[Key], p: &ThrottlePolicy) -> Result<Result<(), Throttled>, sqlx::Error> {
    // A flood is mostly attempts at keys already blocked: those are
    // refused by a plain read, without queueing for the row locks.
    // Owned: the macro checks `text[]` parameters against `Vec<String>`.
    let scopes: Vec<String> = keys.iter().map(|k| k.scope().to_owned()).collect();
    let names: Vec<String> = keys.iter().map(Key::key).collect();
    let blocked = sqlx::query!(
        r#"SELECT max(blocked_until) AS "until!", now() AS "now!" FROM login_throttle
         WHERE (scope, key) IN (SELECT * FROM unnest($1::text[], $2::text[])) AND blocked_until > now()
         HAVING max(blocked_until) IS NOT NULL"#,
        &scopes,
        &names,
    )
    .fetch_optional(pool)
    .await?;
    if let Some(b) = blocked {
        return Ok(Err(Throttled { retry_after: wait(b.until - b.now) }));
    }
    let mut sorted: Vec<&Key> = keys.iter().collect();
    sorted.sort_by_key(|k| (k.scope(), k.key()));
    let mut tx = pool.begin().await?;
    let mut verdict = Ok(());
    for key in sorted {
        // Creates the counter or, when it exists, locks it: one statement,
        // and the lock is held until the transaction ends.
        let row = sqlx::query!(
            r#"INSERT INTO login_throttle (scope, key, window_start, attempts) VALUES ($1, $2, now(), 0)
             ON CONFLICT (scope, key) DO UPDATE SET key = EXCLUDED.key
             RETURNING window_start, attempts, strikes, blocked_until, now() AS "now!""#,
            key.scope(),
            key.key(),
        )
        .fetch_one(&mut *tx)
        .await?;
        let current = Counter {
            window_start: row.window_start,
            attempts: row.attempts,
            strikes: row.strikes,
            blocked_until: row.blocked_until,
        };
        let now = row.now;
        let (next, this) = current.take(now, p.window, key.limit(p));
        if next != current {
            store(&mut tx, key, &next).await?;
        }
        if let (Ok(()), Err(t)) = (&verdict, this) {
            verdict = Err(t);
        }
    }
    tx.commit().await?;
    Ok(verdict)
}

async fn store(tx: &mut Transaction<'_, Postgres>, key: &Key, c: &Counter) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE login_throttle SET window_start = $3, attempts = $4, strikes = $5, blocked_until = $6
         WHERE scope = $1 AND key = $2",
        key.scope(),
        key.key(),
        c.window_start,
        c.attempts,
        c.strikes,
        c.blocked_until,
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// After a successful sign-in, for the keys the attempt was counted
/// against: the account's or device's count starts again (its strikes
/// stay, so the next block is still longer), and the attempt is given back
/// to the address, so colleagues behind one NAT who sign in correctly never
/// use up its limit.
pub async fn succeeded(tx: &mut Transaction<'_, Postgres>, keys: &[Key]) -> Result<(), sqlx::Error> {
    for key in keys {
        match key {
            Key::Account(_) | Key::Device(_) => {
                sqlx::query!(
                    "UPDATE login_throttle SET attempts = 0 WHERE scope = $1 AND key = $2",
                    key.scope(),
                    key.key(),
                )
                .execute(&mut **tx)
                .await?;
            }
            Key::Address(_) => {
                sqlx::query!(
                    "UPDATE login_throttle SET attempts = greatest(attempts - 1, 0) WHERE scope = $1 AND key = $2",
                    key.scope(),
                    key.key(),
                )
                .execute(&mut **tx)
                .await?;
            }
        }
    }
    Ok(())
}

/// The start of the fixed window `now` falls in, in seconds since the
/// epoch: failures and refusals of one window sum into one row.
fn window_start(now: OffsetDateTime, p: &ThrottlePolicy) -> i64 {
    let secs = p.window.as_secs().max(1) as i64;
    now.unix_timestamp().div_euclid(secs) * secs
}

/// Adds a failed attempt (its password was checked) to its window.
pub async fn record_failure(
    pool: &PgPool,
    email: &str,
    addr: IpAddr,
    reason: &str,
    p: &ThrottlePolicy,
) -> Result<(), sqlx::Error> {
    let start = window_start(OffsetDateTime::now_utc(), p) as f64;
    sqlx::query!(
        "INSERT INTO login_failure_windows (email, client_addr, window_start, failures, reasons)
         VALUES ($1, $2, to_timestamp($3), 1, jsonb_build_object($4::text, 1))
         ON CONFLICT (email, client_addr, window_start) DO UPDATE SET
            failures = login_failure_windows.failures + 1,
            reasons = login_failure_windows.reasons || jsonb_build_object(
                $4::text, coalesce((login_failure_windows.reasons ->> $4::text)::int, 0) + 1),
            last_at = now()",
        email,
        Origin::Client(addr).to_string(),
        start,
        reason,
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Refused attempts not yet written, per (account, address, window start
/// in seconds since the epoch).
#[derive(Debug, Default)]
pub struct Refusals(Mutex<HashMap<(String, Origin, i64), i32>>);

/// Distinct (account, address, window) tallies held between drains. An
/// attacker with many addresses (IPv6 gives them plenty) while the database
/// is away would otherwise grow the map without end; past this, refusals
/// are summed under ("*", `Origin::AnyAddress`).
const MAX_TALLIES: usize = 10_000;

impl Refusals {
    /// Counts one refused attempt; nothing is written until `drain`.
    pub fn add(&self, email: &str, from: Origin, p: &ThrottlePolicy) {
        let start = window_start(OffsetDateTime::now_utc(), p);
        let mut tally = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let key = (email.to_owned(), from, start);
        let key = if tally.len() >= MAX_TALLIES && !tally.contains_key(&key) {
            ("*".to_owned(), Origin::AnyAddress, start)
        } else {
            key
        };
        *tally.entry(key).or_default() += 1;
    }

    /// Writes the tallies into their windows. A tally whose write fails
    /// is kept for the next drain.
    pub async fn drain(&self, pool: &PgPool) -> Result<(), sqlx::Error> {
        let taken = std::mem::take(&mut *self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()));
        let mut rest = taken.into_iter();
        while let Some(((email, addr, start), n)) = rest.next() {
            let start_secs = start as f64;
            let written = sqlx::query!(
                "INSERT INTO login_failure_windows (email, client_addr, window_start, refused, reasons)
                 VALUES ($1, $2, to_timestamp($3), $4::integer, jsonb_build_object('throttled', $4::integer))
                 ON CONFLICT (email, client_addr, window_start) DO UPDATE SET
                    refused = login_failure_windows.refused + EXCLUDED.refused,
                    reasons = login_failure_windows.reasons || jsonb_build_object('throttled',
                        coalesce((login_failure_windows.reasons ->> 'throttled')::int, 0) + EXCLUDED.refused),
                    last_at = now()",
                &email,
                addr.to_string(),
                start_secs,
                n,
            )
            .execute(pool)
            .await;
            if let Err(e) = written {
                let mut tally = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                *tally.entry((email, addr, start)).or_default() += n;
                for (k, v) in rest {
                    *tally.entry(k).or_default() += v;
                }
                return Err(e);
            }
        }
        Ok(())
    }
}

/// How often refusals are written; windows are closed only this long
/// (twice over) after they end, so no tally lands in a window already
/// audited.
pub const DRAIN_EVERY: Duration = Duration::from_secs(2);

/// Appends one audit row per window that closed before `now`, carrying
/// its counts, and forgets counters that no longer count. Returns the
/// number of rows appended. Safe to run from several consoles at once.
pub async fn flush_closed(pool: &PgPool, p: &ThrottlePolicy, now: OffsetDateTime) -> Result<usize, sqlx::Error> {
    struct Closed {
        email: String,
        client_addr: String,
        window_start: OffsetDateTime,
        failures: i32,
        refused: i32,
        reasons: serde_json::Value,
        first_at: OffsetDateTime,
        last_at: OffsetDateTime,
    }
    let closes_before = now - p.window - 2 * DRAIN_EVERY;
    let mut appended = 0;
    loop {
        let mut tx = pool.begin().await?;
        let closed = sqlx::query_as!(
            Closed,
            "DELETE FROM login_failure_windows WHERE (email, client_addr, window_start) IN (
                SELECT email, client_addr, window_start FROM login_failure_windows
                WHERE window_start <= $1 ORDER BY window_start LIMIT 1 FOR UPDATE SKIP LOCKED)
             RETURNING email, client_addr, window_start, failures, refused, reasons, first_at, last_at",
            closes_before,
        )
        .fetch_optional(&mut *tx)
        .await?;
        let Some(c) = closed else { break };
        let rfc = |t: OffsetDateTime| t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
        crate::audit::append(
            &mut tx,
            crate::audit::NewEvent {
                actor: crate::audit::Actor::Anonymous,
                action: crate::audit::AuditAction::SignInFailed,
                subject: format!("user:{}", c.email),
                details: serde_json::json!({
                    "count": c.failures + c.refused,
                    "failed": c.failures,
                    "throttled": c.refused,
                    "reasons": c.reasons,
                    "window_start": rfc(c.window_start),
                    "first_at": rfc(c.first_at),
                    "last_at": rfc(c.last_at),
                }),
                client_addr: c.client_addr.parse().unwrap_or_else(|_| {
                    // Only this module writes the column; anything else was
                    // typed into the database by hand.
                    tracing::warn!(stored = %c.client_addr, "a sign-in tally names no origin Easel writes");
                    Origin::AnyAddress
                }),
            },
        )
        .await?;
        tx.commit().await?;
        appended += 1;
    }
    sqlx::query!(
        "DELETE FROM login_throttle
         WHERE window_start + $1 <= $2 AND (blocked_until IS NULL OR blocked_until <= $2) AND strikes = 0",
        interval(p.window)?,
        now,
    )
    .execute(pool)
    .await?;
    // A key blocked before forgets its strikes a day after its last block.
    sqlx::query!(
        "DELETE FROM login_throttle WHERE blocked_until IS NOT NULL AND blocked_until + $1 <= $2",
        interval(MAX_BLOCK)?,
        now,
    )
    .execute(pool)
    .await?;
    Ok(appended)
}

/// `d` as an SQL interval, failing as binding a `Duration` would (the
/// macros check `interval` parameters against `PgInterval`).
fn interval(d: Duration) -> Result<PgInterval, sqlx::Error> {
    PgInterval::try_from(d).map_err(sqlx::Error::Encode)
}

/// Writes refusals every `DRAIN_EVERY` and flushes closed windows to the
/// audit trail every so often, for as long as the console runs.
pub fn spawn_flusher(
    pool: PgPool,
    p: ThrottlePolicy,
    refusals: std::sync::Arc<Refusals>,
) -> tokio::task::JoinHandle<()> {
    let flush_every = p.window.min(Duration::from_secs(60)).max(DRAIN_EVERY);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(DRAIN_EVERY);
        let mut last_flush = tokio::time::Instant::now();
        loop {
            tick.tick().await;
            if let Err(e) = refusals.drain(&pool).await {
                tracing::warn!(error = %e, "writing refused sign-ins failed; kept for the next try");
            }
            if last_flush.elapsed() >= flush_every {
                last_flush = tokio::time::Instant::now();
                if let Err(e) = flush_closed(&pool, &p, OffsetDateTime::now_utc()).await {
                    tracing::warn!(error = %e, "flushing sign-in failure windows to the audit trail failed; will retry");
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const WINDOW: Duration = Duration::from_secs(900);

    impl Counter {
        fn fresh(now: OffsetDateTime) -> Self {
            Counter { window_start: now, attempts: 0, strikes: 0, blocked_until: None }
        }
    }

    fn at(secs: i64) -> OffsetDateTime {
        OffsetDateTime::UNIX_EPOCH + time::Duration::seconds(1_000_000 + secs)
    }

    #[test]
    fn attempts_up_to_the_limit_pass_and_the_next_is_refused() {
        let mut c = Counter::fresh(at(0));
        for i in 0..5 {
            let (next, ok) = c.take(at(i), WINDOW, 5);
            assert!(ok.is_ok(), "attempt {i}");
            c = next;
        }
        let (c, refused) = c.take(at(10), WINDOW, 5);
        assert_eq!(refused, Err(Throttled { retry_after: WINDOW }));
        assert_eq!(c.strikes, 1);
        // Still refused inside the block, without counting.
        let (same, again) = c.take(at(600), WINDOW, 5);
        assert_eq!(same, c);
        assert_eq!(again, Err(Throttled { retry_after: Duration::from_secs(310) }));
    }

    #[test]
    fn blocks_double_with_each_strike_up_to_a_day() {
        let mut c = Counter::fresh(at(0));
        let mut now = 0;
        let mut blocks = Vec::new();
        for _ in 0..10 {
            for _ in 0..6 {
                let (next, verdict) = c.take(at(now), WINDOW, 5);
                c = next;
                if let Err(t) = verdict {
                    blocks.push(t.retry_after.as_secs());
                    now += t.retry_after.as_secs() as i64;
                    break;
                }
            }
        }
        assert_eq!(&blocks[..4], &[900, 1800, 3600, 7200]);
        assert_eq!(*blocks.last().unwrap(), MAX_BLOCK.as_secs());
    }

    #[test]
    fn a_new_window_starts_a_new_count() {
        let (c, _) = Counter::fresh(at(0)).take(at(0), WINDOW, 1);
        let (c, ok) = c.take(at(900), WINDOW, 1);
        assert!(ok.is_ok());
        assert_eq!(c.attempts, 1);
    }
}
