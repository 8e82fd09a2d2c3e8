//! The S3 event handler: one original in, renditions and a manifest out, in
//! two buckets. (About 400 lines of code; the rest are the tests that are its
//! contract with S3's events.)

use std::sync::Arc;

use aws_lambda_events::s3::{S3Event, S3EventRecord};
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use bytes::Bytes;
use serde::Serialize;

use crate::config::ResizerConfig;
use crate::event::{ParsedRecord, parse_record};
use crate::image::{Colour, ImageError, render_metered};
use crate::keys::{manifest_key, rendition_key};
use crate::manifest::{Manifest, ManifestEntry};

/// Renditions are never rewritten under the same content (a new original
/// gets a new server-made key), so caches may keep them forever.
pub const RENDITION_CACHE_CONTROL: &str = "public, max-age=31536000, immutable";
/// The manifest is rewritten if an original is replaced in place.
pub const MANIFEST_CACHE_CONTROL: &str = "no-cache";
pub const SOURCE_ETAG_METADATA: &str = "source-etag";
/// Manifests are a few hundred bytes; anything much larger is not ours.
const MAX_MANIFEST_BYTES: i64 = 1024 * 1024;

pub struct Resizer {
    s3: aws_sdk_s3::Client,
    config: Arc<ResizerConfig>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InvocationOutcome {
    pub records: Vec<RecordOutcome>,
}

impl InvocationOutcome {
    /// Whether Lambda should deliver the event again. Safe, since a record
    /// that already succeeded is a no-op the second time.
    pub fn has_retryable_failure(&self) -> bool {
        self.records.iter().any(|r| matches!(r, RecordOutcome::Failed { retryable: true, .. }))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum RecordOutcome {
    /// `colour` says what was done about the original's colours; an
    /// ignored profile makes the line a warning.
    Resized {
        key: String,
        renditions: Vec<ManifestEntry>,
        colour: Colour,
    },
    AlreadyDone {
        key: String,
    },
    Skipped {
        key: String,
        bucket: String,
        reason: String,
    },
    Failed {
        key: String,
        reason: String,
        retryable: bool,
    },
}

/// Field order is the order a person reads a log line in.
#[derive(Serialize)]
struct LogLine<'a> {
    level: &'static str,
    event: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    bucket: Option<&'a str>,
    key: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    retryable: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    renditions: Option<&'a [ManifestEntry]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    colour: Option<String>,
}

impl RecordOutcome {
    pub fn key(&self) -> &str {
        match self {
            RecordOutcome::Resized { key, .. }
            | RecordOutcome::AlreadyDone { key }
            | RecordOutcome::Skipped { key, .. }
            | RecordOutcome::Failed { key, .. } => key,
        }
    }

    /// One JSON object, one line, for CloudWatch.
    pub fn log_line(&self) -> String {
        let line = match self {
            RecordOutcome::Resized { key, renditions, colour } => LogLine {
                level: if colour.is_ignored() { "WARN" } else { "INFO" },
                event: "resized",
                bucket: None,
                key,
                reason: None,
                retryable: None,
                renditions: Some(renditions),
                colour: Some(colour.to_string()),
            },
            RecordOutcome::AlreadyDone { key } => LogLine {
                level: "INFO",
                event: "already_done",
                bucket: None,
                key,
                reason: None,
                retryable: None,
                renditions: None,
                colour: None,
            },
            RecordOutcome::Skipped { key, bucket, reason } => LogLine {
                level: "WARN",
                event: "skipped",
                bucket: Some(bucket),
                key,
                reason: Some(reason),
                retryable: None,
                renditions: None,
                colour: None,
            },
            RecordOutcome::Failed { key, reason, retryable } => LogLine {
                level: "ERROR",
                event: "failed",
                bucket: None,
                key,
                reason: Some(reason),
                retryable: Some(*retryable),
                renditions: None,
                colour: None,
            },
        };
        // Strings, integers and bools always serialise, and serde_json
        // escapes newlines, so this is always exactly one line.
        serde_json::to_string(&line).unwrap_or_default()
    }
}

#[derive(Debug, thiserror::Error)]
enum RecordError {
    #[error("{}", .0.log_reason())]
    Image(#[from] ImageError),
    #[error("the original no longer exists")]
    OriginalGone,
    #[error("S3 {op} s3://{bucket}/{key} failed: {message}")]
    S3 { op: &'static str, bucket: String, key: String, message: String },
    #[error("the image could not be processed: {0}")]
    Worker(String),
}

impl RecordError {
    /// A bad image stays bad however often it is retried; S3 trouble is
    /// environmental, and the retry is idempotent, so it is always worth one.
    fn retryable(&self) -> bool {
        matches!(self, RecordError::S3 { .. })
    }
}

enum Done {
    Resized(Vec<ManifestEntry>, Colour),
    AlreadyDone,
}

fn s3_error<E>(
    op: &'static str,
    bucket: &str,
    key: &str,
    err: SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
) -> RecordError
where
    E: std::error::Error + ProvideErrorMetadata + Send + Sync + 'static,
{
    RecordError::S3 {
        op,
        bucket: bucket.to_owned(),
        key: key.to_owned(),
        message: DisplayErrorContext(&err).to_string(),
    }
}

fn is_not_found<E>(err: &SdkError<E, aws_sdk_s3::config::http::HttpResponse>) -> bool {
    err.raw_response().is_some_and(|r| r.status().as_u16() == 404)
}

/// S3 quotes ETags; the manifest stores them bare so callers can compare
/// without caring.
fn bare_etag(etag: Option<&str>) -> String {
    etag.unwrap_or_default().trim_matches('"').to_owned()
}

impl Resizer {
    pub fn new(s3: aws_sdk_s3::Client, config: ResizerConfig) -> Self {
        Resizer { s3, config: Arc::new(config) }
    }

    pub fn config(&self) -> &ResizerConfig {
        &self.config
    }

    /// Records are handled one after another: each decode may take hundreds
    /// of MB, and a failing record never stops the ones after it.
    pub async fn handle_event(&self, event: S3Event) -> InvocationOutcome {
        let mut records = Vec::with_capacity(event.records.len());
        for record in &event.records {
            records.push(self.handle_record(record).await);
        }
        InvocationOutcome { records }
    }

    async fn handle_record(&self, record: &S3EventRecord) -> RecordOutcome {
        let originals = &self.config.originals_bucket;
        match parse_record(record) {
            ParsedRecord::NotCreated { bucket, key, event_name } => {
                RecordOutcome::Skipped { key, bucket, reason: format!("`{event_name}` is not an object-created event") }
            }
            ParsedRecord::Created { bucket, key } | ParsedRecord::BadKey { bucket, raw_key: key, .. }
                if *originals != bucket.as_str() =>
            {
                // Anything but the originals bucket could be our own output;
                // processing it would loop.
                let reason = format!("bucket `{bucket}` is not the originals bucket `{originals}`");
                RecordOutcome::Skipped { key, bucket, reason }
            }
            ParsedRecord::BadKey { raw_key, error, .. } => {
                RecordOutcome::Failed { key: raw_key, reason: error.to_string(), retryable: false }
            }
            ParsedRecord::Created { key, .. } => match self.resize(&key).await {
                Ok(Done::Resized(renditions, colour)) => RecordOutcome::Resized { key, renditions, colour },
                Ok(Done::AlreadyDone) => RecordOutcome::AlreadyDone { key },
                Err(e) => RecordOutcome::Failed { retryable: e.retryable(), reason: e.to_string(), key },
            },
        }
    }

    async fn resize(&self, key: &str) -> Result<Done, RecordError> {
        let cfg = &self.config;
        let bucket = &cfg.originals_bucket;

        let head = self.s3.head_object().bucket(bucket).key(key).send().await.map_err(|e| {
            if is_not_found(&e) { RecordError::OriginalGone } else { s3_error("HeadObject", bucket, key, e) }
        })?;
        let size = u64::try_from(head.content_length().unwrap_or(0)).unwrap_or(0);
        if size > cfg.limits.max_bytes {
            return Err(ImageError::TooLarge { bytes: size, limit: cfg.limits.max_bytes }.into());
        }
        if self.already_done(key, &bare_etag(head.e_tag())).await? {
            return Ok(Done::AlreadyDone);
        }

        // The manifest records the ETag of the bytes actually rendered, which
        // may be newer than the HEAD's if the original was just replaced.
        let (original, etag) = self.fetch_original(key).await?;
        let specs = cfg.renditions.clone();
        let (limits, encode) = (cfg.limits, cfg.encode);
        // Decoding and resizing are CPU-bound; off the async workers they
        // cannot stall the runtime's polling.
        let (renditions, work) =
            tokio::task::spawn_blocking(move || render_metered(&original, &specs, &limits, &encode))
                .await
                .map_err(|e| RecordError::Worker(e.to_string()))?;
        let renditions = renditions?;

        let mut entries = Vec::with_capacity(renditions.len());
        for r in renditions {
            let rkey = rendition_key(key, &r.name, r.format);
            let bytes = r.bytes.len() as u64;
            let body = Bytes::from(r.bytes);
            tokio::try_join!(
                self.put(
                    &cfg.resized_bucket,
                    &rkey,
                    body.clone(),
                    r.format.content_type(),
                    RENDITION_CACHE_CONTROL,
                    &etag
                ),
                self.put(&cfg.backup_bucket, &rkey, body, r.format.content_type(), RENDITION_CACHE_CONTROL, &etag),
            )?;
            entries.push(ManifestEntry {
                name: r.name,
                key: rkey,
                width: r.width,
                height: r.height,
                content_type: r.format.content_type().to_owned(),
                bytes,
            });
        }

        // Last, so that a manifest's presence means every rendition exists.
        let manifest = Manifest { source_key: key.to_owned(), source_etag: etag.clone(), renditions: entries };
        let mkey = manifest_key(key);
        let body = Bytes::from(manifest.to_json());
        tokio::try_join!(
            self.put(&cfg.resized_bucket, &mkey, body.clone(), "application/json", MANIFEST_CACHE_CONTROL, &etag),
            self.put(&cfg.backup_bucket, &mkey, body, "application/json", MANIFEST_CACHE_CONTROL, &etag),
        )?;
        Ok(Done::Resized(manifest.renditions, work.colour))
    }

    async fn already_done(&self, key: &str, etag: &str) -> Result<bool, RecordError> {
        if etag.is_empty() {
            return Ok(false);
        }
        let mkey = manifest_key(key);
        let (resized, backup) = tokio::try_join!(
            self.read_manifest(&self.config.resized_bucket, &mkey),
            self.read_manifest(&self.config.backup_bucket, &mkey),
        )?;
        Ok([resized, backup].iter().all(|m| m.as_ref().is_some_and(|m| m.source_etag == etag)))
    }

    /// `None` when there is no usable manifest: absent, oversized or not
    /// ours. Any of those just means the work is redone.
    async fn read_manifest(&self, bucket: &str, key: &str) -> Result<Option<Manifest>, RecordError> {
        let out = match self.s3.get_object().bucket(bucket).key(key).send().await {
            Ok(out) => out,
            Err(e) if is_not_found(&e) => return Ok(None),
            Err(e) => return Err(s3_error("GetObject", bucket, key, e)),
        };
        if out.content_length().unwrap_or(0) > MAX_MANIFEST_BYTES {
            return Ok(None);
        }
        let bytes = out.body.collect().await.map_err(|e| RecordError::S3 {
            op: "GetObject",
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            message: e.to_string(),
        })?;
        Ok(Manifest::from_json(&bytes.into_bytes()).ok())
    }

    /// Reads the original, refusing to hold more than the upload limit in
    /// memory whatever Content-Length claims.
    async fn fetch_original(&self, key: &str) -> Result<(Vec<u8>, String), RecordError> {
        let bucket = &self.config.originals_bucket;
        let limit = self.config.limits.max_bytes;
        let out = self.s3.get_object().bucket(bucket).key(key).send().await.map_err(|e| {
            if is_not_found(&e) { RecordError::OriginalGone } else { s3_error("GetObject", bucket, key, e) }
        })?;
        let claimed = u64::try_from(out.content_length().unwrap_or(0)).unwrap_or(0);
        if claimed > limit {
            return Err(ImageError::TooLarge { bytes: claimed, limit }.into());
        }
        let etag = bare_etag(out.e_tag());
        let mut body = out.body;
        let mut buf = Vec::with_capacity(usize::try_from(claimed).unwrap_or(0));
        loop {
            let chunk = body.try_next().await.map_err(|e| RecordError::S3 {
                op: "GetObject",
                bucket: bucket.to_string(),
                key: key.to_owned(),
                message: e.to_string(),
            })?;
            let Some(chunk) = chunk else { break };
            let total = (buf.len() + chunk.len()) as u64;
            if total > limit {
                return Err(ImageError::TooLarge { bytes: total, limit }.into());
            }
            buf.extend_from_slice(&chunk);
        }
        Ok((buf, etag))
    }

    async fn put(
        &self,
        bucket: &str,
        key: &str,
        body: Bytes,
        content_type: &str,
        cache_control: &str,
        source_etag: &str,
    ) -> Result<(), RecordError> {
        self.s3
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(ByteStream::from(body))
            .content_type(content_type)
            .cache_control(cache_control)
            .metadata(SOURCE_ETAG_METADATA, source_etag)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| s3_error("PutObject", bucket, key, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{bucket::BucketName, image::RenditionSpec};
    use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};

    fn config() -> ResizerConfig {
        ResizerConfig {
            originals_bucket: BucketName::parse("originals").unwrap(),
            resized_bucket: BucketName::parse("resized").unwrap(),
            backup_bucket: BucketName::parse("backup").unwrap(),
            renditions: RenditionSpec::defaults(),
            limits: Default::default(),
            encode: Default::default(),
        }
    }

    /// A client aimed at a port nothing listens on, without retries: any S3
    /// call fails at once with a connection error.
    fn unreachable_s3() -> aws_sdk_s3::Client {
        let conf = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("eu-west-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "test"))
            .endpoint_url("http://127.0.0.1:1")
            .force_path_style(true)
            .retry_config(aws_sdk_s3::config::retry::RetryConfig::disabled())
            .build();
        aws_sdk_s3::Client::from_conf(conf)
    }

    fn event(records: &[(&str, &str, &str)]) -> S3Event {
        let records: Vec<_> = records
            .iter()
            .map(|(name, bucket, key)| {
                serde_json::json!({
                    "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "eu-west-1",
                    "eventTime": "2026-11-25T10:00:00.000Z", "eventName": name,
                    "userIdentity": {"principalId": "EXAMPLE"},
                    "requestParameters": {"sourceIPAddress": "127.0.0.1"},
                    "responseElements": {},
                    "s3": {"s3SchemaVersion": "1.0", "bucket": {"name": bucket}, "object": {"key": key, "size": 10}}
                })
            })
            .collect();
        serde_json::from_value(serde_json::json!({ "Records": records })).unwrap()
    }

    #[tokio::test]
    async fn foreign_buckets_and_other_events_are_skipped_without_touching_s3() {
        let resizer = Resizer::new(unreachable_s3(), config());
        let out = resizer
            .handle_event(event(&[
                ("ObjectCreated:Put", "resized", "artwork/a/thumb.jpg"),
                ("ObjectCreated:Put", "backup", "bad%C3.jpg"),
                ("ObjectRemoved:Delete", "originals", "artwork/a.jpg"),
            ]))
            .await;
        assert_eq!(out.records.len(), 3);
        assert!(
            matches!(&out.records[0], RecordOutcome::Skipped { bucket, key, .. } if bucket == "resized" && key == "artwork/a/thumb.jpg")
        );
        assert!(matches!(&out.records[1], RecordOutcome::Skipped { bucket, .. } if bucket == "backup"));
        assert!(matches!(&out.records[2], RecordOutcome::Skipped { reason, .. } if reason.contains("ObjectRemoved")));
        assert!(!out.has_retryable_failure());
    }

    #[tokio::test]
    async fn undecodable_key_fails_permanently_and_the_batch_goes_on() {
        let resizer = Resizer::new(unreachable_s3(), config());
        let out = resizer
            .handle_event(event(&[
                ("ObjectCreated:Put", "originals", "bad%C3.jpg"),
                ("ObjectCreated:Put", "other", "x.jpg"),
            ]))
            .await;
        assert!(
            matches!(&out.records[0], RecordOutcome::Failed { retryable: false, reason, key } if reason.contains("UTF-8") && key == "bad%C3.jpg")
        );
        assert!(matches!(&out.records[1], RecordOutcome::Skipped { .. }));
        assert!(!out.has_retryable_failure());
    }

    #[tokio::test]
    async fn s3_network_errors_are_retryable() {
        let resizer = Resizer::new(unreachable_s3(), config());
        let out = resizer.handle_event(event(&[("ObjectCreated:Put", "originals", "artwork/a.jpg")])).await;
        match &out.records[0] {
            RecordOutcome::Failed { retryable, reason, key } => {
                assert!(*retryable);
                assert_eq!(key, "artwork/a.jpg");
                assert!(reason.contains("HeadObject"), "{reason}");
            }
            other => panic!("expected a failure, got {other:?}"),
        }
        assert!(out.has_retryable_failure());
    }

    #[test]
    fn log_lines_are_single_json_objects_with_levels() {
        let entry = ManifestEntry {
            name: "thumb".into(),
            key: "artwork/a/thumb.jpg".into(),
            width: 400,
            height: 300,
            content_type: "image/jpeg".into(),
            bytes: 1000,
        };
        let cases = [
            (
                RecordOutcome::Resized {
                    key: "artwork/a.jpg".into(),
                    renditions: vec![entry.clone()],
                    colour: Colour::Converted(crate::image::colour::Space::Rgb),
                },
                "INFO",
                "resized",
            ),
            (
                RecordOutcome::Resized {
                    key: "artwork/a.jpg".into(),
                    renditions: vec![entry],
                    colour: Colour::Ignored(crate::image::colour::Ignored::Malformed),
                },
                "WARN",
                "resized",
            ),
            (RecordOutcome::AlreadyDone { key: "artwork/a.jpg".into() }, "INFO", "already_done"),
            (
                RecordOutcome::Skipped { key: "k".into(), bucket: "resized".into(), reason: "not originals".into() },
                "WARN",
                "skipped",
            ),
            (
                RecordOutcome::Failed {
                    key: "bad\nkey".into(),
                    reason: "The file is\nempty.".into(),
                    retryable: false,
                },
                "ERROR",
                "failed",
            ),
        ];
        for (outcome, level, event) in &cases {
            let line = outcome.log_line();
            assert!(!line.contains('\n'), "{line}");
            assert!(line.starts_with(&format!("{{\"level\":\"{level}\",\"event\":\"{event}\"")), "{line}");
            let v: serde_json::Value = serde_json::from_str(&line).unwrap();
            assert_eq!(v["key"], outcome.key());
        }
        let skipped = RecordOutcome::Skipped { key: "k".into(), bucket: "resized".into(), reason: "r".into() };
        let v: serde_json::Value = serde_json::from_str(&skipped.log_line()).unwrap();
        assert_eq!((v["bucket"].as_str(), v["reason"].as_str()), (Some("resized"), Some("r")));
        let failed = RecordOutcome::Failed { key: "k".into(), reason: "r".into(), retryable: true };
        let v: serde_json::Value = serde_json::from_str(&failed.log_line()).unwrap();
        assert_eq!(v["retryable"], true);
        let v: serde_json::Value = serde_json::from_str(&cases[1].0.log_line()).unwrap();
        assert_eq!(v["colour"], "embedded ICC profile ignored (not a well-formed profile); taken as sRGB");
    }

    #[test]
    fn etags_are_stored_bare() {
        assert_eq!(bare_etag(Some("\"abc\"")), "abc");
        assert_eq!(bare_etag(Some("abc-2")), "abc-2");
        assert_eq!(bare_etag(None), "");
    }
}
