//! Applies the stack spec (`easel_app::storage::spec`) to an AWS endpoint:
//! the local emulator for `cargo ops up`. Every step reads first and writes
//! only what differs, so a second run reports nothing changed.

use std::fmt;

use anyhow::{Context, bail};
use aws_config::SdkConfig;
use aws_sdk_s3::{Client as S3, error::DisplayErrorContext};
use aws_sdk_sqs::types::QueueAttributeName;
use easel_app::storage::{
    live,
    spec::{BucketSpec, StackSpec},
};
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
    // One reader and one writer per setting, shared with the bucket doctor's fixes.
    let mut current = live::read_bucket(s3, name).await?;
    if !current.exists {
        live::create_bucket(s3, name, &spec.region).await?;
        changes.push(Change::Created(format!("bucket {name} ({}) in {}", b.role, spec.region)));
        current = live::read_bucket(s3, name).await?;
    }
    let region = current.region.clone().unwrap_or_default();
    if region != spec.region {
        bail!(
            "bucket {name} is in {region} but Easel is configured for {}; a bucket cannot move. \
             Set EASEL_AWS_REGION={region}, or empty and delete the bucket so it can be made again.",
            spec.region
        );
    }
    if current.encryption.as_deref() != Some(b.encryption) {
        live::put_encryption(s3, name, b.encryption).await?;
        changes.push(Change::Updated(what("default encryption")));
    }
    if b.block_public_access && !current.public_access.as_ref().is_some_and(|p| p.all_blocked()) {
        live::block_public_access(s3, name).await?;
        changes.push(Change::Updated(what("public access block")));
    }
    if b.versioned && current.versioning.as_deref() != Some("Enabled") {
        live::enable_versioning(s3, name).await?;
        changes.push(Change::Updated(what("versioning")));
    }
    if current.policy_json().as_ref() != Some(&b.policy) {
        live::put_policy(s3, name, &b.policy).await?;
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
    // The same notification the bucket doctor checks for and its fix writes.
    let trigger = easel_app::support::trigger::ResizerTrigger::for_spec(spec, true);
    anyhow::ensure!(trigger.arn() == arn, "the event queue's ARN {arn} is not the spec's {}", trigger.arn());
    let current = live::read_bucket(s3, bucket).await?;
    let wired = current.notifications.iter().any(|t| trigger.is_target(t) && t.fires_on_created("artwork/x.png"));
    if !wired {
        let mut targets: Vec<_> = current.notifications.into_iter().filter(|t| !trigger.is_target(t)).collect();
        targets.push(trigger.notification());
        live::put_notifications(s3, bucket, &targets)
            .await
            .context("wiring the originals bucket's ObjectCreated events")?;
        changes.push(Change::Updated(format!("ObjectCreated notification of {bucket} → {name}")));
    }
    Ok(url)
}
