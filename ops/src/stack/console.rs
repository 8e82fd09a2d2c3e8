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
use easel_app::gate::{self, Change, GateError, Refused};

pub struct RunningConsole {
    pub addr: SocketAddr,
    /// What provisioning changed; `Err` with why nothing was provisioned
    /// (the decommission gate: Easel's data is frozen or destroyed).
    pub provisioned: Result<provision::Provisioned, Refused>,
    stop: watch::Sender<bool>,
    server: JoinHandle<std::io::Result<()>>,
    invoker: Option<JoinHandle<()>>,
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
        ("EASEL_ORIGINALS_BUCKET", buckets.originals.to_string()),
        ("EASEL_RESIZED_BUCKET", buckets.resized.to_string()),
        ("EASEL_BACKUP_BUCKET", buckets.backup.to_string()),
        ("EASEL_SMTP_URL", stack.smtp_url.clone()),
        ("EASEL_AUDIT_KEY_FILE", stack.audit_key_file.display().to_string()),
    ]);
    overrides.extend(extra.iter().cloned());
    settings(overrides)
}

/// Provisions the spec, then starts the console and the invoker; on a
/// decommissioned (or frozen) database, the console alone, provisioning
/// nothing: the decommission gate decides, as for every change.
pub async fn start(settings: &Settings) -> anyhow::Result<RunningConsole> {
    let endpoint = settings.aws.endpoint.as_deref().context("the local stack needs EASEL_AWS_ENDPOINT")?;
    let sdk = easel_resizer::aws::sdk_config(Some(endpoint), &settings.aws.region).await;
    let spec = StackSpec::local(&settings.aws.region, settings.buckets.clone());
    // One connection: the gate is all it reads (here, and for the invoker).
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(settings.database_url.expose())
        .await
        .context("connecting to Postgres")?;
    let allowed = gate::check(&pool, Change::Data).await;
    let provisioned = match allowed {
        Ok(()) => Ok(provision::apply_local(&sdk, &spec).await.context("provisioning the local AWS resources")?),
        Err(GateError::Refused(why)) => Err(why),
        Err(GateError::Db(e)) => return Err(e).context("asking the decommission gate"),
    };

    let app = Application::build(settings).await?;
    let addr = app.local_addr();
    let (stop, rx) = watch::channel(false);
    let invoker = match &provisioned {
        Ok(p) => {
            let resizer = Resizer::new(easel_resizer::aws::s3_client(&sdk, true), settings.resizer.clone());
            let invoker =
                LocalInvoker::new(&sdk, p.event_queue_url.clone(), spec.log_group(), spec.resizer.memory_mb, resizer)
                    .await?
                    .asking_the_gate(pool);
            Some(tokio::spawn(invoker.run(rx.clone())))
        }
        Err(_) => None,
    };
    let mut server_rx = rx;
    let server = tokio::spawn(app.run_until_stopped(async move {
        let _ = server_rx.wait_for(|s| *s).await;
    }));
    Ok(RunningConsole { addr, provisioned, stop, server, invoker })
}

impl RunningConsole {
    /// Whether the local invoker has stopped, or never ran: it stops for
    /// good once Easel is decommissioned (for the tests, which wait for it).
    pub fn invoker_stopped(&self) -> bool {
        self.invoker.as_ref().is_none_or(JoinHandle::is_finished)
    }

    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.server.await;
        if let Some(invoker) = self.invoker {
            let _ = invoker.await;
        }
    }
}
