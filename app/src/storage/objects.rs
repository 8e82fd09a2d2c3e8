//! The object operations the web console performs. The resizer has its own
//! (in `easel_resizer::handler`); the key scheme and manifest format they
//! share live in `easel_resizer`.

use aws_sdk_s3::{
    Client,
    config::http::HttpResponse,
    error::{ProvideErrorMetadata, SdkError},
    primitives::ByteStream,
};

use crate::aws::{AwsError, Service};
use easel_resizer::{image::ImageFormat, keys::ArtworkId, manifest::Manifest};

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("S3 {} on {bucket}/{key} failed: {}", .call.op, .call.detail)]
    S3 { bucket: String, key: String, call: AwsError },
    #[error("the manifest at {bucket}/{key} is not valid JSON: {detail}")]
    BadManifest { bucket: String, key: String, detail: String },
}

impl StorageError {
    /// The failed S3 call, if that is what this is.
    pub fn call(&self) -> Option<&AwsError> {
        match self {
            StorageError::S3 { call, .. } => Some(call),
            StorageError::BadManifest { .. } => None,
        }
    }

    pub fn is_unavailable(&self) -> bool {
        self.call().is_some_and(|c| c.unavailable)
    }
}

fn s3_err<E: std::error::Error + ProvideErrorMetadata + 'static>(
    op: &'static str,
    bucket: &str,
    key: &str,
    e: SdkError<E, HttpResponse>,
) -> StorageError {
    StorageError::S3 { bucket: bucket.to_owned(), key: key.to_owned(), call: AwsError::new(Service::S3, op, e) }
}

/// The answer's body broke off (or stalled past the read timeout).
fn body_err(op: &'static str, bucket: &str, key: &str, e: impl std::error::Error) -> StorageError {
    StorageError::S3 { bucket: bucket.to_owned(), key: key.to_owned(), call: AwsError::broken_off(Service::S3, op, e) }
}

/// Stores a merchant's original. The bucket's default encryption applies;
/// the artwork id goes along as metadata so an object can be traced back to
/// its row without the database.
pub async fn put_original(
    s3: &Client,
    bucket: &str,
    key: &str,
    id: ArtworkId,
    format: ImageFormat,
    bytes: bytes::Bytes,
) -> Result<(), StorageError> {
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .content_type(format.content_type())
        .metadata("artwork-id", id.to_string())
        .body(ByteStream::from(bytes))
        .send()
        .await
        .map_err(|e| s3_err("PutObject", bucket, key, e))?;
    Ok(())
}

pub async fn delete_object(s3: &Client, bucket: &str, key: &str) -> Result<(), StorageError> {
    s3.delete_object().bucket(bucket).key(key).send().await.map_err(|e| s3_err("DeleteObject", bucket, key, e))?;
    Ok(())
}

/// The resizer writes the manifest last, so its presence means every
/// rendition is in place. `None` while the resizer has not finished.
pub async fn read_manifest(s3: &Client, bucket: &str, original_key: &str) -> Result<Option<Manifest>, StorageError> {
    let key = easel_resizer::keys::manifest_key(original_key);
    let out = match s3.get_object().bucket(bucket).key(&key).send().await {
        Ok(out) => out,
        Err(e) if e.as_service_error().is_some_and(|se| se.is_no_such_key()) => return Ok(None),
        Err(e) => return Err(s3_err("GetObject", bucket, &key, e)),
    };
    let body = out.body.collect().await.map_err(|e| body_err("GetObject", bucket, &key, e))?.into_bytes();
    serde_json::from_slice(&body).map(Some).map_err(|e| StorageError::BadManifest {
        bucket: bucket.to_owned(),
        key,
        detail: e.to_string(),
    })
}

/// A stored object on its way to a browser.
pub struct ObjectBody {
    pub content_type: Option<String>,
    pub etag: Option<String>,
    pub body: ByteStream,
}

/// Fetches `key` from the first bucket that has it. The gallery reads from
/// `resized` and falls back to `backup`, so a lost rendition never shows as
/// a broken image while support restores it.
pub async fn get_first(s3: &Client, buckets: &[&str], key: &str) -> Result<Option<ObjectBody>, StorageError> {
    for bucket in buckets {
        match s3.get_object().bucket(*bucket).key(key).send().await {
            Ok(out) => {
                return Ok(Some(ObjectBody { content_type: out.content_type, etag: out.e_tag, body: out.body }));
            }
            Err(e) if e.as_service_error().is_some_and(|se| se.is_no_such_key()) => continue,
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => continue,
            Err(e) => return Err(s3_err("GetObject", bucket, key, e)),
        }
    }
    Ok(None)
}
