use clap::{Parser, Subcommand};

use crate::commands;

/// The one CLI for people who run Easel.
#[derive(Debug, Parser)]
#[command(name = "cargo ops", bin_name = "cargo ops", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the whole system locally: Postgres, the AWS emulator, a mail sink, the resizer and the console on 127.0.0.1:3000.
    Up(commands::up::Opts),
    /// Run every test (Rust and browser) against a private stack of its own.
    Test(commands::test::Opts),
    /// Measure against other tools: `cargo ops bench resize` pits the resizer against libvips and Pillow.
    Bench(commands::bench::Opts),
    /// Fuzz the targets in fuzz/ (all, or one) with cargo-fuzz on nightly: `cargo ops fuzz [TARGET] --seconds N`.
    Fuzz(commands::fuzz::Opts),
    /// Apply the database migrations as the owner (EASEL_OWNER_DATABASE_URL); the console never migrates.
    Migrate(commands::migrate::Opts),
    /// Refresh `.sqlx/` (what the build checks each SQL query against) from a migrated database: a running `cargo ops up`'s, or DATABASE_URL.
    Queries(commands::queries::Opts),
    /// Create another admin account and print its one-time password.
    CreateAdmin(commands::create_admin::Opts),
    /// Check the buckets, policies and trigger against the spec; `--fix` applies the recommended fixes.
    Doctor(commands::doctor::Opts),
    /// Work with the audit trail (`cargo ops audit verify`).
    Audit(commands::audit::Opts),
    /// After a decommission: delete the AWS stack (function, queues, alarms, log group); the emptied buckets stay.
    RemoveStack(commands::remove_stack::Opts),
    /// Build the resizer Lambda for arm64 into the zip AWS expects (cargo-lambda).
    Package(commands::package::Opts),
    /// Write the AWS template (ops/aws/template.json) from the stack spec.
    Template(commands::template::Opts),
    /// Deploy the template and the package to AWS with your credentials, printing what changes.
    Deploy(commands::deploy::Opts),
}

impl Cli {
    pub async fn run(self) -> anyhow::Result<()> {
        match self.command {
            Command::Up(o) => commands::up::run(o).await,
            Command::Test(o) => commands::test::run(o).await,
            Command::Bench(o) => commands::bench::run(o).await,
            Command::Fuzz(o) => commands::fuzz::run(o).await,
            Command::Migrate(o) => commands::migrate::run(o).await,
            Command::Queries(o) => commands::queries::run(o).await,
            Command::CreateAdmin(o) => commands::create_admin::run(o).await,
            Command::Doctor(o) => commands::doctor::run(o).await,
            Command::Audit(o) => commands::audit::run(o).await,
            Command::RemoveStack(o) => commands::remove_stack::run(o).await,
            Command::Package(o) => commands::package::run(o).await,
            Command::Template(o) => commands::template::run(o).await,
            Command::Deploy(o) => commands::deploy::run(o).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_cli_is_well_formed() {
        super::Cli::command().debug_assert();
    }
}
