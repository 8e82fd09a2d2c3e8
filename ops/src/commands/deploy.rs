//! `cargo ops deploy`: the package and the template into your AWS account.

use anyhow::{Context, bail};

use crate::deploy::aws::{self, DeployOpts};

/// Which stack, and where: `deploy` and `remove-stack` alike.
#[derive(Debug, clap::Args)]
pub struct StackArgs {
    /// CloudFormation stack name.
    #[arg(long, default_value = "easel")]
    pub stack_name: String,
    /// The stack's region; the console must use the same one.
    #[arg(long, env = "EASEL_AWS_REGION", default_value = easel_app::settings::DEFAULT_REGION)]
    pub region: String,
}

#[derive(Debug, clap::Args)]
pub struct Opts {
    #[command(flatten)]
    stack: StackArgs,
    /// Bucket names `<prefix>-originals`, `-resized`, `-backup` (bucket names are global; `easel-*` is likely taken).
    #[arg(long)]
    bucket_prefix: Option<String>,
    /// Bucket for the Lambda package (default: easel-deploy-<account>-<region>, created if missing).
    #[arg(long)]
    code_bucket: Option<String>,
    /// Address that receives the error, throttle and failed-event alarms.
    #[arg(long)]
    alarm_email: Option<String>,
    /// Any template parameter, e.g. `--parameter ResizerMemory=2048` (repeatable).
    #[arg(long = "parameter", value_name = "KEY=VALUE")]
    parameters: Vec<String>,
    /// Create the change set and print it, but leave it for review instead of executing it.
    #[arg(long)]
    no_execute: bool,
}

pub async fn run(opts: Opts) -> anyhow::Result<()> {
    // Deploying configures Easel anew: the decommission gate decides, when
    // Easel's database is named (DATABASE_URL).
    if let Ok(url) = std::env::var("DATABASE_URL")
        && !url.is_empty()
    {
        let pool = sqlx::PgPool::connect(&url).await.context("connecting to Postgres (DATABASE_URL)")?;
        easel_app::gate::check(&pool, easel_app::gate::Change::Data).await?;
    }
    let mut parameters = Vec::new();
    for p in &opts.parameters {
        let Some((k, v)) = p.split_once('=') else { bail!("--parameter {p}: expected KEY=VALUE") };
        parameters.push((k.trim().to_owned(), v.trim().to_owned()));
    }
    aws::deploy(DeployOpts {
        stack_name: opts.stack.stack_name,
        region: opts.stack.region,
        bucket_prefix: opts.bucket_prefix,
        code_bucket: opts.code_bucket,
        alarm_email: opts.alarm_email,
        parameters,
        execute: !opts.no_execute,
    })
    .await
}
