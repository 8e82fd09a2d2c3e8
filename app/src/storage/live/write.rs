//! The writers, one aspect each: what provisioning and the doctor's fixes
//! put, and the only place either puts it.

use aws_sdk_s3::{
    Client,
    types::{
        BucketLocationConstraint, BucketVersioningStatus, CreateBucketConfiguration, Event, FilterRule, FilterRuleName,
        LambdaFunctionConfiguration, NotificationConfiguration, NotificationConfigurationFilter,
        PublicAccessBlockConfiguration, QueueConfiguration, S3KeyFilter, ServerSideEncryption,
        ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule, TopicConfiguration,
    },
};
use serde_json::Value;

use super::{ConfigError, NotificationTarget, TargetKind, build_err, s3_err};
use crate::storage::policy::Policy;

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
