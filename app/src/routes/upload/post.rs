//! `POST /upload`: the body is read by `receive`, which holds our own size
//! limits while it streams; then the image check, the row and the object.

use axum::{
    extract::{Request, State},
    response::Redirect,
};
use easel_resizer::{
    image::{ImageError, ImageInfo, inspect},
    keys::{ArtworkId, original_key},
};

use crate::client_addr::ClientAddr;
use crate::cpu::CpuBound;
use crate::receive::{Received, drain_cap, receive};
use crate::{
    artworks::{self, NewArtwork, in_flight},
    audit::{self, Actor, AuditAction, NewEvent},
    error::UploadError,
    gate::{self, UploadGate},
    state::AppState,
    storage::objects,
};

pub async fn upload_artwork(
    State(state): State<AppState>,
    client: ClientAddr,
    request: Request,
) -> Result<Redirect, UploadError> {
    let id = store(&state, client, request).await?;
    Ok(Redirect::to(&format!("/uploaded/{id}")))
}

async fn store(state: &AppState, client: ClientAddr, request: Request) -> Result<ArtworkId, UploadError> {
    let limit = state.limits.max_bytes;
    if let Some(len) =
        request.headers().get(http::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
        && len > drain_cap(limit)
    {
        return Err(UploadError::TooLarge { limit });
    }
    match gate::upload_gate(&state.pool).await? {
        UploadGate::Open => {}
        gate => return Err(UploadError::Closed(gate)),
    }
    // A form sent without `multipart/form-data` carries no file at all.
    let boundary = request
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| multer::parse_boundary(v.to_str().ok()?).ok())
        .ok_or(UploadError::NoFile)?;
    let received = receive(request.into_body().into_data_stream(), &boundary, limit).await?;
    // The page's deadline runs from here: the body's arrival has none, as a
    // merchant's slow uplink is not a fault of ours.
    tokio::time::timeout(state.deadlines.page, keep(state, client, received))
        .await
        .unwrap_or(Err(UploadError::TimedOut))
}

/// Checks the image, stores the original, then records it. The upload
/// registers as under way (under the shared upload gate, so a freeze either
/// refuses it or waits for it: `artworks::in_flight`), puts the original
/// holding no database connection and no lock, then writes its row, its
/// audit row and its unregistration in one transaction. The audit trail's
/// lock, which serialises every audited action, is held for that database
/// work alone, so uploads reach S3 side by side.
///
/// If the row cannot be written, the object is removed again. If the put's
/// answer is lost (its deadline passed while S3 stored it anyway), or the
/// console dies between the put and the commit, the original has no row;
/// `artworks::orphans` removes it once its grace period is over.
async fn keep(state: &AppState, client: ClientAddr, received: Received) -> Result<ArtworkId, UploadError> {
    let limits = state.limits.clone();
    let bytes = received.bytes.clone();
    let info: ImageInfo = check_image(&state.cpu, move || inspect(&bytes, &limits)).await?;

    let id = ArtworkId::new();
    let key = original_key(id, info.format);
    let size = received.bytes.len() as u64;
    let mut tx = state.pool.begin().await?;
    match gate::hold_upload_gate(&mut tx).await? {
        UploadGate::Open => {}
        gate => return Err(UploadError::Closed(gate)),
    }
    in_flight::register(&mut *tx, &key).await?;
    tx.commit().await?;

    if let Err(e) =
        objects::put_original(&state.s3(), &state.buckets().originals, &key, id, info.format, received.bytes).await
    {
        forget(state, &key).await;
        return Err(e.into());
    }
    let recorded = async {
        let mut tx = state.pool.begin().await?;
        let new = NewArtwork {
            id,
            original_key: &key,
            original_filename: &received.filename,
            format: info.format,
            width: info.width,
            height: info.height,
            bytes: size,
        };
        artworks::insert(&mut *tx, &new).await?;
        audit::append(
            &mut tx,
            NewEvent {
                actor: Actor::Anonymous,
                action: AuditAction::ArtworkUploaded,
                subject: format!("artwork:{id}"),
                details: serde_json::json!({
                    "key": key, "filename": received.filename, "format": info.format.extension(),
                    "width": info.width, "height": info.height, "bytes": size,
                }),
                client_addr: client.to_string(),
            },
        )
        .await?;
        in_flight::unregister(&mut *tx, &key).await?;
        tx.commit().await
    }
    .await;
    if let Err(e) = recorded {
        if let Err(cleanup) = objects::delete_object(&state.s3(), &state.buckets().originals, &key).await {
            tracing::error!(error = %cleanup, key, "an original without a row stays until the orphan sweep");
        }
        forget(state, &key).await;
        return Err(e.into());
    }
    tracing::info!(%id, key, width = info.width, height = info.height, "artwork uploaded");
    Ok(id)
}

/// Ends a failed upload's registration, so a freeze need not wait out its
/// deadline.
async fn forget(state: &AppState, key: &str) {
    if let Err(e) = in_flight::unregister(&state.pool, key).await {
        tracing::warn!(error = %e, key, "a failed upload stays registered until its deadline passes");
    }
}

/// Runs the image check (a full decode: CPU-bound) where CPU-bound work
/// runs. A panic in it is our bug, not a broken upload.
async fn check_image<T: Send + 'static>(
    cpu: &CpuBound,
    check: impl FnOnce() -> Result<T, ImageError> + Send + 'static,
) -> Result<T, UploadError> {
    Ok(cpu.run(check).await.map_err(|e| UploadError::Internal(e.0))??)
}

#[cfg(test)]
mod tests {
    use std::{
        sync::{
            Arc,
            atomic::{AtomicUsize, Ordering},
        },
        time::Duration,
    };

    use easel_resizer::image::ImageError;

    use super::check_image;
    use crate::{cpu::CpuBound, error::UploadError};

    #[tokio::test]
    async fn a_panicking_image_check_is_an_internal_error_not_a_broken_upload() {
        let permits = CpuBound::with_permits(2);
        let e = check_image::<()>(&permits, || panic!("decoder bug")).await.unwrap_err();
        assert!(matches!(e, UploadError::Internal(_)), "{e:?}");
        assert_eq!(e.status(), http::StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!e.to_string().contains("did not arrive complete"));
        // The panicking task gave its permit back.
        assert_eq!(permits.available(), 2);
        // A refusal by the check is still the file's fault.
        let e = check_image::<()>(&permits, || Err(ImageError::UnsupportedFormat)).await.unwrap_err();
        assert!(matches!(e, UploadError::Image(ImageError::UnsupportedFormat)), "{e:?}");
        assert_eq!(check_image(&permits, || Ok(7)).await.unwrap(), 7);
    }

    #[tokio::test]
    async fn no_more_image_checks_run_at_once_than_there_are_permits() {
        let permits = CpuBound::with_permits(2);
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let checks = (0..8).map(|_| {
            let (running, most, permits) = (running.clone(), most.clone(), permits.clone());
            tokio::spawn(async move {
                check_image(&permits, move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(20));
                    running.fetch_sub(1, Ordering::SeqCst);
                    Ok(())
                })
                .await
            })
        });
        for c in checks.collect::<Vec<_>>() {
            c.await.unwrap().unwrap();
        }
        let most = most.load(Ordering::SeqCst);
        assert!((1..=2).contains(&most), "{most} checks ran at once");
    }
}
