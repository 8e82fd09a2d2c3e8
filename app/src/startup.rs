//! Building and running the console: `Application::build` binds the
//! listener (port 0 works, for tests) and `run_until_stopped` serves.

use std::{net::SocketAddr, time::Duration};

use tokio::net::TcpListener;

use crate::{
    artworks::{orphans, reconcile},
    audit::checkpoint::AuditKey,
    db,
    decommission::DecommissionConfig,
    mail::{MailError, Mailer},
    settings::Settings,
    state::AppState,
};

/// How often the console looks for artworks the resizer has finished.
pub const RECONCILE_EVERY: Duration = Duration::from_secs(2);

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Db(#[from] db::DbError),
    #[error("cannot listen on {addr}: {source}. Is another program using it? Set EASEL_HTTP_ADDR to another address.")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("EASEL_SMTP_URL or EASEL_MAIL_FROM is not usable: {0}")]
    Mail(#[from] MailError),
    #[error("the deadlines do not fit together: {0}")]
    Deadlines(String),
    #[error("EASEL_AUDIT_KEY_FILE: {0}")]
    AuditKey(#[from] crate::audit::checkpoint::KeyError),
}

pub struct Application {
    listener: TcpListener,
    state: AppState,
    /// The background tasks' settings (orphan sweep, mail outbox).
    background: crate::settings::SupportSettings,
    /// The checkpoint writer's key and settings, when a key is set.
    checkpoints: Option<(AuditKey, crate::settings::AuditSettings)>,
}

impl Application {
    pub async fn build(settings: &Settings) -> Result<Self, StartupError> {
        // Leptos spawns its rendering tasks through a global executor; this
        // points it at tokio (a second call, e.g. in tests, is a no-op).
        let _ = any_spawner::Executor::init_tokio();
        settings.deadlines.check().map_err(|e| StartupError::Deadlines(e.0))?;
        let pool = db::connect(&settings.database_url, &settings.deadlines).await?;
        db::check_migrated(&pool).await?;
        let sdk = easel_resizer::aws::sdk_config(settings.aws.endpoint.as_deref(), &settings.aws.region)
            .await
            .into_builder()
            .timeout_config(settings.deadlines.aws_timeouts())
            .retry_config(settings.deadlines.aws_retries())
            .build();
        let support = std::sync::Arc::new(settings.support_clients(&sdk));
        let audit_key = settings.audit.key_file.as_deref().map(AuditKey::from_file).transpose()?;
        let listener = TcpListener::bind(settings.http_addr)
            .await
            .map_err(|source| StartupError::Bind { addr: settings.http_addr, source })?;
        let d = &settings.decommission;
        let decommission = DecommissionConfig {
            mailer: Mailer::new(&d.smtp_url, &d.mail_from, settings.deadlines.smtp)?,
            // Links must reach this console; unset, that is where it listens.
            public_url: d.public_url.clone().unwrap_or_else(|| {
                format!("http://{}", listener.local_addr().map(|a| a.to_string()).unwrap_or_default())
            }),
            link_days: d.link_days,
            archive_dir: d.archive_dir.clone(),
            resizer_wait: d.resizer_wait,
        };
        let state = AppState {
            pool,
            limits: settings.resizer.limits.clone(),
            uploads: settings.uploads.clone(),
            auth: settings.auth.clone(),
            decommission,
            support,
            refusals: std::sync::Arc::default(),
            cpu: crate::cpu::CpuBound::per_core(),
            deadlines: settings.deadlines.clone(),
            mail_wake: std::sync::Arc::default(),
            audit_key: audit_key.as_ref().map(AuditKey::public),
        };
        let checkpoints = audit_key.map(|k| (k, settings.audit.clone()));
        Ok(Self { listener, state, background: settings.support.clone(), checkpoints })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` resolves, with the reconciler alongside.
    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let s = &self.state;
        let sweeper =
            reconcile::spawn(s.pool.clone(), s.s3().clone(), s.buckets().resized.to_string(), RECONCILE_EVERY);
        let mail = crate::outbox::spawn(
            s.pool.clone(),
            s.decommission.mailer.clone(),
            self.background.mail_retry.clone(),
            s.mail_wake.clone(),
        );
        let orphans = orphans::spawn(
            s.pool.clone(),
            s.s3().clone(),
            s.buckets().clone(),
            self.background.orphan_grace,
            self.background.orphan_every,
        );
        let checkpoints = self.checkpoints.map(|(key, audit)| {
            let vault = crate::audit::anchor::Vault {
                s3: s.s3().clone(),
                bucket: s.buckets().backup.to_string(),
                lock_days: audit.lock_days,
            };
            crate::audit::anchor::spawn(s.pool.clone(), vault, key, audit.every, audit.rows)
        });
        let failures =
            crate::auth::throttle::spawn_flusher(s.pool.clone(), s.auth.throttle.clone(), s.refusals.clone());
        let (refusals, pool) = (s.refusals.clone(), s.pool.clone());
        let app = crate::router::router(self.state);
        // Client addresses go into the audit trail.
        let app = app.into_make_service_with_connect_info::<SocketAddr>();
        let result = axum::serve(self.listener, app).with_graceful_shutdown(shutdown).await;
        sweeper.abort();
        orphans.abort();
        mail.abort();
        failures.abort();
        if let Some(task) = checkpoints {
            task.abort();
        }
        // The refusals of the last seconds, so a restart loses none; the
        // database may be what is going away, so not for long.
        match tokio::time::timeout(std::time::Duration::from_secs(5), refusals.drain(&pool)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "refused sign-ins of the last seconds were not written"),
            Err(_) => tracing::warn!("refused sign-ins of the last seconds were not written: the database is slow"),
        }
        result
    }
}
