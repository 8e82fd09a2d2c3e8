//! What a fault can still leave behind, found and removed. The upload puts
//! the original before it writes the row (`routes/upload/post.rs`), so a
//! console killed in between, a page deadline passing, or S3 accepting a
//! put whose answer never came back leaves an original with no row: the
//! gallery never shows it, yet the resizer renders it. Such an original,
//! once older than the grace period (longer than any upload can take), is
//! removed with its renditions, and each removal is audited.
//!
//! Nothing is removed once a decommission has frozen the data: from then
//! on the procedure owns every object.

use std::time::{Duration, SystemTime};

use aws_sdk_s3::{Client, error::DisplayErrorContext};
use sqlx::PgPool;

use crate::{
    audit::{self, Actor, AuditAction, NewEvent},
    decommission::repo::{self as decommission, UploadGate},
    storage::BucketNames,
};

/// Where originals live (`easel_resizer::keys::original_key`).
const ORIGINALS_PREFIX: &str = "artwork/";

#[derive(Debug, thiserror::Error)]
pub enum OrphanError {
    #[error("listing or removing objects: {0}")]
    S3(String),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
}

/// One original removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removed {
    pub key: String,
    pub renditions: usize,
}

/// Looks at every original once; removes those older than `grace` that no
/// row names.
pub async fn sweep(
    pool: &PgPool,
    s3: &Client,
    buckets: &BucketNames,
    grace: Duration,
) -> Result<Vec<Removed>, OrphanError> {
    if decommission::upload_gate(pool).await? != UploadGate::Open {
        return Ok(Vec::new());
    }
    let cutoff = SystemTime::now() - grace;
    let mut removed = Vec::new();
    let mut pages = s3.list_objects_v2().bucket(&buckets.originals).prefix(ORIGINALS_PREFIX).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| OrphanError::S3(DisplayErrorContext(e).to_string()))?;
        let old: Vec<String> = page
            .contents()
            .iter()
            .filter(|o| o.last_modified().and_then(|t| SystemTime::try_from(*t).ok()).is_some_and(|t| t < cutoff))
            .filter_map(|o| o.key())
            // Originals only: renditions sit in folders of their own, in other buckets.
            .filter(|k| !k[ORIGINALS_PREFIX.len()..].contains('/'))
            .map(str::to_owned)
            .collect();
        if old.is_empty() {
            continue;
        }
        let known: Vec<String> = sqlx::query_scalar("SELECT original_key FROM artworks WHERE original_key = ANY($1)")
            .bind(&old)
            .fetch_all(pool)
            .await?;
        for key in old.into_iter().filter(|k| !known.contains(k)) {
            removed.push(remove(pool, s3, buckets, &key).await?);
        }
    }
    Ok(removed)
}

async fn remove(pool: &PgPool, s3: &Client, buckets: &BucketNames, key: &str) -> Result<Removed, OrphanError> {
    // Renditions first: an original removed before them would leave them
    // with nothing to find them by.
    let manifest = easel_resizer::keys::manifest_key(key);
    let folder = manifest.trim_end_matches("manifest.json");
    let mut renditions = 0;
    for bucket in [&buckets.resized, &buckets.backup] {
        let mut pages = s3.list_objects_v2().bucket(bucket).prefix(folder).into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| OrphanError::S3(DisplayErrorContext(e).to_string()))?;
            for k in page.contents().iter().filter_map(|o| o.key()) {
                s3.delete_object()
                    .bucket(bucket)
                    .key(k)
                    .send()
                    .await
                    .map_err(|e| OrphanError::S3(DisplayErrorContext(e).to_string()))?;
                renditions += 1;
            }
        }
    }
    s3.delete_object()
        .bucket(&buckets.originals)
        .key(key)
        .send()
        .await
        .map_err(|e| OrphanError::S3(DisplayErrorContext(e).to_string()))?;
    let mut tx = pool.begin().await?;
    audit::append(
        &mut tx,
        NewEvent {
            actor: Actor::System,
            action: AuditAction::ArtworkOrphanRemoved,
            subject: format!("original:{key}"),
            details: serde_json::json!({ "key": key, "renditions_removed": renditions }),
            client_addr: String::new(),
        },
    )
    .await?;
    tx.commit().await?;
    tracing::warn!(key, renditions, "removed an original that no artwork row names");
    Ok(Removed { key: key.to_owned(), renditions })
}

/// Runs `sweep` at once and then every `every`, until the task is dropped.
pub fn spawn(
    pool: PgPool,
    s3: Client,
    buckets: BucketNames,
    grace: Duration,
    every: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        loop {
            ticks.tick().await;
            match sweep(&pool, &s3, &buckets, grace).await {
                Ok(removed) if !removed.is_empty() => {
                    tracing::info!(count = removed.len(), "orphan sweep removed originals without rows")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "orphan sweep failed; it runs again later"),
            }
        }
    })
}
