//! `cargo ops migrate`: the schema migrations, as the database's owner.
//! The console only checks that they ran: its own role may not change the
//! schema (see `migrations/20261204000006_console_role.sql`).

use crate::stack::env_file;

#[derive(Debug, clap::Args)]
pub struct Opts {}

pub async fn run(_opts: Opts) -> anyhow::Result<()> {
    let url = env_file::owner_database_url()?;
    crate::stack::migrate(&url).await?;
    println!("Migrations applied: {} in all.", easel_app::db::MIGRATOR.iter().count());
    Ok(())
}
