//! Step 4, the archive: built in the background once uploads under way and
//! the resizer are done, verified, then handed over: the representative's
//! receipt link is queued with the step change. A failed or stalled build
//! may be started again; only one build's result is kept.

use std::net::IpAddr;

use crate::audit::Origin;
use anyhow::Context;
use uuid::Uuid;

use super::{DecommissionError, Result, event, links::queue_links, locked, representative};
use crate::audit::{self, Actor, AuditAction};
use crate::decommission::{
    Services, archive,
    repo::{self, ArchiveState},
    step::{DecommissionStep, StepEvent},
};

/// Step 4: builds the archive in the background; the console shows progress.
pub async fn start_archive(state: &Services, id: Uuid, actor: &Actor, addr: IpAddr) -> Result<()> {
    let mut tx = state.pool.begin().await?;
    let d = locked(&mut tx, id).await?;
    // Only the archive step may build, and only one build at a time.
    d.step.next(StepEvent::ArchiveVerified)?;
    let running = d.archive_state == ArchiveState::Running && repo::archive_alive(&mut tx, id).await?;
    if running || d.archive_state == ArchiveState::Ready {
        return Err(DecommissionError::Invalid("The archive is already being built.".into()));
    }
    // A restart after a stopped console: its half-written file goes.
    if let Err(e) = archive::remove_partials(&state.decommission.archive_dir, id).await {
        tracing::warn!(error = %e, "a stale partial archive was not removed");
    }
    repo::set_archive_state(&mut *tx, id, ArchiveState::Running, "starting").await?;
    let details = serde_json::json!({ "uploads_frozen": true });
    audit::append(&mut tx, event(actor, AuditAction::DecommissionArchiveStarted, id, details, addr)).await?;
    tx.commit().await?;
    let state = state.clone();
    tokio::spawn(async move {
        if let Err(e) = build_and_hand_over(&state, id).await {
            tracing::error!(error = ?e, decommission = %id, "the decommission archive failed");
            let mut tx = match state.pool.begin().await {
                Ok(tx) => tx,
                Err(e) => return tracing::error!(error = ?e, "cannot record the archive failure"),
            };
            let progress = format!("{e:#}");
            let recorded = async {
                // A build restarted meanwhile may have finished: then this
                // one's failure changes nothing.
                match repo::lock(&mut tx, id).await? {
                    Some(d) if d.step == DecommissionStep::Archive => {}
                    _ => return Ok(()),
                }
                repo::set_archive_state(&mut *tx, id, ArchiveState::Failed, &progress).await?;
                let details = serde_json::json!({ "error": format!("{e:#}") });
                audit::append(
                    &mut tx,
                    event(&Actor::System, AuditAction::DecommissionArchiveFailed, id, details, Origin::Console),
                )
                .await?;
                tx.commit().await
            }
            .await;
            if let Err(e) = recorded {
                tracing::error!(error = ?e, "cannot record the archive failure");
            }
        }
    });
    Ok(())
}

async fn build_and_hand_over(state: &Services, id: Uuid) -> anyhow::Result<()> {
    let pool = state.pool.clone();
    let progress = move |text: String| {
        let pool = pool.clone();
        async move {
            if let Err(e) = repo::set_archive_progress(&pool, id, &text).await {
                tracing::warn!(error = ?e, "archive progress not recorded");
            }
        }
    };
    // Uploads are frozen; those that registered before the freeze finish
    // first, so the archive holds each of them whole (row and original).
    let mut reported = 0;
    crate::artworks::in_flight::wait_until_none(&state.pool, state.deadlines.page, |n| {
        if n != reported {
            reported = n;
            tracing::info!(uploads = n, "the archive waits for uploads under way");
        }
    })
    .await
    .context("waiting for uploads under way")?;
    // Then the resizer, so the archive holds every rendition of every
    // upload accepted before the freeze (or names those it never made).
    let not_rendered = archive::wait_for_renditions(
        &state.pool,
        state.s3(),
        &state.buckets().resized,
        state.decommission.resizer_wait,
        &progress,
    )
    .await
    .context("waiting for the resizer")?;
    if !not_rendered.is_empty() {
        tracing::warn!(uploads = not_rendered.len(), "the archive stopped waiting for the resizer");
    }
    let built = archive::build(
        &state.pool,
        &state.support,
        &state.decommission.archive_dir,
        id,
        state.audit_key.as_ref(),
        not_rendered,
        progress,
    )
    .await
    .context("building the archive")?;
    let mut tx = state.pool.begin().await?;
    let d = repo::lock(&mut tx, id).await?.context("the decommission vanished")?;
    if d.step != DecommissionStep::Archive {
        // Another build (restarted while this one seemed stalled) won.
        drop(tx);
        let _ = tokio::fs::remove_file(&built.path).await;
        return Ok(());
    }
    let file = built.path.to_string_lossy().into_owned();
    let facts = repo::ArchiveFacts {
        file: &file,
        sha256: &built.sha256,
        bytes: built.bytes as i64,
        audit_head: &built.audit_head,
    };
    let summary = format!("verified: {} files, {} bytes", built.files, built.bytes);
    let next = d.step.next(StepEvent::ArchiveVerified)?;
    repo::set_archive_ready(&mut tx, id, next, &facts, &summary).await?;
    let details = serde_json::json!({
        "file": file, "sha256": built.sha256, "bytes": built.bytes, "files": built.files,
        "audit_chain_head": built.audit_head, "verified": true,
    });
    audit::append(&mut tx, event(&Actor::System, AuditAction::DecommissionArchiveBuilt, id, details, Origin::Console))
        .await?;
    let to = representative(state, id).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    queue_links(&mut tx, state, id, &d.reason, DecommissionStep::Handover, &to)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    tx.commit().await?;
    state.mail_wake.notify_one();
    Ok(())
}
