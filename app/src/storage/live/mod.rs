//! A bucket's live configuration: read as one value (`LiveBucket`), and
//! written one aspect at a time. Provisioning (`cargo ops`) and the bucket
//! doctor's fixes both go through these writers, so there is one way each
//! setting is put, and a policy is validated before it is written (an
//! invalid policy breaks every object call on the emulator).

use aws_sdk_s3::error::ProvideErrorMetadata;

use crate::aws::{AwsError, Service};
use serde_json::Value;

mod read;
mod write;

pub use read::read_bucket;
pub use write::{
    block_public_access, create_bucket, delete_empty_bucket, enable_versioning, put_encryption, put_notifications,
    put_policy,
};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{} on bucket {bucket} failed: {}", .call.op, .call.detail)]
    S3 { bucket: String, call: AwsError },
    #[error("refusing to write an invalid policy to {bucket}: {reason}")]
    InvalidPolicy { bucket: String, reason: String },
}

fn s3_err<E: std::error::Error + ProvideErrorMetadata + 'static>(
    op: &'static str,
    bucket: &str,
    e: aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
) -> ConfigError {
    ConfigError::S3 { bucket: bucket.to_owned(), call: AwsError::new(Service::S3, op, e) }
}

fn build_err(op: &'static str, bucket: &str, e: aws_sdk_s3::error::BuildError) -> ConfigError {
    ConfigError::S3 { bucket: bucket.to_owned(), call: AwsError::unbuilt(Service::S3, op, e) }
}

impl ConfigError {
    /// The failed S3 call, if that is what this is.
    pub fn call(&self) -> Option<&AwsError> {
        match self {
            ConfigError::S3 { call, .. } => Some(call),
            ConfigError::InvalidPolicy { .. } => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetKind {
    Queue,
    Lambda,
    Topic,
}

/// One notification configuration of a bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationTarget {
    pub id: Option<String>,
    pub kind: TargetKind,
    pub arn: String,
    pub events: Vec<String>,
    /// Key filter rules as (`prefix`|`suffix`, value).
    pub filter: Vec<(String, String)>,
}

impl NotificationTarget {
    /// Whether it fires for every newly created object under `key`.
    pub fn fires_on_created(&self, key: &str) -> bool {
        let created = self.events.iter().any(|e| e == "s3:ObjectCreated:*" || e == "s3:ObjectCreated:Put");
        let filtered_in = self.filter.iter().all(|(rule, value)| match rule.to_ascii_lowercase().as_str() {
            "prefix" => key.starts_with(value.as_str()),
            "suffix" => key.ends_with(value.as_str()),
            _ => true,
        });
        created && filtered_in
    }

    pub fn describe(&self) -> String {
        let filter = if self.filter.is_empty() {
            String::new()
        } else {
            format!(
                " for keys {}",
                self.filter.iter().map(|(k, v)| format!("{k}={v:?}")).collect::<Vec<_>>().join(", ")
            )
        };
        format!("{} → {:?} {}{filter}", self.events.join(", "), self.kind, self.arn)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublicAccess {
    pub block_public_acls: bool,
    pub ignore_public_acls: bool,
    pub block_public_policy: bool,
    pub restrict_public_buckets: bool,
}

impl PublicAccess {
    pub fn all_blocked(&self) -> bool {
        self.block_public_acls && self.ignore_public_acls && self.block_public_policy && self.restrict_public_buckets
    }
}

/// Everything the doctor compares with the spec, as read from the endpoint.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LiveBucket {
    pub name: String,
    pub exists: bool,
    pub region: Option<String>,
    /// The default encryption algorithm, `None` when off.
    pub encryption: Option<String>,
    pub public_access: Option<PublicAccess>,
    /// `Enabled`, `Suspended`, or `None` (never turned on).
    pub versioning: Option<String>,
    /// The policy text as stored.
    pub policy: Option<String>,
    pub notifications: Vec<NotificationTarget>,
    /// Whether the bucket holds no object (or object version) at all.
    pub empty: bool,
    /// Settings that could not be read, as (aspect, the error): `encryption`,
    /// `public-access`, `versioning`, `policy`, `notifications`, or
    /// `settings` for all of them (a bucket in another region). An
    /// unreadable setting is unknown, not absent: its field stays `None`
    /// and the doctor warns instead of offering a fix.
    pub unreadable: Vec<(&'static str, String)>,
}

impl LiveBucket {
    pub fn policy_json(&self) -> Option<Value> {
        self.policy.as_deref().and_then(|p| serde_json::from_str(p).ok())
    }

    /// Why `aspect` (or every setting) could not be read, if it could not.
    pub fn unreadable(&self, aspect: &str) -> Option<&str> {
        self.unreadable.iter().find(|(a, _)| *a == aspect || *a == "settings").map(|(_, e)| e.as_str())
    }
}

/// The error codes that mean "this setting is not configured"; any other
/// failure leaves the setting unknown.
const ABSENT: &[&str] =
    &["NoSuchBucketPolicy", "ServerSideEncryptionConfigurationNotFoundError", "NoSuchPublicAccessBlockConfiguration"];

/// Reads one optional setting: `Ok(None)` when S3 says it is absent,
/// `Err(text)` when the read failed otherwise.
fn optional<T, E, R>(what: &str, read: Result<T, aws_sdk_s3::error::SdkError<E, R>>) -> Result<Option<T>, String>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match read {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.code().is_some_and(|c| ABSENT.contains(&c)) => Ok(None),
        Err(e) => Err(format!("{what} failed: {}", crate::aws::answer(&e))),
    }
}

/// The region S3 names in a redirect for a bucket in another region (301
/// PermanentRedirect, or 400 with the header on some endpoints).
fn redirected_region(status: u16, header: Option<&str>) -> Option<String> {
    matches!(status, 301 | 400).then_some(header).flatten().map(str::to_owned).filter(|r| !r.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_redirect_with_a_region_names_another_region() {
        assert_eq!(redirected_region(301, Some("us-west-2")).as_deref(), Some("us-west-2"));
        assert_eq!(redirected_region(400, Some("eu-central-1")).as_deref(), Some("eu-central-1"));
        assert_eq!(redirected_region(301, None), None);
        assert_eq!(redirected_region(403, Some("us-west-2")), None);
        assert_eq!(redirected_region(301, Some("")), None);
    }

    #[test]
    fn a_notification_fires_only_for_created_keys_its_filter_lets_through() {
        let mut t = NotificationTarget {
            id: None,
            kind: TargetKind::Queue,
            arn: "arn:aws:sqs:eu-west-1:1:q".into(),
            events: vec!["s3:ObjectCreated:*".into()],
            filter: vec![],
        };
        assert!(t.fires_on_created("artwork/a.jpg"));
        t.filter = vec![("prefix".into(), "uploads/".into())];
        assert!(!t.fires_on_created("artwork/a.jpg"));
        t.filter = vec![("Prefix".into(), "artwork/".into()), ("suffix".into(), ".jpg".into())];
        assert!(t.fires_on_created("artwork/a.jpg"));
        t.events = vec!["s3:ObjectRemoved:*".into()];
        assert!(!t.fires_on_created("artwork/a.jpg"));
    }
}
