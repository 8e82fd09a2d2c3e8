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
    /// Create another admin account and print its one-time password.
    CreateAdmin(commands::create_admin::Opts),
    /// Work with the audit trail (`cargo ops audit verify`).
    Audit(commands::audit::Opts),
}

impl Cli {
    pub async fn run(self) -> anyhow::Result<()> {
        match self.command {
            Command::Up(o) => commands::up::run(o).await,
            Command::Test(o) => commands::test::run(o).await,
            Command::CreateAdmin(o) => commands::create_admin::run(o).await,
            Command::Audit(o) => commands::audit::run(o).await,
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
