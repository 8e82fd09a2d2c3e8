//! `cargo ops test`: every test, against a private stack of its own (own
//! ports, own database cluster), so it can run beside `cargo ops up`.
//! Rust tests first (`cargo test --workspace`), then the browser tests in
//! `end2end/` against a console started here.

use std::{path::Path, process::Stdio};

use anyhow::{Context, bail};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::Command,
};

use crate::stack::{External, LocalStack, Ports, console, install, paths::StackDir, paths::workspace_root};

/// Real profiles the colour tests convert from, and their Debian packages.
pub const COLOUR_PROFILES: [(&str, &str); 2] = [
    ("/usr/share/color/icc/colord/AdobeRGB1998.icc", "colord-data"),
    ("/usr/share/color/icc/ghostscript/default_cmyk.icc", "libgs-common"),
];

#[derive(Debug, clap::Args)]
pub struct Opts {
    /// Run only the Rust tests (for quick iterations; CI runs everything).
    #[arg(long)]
    no_browser: bool,
    /// Arguments passed on to `cargo test` after `--workspace --no-fail-fast`, e.g. `-p easel-app` or a test-name filter.
    #[arg(last = true)]
    cargo_args: Vec<String>,
}

/// Passed and failed counts, summed over the runners.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
struct Tally {
    passed: u64,
    failed: u64,
}

pub async fn run(opts: Opts) -> anyhow::Result<()> {
    let root = workspace_root();
    // Asked now: `cargo test` may build this binary again while it runs,
    // and Linux names a replaced one "… (deleted)".
    let ops = std::env::current_exe().context("finding the cargo ops binary")?;
    println!("Preparing the test stack…");
    let chromium = if opts.no_browser {
        None
    } else {
        install::npm_packages(&root.join("end2end"), "the browser-test driver (playwright-core)").await?;
        Some(install::chromium().await?)
    };
    // The JPEG fuzz target's referee, for the corpus replay (fuzz/src/jpeg_reference.rs).
    install::debian_program("djpeg", "libjpeg-turbo-progs", "libjpeg-turbo's djpeg (the JPEG fuzz target's referee)")
        .await?;
    // The colour tests' reference conversion (LittleCMS, through Pillow) and
    // real profiles to convert from (lambda/tests/colour.rs).
    let pillow = install::pillow_venv().await?.join("bin/python");
    for (file, package) in COLOUR_PROFILES {
        install::debian_file(file, package, "ICC profiles for the colour tests").await?;
    }
    for abandoned in StackDir::abandoned_tests() {
        LocalStack::discard_state(&abandoned).await;
    }
    let dir = StackDir::test();
    let mut stack = LocalStack::start(dir.clone(), Ports::free()?, External::default(), "easel_e2e", true).await?;
    let result = run_suites(&stack, &opts, chromium.as_deref(), &pillow, &ops).await;
    stack.stop().await;
    LocalStack::discard_state(&dir).await;
    let (tally, ok) = result?;
    println!("\ntotal: {} passed, {} failed", tally.passed, tally.failed);
    if !ok || tally.failed > 0 {
        bail!("some tests failed (see above)");
    }
    if tally.passed == 0 {
        bail!("no test ran");
    }
    Ok(())
}

async fn run_suites(
    stack: &LocalStack,
    opts: &Opts,
    chromium: Option<&Path>,
    pillow: &Path,
    ops: &Path,
) -> anyhow::Result<(Tally, bool)> {
    let root = workspace_root();
    let maintenance = stack.maintenance_url.clone().context("the test stack runs its own Postgres")?;
    let mut env: Vec<(&str, String)> = vec![
        ("EASEL_TEST_DATABASE_URL", maintenance),
        (
            "EASEL_TEST_CONSOLE_DATABASE_URL",
            stack.console_maintenance_url.clone().context("the test stack makes the console's role")?,
        ),
        ("EASEL_AWS_ENDPOINT", stack.aws_endpoint.clone()),
        ("EASEL_SMTP_URL", stack.smtp_url.clone()),
        ("EASEL_AUDIT_KEY_FILE", stack.audit_key_file.display().to_string()),
        ("EASEL_TEST_PYTHON", pillow.display().to_string()),
    ];
    if let Some(inbox) = &stack.inbox_url {
        env.push(("EASEL_MAIL_INBOX_URL", inbox.clone()));
    }

    println!("\n== Rust tests (cargo test --workspace)");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(["test", "--workspace", "--no-fail-fast"])
        .args(&opts.cargo_args)
        .current_dir(&root)
        .envs(env.iter().cloned());
    let (mut rust, mut rust_ok) = run_counting(cmd, parse_cargo_line).await?;

    // The corpus replay above runs the fuzz targets' code; this proves their
    // libFuzzer wrappers still build too. It reuses the test build's
    // dependencies: about 25 s the first time (libFuzzer's C++), 2 s after.
    println!("\n== Fuzz targets build (cargo build -p easel-fuzz --features libfuzzer --bins)");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let built = Command::new(cargo)
        .args(["build", "-q", "-p", "easel-fuzz", "--features", "libfuzzer", "--bins"])
        .current_dir(&root)
        .status()
        .await
        .context("starting cargo build")?
        .success();
    println!("fuzz targets: {}", if built { "built" } else { "FAILED to build" });
    rust.passed += u64::from(built);
    rust.failed += u64::from(!built);
    rust_ok &= built;

    let Some(chromium) = chromium else {
        return Ok((rust, rust_ok));
    };

    println!("\n== Browser tests (end2end/, headless Chromium)");
    let prefix = format!("e2e-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let settings = console::isolated_settings(stack, &prefix, &[])?;
    let running = console::start(&settings).await?;
    let shots = root.join("end2end/screenshots");
    std::fs::create_dir_all(&shots)?;
    let mut cmd = Command::new("node");
    cmd.args(["--test", "--test-reporter=spec", "--test-reporter-destination=stdout", "--test-concurrency=1"])
        .arg("tests/")
        .current_dir(root.join("end2end"))
        .env("EASEL_BASE_URL", format!("http://{}", running.addr))
        .env("EASEL_CHROMIUM", chromium)
        .env("EASEL_SCREENSHOTS", &shots)
        // Each test makes the admin it signs in as with `create-admin` of
        // this very binary, so none depends on another having run first.
        .env("EASEL_OPS", &ops)
        .env("EASEL_E2E_DATABASE_URL", settings.database_url.expose())
        .envs(env.iter().cloned());
    let browser = run_counting(cmd, parse_node_line).await;
    running.stop().await;
    let (browser, browser_ok) = browser?;
    println!("Screenshots of each page from this run: {}", shots.display());

    let tally = Tally { passed: rust.passed + browser.passed, failed: rust.failed + browser.failed };
    Ok((tally, rust_ok && browser_ok))
}

/// Runs `cmd`, echoing its standard output line by line and counting
/// results with `parse`.
async fn run_counting(mut cmd: Command, parse: fn(&str) -> Option<Tally>) -> anyhow::Result<(Tally, bool)> {
    cmd.stdout(Stdio::piped()).stderr(Stdio::inherit()).stdin(Stdio::null());
    let mut child = cmd.spawn().context("starting the test runner")?;
    let mut lines = BufReader::new(child.stdout.take().context("no stdout")?).lines();
    let mut tally = Tally::default();
    while let Some(line) = lines.next_line().await? {
        println!("{line}");
        if let Some(t) = parse(&line) {
            tally.passed += t.passed;
            tally.failed += t.failed;
        }
    }
    let status = child.wait().await?;
    Ok((tally, status.success()))
}

/// `test result: ok. 12 passed; 0 failed; 0 ignored; …`
fn parse_cargo_line(line: &str) -> Option<Tally> {
    let rest = line.trim().strip_prefix("test result: ")?;
    let num = |word: &str| -> Option<u64> {
        rest.split(';').find_map(|part| {
            part.trim()
                .trim_start_matches("ok. ")
                .trim_start_matches("FAILED. ")
                .strip_suffix(word)?
                .trim()
                .parse()
                .ok()
        })
    };
    Some(Tally { passed: num("passed")?, failed: num("failed")? })
}

/// node's spec reporter ends with `ℹ pass 3` and `ℹ fail 0`.
fn parse_node_line(line: &str) -> Option<Tally> {
    let rest = line.trim().strip_prefix("ℹ ")?;
    if let Some(n) = rest.strip_prefix("pass ") {
        return Some(Tally { passed: n.trim().parse().ok()?, failed: 0 });
    }
    if let Some(n) = rest.strip_prefix("fail ") {
        return Some(Tally { passed: 0, failed: n.trim().parse().ok()? });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cargo_summaries_are_counted() {
        assert_eq!(
            parse_cargo_line(
                "test result: ok. 12 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.01s"
            ),
            Some(Tally { passed: 12, failed: 0 })
        );
        assert_eq!(
            parse_cargo_line("test result: FAILED. 3 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out"),
            Some(Tally { passed: 3, failed: 2 })
        );
        assert_eq!(parse_cargo_line("running 3 tests"), None);
    }

    #[test]
    fn node_summaries_are_counted() {
        assert_eq!(parse_node_line("ℹ pass 4"), Some(Tally { passed: 4, failed: 0 }));
        assert_eq!(parse_node_line("ℹ fail 1"), Some(Tally { passed: 0, failed: 1 }));
        assert_eq!(parse_node_line("ℹ tests 5"), None);
    }
}
