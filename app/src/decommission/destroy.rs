//! Step 5's destruction: every object and every object version (the backup
//! bucket is versioned) in every bucket, checked empty afterwards; then what
//! Easel set on the buckets that would act on new data: the bucket policies
//! and the originals bucket's event notifications (the resizer's trigger).
//! Encryption, versioning and the public-access block stay: they only
//! protect, and the buckets themselves are kept (as the template keeps them).
//! So do the audit trail's signed checkpoints in the backup bucket (see
//! `listing`).

use anyhow::Context;
use aws_sdk_s3::{
    Client as S3Client,
    error::ProvideErrorMetadata,
    types::{Delete, NotificationConfiguration, ObjectIdentifier},
};

use crate::storage::{BucketNames, BucketRole};

#[derive(Debug, Clone, serde::Serialize)]
pub struct BucketReport {
    pub role: &'static str,
    pub bucket: String,
    pub versions_deleted: usize,
    pub delete_markers_deleted: usize,
    /// Listed again afterwards: no version and no delete marker left.
    pub empty: bool,
    pub policy_removed: bool,
    pub notifications_removed: bool,
}

/// Removes the resizer Easel configured: its function (and with it the
/// trigger's target), its event queue and its log group (exported into the
/// archive at the archive step), each left alone if already gone, so a run
/// stopped half-way finishes when run again. Returns what it removed or
/// found gone. Only on the local emulator: in AWS these belong to the
/// CloudFormation stack, which the console does not change; they are then
/// named as left to it.
pub async fn remove_resizer(support: &crate::support::Support) -> anyhow::Result<Vec<String>> {
    let spec = support.spec().await?;
    if !support.local {
        return Ok(vec![format!(
            "left to the CloudFormation stack, which the console may not change: function {}, its queues, alarms \
             and log group go with `cargo ops remove-stack`",
            spec.resizer.function_name
        )]);
    }
    let mut out = Vec::new();
    let name = &spec.resizer.function_name;
    match support.lambda.delete_function().function_name(name).send().await {
        Ok(_) => out.push(format!("function {name}: removed")),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_not_found_exception()) => {
            out.push(format!("function {name}: already gone"))
        }
        Err(e) => return Err(anyhow::Error::new(e).context(format!("removing the function {name}"))),
    }
    let queue = spec.event_queue_name();
    match support.sqs.get_queue_url().queue_name(&queue).send().await {
        Ok(found) => {
            let url = found.queue_url().unwrap_or_default().to_owned();
            support.sqs.delete_queue().queue_url(url).send().await.with_context(|| format!("removing {queue}"))?;
            out.push(format!("queue {queue}: removed"));
        }
        Err(e) if e.as_service_error().is_some_and(|s| s.is_queue_does_not_exist()) => {
            out.push(format!("queue {queue}: already gone"))
        }
        Err(e) => return Err(anyhow::Error::new(e).context(format!("finding the queue {queue}"))),
    }
    let group = spec.log_group();
    match support.logs.delete_log_group().log_group_name(&group).send().await {
        Ok(_) => out.push(format!("log group {group}: removed")),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_not_found_exception()) => {
            out.push(format!("log group {group}: already gone"))
        }
        Err(e) => return Err(anyhow::Error::new(e).context(format!("removing the log group {group}"))),
    }
    Ok(out)
}

pub async fn wipe(s3: &S3Client, buckets: &BucketNames) -> anyhow::Result<Vec<BucketReport>> {
    let mut out = Vec::new();
    for role in BucketRole::ALL {
        out.push(wipe_bucket(s3, role, buckets.get(role)).await?);
    }
    Ok(out)
}

async fn wipe_bucket(s3: &S3Client, role: BucketRole, bucket: &str) -> anyhow::Result<BucketReport> {
    let (mut versions, mut markers) = (0, 0);
    // Each round deletes what a listing returns, until a listing is empty.
    loop {
        let (ids, v, m) = listing(s3, bucket).await?;
        if ids.is_empty() {
            break;
        }
        versions += v;
        markers += m;
        for chunk in ids.chunks(1000) {
            let delete = Delete::builder().set_objects(Some(chunk.to_vec())).quiet(true).build()?;
            let res = s3
                .delete_objects()
                .bucket(bucket)
                .delete(delete)
                .send()
                .await
                .with_context(|| format!("deleting objects in {bucket}"))?;
            if let Some(e) = res.errors().first() {
                anyhow::bail!(
                    "{bucket}: {} could not be deleted: {}",
                    e.key().unwrap_or("?"),
                    e.message().unwrap_or("?")
                );
            }
        }
    }
    let (left, _, _) = listing(s3, bucket).await?;
    // A run that stopped half-way may have removed the policy already.
    match s3.delete_bucket_policy().bucket(bucket).send().await {
        Ok(_) => {}
        Err(e) if e.code() == Some("NoSuchBucketPolicy") => {}
        Err(e) => return Err(anyhow::Error::new(e).context(format!("removing {bucket}'s policy"))),
    }
    s3.put_bucket_notification_configuration()
        .bucket(bucket)
        .notification_configuration(NotificationConfiguration::builder().build())
        .send()
        .await
        .with_context(|| format!("removing {bucket}'s notifications"))?;
    Ok(BucketReport {
        role: role.as_str(),
        bucket: bucket.to_owned(),
        versions_deleted: versions,
        delete_markers_deleted: markers,
        empty: left.is_empty(),
        policy_removed: true,
        notifications_removed: true,
    })
}

/// Every version and delete marker in `bucket`, except the
/// audit trail's checkpoints: they hold no one's data, only hashes, and
/// are the evidence the procedure (this destruction included) is checked
/// against, so they stay (in AWS, S3 Object Lock would refuse anyway).
async fn listing(s3: &S3Client, bucket: &str) -> anyhow::Result<(Vec<ObjectIdentifier>, usize, usize)> {
    let kept = |key: &str| key.starts_with(crate::audit::checkpoint::PREFIX);
    let (mut ids, mut markers) = (Vec::new(), 0);
    for v in super::versions::list(s3, bucket).await?.into_iter().filter(|v| !kept(&v.key)) {
        markers += usize::from(v.delete_marker);
        ids.push(ObjectIdentifier::builder().key(v.key).set_version_id(v.version_id).build()?);
    }
    let versions = ids.len() - markers;
    Ok((ids, versions, markers))
}
