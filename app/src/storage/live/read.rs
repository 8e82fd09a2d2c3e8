//! Reading a bucket's whole configuration into one `LiveBucket`.

use aws_sdk_s3::{
    Client,
    types::{Event, NotificationConfigurationFilter},
};

use super::{
    ConfigError, LiveBucket, NotificationTarget, PublicAccess, TargetKind, optional, redirected_region, s3_err,
};

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
            live.unreadable.push(("versioning", format!("GetBucketVersioning failed: {}", crate::aws::answer(&e))))
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
                format!("GetBucketNotificationConfiguration failed: {}", crate::aws::answer(&e)),
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
