//! The support console's machinery: the bucket doctor, backup verification
//! and restore, stuck uploads and "resize again", the resizer's logs and the
//! dashboard's figures. Pages and `cargo ops doctor` both call into here.

pub mod backups;
pub mod dashboard;
pub mod doctor;
pub mod logs;
pub mod stuck;
pub mod trigger;

use std::time::Duration;

use anyhow::Context;
use aws_config::SdkConfig;

use crate::audit::Origin;
use crate::{
    audit::{self, Actor, AuditAction, NewEvent},
    storage::{BucketNames, spec::StackSpec},
};
use trigger::ResizerTrigger;

/// The AWS clients and settings the support pages need.
pub struct Support {
    pub s3: aws_sdk_s3::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub lambda: aws_sdk_lambda::Client,
    pub sqs: aws_sdk_sqs::Client,
    sts: aws_sdk_sts::Client,
    /// A local emulator (moto) rather than AWS.
    pub local: bool,
    pub region: String,
    pub buckets: BucketNames,
    pub stuck_after: Duration,
    pub smtp_probe: Option<String>,
    account_id: tokio::sync::OnceCell<String>,
}

impl Support {
    /// `local`: the endpoint is an emulator (moto), not AWS. The console
    /// builds one from its settings (`Settings::support_clients`).
    pub fn new(
        sdk: &SdkConfig,
        local: bool,
        region: String,
        buckets: BucketNames,
        stuck_after: Duration,
        smtp_probe: Option<String>,
    ) -> Self {
        Support {
            s3: easel_resizer::aws::s3_client(sdk, local),
            logs: aws_sdk_cloudwatchlogs::Client::new(sdk),
            lambda: aws_sdk_lambda::Client::new(sdk),
            sqs: aws_sdk_sqs::Client::new(sdk),
            sts: aws_sdk_sts::Client::new(sdk),
            local,
            region,
            buckets,
            stuck_after,
            smtp_probe,
            account_id: tokio::sync::OnceCell::new(),
        }
    }

    /// The spec this console's stack was provisioned from: the local one on
    /// the emulator, else the production one in the caller's account.
    pub async fn spec(&self) -> anyhow::Result<StackSpec> {
        if self.local {
            return Ok(StackSpec::local(&self.region, self.buckets.clone()));
        }
        let account = self
            .account_id
            .get_or_try_init(|| async {
                let me = self
                    .sts
                    .get_caller_identity()
                    .send()
                    .await
                    .map_err(|e| crate::aws::AwsError::new(crate::aws::Service::Sts, "GetCallerIdentity", e))
                    .context("asking STS for the account id")?;
                me.account().map(str::to_owned).context("STS returned no account id")
            })
            .await?;
        Ok(StackSpec::new(&self.region, account, self.buckets.clone()))
    }

    pub fn trigger(&self, spec: &StackSpec) -> ResizerTrigger {
        ResizerTrigger::for_spec(spec, self.local)
    }

    pub fn log_group(&self) -> String {
        // The log group is named after the function, which the spec fixes.
        StackSpec::local(&self.region, self.buckets.clone()).log_group()
    }
}

/// Appends one audit row on its own (for changes outside Postgres: S3, the
/// resizer), after the change succeeded.
pub async fn record(
    pool: &sqlx::PgPool,
    actor: &Actor,
    action: AuditAction,
    subject: String,
    details: serde_json::Value,
    client_addr: Origin,
) -> Result<(), sqlx::Error> {
    let event = NewEvent { actor: actor.clone(), action, subject, details, client_addr };
    audit::record(pool, event).await.map(drop)
}
