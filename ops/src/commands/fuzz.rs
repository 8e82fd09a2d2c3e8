//! `cargo ops fuzz [TARGET] [--seconds N]`: runs the libFuzzer targets of
//! `fuzz/` with cargo-fuzz on the nightly toolchain, one after the other,
//! and says what each found. `cargo ops test` only replays the committed
//! corpus (fuzz/tests/replay.rs); this is the long run that grows it.
//!
//! Seeds are read from `fuzz/corpus/<target>/`, and the inputs the fuzzer
//! finds interesting are written to `.easel/fuzz/corpus/<target>/`, so the
//! committed seeds stay small and hand-picked while every run still starts
//! from all the coverage earlier runs reached. `fuzz/dicts/<target>.dict`,
//! when there is one, gives the fuzzer the markers and keywords it would take
//! long to guess. A target stops at its first crash (libFuzzer's default) and
//! the next one runs; crashes land where cargo-fuzz puts them,
//! `fuzz/artifacts/<target>/`, and each is then committed under
//! `fuzz/regressions/<target>/`, which the replay runs.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Instant;

use anyhow::{Context, bail};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

use crate::stack::{install, paths::workspace_root};

/// Longest a single input may take before libFuzzer calls it a hang. The
/// image targets decide on ≤ 4 MP within a work budget, which takes well
/// under a second even with AddressSanitizer; a file that takes ten is the
/// kind of hostile input issue 11 is about.
const TIMEOUT_SECONDS: u32 = 10;

#[derive(Debug, clap::Args)]
pub struct Opts {
    /// The target to run (a file stem in fuzz/fuzz_targets/); every target when omitted.
    target: Option<String>,
    /// How long to fuzz each target.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    seconds: u64,
}

/// What one target's run found.
struct Outcome {
    target: String,
    seconds: u64,
    executions: Option<u64>,
    ok: bool,
    new_artifacts: Vec<PathBuf>,
}

pub async fn run(opts: Opts) -> anyhow::Result<()> {
    let root = workspace_root();
    let fuzz = root.join("fuzz");
    let all = targets(&fuzz)?;
    let chosen = match opts.target {
        Some(t) if all.contains(&t) => vec![t],
        Some(t) => bail!("there is no fuzz target `{t}`; the targets are: {}", all.join(", ")),
        None => all,
    };
    nightly().await?;
    cargo_fuzz().await?;
    // The JPEG target's referee (fuzz/src/jpeg_reference.rs).
    install::debian_program("djpeg", "libjpeg-turbo-progs", "libjpeg-turbo's djpeg (the JPEG fuzz target's referee)")
        .await?;

    let mut outcomes = Vec::new();
    for target in &chosen {
        outcomes.push(fuzz_one(&root, target, opts.seconds).await?);
    }

    println!("\n== Fuzzing summary");
    for o in &outcomes {
        let execs = o.executions.map_or("? executions".to_owned(), |n| format!("{n} executions"));
        let verdict = if o.ok && o.new_artifacts.is_empty() { "nothing found" } else { "FOUND A PROBLEM" };
        println!("{:<16} {:>5} s  {execs:<20} {verdict}", o.target, o.seconds);
    }
    let found: Vec<&Outcome> = outcomes.iter().filter(|o| !o.ok || !o.new_artifacts.is_empty()).collect();
    if found.is_empty() {
        println!("\nNo crash, hang or leak. New coverage was kept in .easel/fuzz/corpus/.");
        return Ok(());
    }
    println!(
        "\nNew crashes and hangs landed here (reproduce one with `cargo +nightly fuzz run TARGET --features libfuzzer FILE`):"
    );
    for o in &found {
        if o.new_artifacts.is_empty() {
            println!("  {}: the fuzzer stopped with an error but wrote no file; see its output above", o.target);
        }
        for file in &o.new_artifacts {
            println!("  {}", file.strip_prefix(&root).unwrap_or(file).display());
        }
    }
    println!(
        "Once understood, copy each to fuzz/regressions/<target>/ (the replay in `cargo ops test` runs them) and fix it."
    );
    bail!("fuzzing found {} target(s) with problems", found.len())
}

/// The target names: the stems of `fuzz/fuzz_targets/*.rs`.
fn targets(fuzz: &Path) -> anyhow::Result<Vec<String>> {
    let dir = fuzz.join("fuzz_targets");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .filter_map(|p| Some(p.file_stem()?.to_str()?.to_owned()))
        .collect();
    names.sort();
    Ok(names)
}

/// `cargo` through rustup, so `+nightly` works whatever toolchain runs us.
fn cargo() -> Command {
    let mut cmd = Command::new("cargo");
    cmd.env_remove("RUSTUP_TOOLCHAIN").env_remove("RUSTC").env_remove("RUSTDOC").env_remove("CARGO_TARGET_DIR");
    cmd
}

async fn succeeds(cmd: &mut Command) -> bool {
    cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).status().await.is_ok_and(|s| s.success())
}

/// libFuzzer's instrumentation needs a nightly compiler.
async fn nightly() -> anyhow::Result<()> {
    if succeeds(cargo().args(["+nightly", "--version"])).await {
        return Ok(());
    }
    println!("• Installing the nightly toolchain (`rustup toolchain install nightly --profile minimal`)…");
    let status = Command::new("rustup")
        .args(["toolchain", "install", "nightly", "--profile", "minimal"])
        .status()
        .await
        .context("running rustup (is it installed?)")?;
    if !status.success() {
        bail!("rustup could not install the nightly toolchain ({status})");
    }
    Ok(())
}

async fn cargo_fuzz() -> anyhow::Result<()> {
    if succeeds(cargo().args(["fuzz", "--version"])).await {
        return Ok(());
    }
    println!("• Installing cargo-fuzz from crates.io (`cargo install cargo-fuzz --locked`, a minute or two)…");
    let status = cargo().args(["install", "cargo-fuzz", "--locked"]).status().await.context("running cargo install")?;
    if !status.success() {
        bail!("`cargo install cargo-fuzz --locked` failed ({status})");
    }
    Ok(())
}

async fn fuzz_one(root: &Path, target: &str, seconds: u64) -> anyhow::Result<Outcome> {
    let fuzz = root.join("fuzz");
    let seeds = fuzz.join("corpus").join(target);
    let work = root.join(".easel").join("fuzz").join("corpus").join(target);
    let artifacts = fuzz.join("artifacts").join(target);
    std::fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
    std::fs::create_dir_all(&artifacts).with_context(|| format!("creating {}", artifacts.display()))?;
    let before = files(&artifacts);
    // Markers, chunk names and JSON keywords the fuzzer would take long to guess.
    let dict = Some(fuzz.join("dicts").join(format!("{target}.dict"))).filter(|d| d.exists());

    println!(
        "\n== Fuzzing `{target}` for {seconds} s (seeds: fuzz/corpus/{target}/, new inputs: .easel/fuzz/corpus/{target}/)"
    );
    // Until libFuzzer starts, the time is cargo's (a rebuild after changes).
    let mut started = Instant::now();
    let mut cmd = cargo();
    cmd.args(["+nightly", "fuzz", "run", target, "--features", "libfuzzer", "--fuzz-dir"])
        .arg(&fuzz)
        // Its own target dir: the instrumented nightly build shares nothing
        // with the workspace's, and must not hold the workspace's build lock.
        .arg("--target-dir")
        .arg(fuzz.join("target"))
        .arg(&work)
        .arg(&seeds)
        .arg("--")
        .arg(format!("-max_total_time={seconds}"))
        .arg(format!("-timeout={TIMEOUT_SECONDS}"))
        .arg("-print_final_stats=1")
        .args(dict.map(|d| format!("-dict={}", d.display())))
        // The workspace's release profile asks for thin LTO, which made each
        // of the five instrumented binaries take a quarter of an hour to
        // link on two cores; fuzzing gains nothing from it.
        .env("CARGO_PROFILE_RELEASE_LTO", "false")
        .current_dir(root)
        .stdin(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().context("starting cargo fuzz")?;
    let (mut executions, mut fuzzed) = (None, None);
    if let Some(stderr) = child.stderr.take() {
        let mut lines = BufReader::new(stderr).lines();
        while let Some(line) = lines.next_line().await? {
            eprintln!("{line}");
            if line.starts_with("INFO: Seed:") {
                started = Instant::now();
            }
            if let Some(n) = line.strip_prefix("stat::number_of_executed_units:") {
                executions = n.trim().parse().ok();
            }
            // libFuzzer's last word: "Done 123456 runs in 60 second(s)".
            if let Some(rest) = line.strip_prefix("Done ")
                && let Some((runs, rest)) = rest.split_once(" runs in ")
            {
                executions = executions.or(runs.parse().ok());
                fuzzed = rest.split_whitespace().next().and_then(|s| s.parse().ok());
            }
        }
    }
    let status = child.wait().await?;
    let new_artifacts: Vec<PathBuf> = files(&artifacts).difference(&before).cloned().collect();
    Ok(Outcome {
        target: target.to_owned(),
        // libFuzzer's own count, or the time since it started when it
        // stopped early (a crash) without its last line.
        seconds: fuzzed.unwrap_or_else(|| started.elapsed().as_secs()),
        executions,
        ok: status.success(),
        new_artifacts,
    })
}

fn files(dir: &Path) -> BTreeSet<PathBuf> {
    std::fs::read_dir(dir).map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect()).unwrap_or_default()
}
