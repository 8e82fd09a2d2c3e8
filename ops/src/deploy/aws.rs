//! `cargo ops deploy`: the package to S3, the template as a CloudFormation
//! change set, its changes printed, then executed and waited for.

use std::time::Duration;

use anyhow::{Context, bail};
use aws_config::{BehaviorVersion, Region, SdkConfig, timeout::TimeoutConfig};
use aws_credential_types::provider::ProvideCredentials;
use aws_sdk_cloudformation::{
    Client as Cfn,
    types::{Capability, ChangeSetStatus, ChangeSetType, Parameter, StackStatus},
};
use aws_sdk_s3::{error::DisplayErrorContext, primitives::ByteStream};
use easel_app::storage::{BucketNames, BucketRole};
use serde_json::json;

use super::{package, template};
use crate::stack::paths::workspace_root;

#[derive(Debug, Clone)]
pub struct DeployOpts {
    pub stack_name: String,
    pub region: String,
    pub bucket_prefix: Option<String>,
    pub code_bucket: Option<String>,
    pub alarm_email: Option<String>,
    pub parameters: Vec<(String, String)>,
    pub execute: bool,
}

fn err(what: &str, e: impl std::error::Error) -> anyhow::Error {
    anyhow::anyhow!("{what}: {}", DisplayErrorContext(e))
}

const NO_CREDENTIALS: &str = "no AWS credentials found. `cargo ops deploy` uses the standard AWS credential chain: \
     set AWS_PROFILE (after `aws configure` or `aws sso login`), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, \
     or run it where an instance or task role is available";

/// The SDK config for real AWS, after making sure there are credentials and
/// AWS accepts them. Returns the account id.
pub async fn connect(region: &str) -> anyhow::Result<(SdkConfig, String)> {
    if let Ok(endpoint) = std::env::var("EASEL_AWS_ENDPOINT") {
        bail!(
            "EASEL_AWS_ENDPOINT is set ({endpoint}), which points Easel at an emulator; `cargo ops deploy` only \
             deploys to real AWS. Unset it (e.g. open a shell that has not sourced .easel/stack.env)."
        );
    }
    let sdk = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        // A check that hangs is worse than one that fails: say what is wrong quickly.
        .timeout_config(TimeoutConfig::builder().operation_timeout(Duration::from_secs(20)).build())
        .load()
        .await;
    let provider = sdk.credentials_provider().context(NO_CREDENTIALS)?;
    provider.provide_credentials().await.map_err(|e| anyhow::anyhow!("{NO_CREDENTIALS} ({e})"))?;
    let who = aws_sdk_sts::Client::new(&sdk).get_caller_identity().send().await.map_err(|e| {
        use aws_sdk_sts::error::SdkError;
        if matches!(e, SdkError::DispatchFailure(_) | SdkError::TimeoutError(_)) {
            anyhow::anyhow!(
                "could not reach AWS to check the AWS credentials (STS in {region}): {}. Check the network.",
                DisplayErrorContext(e)
            )
        } else {
            anyhow::anyhow!(
                "AWS did not accept the AWS credentials found (STS GetCallerIdentity in {region}: {}). \
                 Check AWS_PROFILE / AWS_ACCESS_KEY_ID and that the session has not expired.",
                DisplayErrorContext(e)
            )
        }
    })?;
    let account = who.account().context("STS returned no account id")?.to_owned();
    println!("• Deploying as {} (account {account}) to {region}", who.arn().unwrap_or("?"));
    Ok((sdk, account))
}

pub async fn deploy(opts: DeployOpts) -> anyhow::Result<()> {
    let (sdk, account) = connect(&opts.region).await?;
    let pkg = package::build().await?;
    println!("• Package: {}", package::describe(&pkg, &workspace_root()));

    let s3 = aws_sdk_s3::Client::new(&sdk);
    let code_bucket = opts.code_bucket.clone().unwrap_or_else(|| format!("easel-deploy-{account}-{}", opts.region));
    artifact_bucket(&s3, &code_bucket, &opts.region).await?;
    let code_key = format!("resizer/{}.zip", pkg.sha256);
    if s3.head_object().bucket(&code_bucket).key(&code_key).send().await.is_ok() {
        println!("• s3://{code_bucket}/{code_key} is already uploaded");
    } else {
        s3.put_object()
            .bucket(&code_bucket)
            .key(&code_key)
            .body(ByteStream::from(pkg.bytes.clone()))
            .send()
            .await
            .map_err(|e| err("uploading the package", e))?;
        println!("• Uploaded the package to s3://{code_bucket}/{code_key}");
    }

    let body = template::render();
    if body.len() > template::MAX_TEMPLATE_BODY {
        bail!("the template is {} bytes, over CloudFormation's inline limit", body.len());
    }
    let mut wanted: Vec<(String, String)> = vec![
        ("CodeBucket".into(), code_bucket.clone()),
        ("CodeKey".into(), code_key),
        ("Region".into(), opts.region.clone()),
    ];
    if let Some(prefix) = &opts.bucket_prefix {
        let names = BucketNames::with_prefix(prefix);
        for role in BucketRole::ALL {
            wanted.push((template::bucket_parameter(role).into(), names.get(role).to_string()));
        }
    }
    if let Some(email) = &opts.alarm_email {
        wanted.push(("AlarmEmail".into(), email.clone()));
    }
    wanted.extend(opts.parameters.iter().cloned());

    let cfn = Cfn::new(&sdk);
    let existing = match cfn.describe_stacks().stack_name(&opts.stack_name).send().await {
        Ok(out) => out.stacks().first().cloned(),
        Err(e) if format!("{}", DisplayErrorContext(&e)).contains("does not exist") => None,
        Err(e) => return Err(err("reading the stack", e)),
    };
    if let Some(s) = existing.as_ref().and_then(|s| s.stack_status()).filter(|s| **s == StackStatus::RollbackComplete) {
        bail!(
            "stack {} is in {} (its creation failed and was rolled back); CloudFormation cannot update it. \
             Delete the stack and deploy again; buckets it made are retained, so delete those too if they \
             are empty, or pass another --bucket-prefix.",
            opts.stack_name,
            s.as_str()
        );
    }
    // A stack whose first change set was never executed can still only be created.
    let update = existing.as_ref().is_some_and(|s| s.stack_status() != Some(&StackStatus::ReviewInProgress));
    let mut parameters: Vec<Parameter> =
        wanted.iter().map(|(k, v)| Parameter::builder().parameter_key(k).parameter_value(v).build()).collect();
    if update {
        // Whatever was set last time stays, rather than falling back to the defaults.
        for p in existing.as_ref().map(|s| s.parameters()).unwrap_or_default() {
            let key = p.parameter_key().unwrap_or_default();
            if !wanted.iter().any(|(k, _)| k == key) {
                parameters.push(Parameter::builder().parameter_key(key).use_previous_value(true).build());
            }
        }
    }

    let name = format!("easel-{}", time::OffsetDateTime::now_utc().unix_timestamp());
    let created = cfn
        .create_change_set()
        .stack_name(&opts.stack_name)
        .change_set_name(&name)
        .change_set_type(if update { ChangeSetType::Update } else { ChangeSetType::Create })
        .template_body(body)
        .set_parameters(Some(parameters))
        .capabilities(Capability::CapabilityNamedIam)
        .capabilities(Capability::CapabilityAutoExpand)
        .description("cargo ops deploy")
        .send()
        .await
        .map_err(|e| err("creating the change set", e))?;
    let id = created.id().context("CloudFormation returned no change set id")?.to_owned();

    let set = loop {
        let set = cfn
            .describe_change_set()
            .change_set_name(&id)
            .send()
            .await
            .map_err(|e| err("reading the change set", e))?;
        match set.status() {
            Some(ChangeSetStatus::CreateComplete) => break set,
            Some(ChangeSetStatus::Failed) => {
                let reason = set.status_reason().unwrap_or_default();
                if reason.contains("didn't contain changes") || reason.contains("No updates") {
                    let _ = cfn.delete_change_set().change_set_name(&id).send().await;
                    println!("Nothing to change: stack {} already matches.", opts.stack_name);
                    return print_outputs(&cfn, &opts.stack_name).await;
                }
                bail!("CloudFormation refused the change set: {reason}");
            }
            _ => tokio::time::sleep(Duration::from_secs(3)).await,
        }
    };
    println!("\nChanges to stack {} ({}):", opts.stack_name, if update { "update" } else { "create" });
    for change in set.changes() {
        if let Some(rc) = change.resource_change() {
            let replacement = match rc.replacement().map(|r| r.as_str()) {
                Some("True") => " — REPLACED",
                Some("Conditional") => " — may be replaced",
                _ => "",
            };
            println!(
                "  {:<7} {} ({}){replacement}",
                rc.action().map(|a| a.as_str()).unwrap_or("?"),
                rc.logical_resource_id().unwrap_or("?"),
                rc.resource_type().unwrap_or("?"),
            );
        }
    }
    if !opts.execute {
        println!("\nNot executed (--no-execute). Review it in the CloudFormation console: change set {name}.");
        return Ok(());
    }

    cfn.execute_change_set().change_set_name(&id).send().await.map_err(|e| err("executing the change set", e))?;
    println!("\n• Executing; this takes a few minutes…");
    let status = loop {
        tokio::time::sleep(Duration::from_secs(10)).await;
        let out =
            cfn.describe_stacks().stack_name(&opts.stack_name).send().await.map_err(|e| err("reading the stack", e))?;
        let status = out.stacks().first().and_then(|s| s.stack_status()).cloned();
        match status {
            Some(s) if s.as_str().ends_with("_IN_PROGRESS") => continue,
            Some(s) => break s,
            None => bail!("the stack disappeared while deploying"),
        }
    };
    if !matches!(status, StackStatus::CreateComplete | StackStatus::UpdateComplete) {
        let events = cfn.describe_stack_events().stack_name(&opts.stack_name).send().await.ok();
        for e in events.iter().flat_map(|o| o.stack_events()).take(20) {
            if let Some(reason) = e
                .resource_status_reason()
                .filter(|_| e.resource_status().is_some_and(|s| s.as_str().ends_with("_FAILED")))
            {
                eprintln!("  {}: {reason}", e.logical_resource_id().unwrap_or("?"));
            }
        }
        bail!("the deployment ended in {}", status.as_str());
    }
    println!("Stack {} is {}.", opts.stack_name, status.as_str());
    print_outputs(&cfn, &opts.stack_name).await
}

/// The stack's outputs, and the lines the console needs to use it.
async fn print_outputs(cfn: &Cfn, stack: &str) -> anyhow::Result<()> {
    let out = cfn.describe_stacks().stack_name(stack).send().await.map_err(|e| err("reading the stack", e))?;
    let Some(stack) = out.stacks().first() else { return Ok(()) };
    let get = |k: &str| stack.outputs().iter().find(|o| o.output_key() == Some(k)).and_then(|o| o.output_value());
    println!();
    for o in stack.outputs() {
        println!("  {} = {}", o.output_key().unwrap_or("?"), o.output_value().unwrap_or("?"));
    }
    println!("\nFor the console:");
    println!("  EASEL_AWS_REGION={}", get("Region").unwrap_or("?"));
    for role in BucketRole::ALL {
        println!(
            "  EASEL_{}_BUCKET={}",
            role.as_str().to_uppercase(),
            get(template::bucket_parameter(role)).unwrap_or("?")
        );
    }
    Ok(())
}

/// A private, encrypted, TLS-only bucket for the packages, one per account and region.
async fn artifact_bucket(s3: &aws_sdk_s3::Client, name: &str, region: &str) -> anyhow::Result<()> {
    use easel_app::storage::live;
    if s3.head_bucket().bucket(name).send().await.is_ok() {
        return Ok(());
    }
    live::create_bucket(s3, name, region).await.context("creating the package bucket")?;
    live::block_public_access(s3, name).await.context("blocking public access to the package bucket")?;
    live::put_encryption(s3, name, "AES256").await.context("encrypting the package bucket")?;
    let policy = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [format!("arn:aws:s3:::{name}"), format!("arn:aws:s3:::{name}/*")],
            "Condition": { "Bool": { "aws:SecureTransport": "false" } }
        }]
    });
    live::put_policy(s3, name, &policy).await.context("setting the package bucket's policy")?;
    println!("• Created the package bucket {name}");
    Ok(())
}
