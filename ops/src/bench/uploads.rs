//! `cargo ops bench uploads`: uploads of real photographs through the form,
//! one client at a time and then many at once, with every S3 call slowed by
//! a delaying proxy in front of the emulator (as a real region's latency
//! would). The goal (issue 12): many clients get at least ten times the
//! throughput of one, so uploads are not serialised behind S3 by a lock;
//! and every upload ends as row, original, renditions and audit row.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use sqlx::PgPool;

use super::{
    corpus,
    photos::{self, Format, Variant},
    web::{ms, percentile},
};
use crate::stack::{LocalStack, console, fault_proxy::FaultProxy, paths::workspace_root};

/// The goal: throughput at `--clients` over throughput at one.
pub const GOAL: f64 = 10.0;

/// The size a photograph is uploaded at: a typical export for the web from
/// a camera or an editor, made from each of the corpus's photographs.
const WIDTH: u32 = 1600;
const HEIGHT: u32 = 1067;

#[derive(Debug, clap::Args)]
pub struct Opts {
    /// Uploads with many clients.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(10..=10_000))]
    uploads: u32,
    /// Clients uploading at once in the many-clients run.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(2..=1024))]
    clients: u32,
    /// Uploads in the one-client run (its throughput changes little with more).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(5..=1000))]
    single: u32,
    /// Latency the proxy adds before each answer from S3, in milliseconds.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(0..=5000))]
    latency_ms: u64,
}

pub async fn run(opts: Opts) -> anyhow::Result<()> {
    if super::rerun_in_release().await? {
        return Ok(());
    }
    let root = workspace_root();
    let cache = root.join(".easel/bench");
    println!("Preparing the upload benchmark…");
    let corpus = corpus::fetch(&cache.join("corpus")).await?;
    let variant = Variant { format: Format::Jpeg, colour: true, progressive: false };
    let mut files = Vec::new();
    for (i, path) in corpus.jpegs.iter().enumerate() {
        let mut source = photos::Source::new(path.clone());
        let dir = cache.join("uploads").join(format!("photo-{i:02}"));
        for p in photos::make(&mut source, &dir, WIDTH, HEIGHT, &[variant])? {
            files.push(std::fs::read(&p.path).with_context(|| format!("reading {}", p.path.display()))?);
        }
    }
    if files.is_empty() {
        bail!("the corpus has no JPEG photographs");
    }
    let mean_kb = files.iter().map(Vec::len).sum::<usize>() / files.len() / 1024;
    println!("• {} photographs at {WIDTH}×{HEIGHT}, {mean_kb} KB on average", files.len());

    let files = Arc::new(files);
    let report = super::on_private_stack("easel_bench_uploads", async |stack: &LocalStack| {
        with_console(stack, &opts, files).await
    })
    .await?;
    super::conclude(report, "uploads-report.txt", "an upload")
}

async fn with_console(stack: &LocalStack, opts: &Opts, files: Arc<Vec<Vec<u8>>>) -> anyhow::Result<super::Report> {
    let (proxy, endpoint) = FaultProxy::in_front_of(&stack.aws_endpoint).await?;
    proxy.set_latency(Duration::from_millis(opts.latency_ms));
    let prefix = format!("uploads-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let settings = console::isolated_settings(stack, &prefix, &[("EASEL_AWS_ENDPOINT", endpoint)])?;
    let running = console::start(&settings).await?;
    let base = format!("http://{}", running.addr);
    let result = async {
        let pool = PgPool::connect(settings.database_url.expose()).await?;
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
        println!("• One client, {} uploads, {} ms before each answer from S3…", opts.single, opts.latency_ms);
        let one = phase(&http, &base, &files, opts.single, 1).await?;
        println!("• {} clients, {} uploads…", opts.clients, opts.uploads);
        let many = phase(&http, &base, &files, opts.uploads, opts.clients).await?;
        println!("• Waiting for every upload's renditions…");
        let s3 = easel_resizer::aws::s3_client(
            &easel_resizer::aws::sdk_config(Some(&stack.aws_endpoint), &settings.aws.region).await,
            true,
        );
        let accepted = one.latencies.len() + many.latencies.len();
        let complete = completeness(&pool, &s3, &settings, accepted).await?;
        pool.close().await;
        Ok::<_, anyhow::Error>(report(opts, &one, &many, &complete))
    }
    .await;
    running.stop().await;
    result
}

/// One run: `uploads` uploads, `clients` at a time.
struct Phase {
    wall: Duration,
    latencies: Vec<Duration>,
    refused: Vec<String>,
}

impl Phase {
    fn throughput(&self) -> f64 {
        self.latencies.len() as f64 / self.wall.as_secs_f64()
    }
}

async fn phase(
    http: &reqwest::Client,
    base: &str,
    files: &Arc<Vec<Vec<u8>>>,
    uploads: u32,
    clients: u32,
) -> anyhow::Result<Phase> {
    let next = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|_| {
            let (http, base, files, next) = (http.clone(), base.to_owned(), files.clone(), next.clone());
            tokio::spawn(async move {
                let mut done = Vec::new();
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    if i >= uploads {
                        return done;
                    }
                    let bytes = files[i as usize % files.len()].clone();
                    let t = Instant::now();
                    let r = upload(&http, &base, bytes, i).await;
                    done.push(r.map(|()| t.elapsed()).map_err(|e| e.to_string()));
                }
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut refused = Vec::new();
    for w in workers {
        for r in w.await.context("an upload client")? {
            match r {
                Ok(d) => latencies.push(d),
                Err(e) => refused.push(e),
            }
        }
    }
    latencies.sort();
    Ok(Phase { wall: started.elapsed(), latencies, refused })
}

async fn upload(http: &reqwest::Client, base: &str, bytes: Vec<u8>, i: u32) -> anyhow::Result<()> {
    let part = reqwest::multipart::Part::bytes(bytes).file_name(format!("photo-{i}.jpg")).mime_str("image/jpeg")?;
    let form = reqwest::multipart::Form::new().part("artwork", part);
    let res = http.post(format!("{base}/upload")).multipart(form).send().await?;
    if res.status() != 303 {
        bail!("upload {i} answered {}", res.status());
    }
    Ok(())
}

/// How many uploads ended complete: row, original, renditions in both
/// buckets, audit row.
struct Completeness {
    accepted: usize,
    rows: usize,
    originals: usize,
    audit_rows: usize,
    rendered: usize,
    backed_up: usize,
    waited: Duration,
}

impl Completeness {
    fn complete(&self) -> bool {
        [self.rows, self.originals, self.audit_rows, self.rendered, self.backed_up].iter().all(|&n| n == self.accepted)
    }
}

/// Waits (up to ten minutes) for the resizer to finish every accepted
/// upload, then counts.
async fn completeness(
    pool: &PgPool,
    s3: &aws_sdk_s3::Client,
    settings: &easel_app::settings::Settings,
    accepted: usize,
) -> anyhow::Result<Completeness> {
    let started = Instant::now();
    loop {
        let unfinished: i64 =
            sqlx::query_scalar!(r#"SELECT count(*) AS "unfinished!" FROM artworks WHERE resized_at IS NULL"#)
                .fetch_one(pool)
                .await?;
        if unfinished == 0 || started.elapsed() > Duration::from_secs(600) {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let rows: Vec<(String, bool)> =
        sqlx::query!(r#"SELECT original_key, resized_at IS NOT NULL AS "resized!" FROM artworks"#)
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(|r| (r.original_key, r.resized))
            .collect();
    let audit_rows: i64 =
        sqlx::query_scalar!(r#"SELECT count(*) AS "count!" FROM audit_events WHERE action = 'artwork.uploaded'"#)
            .fetch_one(pool)
            .await?;
    let originals = keys(s3, &settings.buckets.originals).await?;
    let backup = keys(s3, &settings.buckets.backup).await?;
    let jpeg = easel_resizer::image::ImageFormat::Jpeg;
    let renditions = &settings.resizer.renditions;
    let backed_up = rows
        .iter()
        .filter(|(key, _)| {
            renditions.iter().all(|r| backup.contains(&easel_resizer::keys::rendition_key(key, &r.name, jpeg)))
        })
        .count();
    Ok(Completeness {
        accepted,
        rows: rows.len(),
        originals: rows.iter().filter(|(key, _)| originals.contains(key)).count(),
        audit_rows: audit_rows as usize,
        rendered: rows.iter().filter(|(_, done)| *done).count(),
        backed_up,
        waited: started.elapsed(),
    })
}

async fn keys(s3: &aws_sdk_s3::Client, bucket: &str) -> anyhow::Result<std::collections::HashSet<String>> {
    let mut out = std::collections::HashSet::new();
    let mut pages = s3.list_objects_v2().bucket(bucket).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.with_context(|| format!("listing {bucket}"))?;
        out.extend(page.contents().iter().filter_map(|o| o.key().map(str::to_owned)));
    }
    Ok(out)
}

fn report(opts: &Opts, one: &Phase, many: &Phase, c: &Completeness) -> super::Report {
    use std::fmt::Write as _;
    let mut text = String::new();
    let _ = writeln!(text, "Uploads through the form, {} ms added before each answer from S3", opts.latency_ms);
    let _ = writeln!(
        text,
        "{:<12} {:>8} {:>10} {:>12} {:>9} {:>9} {:>8}",
        "clients", "uploads", "wall s", "uploads/s", "p50 ms", "p99 ms", "refused"
    );
    for (clients, p) in [(1, one), (opts.clients, many)] {
        let _ = writeln!(
            text,
            "{:<12} {:>8} {:>10.2} {:>12.2} {:>9.0} {:>9.0} {:>8}",
            clients,
            p.latencies.len(),
            p.wall.as_secs_f64(),
            p.throughput(),
            ms(percentile(&p.latencies, 50.0)),
            ms(percentile(&p.latencies, 99.0)),
            p.refused.len()
        );
    }
    let ratio = many.throughput() / one.throughput();
    let speed = ratio >= GOAL;
    let _ = writeln!(
        text,
        "throughput ratio ({} clients / 1): {ratio:.2}× (goal ≥ {GOAL}×) {}",
        opts.clients,
        if speed { "PASS" } else { "FAIL" }
    );
    let _ = writeln!(
        text,
        "complete after {:.0} s: {} accepted; rows {}, originals {}, audit rows {}, rendered {}, backed up {} {}",
        c.waited.as_secs_f64(),
        c.accepted,
        c.rows,
        c.originals,
        c.audit_rows,
        c.rendered,
        c.backed_up,
        if c.complete() { "PASS" } else { "FAIL" }
    );
    let refused = one.refused.len() + many.refused.len();
    for e in one.refused.iter().chain(&many.refused).take(5) {
        let _ = writeln!(text, "  refused: {e}");
    }
    super::Report { text, passed: speed && c.complete() && refused == 0 }
}
