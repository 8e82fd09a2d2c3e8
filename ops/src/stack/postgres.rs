//! A private PostgreSQL cluster for the local stack, made with the
//! machine's own `initdb`/`pg_ctl`. Postgres refuses to run as root, so as
//! root it runs as the `postgres` user, in a directory that user can reach.

use std::{
    os::unix::fs::{PermissionsExt, chown},
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};

use anyhow::{Context, bail};
use nix::unistd::User;
use sqlx::{Connection, PgConnection};
use tokio::process::Command;

use super::{
    install,
    process::{self, is_root},
};

pub struct LocalPostgres {
    bindir: PathBuf,
    base: PathBuf,
    port: u16,
    password: String,
    run_as: Option<User>,
}

impl LocalPostgres {
    fn data(&self) -> PathBuf {
        self.base.join("data")
    }
    fn log(&self) -> PathBuf {
        self.base.join("postgres.log")
    }

    /// A URL for `database` on this cluster.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://easel:{}@127.0.0.1:{}/{database}", self.password, self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    fn command(&self, program: &str) -> Command {
        pg_command(&self.bindir, program, self.run_as.as_ref())
    }

    async fn run(&self, program: &str, args: &[&str], what: &str) -> anyhow::Result<()> {
        let out = self
            .command(program)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .await
            .with_context(|| format!("running {program}"))?;
        if !out.status.success() {
            bail!(
                "{what} failed: {}{}\nPostgres log ({}):\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr),
                self.log().display(),
                process::tail(&self.log(), 15)
            );
        }
        Ok(())
    }

    /// Makes (if needed) and starts the cluster kept under `state_dir`.
    /// `fresh` throws away any earlier data first.
    pub async fn start(state_dir: &Path, port: u16, fresh: bool) -> anyhow::Result<Self> {
        let bindir = install::postgres_bindir().await?;
        let run_as = if is_root() {
            Some(User::from_name("postgres")?.context("running as root, Postgres needs the `postgres` user, which does not exist (apt-get install postgresql makes it)")?)
        } else {
            None
        };
        let base = cluster_dir(state_dir, run_as.is_some());
        if fresh && base.exists() {
            stop_if_running(&bindir, &base.join("data"), run_as.as_ref()).await;
            std::fs::remove_dir_all(&base)
                .with_context(|| format!("removing the old test cluster {}", base.display()))?;
        }
        std::fs::create_dir_all(base.join("sock"))?;
        let password_file = base.join("password");
        let password = match std::fs::read_to_string(&password_file) {
            Ok(p) if base.join("data/PG_VERSION").exists() => p.trim().to_owned(),
            _ => uuid::Uuid::new_v4().simple().to_string(),
        };
        std::fs::write(&password_file, &password)?;
        std::fs::set_permissions(&password_file, std::fs::Permissions::from_mode(0o600))?;
        if let Some(user) = &run_as {
            for p in [base.as_path(), &base.join("sock"), &password_file] {
                chown(p, Some(user.uid.as_raw()), Some(user.gid.as_raw()))?;
            }
        }
        let pg = Self { bindir, base, port, password, run_as };
        if !pg.data().join("PG_VERSION").exists() {
            println!("• Creating a private Postgres cluster in {}…", pg.data().display());
            let data = pg.data();
            let pwfile = format!("--pwfile={}", password_file.display());
            pg.run(
                "initdb",
                &[
                    "-D",
                    data.to_str().unwrap(),
                    "-U",
                    "easel",
                    &pwfile,
                    "--auth=scram-sha-256",
                    "-E",
                    "UTF8",
                    "--no-locale",
                ],
                "initdb",
            )
            .await?;
        } else if stop_if_running(&pg.bindir, &pg.data(), pg.run_as.as_ref()).await {
            println!("• Stopped a Postgres left running by an earlier run.");
        }
        process::ensure_port_free(port, "Postgres", "EASEL_LOCAL_PG_PORT")?;
        let opts = format!("-p {port} -k {} -c listen_addresses=127.0.0.1", pg.base.join("sock").display());
        let (data, log) = (pg.data(), pg.log());
        pg.run(
            "pg_ctl",
            &["-D", data.to_str().unwrap(), "-l", log.to_str().unwrap(), "-w", "-t", "60", "-o", &opts, "start"],
            "starting Postgres",
        )
        .await?;
        pg.wait_ready().await?;
        Ok(pg)
    }

    async fn wait_ready(&self) -> anyhow::Result<()> {
        let url = self.url("postgres");
        for _ in 0..100 {
            if PgConnection::connect(&url).await.is_ok() {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("Postgres started but does not accept connections; see {}", self.log().display())
    }

    /// A URL for `database` as the console's role (see `ensure_console_role`).
    pub fn console_url(&self, database: &str) -> anyhow::Result<String> {
        let password = std::fs::read_to_string(self.base.join("console-password"))
            .context("the console role's password (ensure_console_role makes it)")?;
        Ok(format!("postgres://{CONSOLE_ROLE}:{}@127.0.0.1:{}/{database}", password.trim(), self.port))
    }

    /// Makes the console's login role unless it exists: not a superuser,
    /// no schema rights, a member of `easel_app` (whose rights the
    /// migrations grant). Its password is kept beside the cluster's.
    pub async fn ensure_console_role(&self) -> anyhow::Result<()> {
        let file = self.base.join("console-password");
        let password = match std::fs::read_to_string(&file) {
            Ok(p) => p.trim().to_owned(),
            Err(_) => uuid::Uuid::new_v4().simple().to_string(),
        };
        std::fs::write(&file, &password)?;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))?;
        let mut conn = PgConnection::connect(&self.url("postgres")).await.context("connecting to Postgres")?;
        ensure_console_role(&mut conn, &password).await
    }

    /// Creates `name` unless it exists. Returns its URL.
    pub async fn ensure_database(&self, name: &str) -> anyhow::Result<String> {
        create_database(&self.url("postgres"), name).await?;
        Ok(self.url(name))
    }

    /// Stops the cluster kept under `state_dir` if one is running there and
    /// deletes it: what a test stack leaves behind when its run died.
    pub async fn discard(state_dir: &Path) {
        let Ok(bindir) = install::postgres_bindir().await else { return };
        let run_as = if is_root() { User::from_name("postgres").ok().flatten() } else { None };
        let base = cluster_dir(state_dir, run_as.is_some());
        stop_if_running(&bindir, &base.join("data"), run_as.as_ref()).await;
        let _ = std::fs::remove_dir_all(&base);
    }

    pub async fn stop(&self) {
        let data = self.data();
        let _ =
            self.run("pg_ctl", &["-D", data.to_str().unwrap(), "-m", "fast", "-w", "stop"], "stopping Postgres").await;
    }
}

/// The console's login role on a local cluster.
pub const CONSOLE_ROLE: &str = "easel_console";

/// The console's login role with `password`, and the `easel_app` group it
/// belongs to, made unless they exist (the migrations make the group too,
/// and grant it its rights, whichever comes first).
async fn ensure_console_role(conn: &mut PgConnection, password: &str) -> anyhow::Result<()> {
    // The password is ours (hex), so quoting it inline is safe; roles cannot be bound.
    if !password.bytes().all(|b| b.is_ascii_alphanumeric()) {
        bail!("the console role's password must be letters and digits");
    }
    let sql = format!(
        "DO $$ BEGIN
            BEGIN CREATE ROLE easel_app NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END;
            BEGIN CREATE ROLE {CONSOLE_ROLE} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '{password}';
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                ALTER ROLE {CONSOLE_ROLE} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '{password}';
            END;
            GRANT easel_app TO {CONSOLE_ROLE};
        END $$"
    );
    // Unchecked: the role's name and password are spliced into the SQL text, which the macros cannot take.
    sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut *conn).await.context("making the console's role")?;
    Ok(())
}

/// Creates database `name` through the maintenance URL unless it exists.
pub async fn create_database(maintenance_url: &str, name: &str) -> anyhow::Result<()> {
    // Identifiers cannot be bound as parameters, so only plain names pass.
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
        bail!("database name {name:?} must be lowercase letters, digits and underscores");
    }
    let mut conn = PgConnection::connect(maintenance_url).await.context("connecting to Postgres")?;
    let exists: bool =
        sqlx::query_scalar!(r#"SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS "exists!""#, name)
            .fetch_one(&mut conn)
            .await?;
    if !exists {
        // Unchecked: the database's name is an identifier spliced into the SQL text, which the macros cannot take.
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\""))).execute(&mut conn).await?;
    }
    Ok(())
}

async fn stop_if_running(bindir: &Path, data: &Path, run_as: Option<&User>) -> bool {
    if !data.join("postmaster.pid").exists() {
        return false;
    }
    let mut cmd = pg_command(bindir, "pg_ctl", run_as);
    cmd.arg("-D")
        .arg(data)
        .args(["-m", "fast", "-w", "stop"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    cmd.status().await.is_ok_and(|s| s.success())
}

/// A Postgres program, as the `postgres` user when we are root. Its own
/// process group keeps a Ctrl-C in the terminal from reaching the server
/// before the console has stopped using it.
fn pg_command(bindir: &Path, program: &str, run_as: Option<&User>) -> Command {
    let bin = bindir.join(program);
    let mut c = match run_as {
        Some(user) => {
            let mut c = Command::new("runuser");
            c.args(["-u", &user.name, "--"]).arg(bin);
            c
        }
        None => Command::new(bin),
    };
    c.process_group(0);
    c
}

/// `<state>/pg`, unless we run as root and the `postgres` user cannot walk
/// into the checkout (a home directory, say): then a directory under
/// /var/tmp named after the checkout.
fn cluster_dir(state_dir: &Path, as_postgres: bool) -> PathBuf {
    let inside = state_dir.join("pg");
    if !as_postgres || others_can_traverse(state_dir) {
        return inside;
    }
    let tag: String =
        state_dir.to_string_lossy().chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    PathBuf::from("/var/tmp").join(format!("easel-pg{tag}"))
}

fn others_can_traverse(dir: &Path) -> bool {
    let _ = std::fs::create_dir_all(dir);
    dir.ancestors().all(|p| std::fs::metadata(p).is_ok_and(|m| m.permissions().mode() & 0o001 != 0))
}
