//! `cargo ops bench audit`: what the dashboard and the audit page cost with
//! a small audit trail and a large one (1,000 and 1,000,000 events by
//! default), each in a database of its own on a private stack. The pages
//! verify the chain from the newest signed checkpoint on, so their cost
//! follows the events since that checkpoint, not the whole history. Goal:
//! each page's p50 at the large size within 1.5× of its p50 at the small
//! size. For scale, it also times the whole-chain walk each view used to
//! make.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use easel_app::audit::{self, AuditAction, canonical_form, chain_hash};
use sqlx::PgPool;
use time::OffsetDateTime;

use super::web::{self, ms, percentile};
use crate::stack::{LocalStack, console, postgres::create_database};

#[derive(Debug, clap::Args)]
pub struct Opts {
    /// Events in the large trail.
    #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1_000..=50_000_000))]
    rows: u64,
    /// Events in the small trail.
    #[arg(long, default_value_t = 1_000, value_parser = clap::value_parser!(u64).range(10..=1_000_000))]
    small: u64,
    /// Events added after the newest checkpoint, as between two checkpoints.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(0..=100_000))]
    after: u64,
    /// Timed requests per page and size.
    #[arg(long, default_value_t = 40, value_parser = clap::value_parser!(u32).range(5..=10_000))]
    samples: u32,
}

const PAGES: [&str; 2] = ["/admin", "/admin/audit"];
const GOAL: f64 = 1.5;

pub async fn run(opts: Opts) -> anyhow::Result<()> {
    if super::rerun_in_release().await? {
        return Ok(());
    }
    let report = super::on_private_stack("easel_bench_audit", async |stack: &LocalStack| {
        let small = size(stack, opts.small, &opts).await?;
        let large = size(stack, opts.rows, &opts).await?;
        Ok(report(&opts, &small, &large))
    })
    .await?;
    super::conclude(report, "audit-report.txt", "an audit-trail")
}

/// One trail size: each page's sorted latencies, and the whole-chain walk.
struct Size {
    rows: u64,
    pages: Vec<Vec<Duration>>,
    walk: Duration,
}

async fn size(stack: &LocalStack, rows: u64, opts: &Opts) -> anyhow::Result<Size> {
    let maintenance = stack.maintenance_url.as_deref().context("the private stack runs its own Postgres")?;
    let console_server =
        stack.console_maintenance_url.as_deref().context("the private stack makes the console's role")?;
    let name = format!("easel_bench_audit_{rows}");
    let in_db = |url: &str| url.rsplit_once('/').map(|(server, _)| format!("{server}/{name}"));
    create_database(maintenance, &name).await?;
    let owner_url = in_db(maintenance).context("a database URL ends in /<database>")?;
    crate::stack::migrate(&owner_url).await?;
    let pool = PgPool::connect(&owner_url).await?;
    fill(&pool, 0, rows).await?;

    // The console signs a checkpoint of the whole trail as it starts.
    let prefix = format!("audit-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let console_url = in_db(console_server).context("a database URL ends in /<database>")?;
    let settings = console::isolated_settings(stack, &prefix, &[("DATABASE_URL", console_url)])?;
    let running = console::start(&settings).await?;
    let base = format!("http://{}", running.addr);
    let result = async {
        println!("• Waiting for the console's checkpoint of {rows} events…");
        let started = Instant::now();
        loop {
            let covered = sqlx::query_scalar!("SELECT max(last_id) FROM audit_checkpoints").fetch_one(&pool).await?;
            if covered.unwrap_or(0) >= rows as i64 {
                break;
            }
            if started.elapsed() > Duration::from_secs(600) {
                bail!("no checkpoint covered the trail within 10 minutes");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        println!("  signed after {:.1} s", started.elapsed().as_secs_f64());
        let admin = web::new_admin(&pool, &base).await?;
        let last = sqlx::query_scalar!(r#"SELECT max(id) AS "last!" FROM audit_events"#).fetch_one(&pool).await?;
        fill(&pool, last as u64, opts.after).await?;

        println!("• Timing {} with {rows} events: {} requests each…", PAGES.join(" and "), opts.samples);
        let mut pages = vec![Vec::new(); PAGES.len()];
        for round in 0..opts.samples + 3 {
            for (i, page) in PAGES.iter().enumerate() {
                let t = Instant::now();
                let r = web::reply(admin.browser.get(format!("{base}{page}")).send().await?).await;
                let took = t.elapsed();
                if r.status != 200 || !r.body.contains("Audit chain intact") {
                    bail!("{page} answered {} without an intact chain: {}", r.status, r.body);
                }
                // The first rounds warm the caches and the pool.
                if round >= 3 {
                    pages[i].push(took);
                }
            }
        }
        for p in &mut pages {
            p.sort();
        }
        let t = Instant::now();
        let verdict = audit::verify(&pool).await?;
        let walk = t.elapsed();
        if !matches!(verdict, audit::ChainVerdict::Intact { .. }) {
            bail!("the trail does not verify: {verdict:?}");
        }
        Ok(Size { rows, pages, walk })
    }
    .await;
    running.stop().await;
    pool.close().await;
    result
}

/// Appends `n` events after event `after` (whose hash it reads), as the
/// console would have written them, in batches: a million one by one
/// through the audit lock would take most of an hour.
async fn fill(pool: &PgPool, after: u64, n: u64) -> anyhow::Result<()> {
    const BATCH: u64 = 10_000;
    let mut prev: Vec<u8> = match after {
        0 => audit::GENESIS.to_vec(),
        id => sqlx::query_scalar!("SELECT hash FROM audit_events WHERE id = $1", id as i64).fetch_one(pool).await?,
    };
    let start = OffsetDateTime::now_utc().replace_nanosecond(0)? - time::Duration::days(30);
    let action = AuditAction::SignInFailed.as_str();
    let mut done = 0;
    while done < n {
        let count = BATCH.min(n - done);
        let mut cols = Columns::default();
        for k in 0..count {
            let id = (after + done + k + 1) as i64;
            let at = start + time::Duration::microseconds(id);
            let subject = format!("bench:{id}@example.org");
            let details = serde_json::json!({ "attempts": id % 7 + 1 });
            let hash = chain_hash(
                &prev,
                &canonical_form(id, at, "anonymous", "none", action, &subject, &details, "203.0.113.7"),
            );
            cols.id.push(id);
            cols.at.push(at);
            cols.subject.push(subject);
            cols.details.push(details);
            cols.prev.push(std::mem::replace(&mut prev, hash.to_vec()));
            cols.hash.push(hash.to_vec());
        }
        sqlx::query!(
            "INSERT INTO audit_events (id, at, actor, role, action, subject, details, client_addr, prev_hash, hash)
             SELECT id, at, 'anonymous', 'none', $7, subject, details, '203.0.113.7', prev, hash
             FROM UNNEST($1::bigint[], $2::timestamptz[], $3::text[], $4::jsonb[], $5::bytea[], $6::bytea[])
               AS t(id, at, subject, details, prev, hash)",
            &cols.id,
            &cols.at,
            &cols.subject,
            &cols.details,
            &cols.prev,
            &cols.hash,
            action,
        )
        .execute(pool)
        .await?;
        done += count;
        if done % 100_000 == 0 || done == n {
            println!("  {done} of {n} events written");
        }
    }
    sqlx::query_scalar!("SELECT setval('audit_events_id_seq', (SELECT max(id) FROM audit_events))")
        .fetch_one(pool)
        .await?;
    Ok(())
}

#[derive(Default)]
struct Columns {
    id: Vec<i64>,
    at: Vec<OffsetDateTime>,
    subject: Vec<String>,
    details: Vec<serde_json::Value>,
    prev: Vec<Vec<u8>>,
    hash: Vec<Vec<u8>>,
}

fn report(opts: &Opts, small: &Size, large: &Size) -> super::Report {
    use std::fmt::Write as _;
    let mut text = String::new();
    let _ = writeln!(
        text,
        "Audit trail pages, {} and {} events (+{} after the newest checkpoint), {} requests each (release build)",
        small.rows, large.rows, opts.after, opts.samples
    );
    let _ = writeln!(
        text,
        "{:<14} {:>14} {:>14} {:>8}   goal ≤ {GOAL}×",
        "page",
        format!("p50 @ {}", small.rows),
        format!("p50 @ {}", large.rows),
        "ratio"
    );
    let mut passed = true;
    for (i, page) in PAGES.iter().enumerate() {
        let (a, b) = (ms(percentile(&small.pages[i], 50.0)), ms(percentile(&large.pages[i], 50.0)));
        let ratio = b / a.max(1e-9);
        let ok = ratio <= GOAL;
        passed &= ok;
        let _ =
            writeln!(text, "{page:<14} {a:>11.2} ms {b:>11.2} ms {ratio:>7.2}×   {}", if ok { "PASS" } else { "FAIL" });
    }
    let _ = writeln!(
        text,
        "Whole-chain walk (what every view cost before checkpoints): {:.1} ms @ {}, {:.1} ms @ {} ({:.0}×)",
        ms(small.walk),
        small.rows,
        ms(large.walk),
        large.rows,
        ms(large.walk) / ms(small.walk).max(1e-9)
    );
    super::Report { text, passed }
}
