//! A restore: the plan stored item by item, claimed by one copier at a
//! time (the gate's lock), copied with a heartbeat so an interrupted run can
//! be resumed, and its start, resumption and end in the audit trail.

use std::sync::Arc;

use aws_sdk_s3::error::DisplayErrorContext;
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{ObjectInfo, STALE_AFTER, bucket_exists};
use crate::audit::Origin;
use crate::{
    audit::{self, Actor, AuditAction, NewEvent},
    gate::{self, Change, GateError},
    storage::BucketRole,
    support::{
        Support,
        doctor::{self, Aspect, Fix},
    },
};

#[derive(Debug, Clone)]
pub struct RestoreRun {
    pub id: Uuid,
    pub started_by: String,
    pub started_role: String,
    pub started_at: OffsetDateTime,
    pub heartbeat_at: OffsetDateTime,
    pub finished_at: Option<OffsetDateTime>,
    pub planned: i32,
    pub copied: i64,
    pub failed: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunState {
    Running,
    /// Not finished and nobody has touched it lately: resumable.
    Interrupted,
    Finished,
}

impl RestoreRun {
    pub fn state(&self, now: OffsetDateTime) -> RunState {
        if self.finished_at.is_some() {
            RunState::Finished
        } else if now - self.heartbeat_at > STALE_AFTER {
            RunState::Interrupted
        } else {
            RunState::Running
        }
    }

    pub fn remaining(&self) -> i64 {
        i64::from(self.planned) - self.copied
    }
}

pub async fn find_run(pool: &PgPool, id: Uuid) -> Result<Option<RestoreRun>, sqlx::Error> {
    sqlx::query_as!(
        RestoreRun,
        r#"SELECT r.id, r.started_by, r.started_role, r.started_at, r.heartbeat_at, r.finished_at, r.planned,
                  (SELECT count(*) FROM restore_items i WHERE i.run_id = r.id AND i.done_at IS NOT NULL) AS "copied!",
                  (SELECT count(*) FROM restore_items i WHERE i.run_id = r.id AND i.done_at IS NULL AND i.error IS NOT NULL) AS "failed!"
           FROM restore_runs r WHERE r.id = $1"#,
        id,
    )
    .fetch_optional(pool)
    .await
}

pub async fn recent_runs(pool: &PgPool, limit: i64) -> Result<Vec<RestoreRun>, sqlx::Error> {
    sqlx::query_as!(
        RestoreRun,
        r#"SELECT r.id, r.started_by, r.started_role, r.started_at, r.heartbeat_at, r.finished_at, r.planned,
                  (SELECT count(*) FROM restore_items i WHERE i.run_id = r.id AND i.done_at IS NOT NULL) AS "copied!",
                  (SELECT count(*) FROM restore_items i WHERE i.run_id = r.id AND i.done_at IS NULL AND i.error IS NOT NULL) AS "failed!"
           FROM restore_runs r ORDER BY r.started_at DESC LIMIT $1"#,
        limit,
    )
    .fetch_all(pool)
    .await
}

/// Keys that failed in a run, with the reason.
pub async fn failures(pool: &PgPool, id: Uuid) -> Result<Vec<(String, String)>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT key, error AS "error!" FROM restore_items
           WHERE run_id = $1 AND done_at IS NULL AND error IS NOT NULL ORDER BY key LIMIT 100"#,
        id,
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| (r.key, r.error)).collect())
}

/// Why a restore could not be started or resumed.
#[derive(Debug, thiserror::Error)]
pub enum ClaimError {
    #[error("Another restore has not finished yet{}: resume it or let it finish before starting another.", .0.map(|id| format!(" (restore {id})")).unwrap_or_default())]
    Busy(Option<Uuid>),
    #[error("This restore is still running; it needs no resuming.")]
    Running,
    #[error("This restore finished with nothing left to copy.")]
    Done,
    #[error(transparent)]
    Refused(#[from] crate::gate::Refused),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

impl From<GateError> for ClaimError {
    fn from(e: GateError) -> Self {
        match e {
            GateError::Refused(r) => ClaimError::Refused(r),
            GateError::Db(e) => ClaimError::Db(e),
        }
    }
}

/// The unique index that allows one unfinished run at a time.
fn is_busy(e: &sqlx::Error) -> bool {
    e.as_database_error().and_then(|d| d.constraint()) == Some("restore_runs_one_unfinished")
}

async fn unfinished_run(pool: &PgPool) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar!("SELECT id FROM restore_runs WHERE finished_at IS NULL LIMIT 1").fetch_optional(pool).await
}

/// Records a restore of `plan` (the dry run's list) and its audit row, in
/// one transaction. Nothing is copied yet: `execute` does that. Only one
/// restore may be unfinished at a time (a unique index makes sure), so the
/// caller that created the run is the only one to spawn its copier.
pub async fn start(
    pool: &PgPool,
    plan: &[(ObjectInfo, &'static str)],
    actor: &Actor,
    client_addr: Origin,
) -> Result<Uuid, ClaimError> {
    if let Some(other) = unfinished_run(pool).await? {
        return Err(ClaimError::Busy(Some(other)));
    }
    let id = Uuid::now_v7();
    let mut tx = pool.begin().await?;
    gate::hold(&mut tx, Change::Data).await?;
    let inserted = sqlx::query!(
        "INSERT INTO restore_runs (id, started_by, started_role, planned) VALUES ($1, $2, $3, $4)",
        id,
        actor.name(),
        actor.role(),
        plan.len() as i32,
    )
    .execute(&mut *tx)
    .await;
    match inserted {
        Err(e) if is_busy(&e) => {
            drop(tx);
            return Err(ClaimError::Busy(unfinished_run(pool).await?));
        }
        other => other?,
    };
    let keys: Vec<&str> = plan.iter().map(|(o, _)| o.key.as_str()).collect();
    let sizes: Vec<i64> = plan.iter().map(|(o, _)| o.size).collect();
    let reasons: Vec<&str> = plan.iter().map(|(_, r)| *r).collect();
    sqlx::query!(
        "INSERT INTO restore_items (run_id, key, bytes, reason) SELECT $1, * FROM unnest($2::text[], $3::bigint[], $4::text[])",
        id,
        // The macro checks for `[String]`; the cast says borrowed ones are meant.
        keys.as_slice() as &[&str],
        &sizes,
        reasons.as_slice() as &[&str],
    )
    .execute(&mut *tx)
    .await?;
    let missing = plan.iter().filter(|(_, r)| *r == "missing").count();
    audit::append(
        &mut tx,
        NewEvent {
            actor: actor.clone(),
            action: AuditAction::RestoreStarted,
            subject: format!("restore:{id}"),
            details: serde_json::json!({
                "planned": plan.len(), "missing": missing, "differing": plan.len() - missing,
                "bytes": sizes.iter().sum::<i64>(),
            }),
            client_addr,
        },
    )
    .await?;
    match tx.commit().await {
        Err(e) if is_busy(&e) => Err(ClaimError::Busy(unfinished_run(pool).await?)),
        other => Ok(other.map(|()| id)?),
    }
}

/// Claims an interrupted run (or a finished one with failures) for a new
/// copier and records that `actor` resumed it. The claim is one UPDATE
/// whose condition only a stale or finished run meets and which makes it
/// fresh, so of two resumes at once exactly one gets the run; the caller
/// spawns a copier only when this returns `Ok`.
pub async fn record_resume(
    pool: &PgPool,
    run: &RestoreRun,
    actor: &Actor,
    client_addr: Origin,
) -> Result<(), ClaimError> {
    let mut tx = pool.begin().await?;
    gate::hold(&mut tx, Change::Data).await?;
    let claimed = sqlx::query_scalar!(
        "UPDATE restore_runs r SET heartbeat_at = now(), finished_at = NULL
         WHERE r.id = $1 AND (
             (r.finished_at IS NULL AND r.heartbeat_at < now() - make_interval(secs => $2))
             OR (r.finished_at IS NOT NULL
                 AND EXISTS (SELECT 1 FROM restore_items i WHERE i.run_id = r.id AND i.done_at IS NULL)))
         RETURNING r.id",
        run.id,
        STALE_AFTER.as_secs_f64(),
    )
    .fetch_optional(&mut *tx)
    .await;
    match claimed {
        Err(e) if is_busy(&e) => {
            drop(tx);
            return Err(ClaimError::Busy(unfinished_run(pool).await?));
        }
        Err(e) => return Err(e.into()),
        Ok(None) => {
            drop(tx);
            let now = find_run(pool, run.id).await?;
            return Err(match now {
                Some(r) if r.finished_at.is_some() => ClaimError::Done,
                _ => ClaimError::Running,
            });
        }
        Ok(Some(_)) => {}
    }
    audit::append(
        &mut tx,
        NewEvent {
            actor: actor.clone(),
            action: AuditAction::RestoreResumed,
            subject: format!("restore:{}", run.id),
            details: serde_json::json!({ "planned": run.planned, "already_copied": run.copied, "remaining": run.remaining() }),
            client_addr,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Aborts the heartbeat task when the copier stops, however it stops.
struct Heartbeat(tokio::task::JoinHandle<()>);

impl Heartbeat {
    /// Touches the run every third of `STALE_AFTER` while the copier runs,
    /// so a slow copy never makes a live run look interrupted.
    fn start(pool: PgPool, id: Uuid) -> Self {
        Heartbeat(tokio::spawn(async move {
            let mut every = tokio::time::interval(STALE_AFTER / 3);
            loop {
                every.tick().await;
                let touched = sqlx::query!(
                    "UPDATE restore_runs SET heartbeat_at = now() WHERE id = $1 AND finished_at IS NULL",
                    id,
                )
                .execute(&pool)
                .await;
                if let Err(e) = touched {
                    tracing::warn!(error = ?e, restore = %id, "could not touch the restore's heartbeat");
                }
            }
        }))
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// `bucket/key` for CopySource, the key percent-encoded except `/`.
fn copy_source(bucket: &str, key: &str) -> String {
    format!("{bucket}/{}", crate::support::trigger::percent_encode_key(key, "%20"))
}

/// Copies the run's pending items from backup into resized, oldest key
/// first, touching the run as it goes. `budget` stops after that many items
/// without finishing the run, as an interruption would (for tests). When
/// every item has had its turn, the run is finished and audited.
pub async fn execute(support: Arc<Support>, pool: PgPool, id: Uuid, budget: Option<usize>) -> anyhow::Result<()> {
    let _heartbeat = Heartbeat::start(pool.clone(), id);
    let run = find_run(&pool, id).await?.ok_or_else(|| anyhow::anyhow!("restore {id} vanished"))?;
    let starter = Actor::Staff { email: run.started_by.clone(), role: run.started_role.clone() };
    // The resized bucket may have been deleted: make it again, as the spec
    // says (the routes let only admins start or resume such a restore), and
    // record the re-creation like the doctor's fix it is.
    let resized = support.buckets.resized.clone();
    let mut recreated = false;
    if !bucket_exists(&support.s3, &resized).await? {
        let fix = Fix { role: BucketRole::Resized, aspect: Aspect::Location };
        if let Some(p) = doctor::apply(&pool, &support, fix).await? {
            recreated = true;
            // Whoever started or last resumed the run made this happen.
            let claimant = sqlx::query!(
                "SELECT actor, role FROM audit_events WHERE subject = $1
                   AND action IN ('support.restore_started', 'support.restore_resumed')
                 ORDER BY id DESC LIMIT 1",
                format!("restore:{id}"),
            )
            .fetch_optional(&pool)
            .await?;
            let by = claimant.map(|c| Actor::Staff { email: c.actor, role: c.role }).unwrap_or_else(|| starter.clone());
            let extra = serde_json::json!({ "recreated_bucket": true, "restore": id.to_string() });
            p.record(&pool, &by, Origin::Console, extra).await?;
        }
    }
    let pending =
        sqlx::query_scalar!("SELECT key FROM restore_items WHERE run_id = $1 AND done_at IS NULL ORDER BY key", id)
            .fetch_all(&pool)
            .await?;
    for (n, key) in pending.iter().enumerate() {
        if budget.is_some_and(|b| n >= b) {
            return Ok(());
        }
        // A copy started before a freeze stops at it: the archive is what
        // the buckets hold then. The run shows as interrupted.
        gate::check(&pool, Change::Data).await?;
        let copied = support
            .s3
            .copy_object()
            .bucket(&resized)
            .key(key)
            .copy_source(copy_source(&support.buckets.backup, key))
            .send()
            .await;
        match copied {
            Ok(_) => {
                sqlx::query!(
                    "UPDATE restore_items SET done_at = now(), error = NULL WHERE run_id = $1 AND key = $2",
                    id,
                    key,
                )
                .execute(&pool)
                .await?
            }
            Err(e) => {
                tracing::warn!(key, error = %DisplayErrorContext(&e), "a restore copy failed");
                sqlx::query!(
                    "UPDATE restore_items SET error = $3 WHERE run_id = $1 AND key = $2",
                    id,
                    key,
                    crate::aws::answer(&e),
                )
                .execute(&pool)
                .await?
            }
        };
    }
    // Finishing is conditional, so the run is finished (and audited) once.
    let mut tx = pool.begin().await?;
    let finished = sqlx::query_scalar!(
        "UPDATE restore_runs SET finished_at = now(), heartbeat_at = now() WHERE id = $1 AND finished_at IS NULL RETURNING id",
        id,
    )
    .fetch_optional(&mut *tx)
    .await?;
    if finished.is_none() {
        return Ok(());
    }
    let counts = sqlx::query!(
        r#"SELECT count(*) FILTER (WHERE done_at IS NOT NULL) AS "copied!",
                  count(*) FILTER (WHERE done_at IS NULL AND error IS NOT NULL) AS "failed!"
           FROM restore_items WHERE run_id = $1"#,
        id,
    )
    .fetch_one(&mut *tx)
    .await?;
    let (copied, failed) = (counts.copied, counts.failed);
    let mut details = serde_json::json!({ "planned": run.planned, "copied": copied, "failed": failed });
    if recreated {
        details["recreated_bucket"] = true.into();
    }
    audit::append(
        &mut tx,
        NewEvent {
            actor: starter,
            action: AuditAction::RestoreFinished,
            subject: format!("restore:{id}"),
            details,
            client_addr: Origin::Console,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Runs `execute` in the background, logging a failure (the run then shows
/// as interrupted and can be resumed).
pub fn spawn(support: Arc<Support>, pool: PgPool, id: Uuid) {
    tokio::spawn(async move {
        if let Err(e) = execute(support, pool, id, None).await {
            tracing::error!(error = ?e, restore = %id, "restore stopped; it can be resumed from /admin/backups");
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_sources_are_percent_encoded() {
        assert_eq!(copy_source("b", "artwork/a b/thumb+1.jpg"), "b/artwork/a%20b/thumb%2B1.jpg");
    }
}
