//! The local stack: Postgres, the AWS emulator and the mail sink, started
//! as child processes (or taken from the environment when given), plus the
//! console and the resizer's local invoker running in this process.

pub mod console;
pub mod env_file;
pub mod fault_proxy;
pub mod install;
pub mod mail;
pub mod moto;
pub mod paths;
pub mod postgres;
pub mod process;

use paths::StackDir;
use postgres::LocalPostgres;
use process::Service;

/// Ports of the services a stack starts itself.
#[derive(Debug, Clone, Copy)]
pub struct Ports {
    pub postgres: u16,
    pub aws: u16,
    pub smtp: u16,
    pub mail_web: u16,
}

impl Ports {
    /// Fixed, documented ports for `cargo ops up`, each overridable.
    pub fn for_up() -> anyhow::Result<Self> {
        let port = |var: &str, default: u16| -> anyhow::Result<u16> {
            match std::env::var(var) {
                Ok(v) if !v.is_empty() => {
                    v.parse().map_err(|_| anyhow::anyhow!("{var} must be a port number, got {v:?}"))
                }
                _ => Ok(default),
            }
        };
        Ok(Self {
            postgres: port("EASEL_LOCAL_PG_PORT", 54320)?,
            aws: port("EASEL_LOCAL_AWS_PORT", 54321)?,
            smtp: port("EASEL_LOCAL_SMTP_PORT", 54325)?,
            mail_web: port("EASEL_LOCAL_MAIL_PORT", 54380)?,
        })
    }

    /// Whatever is free now, so a test stack can run beside `up`.
    pub fn free() -> anyhow::Result<Self> {
        Ok(Self {
            postgres: process::free_port()?,
            aws: process::free_port()?,
            smtp: process::free_port()?,
            mail_web: process::free_port()?,
        })
    }
}

/// Services the user already runs, named by the environment.
#[derive(Debug, Default, Clone)]
pub struct External {
    pub database_url: Option<String>,
    pub aws_endpoint: Option<String>,
    pub smtp_url: Option<String>,
}

impl External {
    pub fn from_env() -> Self {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        Self {
            database_url: var("DATABASE_URL"),
            aws_endpoint: var("EASEL_AWS_ENDPOINT"),
            smtp_url: var("EASEL_SMTP_URL"),
        }
    }
}

pub struct LocalStack {
    pub dir: StackDir,
    postgres: Option<LocalPostgres>,
    moto: Option<Service>,
    mail: Option<Service>,
    /// The database the console uses, as the console's role (no schema
    /// rights, the audit trail append-only).
    pub database_url: String,
    /// The same database as its owner: for migrations and operators, never
    /// for the console.
    pub owner_url: String,
    /// A URL on the same server for creating more databases (tests); only
    /// when we run the server ourselves.
    pub maintenance_url: Option<String>,
    /// The server's maintenance database as the console's role: tests put
    /// their own database's name in it.
    pub console_maintenance_url: Option<String>,
    pub aws_endpoint: String,
    /// True when the emulator was started by this run, so it is empty.
    pub aws_started_empty: bool,
    pub smtp_url: String,
    pub inbox_url: Option<String>,
    /// The audit checkpoints' signing key (`EASEL_AUDIT_KEY_FILE`), made at
    /// the first start and kept with the stack's state, never in Postgres.
    pub audit_key_file: std::path::PathBuf,
}

impl LocalStack {
    /// Starts what `external` does not provide. `fresh` wipes earlier local
    /// data first (the test stack).
    pub async fn start(
        dir: StackDir,
        ports: Ports,
        external: External,
        database: &str,
        fresh: bool,
    ) -> anyhow::Result<Self> {
        dir.create()?;
        let mut stack = LocalStack {
            dir: dir.clone(),
            postgres: None,
            moto: None,
            mail: None,
            database_url: String::new(),
            owner_url: String::new(),
            maintenance_url: None,
            console_maintenance_url: None,
            aws_endpoint: String::new(),
            aws_started_empty: false,
            smtp_url: String::new(),
            inbox_url: None,
            audit_key_file: dir.root.join("audit-signing.key"),
        };
        // On any failure below, stop what already started.
        match stack.start_services(ports, external, database, fresh).await {
            Ok(()) => Ok(stack),
            Err(e) => {
                stack.stop().await;
                Err(e)
            }
        }
    }

    async fn start_services(
        &mut self,
        ports: Ports,
        external: External,
        database: &str,
        fresh: bool,
    ) -> anyhow::Result<()> {
        ensure_audit_key(&self.audit_key_file)?;
        match external.database_url {
            Some(url) => {
                self.owner_url = std::env::var("EASEL_OWNER_DATABASE_URL")
                    .ok()
                    .filter(|v| !v.is_empty())
                    .unwrap_or_else(|| url.clone());
                migrate(&self.owner_url).await?;
                self.database_url = url;
            }
            None => {
                let pg = LocalPostgres::start(&self.dir.root, ports.postgres, fresh).await?;
                self.owner_url = pg.ensure_database(database).await?;
                migrate(&self.owner_url).await?;
                pg.ensure_console_role().await?;
                self.database_url = pg.console_url(database)?;
                self.maintenance_url = Some(pg.url("postgres"));
                self.console_maintenance_url = Some(pg.console_url("postgres")?);
                self.postgres = Some(pg);
            }
        }
        match external.aws_endpoint {
            Some(url) => self.aws_endpoint = url,
            None => {
                let (svc, url) = moto::start(&self.dir, ports.aws).await?;
                self.moto = Some(svc);
                self.aws_endpoint = url;
                self.aws_started_empty = true;
            }
        }
        match external.smtp_url {
            Some(url) => self.smtp_url = url,
            None => {
                let sink = mail::start(&self.dir, ports.smtp, ports.mail_web).await?;
                self.smtp_url = sink.smtp_url;
                self.inbox_url = Some(sink.inbox_url);
                self.mail = Some(sink.service);
            }
        }
        Ok(())
    }
}

/// Applies the migrations as the database's owner.
pub async fn migrate(owner_url: &str) -> anyhow::Result<()> {
    let pool = sqlx::PgPool::connect(owner_url).await.map_err(|e| anyhow::anyhow!("connecting to Postgres: {e}"))?;
    easel_app::db::migrate(&pool).await?;
    pool.close().await;
    Ok(())
}

/// Makes the audit signing key at `path` unless one is there, readable by
/// its owner alone.
pub fn ensure_audit_key(path: &std::path::Path) -> anyhow::Result<()> {
    use std::{io::Write, os::unix::fs::OpenOptionsExt};
    if path.exists() {
        return Ok(());
    }
    let key = easel_app::audit::checkpoint::AuditKey::generate();
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| anyhow::anyhow!("creating the audit signing key {}: {e}", path.display()))?;
    f.write_all(key.to_file_contents().as_bytes())?;
    println!("• Made an audit signing key in {} (back it up: checkpoints are verified against it).", path.display());
    Ok(())
}

impl LocalStack {
    /// Stops whatever still runs from the stack kept in `dir` (after `stop`,
    /// or when its `cargo ops` died) and deletes its state.
    pub async fn discard_state(dir: &StackDir) {
        let _ = process::stop_stale(&dir.pid_file("maildev"), "maildev");
        let _ = process::stop_stale(&dir.pid_file("moto"), "moto_server");
        postgres::LocalPostgres::discard(&dir.root).await;
        let _ = std::fs::remove_dir_all(&dir.root);
    }

    /// Stops everything this stack started, newest first.
    pub async fn stop(&mut self) {
        if let Some(m) = self.mail.take() {
            m.stop().await;
        }
        if let Some(m) = self.moto.take() {
            m.stop().await;
        }
        if let Some(pg) = self.postgres.take() {
            pg.stop().await;
        }
    }
}
