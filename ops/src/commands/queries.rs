//! `cargo ops queries`: refreshes `.sqlx/`, the description of every SQL
//! query that `sqlx::query!` and friends check at compile time. With it
//! committed, a build needs no database (CI builds without one); the suite's
//! `queries_in_sqlx_match_the_schema` test fails when a migration changes
//! what a cached query would return, so the two cannot drift apart.
//!
//! While writing a new query, the build needs a database too (nothing is
//! cached for it yet): export `DATABASE_URL` as a running `cargo ops up`
//! prints it, then run this.

use std::path::Path;

use anyhow::Context;
use tokio::process::Command;

use crate::stack::{env_file, paths::workspace_root};

#[derive(Debug, clap::Args)]
pub struct Opts {}

/// The crates whose code holds query macros: each is rebuilt, so every
/// macro describes its query again.
const CRATES_WITH_QUERIES: [&str; 2] = ["app/src/lib.rs", "ops/src/lib.rs"];

pub async fn run(_opts: Opts) -> anyhow::Result<()> {
    let url = env_file::owner_database_url()
        .context("`cargo ops queries` describes each query against a migrated database")?;
    crate::stack::migrate(&url).await?;
    let root = workspace_root();
    let fresh = root.join(".sqlx.new");
    let _ = std::fs::remove_dir_all(&fresh);
    std::fs::create_dir_all(&fresh)?;
    for file in CRATES_WITH_QUERIES {
        touch(&root.join(file))?;
    }
    println!("Describing every query against the database (cargo check --workspace --all-targets)…");
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["check", "--workspace", "--all-targets", "--quiet"])
        .current_dir(&root)
        .env("DATABASE_URL", &url)
        .env("SQLX_OFFLINE", "false")
        .env("SQLX_OFFLINE_DIR", &fresh)
        .status()
        .await
        .context("running cargo check")?;
    if !status.success() {
        let _ = std::fs::remove_dir_all(&fresh);
        anyhow::bail!("cargo check failed ({status}); `.sqlx/` is unchanged");
    }
    let dir = root.join(".sqlx");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::rename(&fresh, &dir)?;
    let n = std::fs::read_dir(&dir)?.count();
    println!("{} now describes {n} queries; commit it with the change.", dir.display());
    Ok(())
}

/// Marks `file` changed, so cargo rebuilds its crate.
fn touch(file: &Path) -> anyhow::Result<()> {
    let f = std::fs::File::options().append(true).open(file).with_context(|| format!("opening {}", file.display()))?;
    f.set_modified(std::time::SystemTime::now())?;
    Ok(())
}
