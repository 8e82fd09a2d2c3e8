//! `cargo ops up`: the whole system on this machine, nothing to configure.

use std::{collections::HashMap, fs::File, io::Write};

use anyhow::{Context, bail};
use sqlx::PgPool;

use crate::stack::{External, LocalStack, Ports, console, paths::StackDir};

#[derive(Debug, clap::Args)]
pub struct Opts {}

/// The account the first `cargo ops up` makes.
pub const FIRST_ADMIN: &str = "admin@easel.local";

pub async fn run(_opts: Opts) -> anyhow::Result<()> {
    let dir = StackDir::up();
    dir.create()?;
    let lock = File::create(dir.run().join("up.lock"))?;
    if lock.try_lock().is_err() {
        bail!(
            "`cargo ops up` is already running from this checkout (its addresses are in {}). \
             Stop it with Ctrl-C in its terminal, or use that one.",
            dir.stack_env().display()
        );
    }
    let external = External::from_env();
    println!("Starting Easel's local stack…");
    let mut stack = LocalStack::start(dir, Ports::for_up()?, external, "easel", false).await?;
    let result = serve(&stack).await;
    println!("Stopping…");
    stack.stop().await;
    let _ = std::fs::remove_file(stack.dir.stack_env());
    result?;
    println!("Stopped. `cargo ops up` starts it again.");
    Ok(())
}

async fn serve(stack: &LocalStack) -> anyhow::Result<()> {
    let settings = console::settings(HashMap::from([
        ("DATABASE_URL", stack.database_url.clone()),
        ("EASEL_AWS_ENDPOINT", stack.aws_endpoint.clone()),
        ("EASEL_SMTP_URL", stack.smtp_url.clone()),
        ("EASEL_AUDIT_KEY_FILE", stack.audit_key_file.display().to_string()),
    ]))?;
    let console = console::start(&settings).await?;
    match &console.provisioned {
        Ok(p) => {
            for change in &p.changes {
                println!("  provisioned: {change}");
            }
        }
        Err(why) => println!("• Provisioned nothing, and the resizer does not run: {why}"),
    }
    let pool = PgPool::connect(settings.database_url.expose()).await?;
    let s3 = easel_resizer::aws::s3_client(
        &easel_resizer::aws::sdk_config(Some(&stack.aws_endpoint), &settings.aws.region).await,
        true,
    );
    // A decommissioned stack changes nothing: no rows forgotten, no admin made.
    let open = console.provisioned.is_ok();
    let forgotten = if open { forget_missing_originals(&pool, &s3, &settings.buckets.originals).await? } else { 0 };
    if stack.aws_started_empty && open {
        // The emulator forgot the audit checkpoints too; Postgres kept its copies.
        let newest: Option<i64> =
            sqlx::query_scalar!("SELECT max(seq) FROM audit_checkpoints").fetch_one(&pool).await?;
        if let Some(newest) = newest {
            let vault = easel_app::audit::anchor::Vault {
                s3: s3.clone(),
                bucket: settings.buckets.backup.to_string(),
                lock_days: settings.audit.lock_days,
            };
            easel_app::audit::anchor::copy_missing(&pool, &vault, 1, newest).await?;
            println!("• Put the {newest} audit checkpoint(s) kept in Postgres back into the emulator's backup bucket.");
        }
    }
    if forgotten > 0 {
        println!(
            "• The local AWS emulator keeps objects in memory only, so its buckets started empty; \
             removed {forgotten} artwork row(s) whose originals are gone, so the database and the buckets agree."
        );
    }

    if open && easel_app::auth::users::count(&pool).await? == 0 {
        let email = easel_app::auth::Email::parse(FIRST_ADMIN)?;
        let actor = crate::stack::env_file::operator();
        let (_, otp) = easel_app::auth::accounts::create(
            &pool,
            &email,
            easel_app::auth::Role::Admin,
            &actor,
            easel_app::audit::Origin::Local,
        )
        .await?;
        println!();
        println!("• Created the first admin account. Sign in at http://{}/admin/login with", console.addr);
        println!("    e-mail     {FIRST_ADMIN}");
        println!("    password   {otp}   (one-time: shown only now, to be changed at first sign-in)");
        println!("  More admins: `cargo ops create-admin EMAIL`.");
    }

    let mut env = vec![
        ("EASEL_CONSOLE_URL", format!("http://{}", console.addr)),
        ("DATABASE_URL", stack.database_url.clone()),
        ("EASEL_OWNER_DATABASE_URL", stack.owner_url.clone()),
        ("EASEL_AWS_ENDPOINT", stack.aws_endpoint.clone()),
        ("EASEL_AWS_REGION", settings.aws.region.clone()),
        ("EASEL_SMTP_URL", stack.smtp_url.clone()),
        ("EASEL_AUDIT_KEY_FILE", stack.audit_key_file.display().to_string()),
        ("EASEL_BACKUP_BUCKET", settings.buckets.backup.to_string()),
    ];
    if let Some(inbox) = &stack.inbox_url {
        env.push(("EASEL_MAIL_INBOX_URL", inbox.clone()));
    }
    let mut f = File::create(stack.dir.stack_env())?;
    for (k, v) in &env {
        writeln!(f, "{k}={v}")?;
    }
    println!();
    println!("Easel is running. Ctrl-C stops everything.");
    println!("  console        http://{}", console.addr);
    println!("  database       {}", settings.database_url.redacted());
    println!("  AWS endpoint   {} (region {})", stack.aws_endpoint, settings.aws.region);
    println!("  mail (SMTP)    {}", stack.smtp_url);
    if let Some(inbox) = &stack.inbox_url {
        println!("  mail inbox     {inbox}");
    }
    println!("  all of these   {} (with the database password)", stack.dir.stack_env().display());

    tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")?;
    console.stop().await;
    Ok(())
}

/// Deletes artwork rows whose original is not in the bucket. Only ever
/// needed locally, where the emulator forgets objects on restart while
/// Postgres keeps its rows.
async fn forget_missing_originals(pool: &PgPool, s3: &aws_sdk_s3::Client, bucket: &str) -> anyhow::Result<u64> {
    let mut keys = Vec::new();
    let mut pages = s3.list_objects_v2().bucket(bucket).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.context("listing the originals bucket")?;
        keys.extend(page.contents().iter().filter_map(|o| o.key().map(str::to_owned)));
    }
    let mut tx = pool.begin().await?;
    let gone: Vec<String> =
        sqlx::query_scalar!("DELETE FROM artworks WHERE original_key <> ALL($1) RETURNING original_key", &keys)
            .fetch_all(&mut *tx)
            .await?;
    if !gone.is_empty() {
        let event = easel_app::audit::NewEvent {
            actor: crate::stack::env_file::operator(),
            action: easel_app::audit::AuditAction::ArtworksForgotten,
            subject: format!("bucket:{bucket}"),
            details: serde_json::json!({ "reason": "the local emulator restarted empty", "keys": gone }),
            client_addr: easel_app::audit::Origin::Local,
        };
        easel_app::audit::append(&mut tx, event).await?;
    }
    tx.commit().await?;
    Ok(gone.len() as u64)
}
