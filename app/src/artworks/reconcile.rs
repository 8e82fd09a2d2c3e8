//! The resizer runs apart from the console (a Lambda in AWS) and never
//! touches the database. The console learns that an artwork is finished by
//! finding the manifest the resizer writes last, and records it once.

use std::time::Duration;

use aws_sdk_s3::Client;
use sqlx::PgPool;
use time::OffsetDateTime;

use super::{Artwork, ArtworkStatus, Renditions, repo};
use crate::{
    gate::{self, Change},
    storage::objects::{self, StorageError},
};

#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
}

/// The artwork's status, looking in the resized bucket if the database
/// still says "processing".
pub async fn refresh(
    pool: &PgPool,
    s3: &Client,
    resized_bucket: &str,
    artwork: &Artwork,
) -> Result<ArtworkStatus, ReconcileError> {
    if let ArtworkStatus::Ready { .. } = artwork.status {
        return Ok(artwork.status.clone());
    }
    let Some(manifest) = objects::read_manifest(s3, resized_bucket, &artwork.original_key).await? else {
        return Ok(ArtworkStatus::Processing);
    };
    // A manifest for another object under the same stem is not ours.
    if manifest.source_key != artwork.original_key {
        return Ok(ArtworkStatus::Processing);
    }
    let renditions = Renditions(manifest.renditions);
    // While the data is frozen the row stays as the archive saw it; the
    // page still shows what the resizer made.
    if !gate::allows(pool, Change::Data).await? {
        return Ok(ArtworkStatus::Ready { resized_at: OffsetDateTime::now_utc(), renditions });
    }
    repo::mark_ready(pool, artwork.id, &renditions).await?;
    Ok(repo::find(pool, artwork.id).await?.map(|a| a.status).unwrap_or(ArtworkStatus::Processing))
}

/// Looks at every unfinished artwork of the last day once. Returns how many
/// became ready.
pub async fn sweep(pool: &PgPool, s3: &Client, resized_bucket: &str) -> Result<usize, ReconcileError> {
    // Frozen data is the procedure's: rows stay as the archive saw them.
    if !gate::allows(pool, Change::Data).await? {
        return Ok(0);
    }
    let since = OffsetDateTime::now_utc() - time::Duration::days(1);
    let mut finished = 0;
    for artwork in repo::processing_since(pool, since, 200).await? {
        if let ArtworkStatus::Ready { .. } = refresh(pool, s3, resized_bucket, &artwork).await? {
            finished += 1;
        }
    }
    Ok(finished)
}

/// Runs `sweep` every `every` until the task is dropped, so the gallery
/// fills even when nobody watches the confirmation page.
pub fn spawn(pool: PgPool, s3: Client, resized_bucket: String, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match sweep(&pool, &s3, &resized_bucket).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(finished = n, "artworks finished resizing"),
                Err(e) => tracing::warn!(error = %e, "reconciling artworks failed; will retry"),
            }
        }
    })
}
