//! A bucket's live configuration: read as one value (`LiveBucket`), and
//! written one aspect at a time. Provisioning (`cargo ops`) and the bucket
//! doctor's fixes both go through these writers, so there is one way each
//! setting is put, and a policy is validated before it is written (an
//! invalid policy breaks every object call on the emulator).

use aws_sdk_s3::{
    Client,
    error::{DisplayErrorContext, ProvideErrorMetadata},
    types::{
        BucketLocationConstraint, BucketVersioningStatus, CreateBucketConfiguration, Event, FilterRule, FilterRuleName,
        LambdaFunctionConfiguration, NotificationConfiguration, NotificationConfigurationFilter,
        PublicAccessBlockConfiguration, QueueConfiguration, S3KeyFilter, ServerSideEncryption,
        ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule, TopicConfiguration,
    },
};
use serde_json::Value;

use super::policy::Policy;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{what} on bucket {bucket} failed: {detail}")]
    S3 {
        what: &'static str,
        bucket: String,
        detail: String,
        /// S3 did not answer (see `aws::unavailable`).
        unavailable: bool,
    },
    #[error("refusing to write an invalid policy to {bucket}: {reason}")]
    InvalidPolicy { bucket: String, reason: String },
}

fn s3_err<E: std::error::Error + 'static>(
    what: &'static str,
    bucket: &str,
    e: aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
) -> ConfigError {
    let unavailable = crate::aws::unavailable(&e);
    ConfigError::S3 { what, bucket: bucket.to_owned(), detail: DisplayErrorContext(e).to_string(), unavailable }
}

/// A request we could not even build: our bug, never S3's absence.
fn build_err(what: &'static str, bucket: &str, e: aws_sdk_s3::error::BuildError) -> ConfigError {
    ConfigError::S3 { what, bucket: bucket.to_owned(), detail: DisplayErrorContext(e).to_string(), unavailable: false }
}

impl ConfigError {
    pub fn is_unavailable(&self) -> bool {
        matches!(self, ConfigError::S3 { unavailable: true, .. })
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
        Err(e) => Err(format!("{what} failed: {}", DisplayErrorContext(e))),
    }
}

/// The region S3 names in a redirect for a bucket in another region (301
/// PermanentRedirect, or 400 with the header on some endpoints).
fn redirected_region(status: u16, header: Option<&str>) -> Option<String> {
    matches!(status, 301 | 400).then_some(header).flatten().map(str::to_owned).filter(|r| !r.is_empty())
}

/// Reads a bucket's configuration. Settings that are absent come back as
/// `None`; so do answers the emulator cannot produce for a fresh bucket
/// (versioning, notifications), which mean the same thing.
pub async fn read_bucket(s3: &Client, name: &str) -> Result<LiveBucket, ConfigError> {
    let mut live = LiveBucket { name: name.to_owned(), ..Default::default() };
    if let Err(e) = s3.head_bucket().bucket(name).send().await {
        if e.as_service_error().is_some_and(|s| s.is_not_found())
            || e.raw_response().is_some_and(|r| r.status().as_u16() == 404)
        {
            return Ok(live);
        }
        let region = e
            .raw_response()
            .and_then(|r| redirected_region(r.status().as_u16(), r.headers().get("x-amz-bucket-region")));
        if let Some(region) = region {
            // In another region: its settings cannot be read from here, and
            // whether it is empty is unknown, so nothing offers to move it.
            live.exists = true;
            live.region = Some(region.clone());
            live.unreadable.push((
                "settings",
                format!("HeadBucket {name} redirected to {region}: its settings can only be read in {region}"),
            ));
            return Ok(live);
        }
        return Err(s3_err("HeadBucket", name, e));
    }
    live.exists = true;
    let location =
        s3.get_bucket_location().bucket(name).send().await.map_err(|e| s3_err("GetBucketLocation", name, e))?;
    live.region = Some(
        location
            .location_constraint()
            .map(|l| l.as_str().to_owned())
            .filter(|l| !l.is_empty())
            .unwrap_or_else(|| "us-east-1".into()),
    );
    match optional("GetBucketEncryption", s3.get_bucket_encryption().bucket(name).send().await) {
        Ok(out) => {
            live.encryption = out.and_then(|out| {
                out.server_side_encryption_configuration().and_then(|c| {
                    c.rules().iter().find_map(|r| {
                        r.apply_server_side_encryption_by_default().map(|d| d.sse_algorithm().as_str().to_owned())
                    })
                })
            })
        }
        Err(e) => live.unreadable.push(("encryption", e)),
    }
    match optional("GetPublicAccessBlock", s3.get_public_access_block().bucket(name).send().await) {
        Ok(out) => {
            live.public_access = out.and_then(|out| {
                out.public_access_block_configuration().map(|c| PublicAccess {
                    block_public_acls: c.block_public_acls() == Some(true),
                    ignore_public_acls: c.ignore_public_acls() == Some(true),
                    block_public_policy: c.block_public_policy() == Some(true),
                    restrict_public_buckets: c.restrict_public_buckets() == Some(true),
                })
            })
        }
        Err(e) => live.unreadable.push(("public-access", e)),
    }
    match s3.get_bucket_versioning().bucket(name).send().await {
        Ok(o) => live.versioning = o.status().map(|s| s.as_str().to_owned()),
        // moto names the answer's root element `GetBucketVersioningResponse`,
        // which the SDK refuses to parse; the status inside is still right.
        Err(e) if e.raw_response().is_some_and(|r| r.status().is_success()) => {
            live.versioning = e
                .raw_response()
                .and_then(|r| r.body().bytes())
                .and_then(|b| xml_text(&String::from_utf8_lossy(b), "Status"))
        }
        Err(e) => {
            live.unreadable.push(("versioning", format!("GetBucketVersioning failed: {}", DisplayErrorContext(e))))
        }
    }
    match optional("GetBucketPolicy", s3.get_bucket_policy().bucket(name).send().await) {
        Ok(out) => live.policy = out.and_then(|o| o.policy().map(str::to_owned)),
        Err(e) => live.unreadable.push(("policy", e)),
    }
    let notifications = match s3.get_bucket_notification_configuration().bucket(name).send().await {
        Ok(n) => Some(n),
        // The emulator's answer for a fresh bucket does not parse; a
        // successful answer without a configuration means none.
        Err(e) if e.raw_response().is_some_and(|r| r.status().is_success()) => None,
        Err(e) => {
            live.unreadable.push((
                "notifications",
                format!("GetBucketNotificationConfiguration failed: {}", DisplayErrorContext(e)),
            ));
            None
        }
    };
    if let Some(n) = notifications {
        let filter = |f: Option<&NotificationConfigurationFilter>| -> Vec<(String, String)> {
            f.and_then(|f| f.key())
                .map(|k| {
                    k.filter_rules()
                        .iter()
                        .map(|r| {
                            (
                                r.name().map(|n| n.as_str().to_owned()).unwrap_or_default(),
                                r.value().unwrap_or_default().to_owned(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        let events = |e: &[Event]| e.iter().map(|e| e.as_str().to_owned()).collect::<Vec<_>>();
        for q in n.queue_configurations() {
            live.notifications.push(NotificationTarget {
                id: q.id().map(str::to_owned),
                kind: TargetKind::Queue,
                arn: q.queue_arn().to_owned(),
                events: events(q.events()),
                filter: filter(q.filter()),
            });
        }
        for l in n.lambda_function_configurations() {
            live.notifications.push(NotificationTarget {
                id: l.id().map(str::to_owned),
                kind: TargetKind::Lambda,
                arn: l.lambda_function_arn().to_owned(),
                events: events(l.events()),
                filter: filter(l.filter()),
            });
        }
        for t in n.topic_configurations() {
            live.notifications.push(NotificationTarget {
                id: t.id().map(str::to_owned),
                kind: TargetKind::Topic,
                arn: t.topic_arn().to_owned(),
                events: events(t.events()),
                filter: filter(t.filter()),
            });
        }
    }
    let versions = s3
        .list_object_versions()
        .bucket(name)
        .max_keys(1)
        .send()
        .await
        .map_err(|e| s3_err("ListObjectVersions", name, e))?;
    live.empty = versions.versions().is_empty() && versions.delete_markers().is_empty();
    if live.empty {
        let objects =
            s3.list_objects_v2().bucket(name).max_keys(1).send().await.map_err(|e| s3_err("ListObjectsV2", name, e))?;
        live.empty = objects.contents().is_empty();
    }
    Ok(live)
}

/// The text of the first `<tag>` element in `xml`.
fn xml_text(xml: &str, tag: &str) -> Option<String> {
    let start = xml.find(&format!("<{tag}>"))? + tag.len() + 2;
    let end = start + xml[start..].find(&format!("</{tag}>"))?;
    Some(xml[start..end].trim().to_owned()).filter(|t| !t.is_empty())
}

pub async fn create_bucket(s3: &Client, name: &str, region: &str) -> Result<(), ConfigError> {
    let mut create = s3.create_bucket().bucket(name);
    if region != "us-east-1" {
        create = create.create_bucket_configuration(
            CreateBucketConfiguration::builder().location_constraint(BucketLocationConstraint::from(region)).build(),
        );
    }
    create.send().await.map_err(|e| s3_err("CreateBucket", name, e))?;
    Ok(())
}

/// Deletes an empty bucket (S3 refuses a bucket with objects in it).
pub async fn delete_empty_bucket(s3: &Client, name: &str) -> Result<(), ConfigError> {
    s3.delete_bucket().bucket(name).send().await.map_err(|e| s3_err("DeleteBucket", name, e))?;
    Ok(())
}

pub async fn put_encryption(s3: &Client, name: &str, algorithm: &str) -> Result<(), ConfigError> {
    let by_default = ServerSideEncryptionByDefault::builder()
        .sse_algorithm(ServerSideEncryption::from(algorithm))
        .build()
        .map_err(|e| build_err("PutBucketEncryption", name, e))?;
    let config = ServerSideEncryptionConfiguration::builder()
        .rules(ServerSideEncryptionRule::builder().apply_server_side_encryption_by_default(by_default).build())
        .build()
        .map_err(|e| build_err("PutBucketEncryption", name, e))?;
    s3.put_bucket_encryption()
        .bucket(name)
        .server_side_encryption_configuration(config)
        .send()
        .await
        .map_err(|e| s3_err("PutBucketEncryption", name, e))?;
    Ok(())
}

pub async fn block_public_access(s3: &Client, name: &str) -> Result<(), ConfigError> {
    s3.put_public_access_block()
        .bucket(name)
        .public_access_block_configuration(
            PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .ignore_public_acls(true)
                .block_public_policy(true)
                .restrict_public_buckets(true)
                .build(),
        )
        .send()
        .await
        .map_err(|e| s3_err("PutPublicAccessBlock", name, e))?;
    Ok(())
}

pub async fn enable_versioning(s3: &Client, name: &str) -> Result<(), ConfigError> {
    s3.put_bucket_versioning()
        .bucket(name)
        .versioning_configuration(
            aws_sdk_s3::types::VersioningConfiguration::builder().status(BucketVersioningStatus::Enabled).build(),
        )
        .send()
        .await
        .map_err(|e| s3_err("PutBucketVersioning", name, e))?;
    Ok(())
}

/// Writes `policy` after parsing it as a policy.
pub async fn put_policy(s3: &Client, name: &str, policy: &Value) -> Result<(), ConfigError> {
    Policy::from_value(policy).map_err(|e| ConfigError::InvalidPolicy { bucket: name.to_owned(), reason: e.0 })?;
    s3.put_bucket_policy()
        .bucket(name)
        .policy(policy.to_string())
        .send()
        .await
        .map_err(|e| s3_err("PutBucketPolicy", name, e))?;
    Ok(())
}

/// Replaces the bucket's notification configuration with `targets`.
pub async fn put_notifications(s3: &Client, name: &str, targets: &[NotificationTarget]) -> Result<(), ConfigError> {
    let unbuildable = |e| build_err("PutBucketNotificationConfiguration", name, e);
    let filter = |t: &NotificationTarget| -> Option<NotificationConfigurationFilter> {
        (!t.filter.is_empty()).then(|| {
            let rules = t
                .filter
                .iter()
                .map(|(k, v)| {
                    FilterRule::builder().name(FilterRuleName::from(k.to_ascii_lowercase().as_str())).value(v).build()
                })
                .collect::<Vec<_>>();
            NotificationConfigurationFilter::builder()
                .key(S3KeyFilter::builder().set_filter_rules(Some(rules)).build())
                .build()
        })
    };
    let mut config = NotificationConfiguration::builder();
    for t in targets {
        let events: Vec<Event> = t.events.iter().map(|e| Event::from(e.as_str())).collect();
        match t.kind {
            TargetKind::Queue => {
                config = config.queue_configurations(
                    QueueConfiguration::builder()
                        .set_id(t.id.clone())
                        .queue_arn(&t.arn)
                        .set_events(Some(events))
                        .set_filter(filter(t))
                        .build()
                        .map_err(unbuildable)?,
                )
            }
            TargetKind::Lambda => {
                config = config.lambda_function_configurations(
                    LambdaFunctionConfiguration::builder()
                        .set_id(t.id.clone())
                        .lambda_function_arn(&t.arn)
                        .set_events(Some(events))
                        .set_filter(filter(t))
                        .build()
                        .map_err(unbuildable)?,
                )
            }
            TargetKind::Topic => {
                config = config.topic_configurations(
                    TopicConfiguration::builder()
                        .set_id(t.id.clone())
                        .topic_arn(&t.arn)
                        .set_events(Some(events))
                        .set_filter(filter(t))
                        .build()
                        .map_err(unbuildable)?,
                )
            }
        }
    }
    s3.put_bucket_notification_configuration()
        .bucket(name)
        .notification_configuration(config.build())
        .send()
        .await
        .map_err(|e| s3_err("PutBucketNotificationConfiguration", name, e))?;
    Ok(())
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
