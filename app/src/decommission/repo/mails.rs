//! `outbound_mail`, as the decommission page lists it: the procedure's
//! messages and where each stands (`crate::outbox` writes and sends them).

use sqlx::PgExecutor;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::decommission::step::DecommissionStep;
use crate::outbox::{self, MailState, MailStatus};

/// A message of the procedure, in the outbox or sent.
#[derive(Debug, Clone)]
pub struct MailRow {
    pub id: i64,
    pub stakeholder_id: Option<Uuid>,
    pub to_addr: String,
    pub subject: String,
    pub step: DecommissionStep,
    pub message_id: String,
    pub queued_at: OffsetDateTime,
    pub state: MailState,
}

pub async fn mails(db: impl PgExecutor<'_>, decommission: Uuid) -> Result<Vec<MailRow>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT id, stakeholder_id, to_addr, subject, step AS "step: DecommissionStep", message_id, queued_at,
                  status AS "status: MailStatus", attempts, last_error, next_attempt_at, sent_at
           FROM outbound_mail WHERE decommission_id = $1 ORDER BY id"#,
        decommission,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| MailRow {
            state: outbox::state_of(r.status, r.attempts, r.last_error.as_deref(), r.next_attempt_at, r.sent_at),
            id: r.id,
            stakeholder_id: r.stakeholder_id,
            to_addr: r.to_addr,
            subject: r.subject,
            step: r.step,
            message_id: r.message_id,
            queued_at: r.queued_at,
        })
        .collect())
}
