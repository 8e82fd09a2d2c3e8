//! `cargo ops bench hostile`: what deciding on a hostile file costs, in
//! CPU instructions, against a real photograph of the same pixel count.
//!
//! The hostile files are the image core's own (`image::hostile::corpus`,
//! the ones its regression tests use). Each is decided on by
//! `easel-decide` under callgrind, counting only the decision; so is a real
//! photograph at the same size, written several ways, and the cheapest way
//! is the baseline, so every ratio errs against us. Instruction counts are
//! the same on a busy machine as on an idle one.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context, bail};
use easel_resizer::image::hostile::{self as corpus_of, Expect, Hostile};
use indicatif::{ProgressBar, ProgressStyle};

use super::callgrind::{self, FunctionCost, Measured};
use super::corpus;
use super::photos::{self, Format, Photo, Variant};
use crate::stack::{install, paths::workspace_root};

/// The goal: no hostile file costs more than twice its photograph.
pub const GOAL: f64 = 2.0;

/// Functions shown for each file over the goal.
const TOP_FUNCTIONS: usize = 10;

#[derive(Debug, clap::Args)]
pub struct Opts {
    /// Also count the resizer's `render` (default renditions) on every file, beside the upload check.
    #[arg(long)]
    render: bool,
    /// Only the hostile files whose name contains this (and photographs of their sizes).
    #[arg(long)]
    only: Option<String>,
}

/// Which code path a count is of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Step {
    /// The upload check, `inspect`: deciding.
    Inspect,
    /// The resizer, `render` with the default renditions.
    Render,
}

/// One callgrind run to make.
struct Job {
    file: PathBuf,
    out: PathBuf,
    path: Step,
    pixels: u64,
}

pub fn format_of(h: &Hostile) -> Format {
    if h.name.starts_with("png-") || h.name.starts_with("truncated-png") || h.bytes.starts_with(b"\x89PNG") {
        Format::Png
    } else {
        Format::Jpeg
    }
}

pub async fn run(opts: Opts) -> anyhow::Result<()> {
    let root = workspace_root();
    let cache = root.join(".easel/bench");
    let dir = cache.join("hostile");
    println!("Preparing the hostile-file benchmark…");
    let valgrind = install::debian_program("valgrind", "valgrind", "valgrind (callgrind counts instructions)").await?;
    let annotate = install::debian_program("callgrind_annotate", "valgrind", "valgrind's callgrind_annotate").await?;
    let decide = build(&root).await?;
    let bench_corpus = corpus::fetch(&cache.join("corpus")).await?;

    // The hostile files, written afresh.
    let mut hostiles = corpus_of::corpus();
    if let Some(only) = &opts.only {
        hostiles.retain(|h| h.name.contains(only.as_str()));
        if hostiles.is_empty() {
            bail!("no hostile file's name contains `{only}`");
        }
    }
    std::fs::create_dir_all(&dir)?;
    for entry in std::fs::read_dir(&dir)? {
        let path = entry?.path();
        if path.is_file() {
            std::fs::remove_file(&path)?;
        }
    }
    let mut hostile_files = Vec::new();
    for h in &hostiles {
        let ext = match format_of(h) {
            Format::Jpeg => "jpg",
            Format::Png => "png",
        };
        let path = dir.join(format!("{}.{ext}", h.name));
        std::fs::write(&path, &h.bytes).with_context(|| format!("writing {}", path.display()))?;
        hostile_files.push(path);
    }
    println!("• Wrote {} hostile files to {}", hostiles.len(), dir.display());

    // Photographs at every size and format a hostile file claims, from the
    // corpus's largest JPEG.
    let source_path = largest_photo(&bench_corpus.jpegs)?;
    let mut source = photos::Source::new(source_path);
    let sizes: BTreeSet<(u32, u32, Format)> = hostiles.iter().map(|h| (h.width, h.height, format_of(h))).collect();
    let mut photos_made: Vec<Photo> = Vec::new();
    for &(w, h, format) in &sizes {
        let variants: Vec<Variant> = Variant::ALL.into_iter().filter(|v| v.format == format).collect();
        println!("• Photographs at {w}×{h} ({})…", if format == Format::Jpeg { "JPEG" } else { "PNG" });
        photos_made.extend(photos::make(&mut source, &dir.join("photos"), w, h, &variants)?);
    }

    // Every count, two at a time (callgrind runs one thread per process).
    let out_dir = dir.join("callgrind");
    std::fs::create_dir_all(&out_dir)?;
    let paths: &[Step] = if opts.render { &[Step::Inspect, Step::Render] } else { &[Step::Inspect] };
    let mut jobs = Vec::new();
    let files = hostile_files
        .iter()
        .zip(hostiles.iter().map(Hostile::pixels))
        .chain(photos_made.iter().map(|p| (&p.path, u64::from(p.width) * u64::from(p.height))));
    for (file, pixels) in files {
        for &path in paths {
            let stem = file.file_name().and_then(|n| n.to_str()).context("file name")?;
            let kind = if path == Step::Inspect { "inspect" } else { "render" };
            jobs.push(Job { file: file.clone(), out: out_dir.join(format!("{stem}.{kind}.out")), path, pixels });
        }
    }
    // Largest first, so the two workers finish together.
    jobs.sort_by_key(|j| std::cmp::Reverse(j.pixels));
    let counts = count_all(&jobs, &valgrind, &decide)?;

    let rows = rows(&hostiles, &hostile_files, &photos_made, &counts, opts.render)?;
    let mut breakdowns = Vec::new();
    for row in rows.iter().filter(|r| r.ratio.is_some_and(|x| x > GOAL)) {
        let out = out_dir.join(format!("{}.inspect.out", file_name(&row.file)));
        breakdowns.push((row.name.clone(), callgrind::top_functions(&annotate, &out, TOP_FUNCTIONS)?));
    }
    let photo_rows: Vec<PhotoRow> = photos_made
        .iter()
        .map(|p| PhotoRow {
            photo: p.clone(),
            inspect: counts[&(p.path.clone(), Step::Inspect)].clone(),
            render: counts.get(&(p.path.clone(), Step::Render)).cloned(),
        })
        .collect();
    let report = report(&rows, &photo_rows, &breakdowns, source.path(), &out_dir, opts.only.is_some());
    println!("\n{report}");
    let saved = cache.join(if opts.only.is_some() { "hostile-report-partial.txt" } else { "hostile-report.txt" });
    std::fs::write(&saved, &report)?;
    println!("(saved to {})", saved.display());
    Ok(())
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// Builds `easel-decide` in release, as the Lambda's code is built.
async fn build(root: &Path) -> anyhow::Result<PathBuf> {
    println!("• Building easel-decide (cargo build --release; the first time builds easel-ops's dependencies)…");
    Ok(super::build_release(root, &["-p", "easel-ops", "--bin", "easel-decide"]).await?.join("easel-decide"))
}

fn largest_photo(jpegs: &[PathBuf]) -> anyhow::Result<PathBuf> {
    let mut best: Option<(u64, &PathBuf)> = None;
    for path in jpegs {
        let (w, h) = image::image_dimensions(path).with_context(|| format!("reading {}", path.display()))?;
        let pixels = u64::from(w) * u64::from(h);
        if best.is_none_or(|(p, _)| pixels > p) {
            best = Some((pixels, path));
        }
    }
    best.map(|(_, p)| p.clone()).context("no JPEG in the corpus")
}

type Counts = BTreeMap<(PathBuf, Step), Measured>;

/// Runs every job under callgrind on two workers, with a progress bar.
fn count_all(jobs: &[Job], valgrind: &Path, decide: &Path) -> anyhow::Result<Counts> {
    let bar = ProgressBar::new(jobs.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    let next = AtomicUsize::new(0);
    let results = Mutex::new(Counts::new());
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get().min(2));
    let worker = || -> anyhow::Result<()> {
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(job) = jobs.get(i) else { return Ok(()) };
            let what = if job.path == Step::Inspect { "inspect" } else { "render" };
            bar.set_message(format!("callgrind: {what} {}", file_name(&job.file)));
            let m = callgrind::measure(valgrind, decide, &job.file, job.path == Step::Render, &job.out)?;
            results.lock().map_err(|_| anyhow::anyhow!("a worker panicked"))?.insert((job.file.clone(), job.path), m);
            bar.inc(1);
        }
    };
    let outcomes: Vec<anyhow::Result<()>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers).map(|_| s.spawn(worker)).collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|_| Err(anyhow::anyhow!("a worker panicked")))).collect()
    });
    bar.finish_and_clear();
    for o in outcomes {
        o?;
    }
    results.into_inner().map_err(|_| anyhow::anyhow!("a worker panicked"))
}

/// One hostile file's line of the report.
struct Row {
    name: String,
    class: &'static str,
    file: PathBuf,
    bytes: usize,
    pixels: u64,
    expect: Expect,
    inspect: Measured,
    /// Cheapest photograph of the same size and format that the core
    /// accepts, any variant, and which variant that is. None when every
    /// variant is refused (over the size limit).
    baseline: Option<(u64, &'static str)>,
    ratio: Option<f64>,
    /// Against the cheapest accepted colour photograph (the cheaper of
    /// baseline and progressive for JPEG, the RGB PNG).
    ratio_colour: Option<f64>,
    /// With `--render`: the resizer's count and its ratio to the cheapest photograph's.
    render: Option<(u64, Option<f64>)>,
}

struct PhotoRow {
    photo: Photo,
    inspect: Measured,
    render: Option<Measured>,
}

fn rows(
    hostiles: &[Hostile],
    files: &[PathBuf],
    photos: &[Photo],
    counts: &Counts,
    render: bool,
) -> anyhow::Result<Vec<Row>> {
    // A photograph the core refuses (a 48 MP RGB PNG is over the size
    // limit) decides in a few hundred instructions: no baseline.
    let cheapest = |h: &Hostile, path: Step, colour_only: bool| -> Option<(u64, &'static str)> {
        photos
            .iter()
            .filter(|p| p.width == h.width && p.height == h.height && p.variant.format == format_of(h))
            .filter(|p| !colour_only || p.variant.colour)
            .filter_map(|p| counts.get(&(p.path.clone(), path)).map(|m| (m, p.variant.label())))
            .filter(|(m, _)| m.accepted)
            .map(|(m, label)| (m.ir, label))
            .min()
    };
    let over = |ir: u64, base: Option<(u64, &str)>| base.map(|(b, _)| ir as f64 / b as f64);
    let mut out = Vec::new();
    for (h, file) in hostiles.iter().zip(files) {
        let inspect = counts.get(&(file.clone(), Step::Inspect)).context("a hostile file was not measured")?.clone();
        let baseline = cheapest(h, Step::Inspect, false);
        let render = if render {
            let ir = counts.get(&(file.clone(), Step::Render)).context("render not measured")?.ir;
            Some((ir, over(ir, cheapest(h, Step::Render, false))))
        } else {
            None
        };
        out.push(Row {
            name: h.name.clone(),
            class: h.class,
            file: file.clone(),
            bytes: h.bytes.len(),
            pixels: h.pixels(),
            expect: h.expect,
            ratio: over(inspect.ir, baseline),
            ratio_colour: over(inspect.ir, cheapest(h, Step::Inspect, true)),
            inspect,
            baseline,
            render,
        });
    }
    // Worst first, files without a photograph to compare with last.
    out.sort_by(|a, b| b.ratio.unwrap_or(-1.0).total_cmp(&a.ratio.unwrap_or(-1.0)));
    Ok(out)
}

/// 1234 → "1.2k", 12_345_678 → "12.3M".
fn short(n: u64) -> String {
    let v = n as f64;
    match n {
        0..1_000 => n.to_string(),
        1_000..1_000_000 => format!("{:.1}k", v / 1e3),
        1_000_000..1_000_000_000 => format!("{:.1}M", v / 1e6),
        _ => format!("{:.2}G", v / 1e9),
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}

fn decision(m: &Measured, expect: Option<Expect>) -> String {
    let mut s = if m.accepted {
        format!("accepted {}", m.detail.split_once(' ').map_or(m.detail.as_str(), |(_, size)| size))
    } else {
        format!("refused: {}", m.detail)
    };
    if m.accepted && expect == Some(Expect::Refused) {
        s = format!("ACCEPTED (should be refused) {}", m.detail);
    }
    if !m.within_budget {
        s.insert_str(0, "OVER BUDGET ");
    }
    truncate(&s, 58)
}

fn work(m: &Measured) -> String {
    let w = &m.work;
    let mut parts = Vec::new();
    if w.blocks_decoded > 0 || w.block_budget > 0 {
        parts.push(format!("blocks {}/{}", short(w.blocks_decoded), short(w.block_budget)));
    }
    if w.bytes_inflated > 0 || w.inflate_budget > 0 {
        parts.push(format!("inflated {}/{}", short(w.bytes_inflated), short(w.inflate_budget)));
    }
    if parts.is_empty() { "—".to_owned() } else { parts.join(", ") }
}

fn report(
    rows: &[Row],
    photos: &[PhotoRow],
    breakdowns: &[(String, Vec<FunctionCost>)],
    source: &Path,
    out_dir: &Path,
    partial: bool,
) -> String {
    let render = rows.iter().any(|r| r.render.is_some());
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Hostile-file benchmark: CPU instructions (callgrind Ir) the upload check (`inspect`, default limits) spends \
         deciding on each hostile file, divided by what it spends on a real photograph of the same pixel count."
    );
    let _ = writeln!(
        s,
        "Baseline = the CHEAPEST real variant at that size and format, so every ratio is conservative: for a JPEG file \
         the cheapest of baseline and progressive, colour (4:2:0) and grey, all q{}; for a PNG file the cheaper of RGB \
         and grey. `vs colour` is against the cheaper of the colour variants alone (baseline vs progressive JPEG; RGB \
         PNG).",
        photos::QUALITY
    );
    let _ = writeln!(
        s,
        "Counting covers only easel-decide's `{}` (release build): not process start-up, not reading the file. \
         Callgrind data: {}",
        callgrind::DECIDE_FN,
        out_dir.display()
    );
    if partial {
        let _ = writeln!(s, "PARTIAL RUN (--only): not every hostile file was measured.");
    }

    let _ = writeln!(
        s,
        "\nReal photographs ({}, centre-cropped and resized with Lanczos3):",
        source.file_name().map(|n| n.to_string_lossy()).unwrap_or_default()
    );
    let _ = writeln!(
        s,
        "{:<12} {:<22} {:>10} {:>9}  {:<28}{}",
        "size",
        "variant",
        "bytes",
        "Ir",
        "work (used/budget)",
        if render { format!(" {:>9}", "render Ir") } else { String::new() }
    );
    for p in photos {
        let refused = if p.inspect.accepted {
            String::new()
        } else {
            format!("  not a baseline, {}", decision(&p.inspect, None))
        };
        let _ = writeln!(
            s,
            "{:<12} {:<22} {:>10} {:>9}  {:<28}{}{refused}",
            format!("{}×{}", p.photo.width, p.photo.height),
            p.photo.variant.label(),
            p.photo.bytes,
            short(p.inspect.ir),
            work(&p.inspect),
            p.render.as_ref().map(|r| format!(" {:>9}", short(r.ir))).unwrap_or_default()
        );
    }

    let ratio = |r: Option<f64>, width: usize| match r {
        Some(r) => format!("{:>w$.2}×", r, w = width - 1),
        None => format!("{:>width$}", "—"),
    };
    let _ = writeln!(s, "\nHostile files, worst ratio first:");
    let _ = writeln!(
        s,
        "{:<36} {:<26} {:>9} {:>9} {:<66} {:>8} {:>9} {:>8} {:>9}  {:<26}{}",
        "file",
        "class",
        "bytes",
        "pixels",
        "decision",
        "Ir",
        "photo Ir",
        "ratio",
        "vs colour",
        "work (used/budget)",
        if render { format!(" {:>9} {:>8}", "render Ir", "ratio") } else { String::new() }
    );
    for r in rows {
        let _ = writeln!(
            s,
            "{:<36} {:<26} {:>9} {:>9} {:<66} {:>8} {:>9} {} {}  {:<26}{}",
            r.name,
            r.class,
            r.bytes,
            r.pixels,
            decision(&r.inspect, Some(r.expect)),
            short(r.inspect.ir),
            r.baseline.map_or_else(|| "—".to_owned(), |(b, _)| short(b)),
            ratio(r.ratio, 8),
            ratio(r.ratio_colour, 9),
            work(&r.inspect),
            r.render.map(|(ir, rr)| format!(" {:>9} {}", short(ir), ratio(rr, 8))).unwrap_or_default()
        );
    }

    for (name, functions) in breakdowns {
        let _ = writeln!(s, "\nWhere {name}'s instructions go (callgrind_annotate --inclusive=no, self cost):");
        for f in functions {
            let _ = writeln!(s, "  {:>9} {:>6.2}%  {}", short(f.ir), f.percent, truncate(&f.name, 150));
        }
    }

    if let Some((ir, rr, name)) = rows
        .iter()
        .filter_map(|r| r.render.and_then(|(ir, rr)| rr.map(|rr| (ir, rr, &r.name))))
        .max_by(|a, b| a.1.total_cmp(&b.1))
    {
        let _ = writeln!(s, "\nResizer (`render`, default renditions): worst {name} at {rr:.2}× ({} Ir).", short(ir));
    }
    let unmatched: Vec<&str> = rows.iter().filter(|r| r.ratio.is_none()).map(|r| r.name.as_str()).collect();
    if !unmatched.is_empty() {
        let _ = writeln!(s, "\nNo accepted photograph to compare with: {}", unmatched.join(", "));
    }
    let over = rows.iter().filter(|r| r.ratio.is_some_and(|x| x > GOAL)).count();
    let measured = rows.iter().filter(|r| r.ratio.is_some()).count();
    match rows.first().and_then(|w| Some((w, w.ratio?, w.baseline?))) {
        Some((w, worst, (base, label))) => {
            let colour = w.ratio_colour.map_or_else(
                || "no colour photograph accepted".to_owned(),
                |c| format!("{c:.2}× the cheapest colour one"),
            );
            let _ = writeln!(
                s,
                "\n{over} of {measured} hostile files above {GOAL}×. Worst: {} at {worst:.2}× the cheapest photograph \
                 ({label}: {} against {} Ir; {colour}). Goal ≤ {GOAL}×: {}",
                w.name,
                short(w.inspect.ir),
                short(base),
                if worst <= GOAL && unmatched.is_empty() { "met" } else { "NOT MET" }
            );
        }
        None => {
            let _ = writeln!(s, "\nNo hostile file could be compared with a photograph.");
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measured(ir: u64, accepted: bool, detail: &str) -> Measured {
        Measured { ir, accepted, detail: detail.into(), within_budget: true, ..Measured::default() }
    }

    fn row(name: &str, ir: u64, baseline: u64) -> Row {
        Row {
            name: name.into(),
            class: "many scans",
            file: PathBuf::from(format!("/h/{name}.jpg")),
            bytes: 100,
            pixels: 1 << 20,
            expect: Expect::Refused,
            inspect: measured(ir, false, "Contrived: too many scans"),
            baseline: Some((baseline, "JPEG grey baseline")),
            ratio: Some(ir as f64 / baseline as f64),
            ratio_colour: Some(ir as f64 / (baseline * 2) as f64),
            render: None,
        }
    }

    #[test]
    fn hostile_files_are_sorted_by_format() {
        let all = corpus_of::corpus();
        let png = all.iter().filter(|h| format_of(h) == Format::Png).count();
        assert!(png > 0 && png < all.len());
        assert!(all.iter().filter(|h| format_of(h) == Format::Png).all(|h| h.name.contains("png")));
    }

    #[test]
    fn the_worst_file_comes_last_with_its_verdict() {
        let rows = vec![row("bad", 5_000_000, 1_000_000), row("fine", 1_000_000, 1_000_000)];
        let text = report(&rows, &[], &[], Path::new("/c/photo.jpg"), Path::new("/o"), false);
        let last = text.trim_end().lines().last().unwrap();
        assert!(last.contains("Worst: bad at 5.00×"), "{text}");
        assert!(last.contains("2.50× the cheapest colour one"), "{text}");
        assert!(last.ends_with("NOT MET"), "{text}");
        assert!(text.contains("1 of 2 hostile files above 2×"), "{text}");
        let text = report(&rows[1..], &[], &[], Path::new("/c/photo.jpg"), Path::new("/o"), false);
        assert!(text.trim_end().ends_with("Goal ≤ 2×: met"), "{text}");
    }

    #[test]
    fn decisions_are_short_and_flag_surprises() {
        assert_eq!(decision(&measured(1, true, "Jpeg 64x64"), Some(Expect::Either)), "accepted 64x64");
        assert!(decision(&measured(1, true, "Jpeg 64x64"), Some(Expect::Refused)).starts_with("ACCEPTED"));
        let long = "Contrived: ".to_owned() + &"x".repeat(100);
        assert_eq!(decision(&measured(1, false, &long), None).chars().count(), 58);
        assert_eq!(short(999), "999");
        assert_eq!(short(12_345_678), "12.3M");
        assert_eq!(short(2_500_000_000), "2.50G");
    }
}
