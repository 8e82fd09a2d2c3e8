//! Applies the stack spec (`easel_app::storage::spec`) to an AWS endpoint:
//! the local emulator for `cargo ops up`. Every step reads first and writes
//! only what differs, so a second run reports nothing changed.

use std::fmt;

use anyhow::{Context, bail};
use aws_config::SdkConfig;
use aws_sdk_s3::{
    Client as S3,
    error::DisplayErrorContext,
    types::{
        BucketLocationConstraint, BucketVersioningStatus, CreateBucketConfiguration, Event, NotificationConfiguration,
        PublicAccessBlockConfiguration, QueueConfiguration, ServerSideEncryption, ServerSideEncryptionByDefault,
        ServerSideEncryptionConfiguration, ServerSideEncryptionRule, VersioningConfiguration,
    },
};
use aws_sdk_sqs::types::QueueAttributeName;
use easel_app::storage::spec::{BucketSpec, StackSpec};
use serde_json::json;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Created(String),
    Updated(String),
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::Created(what) => write!(f, "created {what}"),
            Change::Updated(what) => write!(f, "updated {what}"),
        }
    }
}

/// What `apply` made or changed, and where the resizer's events go.
#[derive(Debug)]
pub struct Provisioned {
    pub changes: Vec<Change>,
    pub event_queue_url: String,
}

/// Applies `spec` to the local emulator at the SDK config's endpoint.
pub async fn apply_local(sdk: &SdkConfig, spec: &StackSpec) -> anyhow::Result<Provisioned> {
    let s3 = easel_resizer::aws::s3_client(sdk, true);
    let mut changes = Vec::new();
    role(sdk, spec, &mut changes).await?;
    for bucket in spec.buckets() {
        apply_bucket(&s3, spec, &bucket, &mut changes).await?;
    }
    log_group(sdk, spec, &mut changes).await?;
    function(sdk, spec, &mut changes).await?;
    let event_queue_url = event_queue(sdk, &s3, spec, &mut changes).await?;
    Ok(Provisioned { changes, event_queue_url })
}

fn err(what: &str, e: impl std::error::Error) -> anyhow::Error {
    anyhow::anyhow!("{what}: {}", DisplayErrorContext(e))
}

async fn role(sdk: &SdkConfig, spec: &StackSpec, changes: &mut Vec<Change>) -> anyhow::Result<()> {
    let iam = aws_sdk_iam::Client::new(sdk);
    let name = &spec.resizer.role_name;
    match iam.get_role().role_name(name).send().await {
        Ok(_) => {}
        Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_entity_exception()) => {
            let created = iam
                .create_role()
                .role_name(name)
                .assume_role_policy_document(spec.resizer_trust_policy().to_string())
                .description("Easel's resizer Lambda")
                .send()
                .await;
            match created {
                Ok(_) => changes.push(Change::Created(format!("IAM role {name}"))),
                // Another run (a parallel test) made it in between: fine.
                Err(e) if e.as_service_error().is_some_and(|s| s.is_entity_already_exists_exception()) => {}
                Err(e) => return Err(err("creating the resizer's IAM role", e)),
            }
        }
        Err(e) => return Err(err("reading the resizer's IAM role", e)),
    }
    Ok(())
}

async fn apply_bucket(s3: &S3, spec: &StackSpec, b: &BucketSpec, changes: &mut Vec<Change>) -> anyhow::Result<()> {
    let name = b.name.as_str();
    let what = |s: &str| format!("{s} of bucket {name} ({})", b.role);
    if s3.head_bucket().bucket(name).send().await.is_err() {
        let mut create = s3.create_bucket().bucket(name);
        if spec.region != "us-east-1" {
            create = create.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(spec.region.as_str()))
                    .build(),
            );
        }
        create.send().await.map_err(|e| err(&format!("creating bucket {name}"), e))?;
        changes.push(Change::Created(format!("bucket {name} ({}) in {}", b.role, spec.region)));
    }
    let location =
        s3.get_bucket_location().bucket(name).send().await.map_err(|e| err("reading the bucket region", e))?;
    let region = location
        .location_constraint()
        .map(|l| l.as_str().to_owned())
        .filter(|l| !l.is_empty())
        .unwrap_or_else(|| "us-east-1".into());
    if region != spec.region {
        bail!(
            "bucket {name} is in {region} but Easel is configured for {}; a bucket cannot move. \
             Set EASEL_AWS_REGION={region}, or empty and delete the bucket so it can be made again.",
            spec.region
        );
    }

    let encrypted = match s3.get_bucket_encryption().bucket(name).send().await {
        Ok(out) => out.server_side_encryption_configuration().is_some_and(|c| {
            c.rules().iter().any(|r| {
                r.apply_server_side_encryption_by_default().is_some_and(|d| d.sse_algorithm().as_str() == b.encryption)
            })
        }),
        Err(_) => false,
    };
    if !encrypted {
        let rule = ServerSideEncryptionRule::builder()
            .apply_server_side_encryption_by_default(
                ServerSideEncryptionByDefault::builder()
                    .sse_algorithm(ServerSideEncryption::from(b.encryption))
                    .build()?,
            )
            .build();
        s3.put_bucket_encryption()
            .bucket(name)
            .server_side_encryption_configuration(ServerSideEncryptionConfiguration::builder().rules(rule).build()?)
            .send()
            .await
            .map_err(|e| err("setting default encryption", e))?;
        changes.push(Change::Updated(what("default encryption")));
    }

    let blocked = match s3.get_public_access_block().bucket(name).send().await {
        Ok(out) => out.public_access_block_configuration().is_some_and(|c| {
            c.block_public_acls() == Some(true)
                && c.ignore_public_acls() == Some(true)
                && c.block_public_policy() == Some(true)
                && c.restrict_public_buckets() == Some(true)
        }),
        Err(_) => false,
    };
    if b.block_public_access && !blocked {
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
            .map_err(|e| err("blocking public access", e))?;
        changes.push(Change::Updated(what("public access block")));
    }

    if b.versioned {
        // moto answers a never-versioned bucket with a body the SDK cannot
        // parse; either way, versioning is not on.
        let status = s3.get_bucket_versioning().bucket(name).send().await.ok().and_then(|o| o.status().cloned());
        if status != Some(BucketVersioningStatus::Enabled) {
            s3.put_bucket_versioning()
                .bucket(name)
                .versioning_configuration(
                    VersioningConfiguration::builder().status(BucketVersioningStatus::Enabled).build(),
                )
                .send()
                .await
                .map_err(|e| err("enabling versioning", e))?;
            changes.push(Change::Updated(what("versioning")));
        }
    }

    let current: Option<serde_json::Value> = match s3.get_bucket_policy().bucket(name).send().await {
        Ok(out) => out.policy().and_then(|p| serde_json::from_str(p).ok()),
        Err(_) => None,
    };
    if current.as_ref() != Some(&b.policy) {
        s3.put_bucket_policy()
            .bucket(name)
            .policy(b.policy.to_string())
            .send()
            .await
            .map_err(|e| err("setting the bucket policy", e))?;
        changes.push(Change::Updated(what("policy")));
    }
    Ok(())
}

async fn log_group(sdk: &SdkConfig, spec: &StackSpec, changes: &mut Vec<Change>) -> anyhow::Result<()> {
    let logs = aws_sdk_cloudwatchlogs::Client::new(sdk);
    let group = spec.log_group();
    let found = logs
        .describe_log_groups()
        .log_group_name_prefix(&group)
        .send()
        .await
        .map_err(|e| err("listing log groups", e))?
        .log_groups()
        .iter()
        .find(|g| g.log_group_name() == Some(group.as_str()))
        .map(|g| g.retention_in_days());
    let retention = match found {
        Some(r) => r,
        None => {
            match logs.create_log_group().log_group_name(&group).send().await {
                Ok(_) => changes.push(Change::Created(format!("log group {group}"))),
                Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_already_exists_exception()) => {}
                Err(e) => return Err(err("creating the log group", e)),
            }
            None
        }
    };
    if retention != Some(spec.resizer.log_retention_days) {
        logs.put_retention_policy()
            .log_group_name(&group)
            .retention_in_days(spec.resizer.log_retention_days)
            .send()
            .await
            .map_err(|e| err("setting log retention", e))?;
        changes.push(Change::Updated(format!("retention of {group} to {} days", spec.resizer.log_retention_days)));
    }
    Ok(())
}

/// Registers the resizer function with its role and region, so the
/// configuration can be inspected like the real one. Locally the code is
/// never run by the emulator (it cannot without Docker): `cargo ops up`'s
/// invoker runs the same handler in-process instead.
async fn function(sdk: &SdkConfig, spec: &StackSpec, changes: &mut Vec<Change>) -> anyhow::Result<()> {
    use aws_sdk_lambda::{
        primitives::Blob,
        types::{Architecture, FunctionCode, Runtime},
    };
    let lambda = aws_sdk_lambda::Client::new(sdk);
    let name = &spec.resizer.function_name;
    match lambda.get_function().function_name(name).send().await {
        Ok(_) => return Ok(()),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_not_found_exception()) => {}
        Err(e) => return Err(err("reading the resizer function", e)),
    }
    let created = lambda
        .create_function()
        .function_name(name)
        .runtime(Runtime::Providedal2023)
        .architectures(Architecture::Arm64)
        .handler("bootstrap")
        .role(spec.role_arn())
        .memory_size(spec.resizer.memory_mb)
        .timeout(spec.resizer.timeout_seconds)
        .code(FunctionCode::builder().zip_file(Blob::new(local_placeholder_package()?)).build())
        .send()
        .await;
    match created {
        Ok(_) => changes.push(Change::Created(format!("function {name} in {}", spec.region))),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_conflict_exception()) => {}
        Err(e) => return Err(err("registering the resizer function", e)),
    }
    Ok(())
}

/// A zip that says what it is, for the emulator's function record.
fn local_placeholder_package() -> anyhow::Result<Vec<u8>> {
    use std::io::Write;
    let mut buf = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut buf);
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    zip.start_file("README.txt", opts)?;
    zip.write_all(b"Local registration only. `cargo ops up` runs Easel's resizer handler in-process; `cargo ops package` builds the real bootstrap.\n")?;
    zip.finish()?;
    Ok(buf.into_inner())
}

/// Locally the originals bucket notifies an SQS queue that the invoker drains.
async fn event_queue(sdk: &SdkConfig, s3: &S3, spec: &StackSpec, changes: &mut Vec<Change>) -> anyhow::Result<String> {
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let name = spec.event_queue_name();
    let url = match sqs.get_queue_url().queue_name(&name).send().await {
        Ok(out) => out.queue_url().context("the emulator returned no queue URL")?.to_owned(),
        Err(_) => {
            let out = sqs
                .create_queue()
                .queue_name(&name)
                // A failed resize becomes visible again for a retry after this long.
                .attributes(QueueAttributeName::VisibilityTimeout, "10")
                .send()
                .await
                .map_err(|e| err("creating the event queue", e))?;
            changes.push(Change::Created(format!("event queue {name}")));
            out.queue_url().context("the emulator returned no queue URL")?.to_owned()
        }
    };
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| err("reading the event queue", e))?;
    let arn = attrs
        .attributes()
        .and_then(|a| a.get(&QueueAttributeName::QueueArn))
        .context("the event queue has no ARN")?
        .clone();
    let policy = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "Service": "s3.amazonaws.com" },
            "Action": "sqs:SendMessage",
            "Resource": arn,
            "Condition": { "ArnLike": { "aws:SourceArn": format!("arn:aws:s3:::{}", spec.buckets.originals) } }
        }]
    });
    sqs.set_queue_attributes()
        .queue_url(&url)
        .attributes(QueueAttributeName::Policy, policy.to_string())
        .send()
        .await
        .map_err(|e| err("setting the queue policy", e))?;

    let bucket = &spec.buckets.originals;
    // As with versioning, moto's answer for "no notifications" does not parse;
    // an unreadable answer means "not wired", and the put below says more
    // if something is really wrong.
    let current = s3.get_bucket_notification_configuration().bucket(bucket).send().await.ok();
    let wired = current.is_some_and(|c| {
        c.queue_configurations().iter().any(|q| q.queue_arn() == arn && q.events().contains(&Event::S3ObjectCreated))
    });
    if !wired {
        let config = NotificationConfiguration::builder()
            .queue_configurations(
                QueueConfiguration::builder()
                    .id("easel-resizer")
                    .queue_arn(&arn)
                    .events(Event::S3ObjectCreated)
                    .build()?,
            )
            .build();
        s3.put_bucket_notification_configuration()
            .bucket(bucket)
            .notification_configuration(config)
            .send()
            .await
            .map_err(|e| err("wiring the originals bucket's ObjectCreated events", e))?;
        changes.push(Change::Updated(format!("ObjectCreated notification of {bucket} → {name}")));
    }
    Ok(url)
}
