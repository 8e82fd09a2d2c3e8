//! `cargo ops package`: the resizer's Lambda zip, built for arm64.

use crate::{deploy::package, stack::paths::workspace_root};

#[derive(Debug, clap::Args)]
pub struct Opts {}

pub async fn run(_opts: Opts) -> anyhow::Result<()> {
    let pkg = package::build().await?;
    println!("Package: {}", package::describe(&pkg, &workspace_root()));
    println!("`bootstrap` is an aarch64 Linux executable, ready for provided.al2023 on arm64.");
    Ok(())
}
