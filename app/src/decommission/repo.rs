//! The decommission tables. Callers pass a transaction where a change and
//! its audit row must commit together.

use sqlx::{PgExecutor, Postgres, Transaction, types::Json};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::outbox::{self, MailState};

use super::{
    stakeholder::{NewStakeholder, StakeholderRole},
    step::DecommissionStep,
    token::TokenHash,
};

/// Step 3's document.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Plan {
    pub steps: String,
    pub timeline: String,
    pub resources: String,
    pub contingency: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveState {
    None,
    Running,
    Ready,
    Failed,
}

impl ArchiveState {
    pub fn as_str(self) -> &'static str {
        match self {
            ArchiveState::None => "none",
            ArchiveState::Running => "running",
            ArchiveState::Ready => "ready",
            ArchiveState::Failed => "failed",
        }
    }
    /// A value no version of Easel writes is an error, not quietly "none":
    /// reading it as no archive would offer to start one over a finished one.
    fn parse(s: &str) -> Result<Self, UnknownArchiveState> {
        match s {
            "none" => Ok(ArchiveState::None),
            "running" => Ok(ArchiveState::Running),
            "ready" => Ok(ArchiveState::Ready),
            "failed" => Ok(ArchiveState::Failed),
            other => Err(UnknownArchiveState(other.to_owned())),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("archive_state {0:?} is not a state Easel writes")]
pub struct UnknownArchiveState(String);

#[derive(Debug, Clone)]
pub struct Decommission {
    pub id: Uuid,
    pub step: DecommissionStep,
    pub opened_by: String,
    pub opened_at: OffsetDateTime,
    pub point_of_contact: String,
    pub reason: String,
    pub reason_pdf_name: Option<String>,
    pub halted_reason: Option<String>,
    pub plan: Option<Plan>,
    pub plan_comment: Option<String>,
    pub archive_state: ArchiveState,
    pub archive_progress: String,
    pub archive_file: Option<String>,
    pub archive_sha256: Option<String>,
    pub archive_bytes: Option<i64>,
    pub audit_head: Option<String>,
    pub receipt_name: Option<String>,
    pub receipt_at: Option<OffsetDateTime>,
    pub receipt_addr: Option<String>,
    pub receipt_sha256: Option<String>,
    pub destroyed_at: Option<OffsetDateTime>,
    pub destroy_report: Option<serde_json::Value>,
    pub review: Option<String>,
    pub closed_at: Option<OffsetDateTime>,
}

#[derive(sqlx::FromRow)]
struct DecommissionRow {
    id: Uuid,
    step: String,
    opened_by: String,
    opened_at: OffsetDateTime,
    point_of_contact: String,
    reason: String,
    reason_pdf_name: Option<String>,
    halted_reason: Option<String>,
    plan: Option<Json<Plan>>,
    plan_comment: Option<String>,
    archive_state: String,
    archive_progress: String,
    archive_file: Option<String>,
    archive_sha256: Option<String>,
    archive_bytes: Option<i64>,
    audit_head: Option<String>,
    receipt_name: Option<String>,
    receipt_at: Option<OffsetDateTime>,
    receipt_addr: Option<String>,
    receipt_sha256: Option<String>,
    destroyed_at: Option<OffsetDateTime>,
    destroy_report: Option<Json<serde_json::Value>>,
    review: Option<String>,
    closed_at: Option<OffsetDateTime>,
}

impl TryFrom<DecommissionRow> for Decommission {
    type Error = sqlx::Error;
    fn try_from(r: DecommissionRow) -> Result<Self, sqlx::Error> {
        Ok(Decommission {
            id: r.id,
            step: DecommissionStep::parse(&r.step).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
            opened_by: r.opened_by,
            opened_at: r.opened_at,
            point_of_contact: r.point_of_contact,
            reason: r.reason,
            reason_pdf_name: r.reason_pdf_name,
            halted_reason: r.halted_reason,
            plan: r.plan.map(|p| p.0),
            plan_comment: r.plan_comment,
            archive_state: ArchiveState::parse(&r.archive_state).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
            archive_progress: r.archive_progress,
            archive_file: r.archive_file,
            archive_sha256: r.archive_sha256,
            archive_bytes: r.archive_bytes,
            audit_head: r.audit_head,
            receipt_name: r.receipt_name,
            receipt_at: r.receipt_at,
            receipt_addr: r.receipt_addr,
            receipt_sha256: r.receipt_sha256,
            destroyed_at: r.destroyed_at,
            destroy_report: r.destroy_report.map(|j| j.0),
            review: r.review,
            closed_at: r.closed_at,
        })
    }
}

const COLUMNS: &str = "id, step, opened_by, opened_at, point_of_contact, reason, reason_pdf_name, halted_reason, plan,
    plan_comment, archive_state, archive_progress, archive_file, archive_sha256, archive_bytes, audit_head,
    receipt_name, receipt_at, receipt_addr, receipt_sha256, destroyed_at, destroy_report, review, closed_at";

/// The decommission under way or finished (at most one; halted ones are history).
pub async fn current(db: impl PgExecutor<'_>) -> Result<Option<Decommission>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM decommissions WHERE step <> 'halted' LIMIT 1");
    let row: Option<DecommissionRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_optional(db).await?;
    row.map(TryInto::try_into).transpose()
}

/// Every decommission, newest first.
pub async fn all(db: impl PgExecutor<'_>) -> Result<Vec<Decommission>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM decommissions ORDER BY opened_at DESC");
    let rows: Vec<DecommissionRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(db).await?;
    rows.into_iter().map(TryInto::try_into).collect()
}

pub async fn find(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<Decommission>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM decommissions WHERE id = $1");
    let row: Option<DecommissionRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(db).await?;
    row.map(TryInto::try_into).transpose()
}

/// The row, locked until `tx` ends: steps change one at a time.
pub async fn lock(tx: &mut Transaction<'_, Postgres>, id: Uuid) -> Result<Option<Decommission>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM decommissions WHERE id = $1 FOR UPDATE");
    let row: Option<DecommissionRow> =
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&mut **tx).await?;
    row.map(TryInto::try_into).transpose()
}

pub struct NewDecommission<'a> {
    pub id: Uuid,
    pub opened_by: &'a str,
    pub point_of_contact: &'a str,
    pub reason: &'a str,
    pub reason_pdf: Option<(&'a str, &'a [u8])>,
}

/// Fails with a unique violation when another decommission is under way.
pub async fn insert(tx: &mut Transaction<'_, Postgres>, d: &NewDecommission<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO decommissions (id, step, opened_by, point_of_contact, reason, reason_pdf_name, reason_pdf)
         VALUES ($1, 'approval', $2, $3, $4, $5, $6)",
    )
    .bind(d.id)
    .bind(d.opened_by)
    .bind(d.point_of_contact)
    .bind(d.reason)
    .bind(d.reason_pdf.map(|(name, _)| name))
    .bind(d.reason_pdf.map(|(_, bytes)| bytes))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn reason_pdf(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<(String, Vec<u8>)>, sqlx::Error> {
    let row: Option<(Option<String>, Option<Vec<u8>>)> =
        sqlx::query_as("SELECT reason_pdf_name, reason_pdf FROM decommissions WHERE id = $1")
            .bind(id)
            .fetch_optional(db)
            .await?;
    Ok(row.and_then(|(name, bytes)| Some((name?, bytes?))))
}

pub async fn set_step(tx: &mut Transaction<'_, Postgres>, id: Uuid, step: DecommissionStep) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE decommissions SET step = $2 WHERE id = $1")
        .bind(id)
        .bind(step.as_str())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

// The `set_*` functions below store the step the caller got from
// `DecommissionStep::next`, so the procedure's order stays written in one place.

pub async fn set_halted(
    tx: &mut Transaction<'_, Postgres>,
    id: Uuid,
    next: DecommissionStep,
    reason: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE decommissions SET step = $3, halted_reason = $2 WHERE id = $1")
        .bind(id)
        .bind(reason)
        .bind(next.as_str())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn set_plan(
    tx: &mut Transaction<'_, Postgres>,
    id: Uuid,
    next: DecommissionStep,
    plan: &Plan,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE decommissions SET plan = $2, step = $3 WHERE id = $1")
        .bind(id)
        .bind(Json(plan))
        .bind(next.as_str())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn set_plan_comment(tx: &mut Transaction<'_, Postgres>, id: Uuid, comment: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE decommissions SET plan_comment = $2 WHERE id = $1")
        .bind(id)
        .bind(comment)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn set_archive_state(
    db: impl PgExecutor<'_>,
    id: Uuid,
    state: ArchiveState,
    progress: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE decommissions SET archive_state = $2, archive_progress = $3, archive_heartbeat = now() WHERE id = $1",
    )
    .bind(id)
    .bind(state.as_str())
    .bind(progress)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn set_archive_progress(db: impl PgExecutor<'_>, id: Uuid, progress: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE decommissions SET archive_progress = $2, archive_heartbeat = now() WHERE id = $1")
        .bind(id)
        .bind(progress)
        .execute(db)
        .await?;
    Ok(())
}

/// How long a build may go without progress before it counts as dead (its
/// console stopped) and may be started again.
pub const ARCHIVE_STALE_AFTER_MINUTES: i32 = 5;

/// Whether a build reported progress lately.
pub async fn archive_alive(tx: &mut Transaction<'_, Postgres>, id: Uuid) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT coalesce(archive_heartbeat > now() - make_interval(mins => $2), false) FROM decommissions WHERE id = $1",
    )
    .bind(id)
    .bind(ARCHIVE_STALE_AFTER_MINUTES)
    .fetch_one(&mut **tx)
    .await
}

pub struct ArchiveFacts<'a> {
    pub file: &'a str,
    pub sha256: &'a str,
    pub bytes: i64,
    pub audit_head: &'a str,
}

pub async fn set_archive_ready(
    tx: &mut Transaction<'_, Postgres>,
    id: Uuid,
    next: DecommissionStep,
    a: &ArchiveFacts<'_>,
    progress: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE decommissions SET archive_state = 'ready', archive_progress = $2, archive_file = $3,
             archive_sha256 = $4, archive_bytes = $5, audit_head = $6, step = $7
         WHERE id = $1",
    )
    .bind(id)
    .bind(progress)
    .bind(a.file)
    .bind(a.sha256)
    .bind(a.bytes)
    .bind(a.audit_head)
    .bind(next.as_str())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// What the representative signs.
pub struct Receipt<'a> {
    pub full_name: &'a str,
    pub by: &'a str,
    pub consent: &'a str,
    pub addr: &'a str,
    pub sha256: &'a str,
}

pub async fn set_receipt(
    tx: &mut Transaction<'_, Postgres>,
    id: Uuid,
    next: DecommissionStep,
    r: &Receipt<'_>,
) -> Result<OffsetDateTime, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE decommissions SET receipt_name = $2, receipt_at = now(), receipt_addr = $3, receipt_sha256 = $4,
             receipt_consent = $5, receipt_by = $6, step = $7
         WHERE id = $1 RETURNING receipt_at",
    )
    .bind(id)
    .bind(r.full_name)
    .bind(r.addr)
    .bind(r.sha256)
    .bind(r.consent)
    .bind(r.by)
    .bind(next.as_str())
    .fetch_one(&mut **tx)
    .await
}

pub async fn set_destroyed(
    tx: &mut Transaction<'_, Postgres>,
    id: Uuid,
    next: DecommissionStep,
    report: &serde_json::Value,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE decommissions SET destroyed_at = now(), destroy_report = $2, step = $3 WHERE id = $1")
        .bind(id)
        .bind(Json(report))
        .bind(next.as_str())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn set_closed(
    tx: &mut Transaction<'_, Postgres>,
    id: Uuid,
    next: DecommissionStep,
    review: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE decommissions SET review = $2, closed_at = now(), step = $3 WHERE id = $1")
        .bind(id)
        .bind(review)
        .bind(next.as_str())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct StakeholderRow {
    id: Uuid,
    name: String,
    email: String,
    role: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stakeholder {
    pub id: Uuid,
    pub name: String,
    pub email: String,
    pub role: StakeholderRole,
}

pub async fn insert_stakeholders(
    tx: &mut Transaction<'_, Postgres>,
    decommission: Uuid,
    list: &[NewStakeholder],
) -> Result<Vec<Stakeholder>, sqlx::Error> {
    let mut out = Vec::with_capacity(list.len());
    for (i, s) in list.iter().enumerate() {
        let id = Uuid::now_v7();
        sqlx::query(
            "INSERT INTO stakeholders (id, decommission_id, position, name, email, role) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(decommission)
        .bind(i as i32)
        .bind(&s.name)
        .bind(s.email.as_str())
        .bind(s.role.as_str())
        .execute(&mut **tx)
        .await?;
        out.push(Stakeholder { id, name: s.name.clone(), email: s.email.to_string(), role: s.role });
    }
    Ok(out)
}

pub async fn stakeholders(db: impl PgExecutor<'_>, decommission: Uuid) -> Result<Vec<Stakeholder>, sqlx::Error> {
    let rows: Vec<StakeholderRow> =
        sqlx::query_as("SELECT id, name, email, role FROM stakeholders WHERE decommission_id = $1 ORDER BY position")
            .bind(decommission)
            .fetch_all(db)
            .await?;
    Ok(rows
        .into_iter()
        .map(|r| Stakeholder {
            id: r.id,
            name: r.name,
            email: r.email,
            role: StakeholderRole::parse(&r.role).unwrap_or(StakeholderRole::User),
        })
        .collect())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Decision {
    pub stakeholder_id: Uuid,
    pub step: String,
    pub decision: String,
    pub comment: String,
    pub at: OffsetDateTime,
    pub client_addr: String,
}

pub async fn decisions(db: impl PgExecutor<'_>, decommission: Uuid) -> Result<Vec<Decision>, sqlx::Error> {
    sqlx::query_as(
        "SELECT d.stakeholder_id, d.step, d.decision, d.comment, d.at, d.client_addr
         FROM stakeholder_decisions d JOIN stakeholders s ON s.id = d.stakeholder_id
         WHERE s.decommission_id = $1 ORDER BY d.id",
    )
    .bind(decommission)
    .fetch_all(db)
    .await
}

pub async fn insert_decision(
    tx: &mut Transaction<'_, Postgres>,
    stakeholder: Uuid,
    step: DecommissionStep,
    approved: bool,
    comment: &str,
    client_addr: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO stakeholder_decisions (stakeholder_id, step, decision, comment, client_addr) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(stakeholder)
    .bind(step.as_str())
    .bind(if approved { "approved" } else { "rejected" })
    .bind(comment)
    .bind(client_addr)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// How many stakeholders of `decommission` have not yet approved at `step`.
pub async fn pending_approvals(
    tx: &mut Transaction<'_, Postgres>,
    decommission: Uuid,
    step: DecommissionStep,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT count(*) FROM stakeholders s WHERE s.decommission_id = $1 AND NOT EXISTS (
             SELECT 1 FROM stakeholder_decisions d WHERE d.stakeholder_id = s.id AND d.step = $2 AND d.decision = 'approved')",
    )
    .bind(decommission)
    .bind(step.as_str())
    .fetch_one(&mut **tx)
    .await
}

/// Ends every live link of `stakeholder` for `step`; returns how many.
pub async fn end_tokens(
    tx: &mut Transaction<'_, Postgres>,
    stakeholder: Uuid,
    step: DecommissionStep,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE approval_tokens SET ended_at = now()
         WHERE stakeholder_id = $1 AND step = $2 AND used_at IS NULL AND ended_at IS NULL",
    )
    .bind(stakeholder)
    .bind(step.as_str())
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected())
}

pub async fn insert_token(
    tx: &mut Transaction<'_, Postgres>,
    hash: &TokenHash,
    decommission: Uuid,
    stakeholder: Uuid,
    step: DecommissionStep,
    valid_days: u32,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO approval_tokens (token_hash, decommission_id, stakeholder_id, step, expires_at)
         VALUES ($1, $2, $3, $4, now() + make_interval(days => $5))",
    )
    .bind(&hash.0)
    .bind(decommission)
    .bind(stakeholder)
    .bind(step.as_str())
    .bind(valid_days as i32)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TokenRow {
    pub decommission_id: Uuid,
    pub stakeholder_id: Uuid,
    pub step: String,
    pub expired: bool,
    pub used_at: Option<OffsetDateTime>,
    pub ended_at: Option<OffsetDateTime>,
}

const TOKEN: &str = "SELECT decommission_id, stakeholder_id, step, expires_at <= now() AS expired, used_at, ended_at
     FROM approval_tokens WHERE token_hash = $1";

pub async fn find_token(db: impl PgExecutor<'_>, hash: &TokenHash) -> Result<Option<TokenRow>, sqlx::Error> {
    sqlx::query_as(TOKEN).bind(&hash.0).fetch_optional(db).await
}

/// The token row, locked so two submissions of one link cannot both decide.
pub async fn lock_token(tx: &mut Transaction<'_, Postgres>, hash: &TokenHash) -> Result<Option<TokenRow>, sqlx::Error> {
    let sql = format!("{TOKEN} FOR UPDATE");
    sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(&hash.0).fetch_optional(&mut **tx).await
}

pub async fn use_token(tx: &mut Transaction<'_, Postgres>, hash: &TokenHash) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE approval_tokens SET used_at = now() WHERE token_hash = $1")
        .bind(&hash.0)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// A message of the procedure, in the outbox or sent.
#[derive(Debug, Clone)]
pub struct MailRow {
    pub id: i64,
    pub stakeholder_id: Option<Uuid>,
    pub to_addr: String,
    pub subject: String,
    pub step: String,
    pub message_id: String,
    pub queued_at: OffsetDateTime,
    pub state: MailState,
}

#[derive(sqlx::FromRow)]
struct MailColumns {
    id: i64,
    stakeholder_id: Option<Uuid>,
    to_addr: String,
    subject: String,
    step: String,
    message_id: String,
    queued_at: OffsetDateTime,
    status: String,
    attempts: i32,
    last_error: Option<String>,
    next_attempt_at: OffsetDateTime,
    sent_at: Option<OffsetDateTime>,
}

pub async fn mails(db: impl PgExecutor<'_>, decommission: Uuid) -> Result<Vec<MailRow>, sqlx::Error> {
    let rows: Vec<MailColumns> = sqlx::query_as(
        "SELECT id, stakeholder_id, to_addr, subject, step, message_id, queued_at, status, attempts, last_error,
                next_attempt_at, sent_at
         FROM outbound_mail WHERE decommission_id = $1 ORDER BY id",
    )
    .bind(decommission)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| MailRow {
            state: outbox::state_of(&r.status, r.attempts, r.last_error.as_deref(), r.next_attempt_at, r.sent_at),
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

pub async fn freeze_uploads(tx: &mut Transaction<'_, Postgres>, by: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE upload_gate SET frozen_at = coalesce(frozen_at, now()), frozen_by = $1")
        .bind(by)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn close_uploads(tx: &mut Transaction<'_, Postgres>) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE upload_gate SET closed = true").execute(&mut **tx).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archive_states_read_back_and_an_unknown_one_is_an_error() {
        for state in [ArchiveState::None, ArchiveState::Running, ArchiveState::Ready, ArchiveState::Failed] {
            assert_eq!(ArchiveState::parse(state.as_str()).unwrap(), state);
        }
        let err = ArchiveState::parse("archived").unwrap_err();
        assert_eq!(err.to_string(), "archive_state \"archived\" is not a state Easel writes");
    }
}
