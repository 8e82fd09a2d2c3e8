//! Step 5: destroy and remove. Every object and version goes, then the
//! resizer Easel configured and the console's own copy of the archive;
//! support accounts are disabled. Refused before the signed receipt; on
//! record before anything is deleted, and again on failure.

use anyhow::Context;
use std::net::IpAddr;
use uuid::Uuid;

use super::{DecommissionError, Result, event, locked};
use crate::audit::{self, Actor, AuditAction, NewEvent};
use crate::auth::users;
use crate::decommission::{Services, destroy, repo, step::StepEvent};

/// One audit row in its own transaction.
async fn record(
    state: &Services,
    actor: &Actor,
    action: AuditAction,
    id: Uuid,
    details: serde_json::Value,
    addr: IpAddr,
) -> Result<()> {
    audit::record(&state.pool, event(actor, action, id, details, addr)).await?;
    Ok(())
}

/// Step 5: destroys every object and version, removes what Easel set on the
/// buckets, disables support accounts. Refused before the signed receipt.
pub async fn destroy(state: &Services, id: Uuid, actor: &Actor, addr: IpAddr) -> Result<()> {
    // The row stays locked through the whole destruction: a second admin's
    // click waits, then finds the step done. An interrupted run leaves the
    // step at “destroy”; running it again lists what is left and finishes.
    let mut tx = state.pool.begin().await?;
    let d = locked(&mut tx, id).await?;
    let next = d.step.next(StepEvent::Destroyed)?;
    if d.receipt_at.is_none() {
        return Err(DecommissionError::Invalid(
            "Nothing is destroyed before the representative signs the receipt.".into(),
        ));
    }
    // On record before anything is deleted, in its own transaction: a run
    // that fails or stops half-way is then in the audit trail too.
    record(state, actor, AuditAction::DecommissionDestroyStarted, id, serde_json::json!({}), addr).await?;
    // The buckets' contents, then the resizer Easel configured (its logs
    // are in the archive).
    let destroyed: anyhow::Result<_> = async {
        let report = destroy::wipe(state.s3(), state.buckets()).await.context("destroying the buckets' contents")?;
        if let Some(b) = report.iter().find(|b| !b.empty) {
            anyhow::bail!("bucket {} is not empty after deletion", b.bucket);
        }
        let resizer = destroy::remove_resizer(&state.support).await.context("removing the resizer")?;
        Ok((report, resizer))
    }
    .await;
    let (report, resizer) = match destroyed {
        Ok(done) => done,
        Err(e) => {
            let details = serde_json::json!({ "error": format!("{e:#}") });
            if let Err(not_recorded) =
                record(state, actor, AuditAction::DecommissionDestroyFailed, id, details, addr).await
            {
                tracing::error!(error = ?not_recorded, "the destruction's failure was not recorded");
            }
            return Err(e.into());
        }
    };
    // The console's own copy of the archive is a copy of all the data too:
    // the representative has signed for theirs, so this one goes as well.
    let archive_copy_removed = match &d.archive_file {
        Some(file) => match tokio::fs::remove_file(file).await {
            Ok(()) => true,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
            Err(e) => return Err(anyhow::Error::new(e).context(format!("removing the archive copy {file}")).into()),
        },
        None => true,
    };
    let report = serde_json::json!({
        "buckets": serde_json::to_value(&report).context("a report serialises")?,
        "resizer": resizer,
        "archive_copy_removed": archive_copy_removed,
    });
    repo::set_destroyed(&mut tx, id, next, &report).await?;
    repo::close_uploads(&mut tx).await?;
    let support = users::enabled_support(&mut *tx).await?;
    for (uid, email) in &support {
        users::disable(&mut tx, *uid).await?;
        let e = NewEvent {
            actor: actor.clone(),
            action: AuditAction::UserDisabled,
            subject: format!("user:{email}"),
            details: serde_json::json!({ "decommission": id }),
            client_addr: addr.into(),
        };
        audit::append(&mut tx, e).await?;
    }
    let details = serde_json::json!({
        "buckets": report["buckets"], "resizer": report["resizer"], "archive_copy_removed": archive_copy_removed,
        "support_accounts_disabled": support.iter().map(|(_, e)| e).collect::<Vec<_>>(),
    });
    audit::append(&mut tx, event(actor, AuditAction::DecommissionDestroyed, id, details, addr)).await?;
    tx.commit().await?;
    Ok(())
}
