//! Every stored version and delete marker of a bucket, all pages of
//! `ListObjectVersions`: what the archive copies and what destruction
//! removes.

use anyhow::Context;
use aws_sdk_s3::Client as S3Client;

/// One stored version of an object (or the object, in an unversioned
/// bucket), or a delete marker.
#[derive(Debug, Clone)]
pub struct ObjectVersion {
    pub key: String,
    /// As S3 gives it: `"null"` for an object stored before versioning.
    pub version_id: Option<String>,
    pub latest: bool,
    pub delete_marker: bool,
    /// RFC 3339.
    pub last_modified: Option<String>,
}

impl ObjectVersion {
    /// The id to ask for this version by: none for the pre-versioning one.
    pub fn real_version_id(&self) -> Option<&str> {
        self.version_id.as_deref().filter(|id| *id != "null")
    }
}

pub async fn list(s3: &S3Client, bucket: &str) -> anyhow::Result<Vec<ObjectVersion>> {
    let mut out = Vec::new();
    let (mut key_marker, mut version_marker): (Option<String>, Option<String>) = (None, None);
    loop {
        let page = s3
            .list_object_versions()
            .bucket(bucket)
            .set_key_marker(key_marker.take())
            .set_version_id_marker(version_marker.take())
            .send()
            .await
            .with_context(|| format!("listing the versions in {bucket}"))?;
        let rfc3339 = |t: Option<&aws_sdk_s3::primitives::DateTime>| {
            t.and_then(|t| t.fmt(aws_sdk_s3::primitives::DateTimeFormat::DateTime).ok())
        };
        let versions =
            page.versions().iter().map(|v| (v.key(), v.version_id(), v.is_latest(), false, rfc3339(v.last_modified())));
        let markers = page
            .delete_markers()
            .iter()
            .map(|m| (m.key(), m.version_id(), m.is_latest(), true, rfc3339(m.last_modified())));
        for (key, version_id, latest, delete_marker, last_modified) in versions.chain(markers) {
            let Some(key) = key else { continue };
            out.push(ObjectVersion {
                key: key.to_owned(),
                version_id: version_id.map(str::to_owned),
                latest: latest.unwrap_or(true),
                delete_marker,
                last_modified,
            });
        }
        if page.is_truncated() != Some(true) {
            return Ok(out);
        }
        key_marker = page.next_key_marker().map(str::to_owned);
        version_marker = page.next_version_id_marker().map(str::to_owned);
    }
}
