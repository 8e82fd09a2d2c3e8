//! `cargo ops template`: writes `ops/aws/template.json` from the stack spec.

use anyhow::Context;

use crate::{deploy::template, stack::paths::workspace_root};

#[derive(Debug, clap::Args)]
pub struct Opts {
    /// Print the template instead of writing the file.
    #[arg(long)]
    stdout: bool,
}

pub async fn run(opts: Opts) -> anyhow::Result<()> {
    let body = template::render();
    if opts.stdout {
        print!("{body}");
        return Ok(());
    }
    let path = workspace_root().join(template::TEMPLATE_PATH);
    let unchanged = std::fs::read_to_string(&path).is_ok_and(|have| have == body);
    if unchanged {
        println!("{} is up to date.", template::TEMPLATE_PATH);
    } else {
        std::fs::write(&path, &body).with_context(|| format!("writing {}", path.display()))?;
        println!("Wrote {} from app/src/storage/spec.rs.", template::TEMPLATE_PATH);
    }
    Ok(())
}
