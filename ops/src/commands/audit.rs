//! `cargo ops audit verify`: re-walk the audit chain; exit non-zero naming
//! the first broken row.

use anyhow::{Context, bail};
use easel_app::audit::{self, ChainVerdict};

use crate::stack::env_file;

#[derive(Debug, clap::Args)]
pub struct Opts {
    #[command(subcommand)]
    command: AuditCommand,
}

#[derive(Debug, clap::Subcommand)]
enum AuditCommand {
    /// Check every row's hash and link; fails at the first broken row.
    Verify,
}

pub async fn run(opts: Opts) -> anyhow::Result<()> {
    match opts.command {
        AuditCommand::Verify => {
            let pool = sqlx::PgPool::connect(&env_file::database_url()?).await.context("connecting to Postgres")?;
            match audit::verify(&pool).await? {
                ChainVerdict::Intact { rows, head } => {
                    let events = if rows == 1 { "event" } else { "events" };
                    println!("Audit chain intact: {rows} {events}; head {}", head.as_deref().unwrap_or("(empty)"));
                    Ok(())
                }
                ChainVerdict::Broken { id, reason, rows_checked } => {
                    bail!("audit chain broken at event {id}: {reason} ({rows_checked} events before it check out)")
                }
            }
        }
    }
}
