//! `cargo ops audit verify [--full]` and `cargo ops audit checkpoint`: the
//! audit trail checked against its signed checkpoints (every one, in S3 and
//! in Postgres), and a checkpoint written at once.

use anyhow::{Context, bail};
use easel_app::{
    audit::{
        ChainVerdict,
        anchor::{self, Report},
        checkpoint::{self, AuditKey},
    },
    settings::Settings,
};

use crate::stack::env_file;

#[derive(Debug, clap::Args)]
pub struct Opts {
    #[command(subcommand)]
    command: AuditCommand,
}

#[derive(Debug, clap::Subcommand)]
enum AuditCommand {
    /// Check every checkpoint (signature, presence in S3 and Postgres, the
    /// rows it covers) and the chain from the newest checkpoint on; exits
    /// non-zero naming each finding.
    Verify {
        /// Walk the whole chain from its first row, not just from the newest checkpoint.
        #[arg(long)]
        full: bool,
    },
    /// Sign the chain's head now and store the checkpoint in S3 and Postgres.
    Checkpoint,
}

pub async fn run(opts: Opts) -> anyhow::Result<()> {
    let settings = env_file::settings(true)?;
    let pool = sqlx::PgPool::connect(settings.database_url.expose()).await.context("connecting to Postgres")?;
    let sdk = easel_resizer::aws::sdk_config(settings.aws.endpoint.as_deref(), &settings.aws.region).await;
    let vault = anchor::Vault {
        s3: easel_resizer::aws::s3_client(&sdk, settings.aws.endpoint.is_some()),
        bucket: settings.buckets.backup.to_string(),
        lock_days: settings.audit.lock_days,
    };
    let bucket = &vault.bucket;
    match opts.command {
        AuditCommand::Checkpoint => {
            let key = signing_key(&settings)?;
            let st = anchor::checkpoint(&pool, &vault, &key, false)
                .await?
                .context("another checkpoint was being written at the same moment; run it again")?;
            println!(
                "Checkpoint {} signed: events up to {} ({} in all), head {}; stored in s3://{bucket}/{} and Postgres",
                st.seq,
                st.last_id,
                st.rows,
                hex::encode(st.head),
                checkpoint::Signed::object_key(st.seq)
            );
            Ok(())
        }
        AuditCommand::Verify { full } => {
            let public = public_key(&settings)?;
            let Report { chain, checkpoints, findings } = anchor::verify_all(&pool, &vault, &public, full).await?;
            let mut failed = !findings.is_empty();
            for f in &findings {
                eprintln!("FINDING  {f}");
            }
            match &chain {
                ChainVerdict::Intact { rows, head } => {
                    let events = if *rows == 1 { "event" } else { "events" };
                    let how = if full { "walked from the first event" } else { "from the newest checkpoint on" };
                    println!(
                        "Audit chain intact: {rows} {events}; head {} ({how})",
                        head.as_deref().unwrap_or("(empty)")
                    );
                }
                ChainVerdict::Broken { id, reason, rows_checked } => {
                    failed = true;
                    eprintln!(
                        "FINDING  chain broken at event {id}: {reason} ({rows_checked} events before it check out)"
                    );
                }
            }
            println!("Checkpoints verified with public key {}", hex::encode(public.to_bytes()));
            match checkpoints.last() {
                Some(st) => println!(
                    "{} checkpoint(s) verified; the newest, {}, signed {} for events up to {}",
                    checkpoints.len(),
                    st.seq,
                    st.at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
                    st.last_id
                ),
                None => println!("No checkpoint yet: `cargo ops audit checkpoint` writes one."),
            }
            if failed {
                bail!(
                    "the audit trail does not verify ({} finding(s) above)",
                    findings.len() + usize::from(matches!(chain, ChainVerdict::Broken { .. }))
                );
            }
            Ok(())
        }
    }
}

fn signing_key(settings: &Settings) -> anyhow::Result<AuditKey> {
    let path = settings.audit.key_file.as_deref().context(
        "no audit signing key: set EASEL_AUDIT_KEY_FILE (a running `cargo ops up` sets it in .easel/stack.env)",
    )?;
    Ok(AuditKey::from_file(path)?)
}

/// `EASEL_AUDIT_PUBLIC_KEY` (hex) for verifiers without the private key,
/// else the key file's public half.
fn public_key(settings: &Settings) -> anyhow::Result<ed25519_dalek::VerifyingKey> {
    if let Ok(hex) = std::env::var("EASEL_AUDIT_PUBLIC_KEY")
        && !hex.is_empty()
    {
        return Ok(checkpoint::public_key_from_hex(&hex)?);
    }
    Ok(signing_key(settings)
        .context("no key to verify with: set EASEL_AUDIT_PUBLIC_KEY or EASEL_AUDIT_KEY_FILE")?
        .public())
}
