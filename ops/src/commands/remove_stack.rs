//! `cargo ops remove-stack`: after a decommission's destruction, deletes the
//! AWS CloudFormation stack, and with it everything Easel configured there
//! (the resizer function and its invoke permission, the queues, the alarms,
//! the log group); the emptied buckets stay, as the template retains them.
//! The console cannot do this (its role may not change the stack), so the
//! operator does, and it is recorded in the audit trail. Refused unless the
//! database says Easel is decommissioned: on a working Easel it would break
//! everything.

use std::time::Duration;

use anyhow::{Context, bail};
use aws_sdk_cloudformation::{Client as Cfn, error::DisplayErrorContext};
use easel_app::{
    audit::{self, AuditAction, NewEvent},
    gate,
};

use crate::{deploy::aws, stack::env_file};

#[derive(Debug, clap::Args)]
pub struct Opts {
    #[command(flatten)]
    stack: super::deploy::StackArgs,
}

pub async fn run(opts: Opts) -> anyhow::Result<()> {
    let opts = opts.stack;
    let pool = sqlx::PgPool::connect(&env_file::database_url()?).await.context("connecting to Postgres")?;
    if !gate::decommissioned(&pool).await? {
        bail!(
            "Easel is not decommissioned: removing its AWS stack would break a working Easel. \
             Run the decommissioning procedure to its destruction step first (/admin/decommission)."
        );
    }
    let (sdk, _) = aws::connect(&opts.region).await?;
    let cfn = Cfn::new(&sdk);
    // CloudFormation says a stack is gone only in its message (a ValidationError).
    let gone = |e: &aws_sdk_cloudformation::error::SdkError<_, _>| {
        format!("{}", DisplayErrorContext(e)).contains("does not exist")
    };
    match cfn.describe_stacks().stack_name(&opts.stack_name).send().await {
        Ok(_) => {}
        Err(e) if gone(&e) => {
            println!("Stack {} does not exist in {}: nothing to remove.", opts.stack_name, opts.region);
            return Ok(());
        }
        Err(e) => bail!("reading the stack {}: {}", opts.stack_name, DisplayErrorContext(e)),
    }
    cfn.delete_stack()
        .stack_name(&opts.stack_name)
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("deleting the stack: {}", DisplayErrorContext(e)))?;
    println!("• Deleting stack {} in {} (the buckets are retained)…", opts.stack_name, opts.region);
    loop {
        tokio::time::sleep(Duration::from_secs(5)).await;
        match cfn.describe_stacks().stack_name(&opts.stack_name).send().await {
            Err(e) if gone(&e) => break,
            Err(e) => bail!("reading the stack {}: {}", opts.stack_name, DisplayErrorContext(e)),
            Ok(out) => {
                let status = out.stacks().first().and_then(|s| s.stack_status()).map(|s| s.as_str().to_owned());
                match status.as_deref() {
                    Some("DELETE_COMPLETE") | None => break,
                    Some("DELETE_FAILED") => bail!(
                        "CloudFormation could not delete every resource of {}; see its events in the console",
                        opts.stack_name
                    ),
                    Some(s) => println!("  {s}"),
                }
            }
        }
    }
    let event = NewEvent {
        actor: env_file::operator(),
        action: AuditAction::DecommissionStackRemoved,
        subject: format!("stack:{}", opts.stack_name),
        details: serde_json::json!({ "stack": opts.stack_name, "region": opts.region }),
        client_addr: easel_app::audit::Origin::Local,
    };
    audit::record(&pool, event).await?;
    println!("Stack {} removed; recorded in the audit trail.", opts.stack_name);
    Ok(())
}
