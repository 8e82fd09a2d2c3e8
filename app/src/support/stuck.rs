//! Stuck and failed uploads: originals still without renditions some time
//! after upload, each with what the resizer's logs say about its key; and
//! "resize again", which re-delivers a genuine S3 event for the original to
//! the resizer (the Lambda in AWS, the local invoker's queue locally).

use std::collections::HashMap;

use easel_resizer::keys::ArtworkId;
use sqlx::PgPool;
use time::OffsetDateTime;

use super::{
    Support,
    logs::{self, Line},
    trigger::{self, CreatedObject},
};
use crate::audit::Origin;
use crate::{
    audit::{Actor, AuditAction},
    aws::{AwsError, Service},
};

#[derive(Debug, Clone, PartialEq)]
pub enum Diagnosis {
    /// The resizer tried and failed.
    Failed { reason: String, retryable: bool, at: OffsetDateTime, request_id: Option<String> },
    /// The resizer saw the event but left it alone.
    Skipped { reason: String, at: OffsetDateTime },
    /// The resizer says it finished, yet no manifest reached the console.
    FinishedWithoutManifest { at: OffsetDateTime },
    /// No line in the logs names the key: the event never reached the resizer.
    NeverSeen,
    /// The logs could not be read: the reason is unknown.
    Unavailable(String),
}

impl Diagnosis {
    pub fn summary(&self) -> String {
        match self {
            Diagnosis::Failed { reason, retryable: true, .. } => {
                format!("The resizer failed (it will be retried): {reason}")
            }
            Diagnosis::Failed { reason, .. } => format!("The resizer failed: {reason}"),
            Diagnosis::Skipped { reason, .. } => format!("The resizer skipped it: {reason}"),
            Diagnosis::FinishedWithoutManifest { .. } => {
                "The resizer reports it finished, but its manifest is not in the resized \
                 bucket: the bucket may have been emptied since. Restore from backup, or resize again."
                    .into()
            }
            Diagnosis::NeverSeen => "The resizer's logs never mention this key: the upload event did not reach it. \
                 Check the bucket doctor's trigger check, then resize again."
                .into(),
            Diagnosis::Unavailable(e) => format!("Reason unavailable: the resizer's logs could not be read ({e})."),
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Diagnosis::Failed { .. } => "failed",
            Diagnosis::Skipped { .. } => "skipped",
            Diagnosis::FinishedWithoutManifest { .. } => "finished",
            Diagnosis::NeverSeen => "never-seen",
            Diagnosis::Unavailable(_) => "unavailable",
        }
    }

    pub fn at(&self) -> Option<OffsetDateTime> {
        match self {
            Diagnosis::Failed { at, .. }
            | Diagnosis::Skipped { at, .. }
            | Diagnosis::FinishedWithoutManifest { at } => Some(*at),
            Diagnosis::NeverSeen | Diagnosis::Unavailable(_) => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct StuckUpload {
    pub id: ArtworkId,
    pub original_key: String,
    pub original_filename: String,
    pub uploaded_at: OffsetDateTime,
    pub diagnosis: Diagnosis,
}

/// The latest thing the logs say about each key in `keys`.
pub fn diagnose(keys: &[&str], invocations: &[logs::Invocation]) -> HashMap<String, Diagnosis> {
    let mut out: HashMap<String, (OffsetDateTime, Diagnosis)> = HashMap::new();
    for inv in invocations {
        for e in &inv.events {
            let Line::Resizer(line) = logs::classify(&e.message) else { continue };
            if !keys.contains(&line.key.as_str()) {
                continue;
            }
            let at = e.at();
            let d = match line.event.as_str() {
                "failed" => Diagnosis::Failed {
                    reason: line.reason.clone().unwrap_or_default(),
                    retryable: line.retryable.unwrap_or(false),
                    at,
                    request_id: inv.request_id.clone(),
                },
                "skipped" => Diagnosis::Skipped { reason: line.reason.clone().unwrap_or_default(), at },
                _ => Diagnosis::FinishedWithoutManifest { at },
            };
            if out.get(&line.key).is_none_or(|(t, _)| at >= *t) {
                out.insert(line.key.clone(), (at, d));
            }
        }
    }
    out.into_iter().map(|(k, (_, d))| (k, d)).collect()
}

/// Originals without renditions `support.stuck_after` after upload, newest
/// first, each with its diagnosis from the logs.
pub async fn list(pool: &PgPool, support: &Support) -> anyhow::Result<Vec<StuckUpload>> {
    let rows = sqlx::query!(
        "SELECT id, original_key, original_filename, uploaded_at FROM artworks
         WHERE resized_at IS NULL AND uploaded_at <= now() - make_interval(secs => $1)
         ORDER BY uploaded_at DESC LIMIT 200",
        support.stuck_after.as_secs_f64(),
    )
    .fetch_all(pool)
    .await?;
    let Some(oldest) = rows.iter().map(|r| r.uploaded_at).min() else { return Ok(vec![]) };
    // At most a week back: an older failure says little about today's.
    let now = OffsetDateTime::now_utc();
    let from = (oldest - time::Duration::minutes(1)).max(now - time::Duration::days(7));
    // Without the logs the uploads are still listed, each without a reason.
    let (mut found, unavailable) = match logs::fetch_all(support, from, now, 20_000).await {
        Ok(events) => {
            let keys: Vec<&str> = rows.iter().map(|r| r.original_key.as_str()).collect();
            (diagnose(&keys, &logs::group(events)), None)
        }
        Err(e) => {
            tracing::warn!(error = %e, "stuck uploads listed without reasons");
            (HashMap::new(), Some(e.to_string()))
        }
    };
    Ok(rows
        .into_iter()
        .map(|r| StuckUpload {
            id: ArtworkId::from(r.id),
            diagnosis: found.remove(&r.original_key).unwrap_or_else(|| match &unavailable {
                Some(e) => Diagnosis::Unavailable(e.clone()),
                None => Diagnosis::NeverSeen,
            }),
            original_key: r.original_key,
            original_filename: r.original_filename,
            uploaded_at: r.uploaded_at,
        })
        .collect())
}

#[derive(Debug, thiserror::Error)]
pub enum ResizeError {
    #[error("no artwork {0}")]
    NotFound(ArtworkId),
    #[error("the original {key} is not in the originals bucket")]
    OriginalGone { key: String },
    /// Reading the original's size failed for a reason other than its absence.
    #[error(transparent)]
    Storage(AwsError),
    /// The account could not be learned (STS), so the resizer's address is unknown.
    #[error("finding the resizer: {0:#}")]
    Spec(anyhow::Error),
    #[error(transparent)]
    Redelivery(#[from] trigger::RedeliveryError),
    /// Some events went out (and were audited) before one failed.
    #[error("{error} (after {sent} sent)")]
    Partial { sent: usize, error: trigger::RedeliveryError },
    #[error(transparent)]
    Refused(#[from] crate::gate::Refused),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

impl From<crate::gate::GateError> for ResizeError {
    fn from(e: crate::gate::GateError) -> Self {
        match e {
            crate::gate::GateError::Refused(r) => ResizeError::Refused(r),
            crate::gate::GateError::Db(e) => ResizeError::Db(e),
        }
    }
}

/// Re-delivers one S3 event per artwork (as S3 sends one per object) and
/// records the request. Returns the keys sent.
pub async fn resize_again(
    pool: &PgPool,
    support: &Support,
    ids: &[ArtworkId],
    actor: &Actor,
    client_addr: Origin,
) -> Result<Vec<String>, ResizeError> {
    // New renditions are a change to the data: frozen with it.
    crate::gate::check(pool, crate::gate::Change::Data).await?;
    let spec = support.spec().await.map_err(ResizeError::Spec)?;
    let target = support.trigger(&spec);
    let bucket = &support.buckets.originals;
    let mut objects = Vec::new();
    for &id in ids {
        let key = sqlx::query_scalar!("SELECT original_key FROM artworks WHERE id = $1", id.as_uuid())
            .fetch_optional(pool)
            .await?
            .ok_or(ResizeError::NotFound(id))?;
        let head = match support.s3.head_object().bucket(bucket).key(&key).send().await {
            Ok(head) => head,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => {
                return Err(ResizeError::OriginalGone { key });
            }
            Err(e) => return Err(ResizeError::Storage(AwsError::new(Service::S3, "HeadObject", e))),
        };
        objects.push(CreatedObject {
            bucket: bucket.to_string(),
            size: head.content_length().unwrap_or(0),
            etag: head.e_tag().unwrap_or_default().trim_matches('"').to_owned(),
            key,
        });
    }
    // Every event that went out is audited, even when a later one fails.
    let mut keys: Vec<String> = Vec::new();
    let mut failure = None;
    for o in &objects {
        let event = trigger::s3_event(&support.region, std::slice::from_ref(o));
        match trigger::redeliver(&target, &support.sqs, &support.lambda, &event).await {
            Ok(()) => keys.push(o.key.clone()),
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    if !keys.is_empty() {
        super::record(
            pool,
            actor,
            AuditAction::ResizeRequested,
            format!("bucket:{bucket}"),
            serde_json::json!({ "keys": keys, "target": target.arn() }),
            client_addr,
        )
        .await?;
    }
    match failure {
        None => Ok(keys),
        Some(error) if keys.is_empty() => Err(ResizeError::Redelivery(error)),
        Some(error) => Err(ResizeError::Partial { sent: keys.len(), error }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::support::logs::{LogEvent, group};

    fn ev(t: i64, m: &str) -> LogEvent {
        LogEvent { stream: "s".into(), timestamp: t, message: m.into() }
    }

    #[test]
    fn the_latest_line_about_a_key_is_its_diagnosis() {
        let inv = group(vec![
            ev(1_000, "START RequestId: r1 Version: $LATEST"),
            ev(1_001, r#"{"level":"ERROR","event":"failed","key":"a","reason":"S3 down","retryable":true}"#),
            ev(1_002, r#"{"level":"ERROR","event":"failed","key":"b","reason":"not an image","retryable":false}"#),
            ev(1_003, "REPORT RequestId: r1\tDuration: 5.00 ms"),
            ev(2_000, "START RequestId: r2 Version: $LATEST"),
            ev(2_001, r#"{"level":"INFO","event":"resized","key":"a","renditions":[]}"#),
            ev(2_003, "REPORT RequestId: r2\tDuration: 5.00 ms"),
        ]);
        let d = diagnose(&["a", "b", "c"], &inv);
        assert!(matches!(d["a"], Diagnosis::FinishedWithoutManifest { .. }));
        match &d["b"] {
            Diagnosis::Failed { reason, retryable: false, request_id, .. } => {
                assert_eq!((reason.as_str(), request_id.as_deref()), ("not an image", Some("r1")))
            }
            other => panic!("{other:?}"),
        }
        assert!(!d.contains_key("c"));
        assert!(Diagnosis::NeverSeen.summary().contains("never mention"));
    }

    #[test]
    fn without_the_logs_the_reason_is_unavailable_not_never_seen() {
        let d = Diagnosis::Unavailable("reading the log group /aws/lambda/x failed: throttled".into());
        assert_eq!(d.kind(), "unavailable");
        assert!(d.summary().starts_with("Reason unavailable:") && d.summary().contains("throttled"), "{}", d.summary());
        assert_eq!(d.at(), None);
    }
}
