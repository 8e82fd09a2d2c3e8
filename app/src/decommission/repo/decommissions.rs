//! `decommissions`: one row per request, its step and everything each step
//! records on it (the plan, the archive, the receipt, the destruction's
//! report, the review). At most one is not halted (a unique index).

use sqlx::{PgExecutor, Postgres, Transaction, types::Json};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::decommission::step::DecommissionStep;

/// Step 3's document.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Plan {
    pub steps: String,
    pub timeline: String,
    pub resources: String,
    pub contingency: String,
}

/// Where step 4's archive stands. Stored as `as_str` spells it; a word
/// the `sqlx::Type` derive does not know is a decode error, not quietly
/// "none": reading it as no archive would offer to start one over a
/// finished one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
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
}

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

// Read through `select` alone, so the column list and its decoding are
// written once; `query_as!` checks it against the schema.
struct DecommissionRow {
    id: Uuid,
    step: DecommissionStep,
    opened_by: String,
    opened_at: OffsetDateTime,
    point_of_contact: String,
    reason: String,
    reason_pdf_name: Option<String>,
    halted_reason: Option<String>,
    plan: Option<Json<Plan>>,
    plan_comment: Option<String>,
    archive_state: ArchiveState,
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

impl From<DecommissionRow> for Decommission {
    fn from(r: DecommissionRow) -> Self {
        Decommission {
            id: r.id,
            step: r.step,
            opened_by: r.opened_by,
            opened_at: r.opened_at,
            point_of_contact: r.point_of_contact,
            reason: r.reason,
            reason_pdf_name: r.reason_pdf_name,
            halted_reason: r.halted_reason,
            plan: r.plan.map(|p| p.0),
            plan_comment: r.plan_comment,
            archive_state: r.archive_state,
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
        }
    }
}

/// Decommissions, newest first: the one `id` names, or all; only those not
/// halted when `open_only`.
async fn select(db: impl PgExecutor<'_>, id: Option<Uuid>, open_only: bool) -> Result<Vec<Decommission>, sqlx::Error> {
    let rows = sqlx::query_as!(
        DecommissionRow,
        r#"SELECT id, step AS "step: DecommissionStep", opened_by, opened_at, point_of_contact, reason,
                  reason_pdf_name, halted_reason, plan AS "plan: Json<Plan>", plan_comment,
                  archive_state AS "archive_state: ArchiveState", archive_progress, archive_file, archive_sha256,
                  archive_bytes, audit_head, receipt_name, receipt_at, receipt_addr, receipt_sha256, destroyed_at,
                  destroy_report AS "destroy_report: Json<serde_json::Value>", review, closed_at
           FROM decommissions
           WHERE ($1::uuid IS NULL OR id = $1) AND (NOT $2 OR step <> 'halted')
           ORDER BY opened_at DESC"#,
        id,
        open_only,
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(Decommission::from).collect())
}

/// The decommission under way or finished (at most one; halted ones are history).
pub async fn current(db: impl PgExecutor<'_>) -> Result<Option<Decommission>, sqlx::Error> {
    Ok(select(db, None, true).await?.into_iter().next())
}

/// Every decommission, newest first.
pub async fn all(db: impl PgExecutor<'_>) -> Result<Vec<Decommission>, sqlx::Error> {
    select(db, None, false).await
}

pub async fn find(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<Decommission>, sqlx::Error> {
    Ok(select(db, Some(id), false).await?.into_iter().next())
}

/// The row, locked until `tx` ends: steps change one at a time.
pub async fn lock(tx: &mut Transaction<'_, Postgres>, id: Uuid) -> Result<Option<Decommission>, sqlx::Error> {
    let held = sqlx::query_scalar!("SELECT id FROM decommissions WHERE id = $1 FOR UPDATE", id)
        .fetch_optional(&mut **tx)
        .await?;
    match held {
        Some(id) => find(&mut **tx, id).await,
        None => Ok(None),
    }
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
    sqlx::query!(
        "INSERT INTO decommissions (id, step, opened_by, point_of_contact, reason, reason_pdf_name, reason_pdf)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        d.id,
        DecommissionStep::Approval.as_str(),
        d.opened_by,
        d.point_of_contact,
        d.reason,
        d.reason_pdf.map(|(name, _)| name),
        d.reason_pdf.map(|(_, bytes)| bytes),
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn reason_pdf(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<(String, Vec<u8>)>, sqlx::Error> {
    let row = sqlx::query!("SELECT reason_pdf_name, reason_pdf FROM decommissions WHERE id = $1", id)
        .fetch_optional(db)
        .await?;
    Ok(row.and_then(|r| Some((r.reason_pdf_name?, r.reason_pdf?))))
}

// Steps are written as `DecommissionStep::as_str` spells them, which is
// what its `sqlx::Type` derive reads back (a test in `step.rs` holds them
// together). The `set_*` functions store the step the caller got from
// `DecommissionStep::next`, so the procedure's order stays written in one place.

pub async fn set_step(tx: &mut Transaction<'_, Postgres>, id: Uuid, step: DecommissionStep) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE decommissions SET step = $2 WHERE id = $1", id, step.as_str()).execute(&mut **tx).await?;
    Ok(())
}

pub async fn set_halted(
    tx: &mut Transaction<'_, Postgres>,
    id: Uuid,
    next: DecommissionStep,
    reason: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE decommissions SET step = $3, halted_reason = $2 WHERE id = $1", id, reason, next.as_str())
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
    sqlx::query!("UPDATE decommissions SET plan = $2, step = $3 WHERE id = $1", id, Json(plan) as _, next.as_str(),)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn set_plan_comment(tx: &mut Transaction<'_, Postgres>, id: Uuid, comment: &str) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE decommissions SET plan_comment = $2 WHERE id = $1", id, comment).execute(&mut **tx).await?;
    Ok(())
}

pub async fn set_archive_state(
    db: impl PgExecutor<'_>,
    id: Uuid,
    state: ArchiveState,
    progress: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE decommissions SET archive_state = $2, archive_progress = $3, archive_heartbeat = now() WHERE id = $1",
        id,
        state.as_str(),
        progress,
    )
    .execute(db)
    .await?;
    Ok(())
}

pub async fn set_archive_progress(db: impl PgExecutor<'_>, id: Uuid, progress: &str) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE decommissions SET archive_progress = $2, archive_heartbeat = now() WHERE id = $1",
        id,
        progress,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// How long a build may go without progress before it counts as dead (its
/// console stopped) and may be started again.
pub const ARCHIVE_STALE_AFTER_MINUTES: i32 = 5;

/// Whether a build reported progress lately.
pub async fn archive_alive(tx: &mut Transaction<'_, Postgres>, id: Uuid) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT coalesce(archive_heartbeat > now() - make_interval(mins => $2), false) AS "alive!"
           FROM decommissions WHERE id = $1"#,
        id,
        ARCHIVE_STALE_AFTER_MINUTES,
    )
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
    sqlx::query!(
        "UPDATE decommissions SET archive_state = $8, archive_progress = $2, archive_file = $3,
             archive_sha256 = $4, archive_bytes = $5, audit_head = $6, step = $7
         WHERE id = $1",
        id,
        progress,
        a.file,
        a.sha256,
        a.bytes,
        a.audit_head,
        next.as_str(),
        ArchiveState::Ready.as_str(),
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// What the representative signs.
pub struct Receipt<'a> {
    pub full_name: &'a str,
    pub by: &'a str,
    pub consent: &'a str,
    pub addr: std::net::IpAddr,
    pub sha256: &'a str,
}

pub async fn set_receipt(
    tx: &mut Transaction<'_, Postgres>,
    id: Uuid,
    next: DecommissionStep,
    r: &Receipt<'_>,
) -> Result<OffsetDateTime, sqlx::Error> {
    sqlx::query_scalar!(
        r#"UPDATE decommissions SET receipt_name = $2, receipt_at = now(), receipt_addr = $3, receipt_sha256 = $4,
               receipt_consent = $5, receipt_by = $6, step = $7
           WHERE id = $1 RETURNING receipt_at AS "receipt_at!""#,
        id,
        r.full_name,
        r.addr.to_string(),
        r.sha256,
        r.consent,
        r.by,
        next.as_str(),
    )
    .fetch_one(&mut **tx)
    .await
}

pub async fn set_destroyed(
    tx: &mut Transaction<'_, Postgres>,
    id: Uuid,
    next: DecommissionStep,
    report: &serde_json::Value,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE decommissions SET destroyed_at = now(), destroy_report = $2, step = $3 WHERE id = $1",
        id,
        report,
        next.as_str(),
    )
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
    sqlx::query!(
        "UPDATE decommissions SET review = $2, closed_at = now(), step = $3 WHERE id = $1",
        id,
        review,
        next.as_str(),
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_spells_each_archive_state_as_as_str() {
        for state in [ArchiveState::None, ArchiveState::Running, ArchiveState::Ready, ArchiveState::Failed] {
            assert_eq!(crate::test_support::stored_as(&state), state.as_str());
        }
    }
}
