//! Every committed fuzz input, through the same target functions the
//! libFuzzer binaries call, on stable Rust: the seeds in `corpus/<target>/`
//! and every crash ever found in `regressions/<target>/`. This is how
//! `cargo ops test` (and CI) keeps the targets building and clean without a
//! fuzzing run.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn inputs(kind: &str, target: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(root().join(kind).join(target)) else { return Vec::new() };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("a readable corpus directory").path())
        .filter(|p| p.is_file() && !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')))
        .collect();
    files.sort();
    files
}

fn replay(target: &str) {
    let run = easel_fuzz::target(target).expect("a known target");
    let seeds = inputs("corpus", target);
    assert!(!seeds.is_empty(), "fuzz/corpus/{target}/ has no seeds");
    let files: Vec<PathBuf> = seeds.into_iter().chain(inputs("regressions", target)).collect();
    let mut failures = Vec::new();
    for file in &files {
        let data = std::fs::read(file).expect("a readable input");
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| run(&data))) {
            let message = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("(a panic without a message)");
            let name = file.strip_prefix(root()).unwrap_or(file);
            failures.push(format!("  fuzz/{}: {message}", name.display()));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} inputs of `{target}` fail (reproduce one with `cargo +nightly fuzz run {target} --features libfuzzer FILE`):\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

#[test]
fn inspect_replays_clean() {
    replay("inspect");
}

#[test]
fn render_replays_clean() {
    replay("render");
}

#[test]
fn jpeg_reference_replays_clean() {
    replay("jpeg_reference");
}

#[test]
fn multipart_replays_clean() {
    replay("multipart");
}

#[test]
fn s3_event_replays_clean() {
    replay("s3_event");
}

#[test]
fn bucket_policy_replays_clean() {
    replay("bucket_policy");
}

#[test]
fn icc_profile_replays_clean() {
    replay("icc_profile");
}

/// A target added to `fuzz_targets/` must be listed in `TARGETS` (so it is
/// replayed) and have seeds, and the other way round.
#[test]
fn every_fuzz_binary_is_a_replayed_target() {
    let mut binaries: Vec<String> = std::fs::read_dir(root().join("fuzz_targets"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    binaries.sort();
    let mut listed: Vec<String> = easel_fuzz::TARGETS.iter().map(|(n, _)| (*n).to_owned()).collect();
    listed.sort();
    assert_eq!(binaries, listed, "fuzz_targets/*.rs and easel_fuzz::TARGETS");
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    for name in &listed {
        assert!(manifest.contains(&format!("name = \"{name}\"")), "fuzz/Cargo.toml declares no [[bin]] `{name}`");
        assert!(!inputs("corpus", name).is_empty(), "fuzz/corpus/{name}/ has no seeds");
    }
}
