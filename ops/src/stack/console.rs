//! The console and the resizer's local invoker, run inside `cargo ops`
//! against a local stack.

use std::{collections::HashMap, net::SocketAddr};

use anyhow::Context;
use easel_app::{
    settings::Settings,
    startup::Application,
    storage::{BucketNames, spec::StackSpec},
};
use easel_resizer::handler::Resizer;
use tokio::{sync::watch, task::JoinHandle};

use super::LocalStack;
use crate::{invoker::LocalInvoker, provision};

pub struct RunningConsole {
    pub addr: SocketAddr,
    pub provisioned: provision::Provisioned,
    stop: watch::Sender<bool>,
    server: JoinHandle<std::io::Result<()>>,
    invoker: JoinHandle<()>,
}

/// Settings for a console on this stack: `overrides` first, then the
/// environment, then the defaults.
pub fn settings(overrides: HashMap<&'static str, String>) -> anyhow::Result<Settings> {
    Settings::from_lookup(|k| overrides.get(k).cloned().or_else(|| std::env::var(k).ok()))
        .context("reading Easel's settings")
}

/// Settings for a second console on `stack` that must not touch the
/// default one's data: buckets of its own named from `prefix`, any free
/// port, and `extra` on top.
pub fn isolated_settings(
    stack: &LocalStack,
    prefix: &str,
    extra: &[(&'static str, String)],
) -> anyhow::Result<Settings> {
    let buckets = BucketNames::with_prefix(prefix);
    let mut overrides = HashMap::from([
        ("DATABASE_URL", stack.database_url.clone()),
        ("EASEL_AWS_ENDPOINT", stack.aws_endpoint.clone()),
        ("EASEL_HTTP_ADDR", "127.0.0.1:0".to_string()),
        ("EASEL_ORIGINALS_BUCKET", buckets.originals),
        ("EASEL_RESIZED_BUCKET", buckets.resized),
        ("EASEL_BACKUP_BUCKET", buckets.backup),
        ("EASEL_SMTP_URL", stack.smtp_url.clone()),
        ("EASEL_AUDIT_KEY_FILE", stack.audit_key_file.display().to_string()),
    ]);
    overrides.extend(extra.iter().cloned());
    settings(overrides)
}

/// Provisions the spec, then starts the console and the invoker.
pub async fn start(settings: &Settings) -> anyhow::Result<RunningConsole> {
    let endpoint = settings.aws.endpoint.as_deref().context("the local stack needs EASEL_AWS_ENDPOINT")?;
    let sdk = easel_resizer::aws::sdk_config(Some(endpoint), &settings.aws.region).await;
    let spec = StackSpec::local(&settings.aws.region, settings.buckets.clone());
    let provisioned = provision::apply_local(&sdk, &spec).await.context("provisioning the local AWS resources")?;

    let app = Application::build(settings).await?;
    let addr = app.local_addr();
    let resizer = Resizer::new(easel_resizer::aws::s3_client(&sdk, true), settings.resizer.clone());
    let invoker =
        LocalInvoker::new(&sdk, provisioned.event_queue_url.clone(), spec.log_group(), spec.resizer.memory_mb, resizer)
            .await?;

    let (stop, rx) = watch::channel(false);
    let mut server_rx = rx.clone();
    let server = tokio::spawn(app.run_until_stopped(async move {
        let _ = server_rx.wait_for(|s| *s).await;
    }));
    let invoker = tokio::spawn(invoker.run(rx));
    Ok(RunningConsole { addr, provisioned, stop, server, invoker })
}

impl RunningConsole {
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.server.await;
        let _ = self.invoker.await;
    }
}
