//! `POST /upload`: the body's files are read one at a time by `receive`
//! (which holds our own size limits while it streams); each gets the image
//! check, its object, its row and its audit event, or its own refusal. One
//! file answers as it always has (its confirmation, or the try-again page);
//! several get a summary page.

use axum::{
    extract::{Request, State},
    response::{IntoResponse, Redirect, Response},
};
use easel_resizer::{
    image::{ImageError, ImageInfo, inspect},
    keys::{ArtworkId, original_key},
};

use crate::client_addr::ClientAddr;
use crate::cpu::CpuBound;
use crate::pages::{
    self,
    uploads::{FileOutcome, UploadsModel},
};
use crate::receive::{Files, ReceiveError, Received, drain_cap};
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
) -> Result<Response, UploadError> {
    let mut summary = store(&state, client, request).await?;
    // One file answers as it always has: its confirmation, or the page
    // that says why not.
    if summary.files.len() == 1 && summary.cut_short.is_none() {
        let file = summary.files.pop().expect("one file");
        let id = file.outcome?;
        return Ok(Redirect::to(&format!("/uploaded/{id}")).into_response());
    }
    if summary.files.is_empty() {
        return Err(summary.cut_short.unwrap_or(UploadError::NoFile));
    }
    let status = match summary.files.iter().find_map(|f| f.outcome.as_ref().err()) {
        _ if summary.files.iter().any(|f| f.outcome.is_ok()) => http::StatusCode::OK,
        Some(refused) => refused.status(),
        None => http::StatusCode::OK,
    };
    let model = UploadsModel {
        files: summary
            .files
            .into_iter()
            .map(|f| FileOutcome {
                filename: f.filename,
                result: f.outcome.map_err(|e| {
                    e.log();
                    e.for_merchant()
                }),
            })
            .collect(),
        cut_short: summary.cut_short.map(|e| {
            e.log();
            e.for_merchant()
        }),
    };
    Ok(pages::render("/upload", status, pages::uploads::page(model)).await)
}

/// What became of each file of one submission, in the order they came.
struct Summary {
    files: Vec<Stored>,
    /// Why the files after the last one listed were not read or tried.
    cut_short: Option<UploadError>,
}

struct Stored {
    filename: String,
    outcome: Result<ArtworkId, UploadError>,
}

/// Reads the files one at a time and keeps each that passes, so one bad
/// file refuses only itself. What refuses the whole submission (uploads
/// closed, not a form) is an error; so is a body broken before any file.
async fn store(state: &AppState, client: ClientAddr, request: Request) -> Result<Summary, UploadError> {
    let limit = state.limits.max_bytes;
    let cap = state.uploads.max_total_bytes;
    if let Some(len) =
        request.headers().get(http::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
        && len > cap
    {
        // The first file alone could be what is too large.
        return Err(if cap == drain_cap(limit) {
            UploadError::TooLarge { limit }
        } else {
            UploadError::TooMuch { cap }
        });
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
    let mut files = Files::new(request.into_body().into_data_stream(), &boundary, limit, cap);
    let mut summary = Summary { files: Vec::new(), cut_short: None };
    loop {
        let next = match files.next().await {
            Ok(Some(next)) => next,
            Ok(None) => break,
            // A body over its cap while its first file streams: that file is too large.
            Err(ReceiveError::BodyTooLarge { .. }) if summary.files.is_empty() => {
                return Err(UploadError::TooLarge { limit });
            }
            Err(e) if summary.files.is_empty() => return Err(e.into()),
            Err(e) => {
                summary.cut_short = Some(e.into());
                break;
            }
        };
        let (filename, outcome) = match next {
            Err(refused) => (refused.filename().to_owned(), Err(refused.into())),
            Ok(file) if summary.files.len() >= state.uploads.max_files => {
                (file.filename, Err(UploadError::TooManyFiles { max: state.uploads.max_files }))
            }
            // Each file's deadline runs from its arrival: the body's
            // arrival has none, as a merchant's slow uplink is not a fault
            // of ours.
            Ok(file) => (
                file.filename.clone(),
                tokio::time::timeout(state.deadlines.page, keep(state, client, file))
                    .await
                    .unwrap_or(Err(UploadError::TimedOut)),
            ),
        };
        let ours = outcome.as_ref().is_err_and(|e| e.status().is_server_error());
        summary.files.push(Stored { filename, outcome });
        if ours {
            // Storage or the database failing would fail each file after
            // it too, each after its deadline: those are not tried.
            break;
        }
    }
    Ok(summary)
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
                client_addr: client.0.into(),
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
