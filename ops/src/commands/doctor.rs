//! `cargo ops doctor [--fix]`: the bucket doctor's checks for scripts and
//! CI. Prints each check; exits non-zero when one fails. `--fix` applies
//! the recommended fixes first (each shown as a diff and recorded in the
//! audit trail under the operator's name), then checks again.

use anyhow::{Context, bail};
use easel_app::support::doctor::{self, Check, DiffLine, Status};

use crate::stack::env_file;

#[derive(Debug, clap::Args)]
pub struct Opts {
    /// Apply the recommended fix of every failing check, then check again.
    #[arg(long)]
    fix: bool,
}

fn print_checks(checks: &[Check]) {
    for c in checks {
        println!("{:<5} {:<28} {}", c.status.as_str().to_uppercase(), c.id, c.title);
        if c.status != Status::Pass {
            for e in &c.evidence {
                println!("      evidence: {e}");
            }
            if !c.remedy.is_empty() {
                println!("      remedy:   {}", c.remedy);
            }
            if let Some(f) = c.fix {
                println!("      fix:      {f} (`cargo ops doctor --fix`)");
            }
        }
    }
    let count = |s| checks.iter().filter(|c| c.status == s).count();
    println!("{} pass, {} warn, {} fail", count(Status::Pass), count(Status::Warn), count(Status::Fail));
}

pub async fn run(opts: Opts) -> anyhow::Result<()> {
    // The checks alone never touch Postgres.
    let settings = env_file::settings(opts.fix)?;
    let sdk = easel_resizer::aws::sdk_config(settings.aws.endpoint.as_deref(), &settings.aws.region).await;
    let support = settings.support_clients(&sdk);
    // With a database at hand (always for --fix), the decommission gate
    // decides what is expected, and whether anything may be repaired.
    let pool = match env_file::database_url() {
        Ok(url) => Some(sqlx::PgPool::connect(&url).await.context("connecting to Postgres")?),
        Err(_) => None,
    };
    let decommissioned = match &pool {
        Some(pool) => easel_app::gate::decommissioned(pool).await?,
        None => false,
    };
    if opts.fix
        && let Some(pool) = &pool
    {
        easel_app::gate::check(pool, easel_app::gate::Change::Data).await?;
    }
    let (_, _, mut checks) = doctor::run(&support, decommissioned).await?;
    if opts.fix {
        let fixes = doctor::fixes(&checks);
        if fixes.is_empty() {
            println!("Nothing to fix.");
        } else {
            let pool = sqlx::PgPool::connect(settings.database_url.expose()).await.context("connecting to Postgres")?;
            easel_app::db::check_migrated(&pool).await?;
            let operator = env_file::operator();
            for fix in fixes {
                match doctor::apply(&pool, &support, fix).await? {
                    None => println!("fix {fix}: already as the spec says"),
                    Some(p) => {
                        println!("fix {fix}: applied to {}", p.bucket);
                        for line in p.diff() {
                            match line {
                                DiffLine::Same(_) => {}
                                DiffLine::Removed(t) => println!("  - {t}"),
                                DiffLine::Added(t) => println!("  + {t}"),
                            }
                        }
                        p.record(&pool, &operator, easel_app::audit::Origin::Local, serde_json::Value::Null).await?;
                    }
                }
            }
            println!();
        }
        checks = doctor::run(&support, decommissioned).await?.2;
    }
    print_checks(&checks);
    let failing: Vec<&str> = checks.iter().filter(|c| c.status == Status::Fail).map(|c| c.id.as_str()).collect();
    if !failing.is_empty() {
        bail!(
            "{} check(s) fail: {}{}",
            failing.len(),
            failing.join(", "),
            if opts.fix { "" } else { ". `cargo ops doctor --fix` applies the recommended fixes." }
        );
    }
    Ok(())
}
