//! Step 5's destruction: every object and every object version (the backup
//! bucket is versioned) in every bucket, checked empty afterwards; then what
//! Easel set on the buckets that would act on new data: the bucket policies
//! and the originals bucket's event notifications (the resizer's trigger).
//! Encryption, versioning and the public-access block stay: they only
//! protect, and the buckets themselves are kept (as the template keeps them).

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

pub async fn wipe(s3: &S3Client, buckets: &BucketNames) -> anyhow::Result<Vec<BucketReport>> {
    let mut out = Vec::new();
    for role in BucketRole::ALL {
        out.push(wipe_bucket(s3, role, buckets.get(role)).await?);
    }
    Ok(out)
}

async fn wipe_bucket(s3: &S3Client, role: BucketRole, bucket: &str) -> anyhow::Result<BucketReport> {
    let (mut versions, mut markers) = (0, 0);
    // Each round deletes what one listing returns, until a listing is empty.
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

/// Everything one page of `ListObjectVersions` names, versions and markers.
async fn listing(s3: &S3Client, bucket: &str) -> anyhow::Result<(Vec<ObjectIdentifier>, usize, usize)> {
    let page = s3
        .list_object_versions()
        .bucket(bucket)
        .send()
        .await
        .with_context(|| format!("listing the versions in {bucket}"))?;
    let mut ids = Vec::new();
    for v in page.versions() {
        ids.push(
            ObjectIdentifier::builder()
                .key(v.key().unwrap_or_default())
                .set_version_id(v.version_id().map(str::to_owned))
                .build()?,
        );
    }
    let versions = ids.len();
    for m in page.delete_markers() {
        ids.push(
            ObjectIdentifier::builder()
                .key(m.key().unwrap_or_default())
                .set_version_id(m.version_id().map(str::to_owned))
                .build()?,
        );
    }
    let markers = ids.len() - versions;
    Ok((ids, versions, markers))
}
