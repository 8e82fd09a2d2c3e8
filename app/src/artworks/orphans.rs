//! What a fault can still leave behind, found and resolved. The upload puts
//! the original before its row commits (`routes/upload/post.rs`), so a
//! console killed in between, a deadline passing, or S3 storing a put whose
//! answer never came back leaves an original that no row names: the
//! gallery never shows it, yet the resizer renders it. The sweep looks at
//! every original and every renditions folder once, and, for what is older
//! than the grace period (longer than any upload takes):
//!
//! - an original no row names is removed, with its renditions;
//! - renditions whose artwork has neither a row nor an original are removed;
//! - a row whose original is gone is marked (`original_missing_since`), to
//!   be shown on the support pages: nothing Easel holds can bring it back.
//!
//! Each finding is audited once. Nothing is removed once a decommission has
//! frozen the data: from then on the procedure owns every object.

use std::{
    collections::HashSet,
    time::{Duration, SystemTime},
};

use aws_sdk_s3::{Client, error::DisplayErrorContext};
use sqlx::PgPool;
use time::OffsetDateTime;

use super::in_flight;
use crate::audit::Origin;
use crate::{
    audit::{self, Actor, AuditAction, NewEvent},
    gate::{self, Change},
    storage::BucketNames,
};

/// Where originals live (`easel_resizer::keys::original_key`); their
/// renditions live in a folder named after them, in the other buckets.
const ORIGINALS_PREFIX: &str = "artwork/";

#[derive(Debug, thiserror::Error)]
pub enum OrphanError {
    #[error("listing or removing objects: {0}")]
    S3(String),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
}

fn s3_failed(e: impl std::error::Error) -> OrphanError {
    OrphanError::S3(DisplayErrorContext(e).to_string())
}

/// One original removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removed {
    pub key: String,
    pub renditions: usize,
}

/// What one sweep found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Findings {
    pub originals_removed: Vec<Removed>,
    /// Renditions folders removed, with how many objects each held.
    pub renditions_removed: Vec<(String, usize)>,
    /// Keys of rows newly found without their original.
    pub originals_missing: Vec<String>,
}

impl Findings {
    pub fn is_empty(&self) -> bool {
        *self == Findings::default()
    }
}

/// An object's key and age.
struct Listed {
    key: String,
    old: bool,
}

/// Looks at every original and renditions folder once.
pub async fn sweep(
    pool: &PgPool,
    s3: &Client,
    buckets: &BucketNames,
    grace: Duration,
) -> Result<Findings, OrphanError> {
    let mut findings = Findings::default();
    if !gate::allows(pool, Change::Data).await? {
        return Ok(findings);
    }
    let cutoff = SystemTime::now() - grace;
    in_flight::forget_abandoned(pool, grace).await?;
    let originals: Vec<Listed> = list(s3, &buckets.originals, ORIGINALS_PREFIX, cutoff)
        .await?
        .into_iter()
        // Originals only, not anything in a folder.
        .filter(|o| !o.key[ORIGINALS_PREFIX.len()..].contains('/'))
        .collect();
    let rows = sqlx::query!(
        r#"SELECT original_key, uploaded_at < now() - make_interval(secs => $1) AS "old!",
                  original_missing_since IS NOT NULL AS "marked!"
           FROM artworks"#,
        grace.as_secs_f64(),
    )
    .fetch_all(pool)
    .await?;
    let named: HashSet<&str> = rows.iter().map(|r| r.original_key.as_str()).collect();
    let stored: HashSet<&str> = originals.iter().map(|o| o.key.as_str()).collect();

    for o in originals.iter().filter(|o| o.old && !named.contains(o.key.as_str())) {
        findings.originals_removed.push(remove_original(pool, s3, buckets, &o.key).await?);
    }
    for row in &rows {
        let key = &row.original_key;
        let missing = !stored.contains(key.as_str());
        if missing && row.old && !row.marked {
            mark_missing(pool, key).await?;
            findings.originals_missing.push(key.clone());
        } else if !missing && row.marked {
            sqlx::query!("UPDATE artworks SET original_missing_since = NULL WHERE original_key = $1", key)
                .execute(pool)
                .await?;
        }
    }
    // A folder belongs to an artwork when its name is the stem of a key a
    // row names or an original holds.
    let stems: HashSet<String> = named.iter().chain(stored.iter()).map(|k| folder_of(k)).collect();
    for bucket in [&buckets.resized, &buckets.backup] {
        let mut strays: Vec<(String, Vec<Listed>)> = Vec::new();
        for o in list(s3, bucket, ORIGINALS_PREFIX, cutoff).await? {
            let Some((folder, _)) = o.key.rsplit_once('/').map(|(f, n)| (format!("{f}/"), n)) else { continue };
            if folder == ORIGINALS_PREFIX || stems.contains(&folder) {
                continue;
            }
            match strays.last_mut() {
                Some((f, objects)) if *f == folder => objects.push(o),
                _ => strays.push((folder, vec![o])),
            }
        }
        for (folder, objects) in strays {
            // Only when all of it is old: a folder still being written may
            // belong to an upload this sweep's listing just missed.
            if objects.iter().all(|o| o.old) {
                findings.renditions_removed.push(remove_stray(pool, s3, bucket, &folder, &objects).await?);
            }
        }
    }
    Ok(findings)
}

/// The folder of an original's renditions: `artwork/<id>.jpg` → `artwork/<id>/`.
fn folder_of(original_key: &str) -> String {
    easel_resizer::keys::manifest_key(original_key).trim_end_matches("manifest.json").to_owned()
}

/// Every object under `prefix`, in key order, and whether it is older than `cutoff`.
async fn list(s3: &Client, bucket: &str, prefix: &str, cutoff: SystemTime) -> Result<Vec<Listed>, OrphanError> {
    let mut out = Vec::new();
    let mut pages = s3.list_objects_v2().bucket(bucket).prefix(prefix).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(s3_failed)?;
        for o in page.contents() {
            let Some(key) = o.key() else { continue };
            let old = o.last_modified().and_then(|t| SystemTime::try_from(*t).ok()).is_some_and(|t| t < cutoff);
            out.push(Listed { key: key.to_owned(), old });
        }
    }
    Ok(out)
}

async fn delete(s3: &Client, bucket: &str, key: &str) -> Result<(), OrphanError> {
    s3.delete_object().bucket(bucket).key(key).send().await.map_err(s3_failed)?;
    Ok(())
}

async fn audit_finding(
    pool: &PgPool,
    action: AuditAction,
    subject: String,
    details: serde_json::Value,
) -> Result<(), OrphanError> {
    audit::record(pool, NewEvent { actor: Actor::System, action, subject, details, client_addr: Origin::Console })
        .await?;
    Ok(())
}

async fn remove_original(pool: &PgPool, s3: &Client, buckets: &BucketNames, key: &str) -> Result<Removed, OrphanError> {
    // Renditions first: an original removed before them would leave them
    // with nothing to find them by but this sweep's next look.
    let folder = folder_of(key);
    let mut renditions = 0;
    for bucket in [&buckets.resized, &buckets.backup] {
        for o in list(s3, bucket, &folder, SystemTime::now()).await? {
            delete(s3, bucket, &o.key).await?;
            renditions += 1;
        }
    }
    delete(s3, &buckets.originals, key).await?;
    let details = serde_json::json!({ "key": key, "renditions_removed": renditions });
    audit_finding(pool, AuditAction::ArtworkOrphanRemoved, format!("original:{key}"), details).await?;
    tracing::warn!(key, renditions, "removed an original that no artwork row names");
    Ok(Removed { key: key.to_owned(), renditions })
}

async fn remove_stray(
    pool: &PgPool,
    s3: &Client,
    bucket: &str,
    folder: &str,
    objects: &[Listed],
) -> Result<(String, usize), OrphanError> {
    for o in objects {
        delete(s3, bucket, &o.key).await?;
    }
    let details = serde_json::json!({ "bucket": bucket, "folder": folder, "objects": objects.len() });
    audit_finding(pool, AuditAction::ArtworkRenditionsOrphanRemoved, format!("renditions:{bucket}/{folder}"), details)
        .await?;
    tracing::warn!(bucket, folder, "removed renditions whose artwork has neither a row nor an original");
    Ok((folder.to_owned(), objects.len()))
}

async fn mark_missing(pool: &PgPool, key: &str) -> Result<(), OrphanError> {
    let mut tx = pool.begin().await?;
    sqlx::query!("UPDATE artworks SET original_missing_since = now() WHERE original_key = $1", key)
        .execute(&mut *tx)
        .await?;
    let event = NewEvent {
        actor: Actor::System,
        action: AuditAction::ArtworkOriginalMissing,
        subject: format!("original:{key}"),
        details: serde_json::json!({ "key": key }),
        client_addr: Origin::Console,
    };
    audit::append(&mut tx, event).await?;
    tx.commit().await?;
    tracing::error!(key, "an artwork's original is gone from the originals bucket");
    Ok(())
}

/// A row whose original is gone, for the support pages.
#[derive(Debug, Clone)]
pub struct MissingOriginal {
    pub id: uuid::Uuid,
    pub original_key: String,
    pub original_filename: String,
    pub original_missing_since: OffsetDateTime,
}

pub async fn missing_originals(pool: &PgPool) -> Result<Vec<MissingOriginal>, sqlx::Error> {
    sqlx::query_as!(
        MissingOriginal,
        r#"SELECT id, original_key, original_filename, original_missing_since AS "original_missing_since!" FROM artworks
           WHERE original_missing_since IS NOT NULL ORDER BY original_missing_since DESC LIMIT 100"#,
    )
    .fetch_all(pool)
    .await
}

/// What the sweep removed lately, newest first (its audit rows).
pub async fn recently_removed(pool: &PgPool, limit: i64) -> Result<Vec<audit::EventRow>, sqlx::Error> {
    let mut rows = Vec::new();
    for action in [AuditAction::ArtworkOrphanRemoved, AuditAction::ArtworkRenditionsOrphanRemoved] {
        let only = audit::AuditFilter { action: Some(action.as_str().to_owned()), ..Default::default() };
        rows.extend(audit::list(pool, &only, None, limit).await?);
    }
    rows.sort_by_key(|r| std::cmp::Reverse(r.id));
    rows.truncate(limit as usize);
    Ok(rows)
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
                Ok(f) if !f.is_empty() => tracing::info!(findings = ?f, "the orphan sweep resolved what faults left"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "orphan sweep failed; it runs again later"),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::folder_of;

    #[test]
    fn an_originals_renditions_folder_is_its_stem() {
        assert_eq!(folder_of("artwork/0190c0de.jpg"), "artwork/0190c0de/");
        assert_eq!(folder_of("artwork/0190c0de.png"), "artwork/0190c0de/");
    }
}
