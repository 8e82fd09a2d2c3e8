//! `cargo ops bench resize`: our resizer against libvips and Pillow on the
//! same photographs, the same job and the same core, in one run; against
//! itself from before colour management (`bench/colour.rs`) on the same
//! untagged sets; and on a profiled set, the ΔE₀₀ of its renditions
//! against LittleCMS's conversion.
//!
//! Every tool runs as whole processes under `taskset -c 0`, as the Lambda
//! would pay for them: start-up, reading files, decoding, resizing,
//! encoding, writing. Rounds go through every set and tool in turn, so a
//! busy machine slows all tools alike; the first round is a warm-up and
//! the figures are medians of the rest.
//!
//! `cargo ops bench hostile` (in `bench/hostile.rs`): what deciding on
//! each hostile file costs, in instructions counted by callgrind, against
//! a real photograph of the same pixel count.
//!
//! `cargo ops bench signin` (in `bench/signin.rs`): sign-in under a flood
//! of anonymous attempts on a private stack, against issue 13's goals.
//!
//! `cargo ops bench uploads` (in `bench/uploads.rs`): uploads with S3
//! slowed by a proxy, one client against many, against issue 12's goals.
//!
//! `cargo ops bench audit` (in `bench/audit.rs`): the dashboard and the audit
//! page with 1,000 and 1,000,000 audit events, against issue 14's goal.

#[path = "../bench/audit.rs"]
mod audit;
#[path = "../bench/callgrind.rs"]
mod callgrind;
#[path = "../bench/coldstart.rs"]
mod coldstart;
#[path = "../bench/colour.rs"]
mod colour;
#[path = "../bench/corpus.rs"]
mod corpus;
#[path = "../bench/hostile.rs"]
mod hostile;
#[path = "../bench/measure.rs"]
mod measure;
#[path = "../bench/photos.rs"]
mod photos;
#[path = "../bench/quality.rs"]
mod quality;
#[path = "../bench/signin.rs"]
mod signin;
#[path = "../bench/uploads.rs"]
mod uploads;
#[path = "../bench/web.rs"]
mod web;

use std::collections::HashMap;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use measure::{Invocation, Sample};
use tokio::process::Command;

use crate::stack::{install, paths::workspace_root};

/// The job, as the issue states it: fit in 1280×1280, JPEG at q85.
const SIZE: u32 = 1280;
const QUALITY: u8 = 85;

#[derive(Debug, clap::Args)]
pub struct Opts {
    #[command(subcommand)]
    what: What,
}

#[derive(Debug, clap::Subcommand)]
enum What {
    /// Our resizer against vipsthumbnail and Pillow on Debian's mate-backgrounds photographs.
    Resize(ResizeOpts),
    /// Instructions spent deciding on hostile files against real photographs of the same pixel count (callgrind).
    Hostile(hostile::Opts),
    /// A flood of 10,000 anonymous sign-ins on a private stack: audit rows, the known device's sign-in, admin pages' p99.
    Signin(signin::Opts),
    /// Uploads through the form with S3 slowed by a proxy: one client against 64, and every upload complete.
    Uploads(uploads::Opts),
    Audit(audit::Opts),
}

#[derive(Debug, clap::Args)]
struct ResizeOpts {
    /// Timed runs per tool and set, after one warm-up run.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=50))]
    runs: u32,
}

pub async fn run(opts: Opts) -> anyhow::Result<()> {
    match opts.what {
        What::Resize(o) => resize(o).await,
        What::Hostile(o) => hostile::run(o).await,
        What::Signin(o) => signin::run(o).await,
        What::Uploads(o) => uploads::run(o).await,
        What::Audit(o) => audit::run(o).await,
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Tool {
    Ours,
    Vips,
    Pillow,
    /// easel-resize at `colour::BASELINE_COMMIT`, before colour management.
    Baseline,
}

impl Tool {
    /// What runs on the untagged sets.
    const ALL: [Tool; 4] = [Tool::Ours, Tool::Vips, Tool::Pillow, Tool::Baseline];

    fn name(self) -> &'static str {
        match self {
            Tool::Ours => "easel-resize",
            Tool::Vips => "vipsthumbnail",
            Tool::Pillow => "Pillow",
            Tool::Baseline => "easel-resize@9d6eed5",
        }
    }

    fn dir(self) -> &'static str {
        match self {
            Tool::Ours => "easel",
            Tool::Vips => "vips",
            Tool::Pillow => "pillow",
            Tool::Baseline => "baseline",
        }
    }
}

struct Image {
    path: PathBuf,
    stem: String,
    megapixels: f64,
    /// No transparency: every tool writes a JPEG, else a PNG.
    opaque: bool,
}

impl Image {
    fn ext(&self) -> &'static str {
        if self.opaque { "jpg" } else { "png" }
    }
}

struct Set {
    key: &'static str,
    label: String,
    images: Vec<usize>,
    tools: Vec<Tool>,
}

struct Programs {
    ours: PathBuf,
    baseline: PathBuf,
    bootstrap: PathBuf,
    vips: PathBuf,
    python: PathBuf,
    pillow_script: PathBuf,
    time: PathBuf,
}

#[derive(Default)]
struct Result_ {
    samples: Vec<Sample>,
    output_bytes: u64,
    psnr: f64,
}

async fn resize(opts: ResizeOpts) -> anyhow::Result<()> {
    let root = workspace_root();
    let cache = root.join(".easel/bench");
    println!("Preparing the resize benchmark…");
    let corpus = corpus::fetch(&cache.join("corpus")).await?;
    let programs = prepare(&root, &cache).await?;
    let profiles = colour::profiles(&cache.join("colour")).await?;
    let profiled = colour::make(&cache.join("colour"), &corpus.jpegs, &profiles, &programs.python).await?;

    // What every image is, from a full decode (the reference decoder's).
    let mut images = Vec::new();
    for path in corpus.jpegs.iter().chain(&corpus.pngs) {
        let src = quality::Source::load(path)?;
        let stem = path.file_stem().and_then(|s| s.to_str()).context("a corpus file name is not UTF-8")?.to_owned();
        images.push(Image { path: path.clone(), stem, megapixels: src.megapixels(), opaque: src.opaque });
    }
    let jpegs: Vec<usize> = (0..corpus.jpegs.len()).collect();
    let pngs: Vec<usize> = (corpus.jpegs.len()..images.len()).collect();
    let first_profiled = images.len();
    for p in &profiled {
        let src = quality::Source::load(&p.reference)?;
        let stem = p.tagged.file_stem().and_then(|s| s.to_str()).context("a tagged file's name")?.to_owned();
        images.push(Image { path: p.tagged.clone(), stem, megapixels: src.megapixels(), opaque: true });
    }
    let tagged: Vec<usize> = (first_profiled..images.len()).collect();
    let largest = *jpegs
        .iter()
        .max_by(|&&a, &&b| images[a].megapixels.total_cmp(&images[b].megapixels))
        .context("no JPEG in the corpus")?;
    let mp = |ids: &[usize]| ids.iter().map(|&i| images[i].megapixels).sum::<f64>();
    let sets = vec![
        Set {
            key: "jpeg",
            label: format!("JPEG set ({} files, {:.0} MP)", jpegs.len(), mp(&jpegs)),
            images: jpegs.clone(),
            tools: Tool::ALL.to_vec(),
        },
        Set {
            key: "png",
            label: format!("PNG set ({} files, {:.0} MP)", pngs.len(), mp(&pngs)),
            images: pngs,
            tools: Tool::ALL.to_vec(),
        },
        Set {
            key: "large",
            label: format!("{} alone ({:.0} MP)", images[largest].stem, images[largest].megapixels),
            images: vec![largest],
            tools: Tool::ALL.to_vec(),
        },
        Set {
            key: "profiled",
            label: format!("Profiled set ({} files, {:.0} MP)", tagged.len(), mp(&tagged)),
            images: tagged,
            tools: vec![Tool::Ours, Tool::Baseline],
        },
    ];

    let out_root = cache.join("out");
    let mut results: HashMap<(&str, Tool), Result_> = HashMap::new();
    let rounds = opts.runs + 1;
    let bar = ProgressBar::new(u64::from(rounds) * sets.iter().map(|s| s.tools.len() as u64).sum::<u64>());
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    for round in 0..rounds {
        for set in &sets {
            for &tool in &set.tools {
                let phase = if round == 0 { "warm-up".to_owned() } else { format!("run {round}/{}", opts.runs) };
                bar.set_message(format!("{phase}: {} on the {}", tool.name(), set.label));
                let dir = out_root.join(set.key).join(tool.dir());
                if dir.exists() {
                    std::fs::remove_dir_all(&dir)?;
                }
                std::fs::create_dir_all(&dir)?;
                let invocations = invocations(tool, set, &images, &programs, &dir);
                let sample = measure::run(&invocations, &programs.time, &cache)
                    .with_context(|| format!("{} on the {}", tool.name(), set.label))?;
                if round > 0 {
                    results.entry((set.key, tool)).or_default().samples.push(sample);
                }
                bar.inc(1);
            }
        }
    }
    bar.finish_and_clear();

    println!("Measuring quality against full-decode Lanczos3 references…");
    for set in &sets {
        for &tool in &set.tools {
            let dir = out_root.join(set.key).join(tool.dir());
            let mut bytes = 0;
            for &i in &set.images {
                let file = dir.join(format!("{}.{}", images[i].stem, images[i].ext()));
                bytes += std::fs::metadata(&file)
                    .with_context(|| format!("{} wrote no {}", tool.name(), file.display()))?
                    .len();
            }
            results.entry((set.key, tool)).or_default().output_bytes = bytes;
        }
        // The PSNR reference decodes without colour management, so it
        // says nothing about the profiled set; ΔE does, below.
        if set.key != "profiled" {
            for (tool, db) in psnr_for_set(set, &images, &out_root)? {
                results.entry((set.key, tool)).or_default().psnr = db;
            }
        }
    }

    println!("Measuring colour against LittleCMS's conversions…");
    let profiled_set = sets.iter().find(|s| s.key == "profiled").context("the profiled set")?;
    let colours = colour_differences(profiled_set, &images, &profiled, &programs, &out_root).await?;

    println!("Timing the Lambda's cold start…");
    let size = std::fs::metadata(&programs.bootstrap)?.len();
    let mut starts = Vec::new();
    for i in 0..6 {
        let t = coldstart::once(&programs.bootstrap).await?;
        if i > 0 {
            starts.push(t.as_secs_f64() * 1000.0);
        }
    }
    let cold_ms = measure::median(&mut starts);

    let report = report(&sets, &images, &results, opts.runs, size, cold_ms, &colours);
    println!("\n{report}");
    let saved = cache.join("resize-report.txt");
    std::fs::write(&saved, &report)?;
    println!("(saved to {})", saved.display());
    Ok(())
}

/// A benchmark's verdict: what it prints, and whether every goal was met.
struct Report {
    text: String,
    passed: bool,
}

/// Prints `report`, saves it as `.easel/bench/<file>`, and fails when a goal
/// was missed (`what` names them).
fn conclude(report: Report, file: &str, what: &str) -> anyhow::Result<()> {
    print!("\n{}", report.text);
    let path = workspace_root().join(".easel/bench").join(file);
    std::fs::create_dir_all(path.parent().expect("a parent"))?;
    std::fs::write(&path, &report.text).with_context(|| format!("writing {}", path.display()))?;
    println!("Report saved to {}", path.display());
    if !report.passed {
        bail!("{what} goal was not met (see above)");
    }
    Ok(())
}

/// Runs `f` on a private stack of its own (fresh, any free ports), then
/// stops and discards the stack whatever `f` returned.
async fn on_private_stack(
    database: &str,
    f: impl AsyncFnOnce(&crate::stack::LocalStack) -> anyhow::Result<Report>,
) -> anyhow::Result<Report> {
    use crate::stack::{External, LocalStack, Ports, paths::StackDir};
    println!("Starting a private stack…");
    let dir = StackDir::test();
    let mut stack = LocalStack::start(dir.clone(), Ports::free()?, External::default(), database, true).await?;
    let result = f(&stack).await;
    stack.stop().await;
    LocalStack::discard_state(&dir).await;
    result
}

/// In a dev build, builds easel-ops in release and runs this same command
/// with it; says whether it did (then the caller is done). The console
/// ships as a release build: in a dev build every page and every image
/// check is several times slower, which hides what a benchmark measures.
async fn rerun_in_release() -> anyhow::Result<bool> {
    if !cfg!(debug_assertions) {
        return Ok(false);
    }
    println!("• Building easel-ops in release, as the console ships (the first time takes a while)…");
    let release = build_release(&workspace_root(), &["-p", "easel-ops", "--bin", "easel-ops"]).await?;
    let status = Command::new(release.join("easel-ops"))
        .args(std::env::args_os().skip(1))
        .status()
        .await
        .context("starting the release build of easel-ops")?;
    if !status.success() {
        bail!("the release run failed (see above)");
    }
    Ok(true)
}

/// Builds binaries with `cargo build --release ARGS` in the checkout at
/// `root`; returns the directory they land in.
async fn build_release(root: &Path, args: &[&str]) -> anyhow::Result<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["build", "--release"])
        .args(args)
        .current_dir(root)
        .output()
        .await
        .context("running cargo build")?;
    if !out.status.success() {
        bail!("cargo build failed:\n{}", String::from_utf8_lossy(&out.stderr).trim_end());
    }
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target"));
    Ok(target.join("release"))
}

/// Builds our binaries and installs the other tools when missing.
async fn prepare(root: &Path, cache: &Path) -> anyhow::Result<Programs> {
    println!("• Building easel-resize and bootstrap (cargo build --release)…");
    let release = build_release(root, &["-p", "easel-resizer", "--bin", "easel-resize", "--bin", "bootstrap"]).await?;
    let baseline = colour::baseline(root, cache).await?;
    let vips = install::debian_program("vipsthumbnail", "libvips-tools", "libvips's vipsthumbnail").await?;
    let time = install::debian_program("time", "time", "GNU time (peak memory of each run)").await?;
    install::debian_program("taskset", "util-linux", "taskset (pinning runs to one core)").await?;
    let venv = install::pillow_venv().await?;
    Ok(Programs {
        ours: release.join("easel-resize"),
        baseline,
        bootstrap: release.join("bootstrap"),
        vips,
        python: venv.join("bin/python"),
        pillow_script: root.join("ops/bench/pillow_resize.py"),
        time,
    })
}

fn invocations(tool: Tool, set: &Set, images: &[Image], p: &Programs, dir: &Path) -> Vec<Invocation> {
    let files = |opaque: Option<bool>| -> Vec<OsString> {
        set.images
            .iter()
            .map(|&i| &images[i])
            .filter(|img| opaque.is_none_or(|o| img.opaque == o))
            .map(|img| img.path.clone().into_os_string())
            .collect()
    };
    match tool {
        Tool::Ours | Tool::Baseline => {
            let mut args: Vec<OsString> = ["--size", &SIZE.to_string(), "--quality", &QUALITY.to_string(), "--out"]
                .iter()
                .map(OsString::from)
                .collect();
            args.push(dir.into());
            args.extend(files(None));
            let program = if tool == Tool::Ours { p.ours.clone() } else { p.baseline.clone() };
            vec![Invocation { program, args, env: vec![] }]
        }
        Tool::Vips => {
            // One output format per process: JPEG for the opaque images,
            // PNG for the transparent ones.
            let mut out = Vec::new();
            for (opaque, suffix) in [(true, format!("%s.jpg[Q={QUALITY},strip]")), (false, "%s.png[strip]".to_owned())]
            {
                let inputs = files(Some(opaque));
                if inputs.is_empty() {
                    continue;
                }
                let mut args: Vec<OsString> = vec!["--size".into(), format!("{SIZE}x{SIZE}").into(), "-o".into()];
                args.push(dir.join(suffix).into_os_string());
                args.extend(inputs);
                out.push(Invocation {
                    program: p.vips.clone(),
                    args,
                    env: vec![("VIPS_CONCURRENCY".into(), "1".into())],
                });
            }
            out
        }
        Tool::Pillow => {
            let mut args: Vec<OsString> = vec![
                p.pillow_script.clone().into_os_string(),
                SIZE.to_string().into(),
                QUALITY.to_string().into(),
                dir.into(),
            ];
            for &i in &set.images {
                let mut spec = images[i].path.clone().into_os_string();
                spec.push(format!(":{}", images[i].ext()));
                args.push(spec);
            }
            vec![Invocation { program: p.python.clone(), args, env: vec![] }]
        }
    }
}

/// Mean PSNR of each tool's renditions of `set`, on both cores (nothing is
/// being timed any more).
fn psnr_for_set(set: &Set, images: &[Image], out_root: &Path) -> anyhow::Result<Vec<(Tool, f64)>> {
    let one = |i: usize| -> anyhow::Result<Vec<f64>> {
        let img = &images[i];
        let src = quality::Source::load(&img.path)?;
        let mut refs: Vec<((u32, u32), Vec<f64>)> = Vec::new();
        let mut dbs = Vec::new();
        for &tool in &set.tools {
            let file = out_root.join(set.key).join(tool.dir()).join(format!("{}.{}", img.stem, img.ext()));
            let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let dims = quality::dimensions(&bytes)?;
            if !refs.iter().any(|(d, _)| *d == dims) {
                refs.push((dims, src.reference(dims.0, dims.1)));
            }
            let reference = &refs.iter().find(|(d, _)| *d == dims).map(|(_, r)| r).context("reference")?;
            dbs.push(
                quality::psnr(&bytes, reference, dims.0, dims.1, img.opaque)
                    .with_context(|| format!("{} from {}", img.stem, tool.name()))?,
            );
        }
        Ok(dbs)
    };
    let (even, odd): (Vec<usize>, Vec<usize>) = set.images.iter().partition(|&&i| i % 2 == 0);
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| even.iter().map(|&i| one(i)).collect::<anyhow::Result<Vec<_>>>());
        let b = odd.iter().map(|&i| one(i)).collect::<anyhow::Result<Vec<_>>>();
        (a.join(), b)
    });
    let a = a.map_err(|_| anyhow::anyhow!("the PSNR thread panicked"))??;
    let all: Vec<Vec<f64>> = a.into_iter().chain(b?).collect();
    Ok(set
        .tools
        .iter()
        .enumerate()
        .map(|(t, &tool)| (tool, all.iter().map(|dbs| dbs[t]).sum::<f64>() / all.len() as f64))
        .collect())
}

/// One profile's colour differences over the profiled set.
struct ColourRow {
    profile: &'static str,
    files: usize,
    /// Ours against the reference, pooled over the files.
    ours: easel_resizer::image::delta_e::Difference,
    /// The largest of the files' mean ΔE.
    worst_file: f64,
    /// The baseline (which ignores profiles) against the reference.
    ignoring: easel_resizer::image::delta_e::Difference,
}

/// Makes LittleCMS's conversions into renditions with our own resizer (so
/// resizing and encoding are the same on both sides and only colour
/// differs), then compares ours and the baseline's with them.
async fn colour_differences(
    set: &Set,
    images: &[Image],
    profiled: &[colour::Profiled],
    programs: &Programs,
    out_root: &Path,
) -> anyhow::Result<Vec<ColourRow>> {
    let dir = out_root.join(set.key).join("reference");
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    std::fs::create_dir_all(&dir)?;
    let status = Command::new(&programs.ours)
        .args(["--size", &SIZE.to_string(), "--quality", &QUALITY.to_string(), "--out"])
        .arg(&dir)
        .args(profiled.iter().map(|p| &p.reference))
        .stdout(std::process::Stdio::null())
        .status()
        .await
        .context("starting easel-resize on the references")?;
    if !status.success() {
        bail!("easel-resize failed on the references");
    }
    let mut rows: Vec<ColourRow> = Vec::new();
    for (&i, p) in set.images.iter().zip(profiled) {
        let name = format!("{}.jpg", images[i].stem);
        let reference = dir.join(&name);
        let ours = colour::difference(&out_root.join(set.key).join(Tool::Ours.dir()).join(&name), &reference)?;
        let ignoring = colour::difference(&out_root.join(set.key).join(Tool::Baseline.dir()).join(&name), &reference)?;
        let pool = easel_resizer::image::delta_e::Difference::pool;
        match rows.iter_mut().find(|r| r.profile == p.profile) {
            Some(r) => {
                r.files += 1;
                r.ours = pool(&[r.ours, ours]);
                r.worst_file = r.worst_file.max(ours.mean);
                r.ignoring = pool(&[r.ignoring, ignoring]);
            }
            None => rows.push(ColourRow { profile: p.profile, files: 1, ours, worst_file: ours.mean, ignoring }),
        }
    }
    Ok(rows)
}

struct Row {
    seconds: f64,
    rss_mib: f64,
    bytes: u64,
    psnr: f64,
}

fn report(
    sets: &[Set],
    images: &[Image],
    results: &HashMap<(&str, Tool), Result_>,
    runs: u32,
    bootstrap_bytes: u64,
    cold_ms: f64,
    colours: &[ColourRow],
) -> String {
    let row = |set: &Set, tool: Tool| -> Row {
        let r = &results[&(set.key, tool)];
        let mut secs: Vec<f64> = r.samples.iter().map(|s| s.seconds).collect();
        let mut rss: Vec<f64> = r.samples.iter().map(|s| s.peak_rss_kib as f64 / 1024.0).collect();
        Row {
            seconds: measure::median(&mut secs),
            rss_mib: measure::median(&mut rss),
            bytes: r.output_bytes,
            psnr: r.psnr,
        }
    };
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Resize benchmark: fit in {SIZE}×{SIZE}, JPEG q{QUALITY} (PNG where transparent); whole processes on one core \
         (taskset -c 0); median of {runs} runs after a warm-up."
    );
    let _ = writeln!(
        s,
        "Ratios are against easel-resize: speed = their time / ours, memory = our peak RSS / theirs, PSNR Δ = ours − theirs."
    );
    let _ = writeln!(
        s,
        "\n{:<34} {:<20} {:>8} {:>7} {:>9} {:>9} {:>8} {:>7} {:>7} {:>7}",
        "set", "tool", "seconds", "MP/s", "peak RSS", "output", "PSNR dB", "speed", "memory", "PSNR Δ"
    );
    let mut goals = Vec::new();
    for set in sets {
        let mp: f64 = set.images.iter().map(|&i| images[i].megapixels).sum();
        let ours = row(set, Tool::Ours);
        for (n, &tool) in set.tools.iter().enumerate() {
            let r = row(set, tool);
            let ratios = if tool == Tool::Ours {
                format!("{:>7} {:>7} {:>7}", "—", "—", "—")
            } else {
                format!(
                    "{:>6.2}× {:>6.2}× {:>+7.2}",
                    r.seconds / ours.seconds,
                    ours.rss_mib / r.rss_mib,
                    ours.psnr - r.psnr
                )
            };
            let _ = writeln!(
                s,
                "{:<34} {:<20} {:>8.3} {:>7.1} {:>5.0} MiB {:>6.2} MB {:>8.2} {ratios}",
                if n == 0 { set.label.as_str() } else { "" },
                tool.name(),
                r.seconds,
                mp / r.seconds,
                r.rss_mib,
                r.bytes as f64 / 1e6,
                r.psnr
            );
        }
        let baseline = row(set, Tool::Baseline);
        let vs_baseline = ours.seconds / baseline.seconds;
        if set.key == "profiled" {
            let _ = writeln!(
                s,
                "{:<34} colour management costs {:+.1}% of the time (the baseline ignores the profiles)",
                "",
                (vs_baseline - 1.0) * 100.0
            );
            continue;
        }
        goals.push((
            vs_baseline <= 1.05,
            format!(
                "{}: {vs_baseline:.3}× the time of {} (goal ≤ 1.05×, untagged images keep their speed)",
                set.label,
                Tool::Baseline.name()
            ),
        ));
        let vips = row(set, Tool::Vips);
        let pillow = row(set, Tool::Pillow);
        let vs_vips = vips.seconds / ours.seconds;
        let vs_pillow = pillow.seconds / ours.seconds;
        match set.key {
            "jpeg" => goals.push((
                vs_vips >= 1.4 && ours.psnr >= vips.psnr - 0.1,
                format!(
                    "JPEG set: {vs_vips:.2}× vipsthumbnail's speed (goal ≥ 1.4×), mean PSNR {:.2} dB against its {:.2} \
                     (goal: no more than 0.1 dB below)",
                    ours.psnr, vips.psnr
                ),
            )),
            "png" => goals.push((vs_vips >= 5.0, format!("PNG set: {vs_vips:.2}× vipsthumbnail's speed (goal ≥ 5×)"))),
            _ => goals.push((
                vs_vips >= 1.1 && ours.rss_mib <= 0.8 * vips.rss_mib,
                format!(
                    "{}: {vs_vips:.2}× vipsthumbnail's speed (goal ≥ 1.1×), peak RSS {:.2}× its (goal ≤ 0.8×)",
                    set.label,
                    ours.rss_mib / vips.rss_mib
                ),
            )),
        }
        goals.push((vs_pillow >= 3.0, format!("{}: {vs_pillow:.2}× Pillow's speed (goal ≥ 3×)", set.label)));
    }
    let _ = writeln!(
        s,
        "\nbootstrap (the Lambda binary, this machine's x86-64 release build): {:.1} MiB, cold start to first event \
         handled {cold_ms:.1} ms (median of 5, one core)",
        bootstrap_bytes as f64 / (1024.0 * 1024.0)
    );
    let _ = writeln!(
        s,
        "\nColour: each profiled rendition against LittleCMS's conversion of the same file (relative colorimetric, \
         black-point compensation) made into a rendition the same way; mean ΔE2000 of the pixels, then the mean and \
         the worst of the files."
    );
    let _ = writeln!(
        s,
        "{:<20} {:>6} {:>12} {:>12} {:>12} {:>16}",
        "profile", "files", "mean ΔE", "worst file", "worst pixel", "ignoring it"
    );
    for c in colours {
        let _ = writeln!(
            s,
            "{:<20} {:>6} {:>12.3} {:>12.3} {:>12.2} {:>16.3}",
            c.profile, c.files, c.ours.mean, c.worst_file, c.ours.max, c.ignoring.mean
        );
    }
    let all = easel_resizer::image::delta_e::Difference::pool(&colours.iter().map(|c| c.ours).collect::<Vec<_>>());
    let worst = colours.iter().map(|c| c.worst_file).fold(0.0, f64::max);
    goals.push((
        !colours.is_empty() && all.mean <= 1.0 && worst <= 3.0,
        format!("Profiled set: mean ΔE2000 {:.3} (goal ≤ 1.0), worst file {worst:.3} (goal ≤ 3)", all.mean),
    ));
    let _ = writeln!(s, "\nGoals:");
    for (met, text) in goals {
        let _ = writeln!(s, "  [{}] {text}", if met { "met" } else { "NOT MET" });
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(stem: &str, opaque: bool) -> Image {
        Image { path: PathBuf::from(format!("/c/{stem}.src")), stem: stem.into(), megapixels: 1.0, opaque }
    }

    fn programs() -> Programs {
        Programs {
            ours: "/b/easel-resize".into(),
            baseline: "/x/easel-resize".into(),
            bootstrap: "/b/bootstrap".into(),
            vips: "/usr/bin/vipsthumbnail".into(),
            python: "/v/python".into(),
            pillow_script: "/s/pillow_resize.py".into(),
            time: "/usr/bin/time".into(),
        }
    }

    #[test]
    fn vips_gets_one_process_per_output_format() {
        let images = vec![image("photo", true), image("logo", false), image("scan", true)];
        let set = Set { key: "png", label: "mixed".into(), images: vec![0, 1, 2], tools: Tool::ALL.to_vec() };
        let inv = invocations(Tool::Vips, &set, &images, &programs(), Path::new("/o"));
        assert_eq!(inv.len(), 2);
        let args: Vec<String> = inv[0].args.iter().map(|a| a.to_string_lossy().into_owned()).collect();
        assert_eq!(args, ["--size", "1280x1280", "-o", "/o/%s.jpg[Q=85,strip]", "/c/photo.src", "/c/scan.src"]);
        let args: Vec<String> = inv[1].args.iter().map(|a| a.to_string_lossy().into_owned()).collect();
        assert_eq!(args, ["--size", "1280x1280", "-o", "/o/%s.png[strip]", "/c/logo.src"]);
        assert!(inv.iter().all(|i| i.env == [("VIPS_CONCURRENCY".to_owned(), "1".to_owned())]));
    }

    #[test]
    fn ours_and_pillow_take_the_whole_set_in_one_process() {
        let images = vec![image("photo", true), image("logo", false)];
        let set = Set { key: "png", label: "mixed".into(), images: vec![0, 1], tools: Tool::ALL.to_vec() };
        let ours = invocations(Tool::Ours, &set, &images, &programs(), Path::new("/o"));
        let args: Vec<String> = ours[0].args.iter().map(|a| a.to_string_lossy().into_owned()).collect();
        assert_eq!(args, ["--size", "1280", "--quality", "85", "--out", "/o", "/c/photo.src", "/c/logo.src"]);
        let pillow = invocations(Tool::Pillow, &set, &images, &programs(), Path::new("/o"));
        let args: Vec<String> = pillow[0].args.iter().map(|a| a.to_string_lossy().into_owned()).collect();
        assert_eq!(args, ["/s/pillow_resize.py", "1280", "85", "/o", "/c/photo.src:jpg", "/c/logo.src:png"]);
    }

    #[test]
    fn report_states_ratios_and_goals() {
        let images = vec![image("a", true), image("b", false)];
        let all = Tool::ALL.to_vec();
        let sets = vec![
            Set { key: "jpeg", label: "JPEG set".into(), images: vec![0], tools: all.clone() },
            Set { key: "png", label: "PNG set".into(), images: vec![1], tools: all.clone() },
            Set { key: "large", label: "a alone".into(), images: vec![0], tools: all },
            Set {
                key: "profiled",
                label: "Profiled set".into(),
                images: vec![0],
                tools: vec![Tool::Ours, Tool::Baseline],
            },
        ];
        let mut results = HashMap::new();
        for set in &sets {
            for (tool, secs, rss, db) in [
                (Tool::Ours, 1.0, 50_000, 40.0),
                (Tool::Vips, 2.0, 100_000, 40.05),
                (Tool::Pillow, 2.5, 80_000, 40.1),
                (Tool::Baseline, if set.key == "png" { 0.9 } else { 0.99 }, 50_000, 40.0),
            ] {
                let sample = Sample { seconds: secs, peak_rss_kib: rss };
                results.insert((set.key, tool), Result_ { samples: vec![sample], output_bytes: 1_000_000, psnr: db });
            }
        }
        let d = |mean, max| easel_resizer::image::delta_e::Difference { mean, max, pixels: 100 };
        let colours = vec![
            ColourRow { profile: "Display P3", files: 1, ours: d(0.2, 2.5), worst_file: 0.2, ignoring: d(2.0, 6.0) },
            ColourRow { profile: "SWOP CMYK", files: 1, ours: d(0.6, 4.0), worst_file: 0.6, ignoring: d(9.0, 30.0) },
        ];
        let text = report(&sets, &images, &results, 1, 10 << 20, 42.0, &colours);
        assert!(text.contains("[met] JPEG set: 1.010× the time of easel-resize@9d6eed5 (goal ≤ 1.05×"), "{text}");
        assert!(text.contains("[NOT MET] PNG set: 1.111× the time of easel-resize@9d6eed5"), "{text}");
        assert!(text.contains("colour management costs +1.0% of the time"), "{text}");
        assert!(
            text.contains("[met] Profiled set: mean ΔE2000 0.400 (goal ≤ 1.0), worst file 0.600 (goal ≤ 3)"),
            "{text}"
        );
        assert!(text.contains("2.00×"), "{text}");
        assert!(text.contains("[met] JPEG set: 2.00× vipsthumbnail's speed"), "{text}");
        assert!(text.contains("[NOT MET] PNG set: 2.00× vipsthumbnail's speed (goal ≥ 5×)"), "{text}");
        assert!(
            text.contains("[met] a alone: 2.00× vipsthumbnail's speed (goal ≥ 1.1×), peak RSS 0.50× its"),
            "{text}"
        );
        assert!(text.contains("[NOT MET] JPEG set: 2.50× Pillow's speed (goal ≥ 3×)"), "{text}");
        assert!(text.contains("10.0 MiB, cold start to first event handled 42.0 ms"), "{text}");
    }
}
