//! Every mail Easel sends goes through this outbox (`outbound_mail`). A
//! message is queued in the same transaction as the state change that
//! causes it, so a change never commits without its mail and a mail is
//! never sent for a change that rolled back. The sender (`spawn`) delivers
//! it afterwards, retrying with growing waits while SMTP is down, and the
//! decommission page shows each message's state.
//!
//! Delivery is at least once. A sender claims a message for a lease before
//! it talks to SMTP; if the console dies after SMTP accepted the message but
//! before `sent` was recorded, the lease runs out and the message is sent
//! again, with the same Message-ID, which mail clients use to show
//! duplicates as one. Sending at most once instead would lose the message
//! in that case, and a stakeholder without their link blocks the procedure.

use std::{sync::Arc, time::Duration};

use sqlx::{PgPool, Postgres, Transaction};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::audit::Origin;
use crate::{
    audit::{self, Actor, AuditAction, NewEvent},
    mail::Mailer,
};

/// A message to queue.
#[derive(Debug, Clone)]
pub struct Outgoing<'a> {
    pub decommission: Option<Uuid>,
    pub stakeholder: Option<Uuid>,
    pub to_name: &'a str,
    pub to_addr: &'a str,
    /// What the message is for (the decommission step it belongs to).
    pub purpose: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
}

/// `outbound_mail.status`, as the migration's CHECK spells it; a word the
/// `sqlx::Type` derive does not know is a decode error, not quietly
/// "queued".
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum MailStatus {
    Queued,
    Failing,
    Sent,
    GivenUp,
}

impl MailStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MailStatus::Queued => "queued",
            MailStatus::Failing => "failing",
            MailStatus::Sent => "sent",
            MailStatus::GivenUp => "given_up",
        }
    }
}

/// Where a message stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailState {
    Queued,
    Failing {
        attempts: i32,
        error: String,
        next_attempt: OffsetDateTime,
    },
    /// `at` is when it was sent; every send since the outbox records it.
    Sent {
        at: Option<OffsetDateTime>,
    },
    GivenUp {
        attempts: i32,
        error: String,
    },
}

/// How the sender retries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// `EASEL_MAIL_RETRY_SECONDS`: the first wait; each next one doubles,
    /// up to an hour.
    pub first_wait: Duration,
    /// `EASEL_MAIL_MAX_ATTEMPTS`: then the message is given up (the page
    /// offers to send it again).
    pub max_attempts: i32,
    /// How long a sender may take with one message before another may
    /// claim it: longer than SMTP's deadline.
    pub lease: Duration,
}

impl RetryPolicy {
    /// The wait after the `attempts`-th failed attempt.
    pub fn wait_after(&self, attempts: i32) -> Duration {
        let doublings = attempts.saturating_sub(1).clamp(0, 20) as u32;
        self.first_wait.saturating_mul(1u32 << doublings).min(Duration::from_secs(3600))
    }
}

/// Queues a message; returns its Message-ID, chosen now so every attempt
/// sends the same one.
pub async fn enqueue(tx: &mut Transaction<'_, Postgres>, m: &Outgoing<'_>) -> Result<String, sqlx::Error> {
    let message_id = format!("<{}@easel>", Uuid::new_v4());
    sqlx::query!(
        "INSERT INTO outbound_mail
             (decommission_id, stakeholder_id, to_name, to_addr, step, subject, body, message_id, status)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'queued')",
        m.decommission,
        m.stakeholder,
        m.to_name,
        m.to_addr,
        m.purpose,
        m.subject,
        m.body,
        &message_id,
    )
    .execute(&mut **tx)
    .await?;
    Ok(message_id)
}

/// A failing or given-up message, due again now with its attempts counted
/// afresh. Says whether there was one (a sent message has no text left).
pub async fn send_again(
    tx: &mut Transaction<'_, Postgres>,
    decommission: Uuid,
    id: i64,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar!(
        "UPDATE outbound_mail SET status = 'queued', next_attempt_at = now(), attempts = 0
         WHERE id = $1 AND decommission_id = $2 AND status IN ('failing', 'given_up') AND body IS NOT NULL
         RETURNING to_addr",
        id,
        decommission,
    )
    .fetch_optional(&mut **tx)
    .await
}

struct Claimed {
    id: i64,
    decommission_id: Option<Uuid>,
    to_name: String,
    to_addr: String,
    step: String,
    subject: String,
    body: Option<String>,
    message_id: String,
    attempts: i32,
}

/// Sends every message that is due, one at a time; returns how many were
/// sent.
pub async fn deliver_due(pool: &PgPool, mailer: &Mailer, policy: &RetryPolicy) -> Result<usize, sqlx::Error> {
    let mut sent = 0;
    while let Some(m) = claim(pool, policy).await? {
        let Some(body) = &m.body else {
            // Only a sent message loses its text; this one cannot be sent.
            record_failure(pool, &m, "its text is gone", None).await?;
            continue;
        };
        match mailer.send(&m.to_name, &m.to_addr, &m.subject, body.clone(), &m.message_id).await {
            Ok(()) => {
                record_sent(pool, &m).await?;
                sent += 1;
            }
            Err(e) => record_failure(pool, &m, &e.to_string(), Some(policy)).await?,
        }
    }
    Ok(sent)
}

/// Takes the next due message for a lease, so two senders never hold it at
/// once; the claim commits before SMTP is talked to.
async fn claim(pool: &PgPool, policy: &RetryPolicy) -> Result<Option<Claimed>, sqlx::Error> {
    sqlx::query_as!(
        Claimed,
        "UPDATE outbound_mail SET lease_until = now() + make_interval(secs => $1)
         WHERE id = (
             SELECT id FROM outbound_mail
             WHERE status IN ('queued', 'failing') AND next_attempt_at <= now()
               AND (lease_until IS NULL OR lease_until < now())
             ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1)
         RETURNING id, decommission_id, to_name, to_addr, step, subject, body, message_id, attempts",
        policy.lease.as_secs_f64(),
    )
    .fetch_optional(pool)
    .await
}

async fn record_sent(pool: &PgPool, m: &Claimed) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query!(
        "UPDATE outbound_mail SET status = 'sent', sent_at = now(), body = NULL, lease_until = NULL,
             attempts = attempts + 1, last_error = NULL
         WHERE id = $1",
        m.id,
    )
    .execute(&mut *tx)
    .await?;
    let details = serde_json::json!({
        "to": m.to_addr, "step": m.step, "subject": m.subject, "message_id": m.message_id, "attempts": m.attempts + 1,
    });
    let subject = m.decommission_id.map_or_else(|| format!("mail:{}", m.id), |d| format!("decommission:{d}"));
    audit::append(
        &mut tx,
        NewEvent {
            actor: Actor::System,
            action: AuditAction::DecommissionMailSent,
            subject,
            details,
            client_addr: Origin::Console,
        },
    )
    .await?;
    tx.commit().await
}

/// Records a failed attempt; `retry` is how to go on, or `None` when no
/// attempt can succeed.
async fn record_failure(
    pool: &PgPool,
    m: &Claimed,
    error: &str,
    retry: Option<&RetryPolicy>,
) -> Result<(), sqlx::Error> {
    let attempts = m.attempts + 1;
    let wait = retry.filter(|p| attempts < p.max_attempts).map(|p| p.wait_after(attempts));
    let status = if wait.is_some() { MailStatus::Failing } else { MailStatus::GivenUp };
    tracing::warn!(to = %m.to_addr, attempts, status = status.as_str(), error, "a mail was not delivered");
    sqlx::query!(
        "UPDATE outbound_mail SET status = $2, attempts = $3, last_error = $4, lease_until = NULL,
             next_attempt_at = now() + make_interval(secs => $5)
         WHERE id = $1",
        m.id,
        status.as_str(),
        attempts,
        error,
        wait.unwrap_or_default().as_secs_f64(),
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Delivers due messages whenever `wake` is notified (a transaction queued
/// one) and every second otherwise (retries coming due), until dropped.
pub fn spawn(
    pool: PgPool,
    mailer: Mailer,
    policy: RetryPolicy,
    wake: Arc<tokio::sync::Notify>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if let Err(e) = deliver_due(&pool, &mailer, &policy).await {
                tracing::warn!(error = %e, "the mail outbox could not be read; trying again");
            }
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
    })
}

/// A row's state, from its columns.
pub fn state_of(
    status: MailStatus,
    attempts: i32,
    last_error: Option<&str>,
    next_attempt: OffsetDateTime,
    sent_at: Option<OffsetDateTime>,
) -> MailState {
    let error = last_error.unwrap_or_default().to_owned();
    match status {
        MailStatus::Queued => MailState::Queued,
        MailStatus::Failing => MailState::Failing { attempts, error, next_attempt },
        MailStatus::Sent => MailState::Sent { at: sent_at },
        MailStatus::GivenUp => MailState::GivenUp { attempts, error },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_from_the_first_and_stop_at_an_hour() {
        let p = RetryPolicy { first_wait: Duration::from_secs(30), max_attempts: 8, lease: Duration::from_secs(60) };
        let waits: Vec<u64> = (1..=9).map(|n| p.wait_after(n).as_secs()).collect();
        assert_eq!(waits, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
        assert_eq!(p.wait_after(i32::MAX).as_secs(), 3600);
    }

    #[test]
    fn the_database_spells_each_status_as_as_str() {
        for status in [MailStatus::Queued, MailStatus::Failing, MailStatus::Sent, MailStatus::GivenUp] {
            assert_eq!(crate::test_support::stored_as(&status), status.as_str());
        }
    }
}
