//! Installing what the local stack needs, on a fresh machine, saying what
//! is happening. Each step is skipped when it is already done.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
};

use anyhow::{Context, bail};
use tokio::process::Command;

use super::{paths, process::is_root};

/// Runs `cmd` to completion; fails naming `what`, with its output, when it
/// cannot start or exits unsuccessfully.
pub async fn run(cmd: &mut Command, what: &str) -> anyhow::Result<()> {
    let out =
        cmd.stdin(Stdio::null()).output().await.with_context(|| format!("{what}: could not start the command"))?;
    if !out.status.success() {
        bail!(
            "{what} failed ({}):\n{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout).trim_end(),
            String::from_utf8_lossy(&out.stderr).trim_end()
        );
    }
    Ok(())
}

/// The moto server, pinned in `ops/local-aws/requirements.txt`, in `.easel/venv`.
pub async fn moto_venv() -> anyhow::Result<PathBuf> {
    venv(
        paths::venv(),
        "ops/local-aws/requirements.txt",
        "the local AWS emulator (moto, pinned) — first run only, about a minute",
    )
    .await
}

/// Pillow, pinned in `ops/bench/requirements.txt`, beside moto in
/// `.easel/venv` (it has no dependencies to clash with moto's).
pub async fn pillow_venv() -> anyhow::Result<PathBuf> {
    venv(
        paths::venv(),
        "ops/bench/requirements.txt",
        "Pillow (pinned), the colour tests' reference and the benchmark's",
    )
    .await
}

/// The AWS deployment tools (cargo-lambda with its zig linker, cfn-lint,
/// checkov), pinned in `ops/aws/requirements.txt`, in `.easel/aws-venv`:
/// a venv of their own, because checkov pins its own ranges of packages
/// moto also uses.
pub async fn aws_tools_venv() -> anyhow::Result<PathBuf> {
    venv(
        paths::workspace_root().join(".easel").join("aws-venv"),
        "ops/aws/requirements.txt",
        "the AWS deployment tools (cargo-lambda, cfn-lint, checkov; pinned) — first run only, about two minutes",
    )
    .await
}

/// Installs a pinned requirements file (relative to the workspace) into
/// `venv`, skipped while the file is unchanged since its last install. Each
/// requirements file keeps its own marker, so several can share a venv.
async fn venv(venv: PathBuf, requirements: &str, what: &str) -> anyhow::Result<PathBuf> {
    let path = paths::workspace_root().join(requirements);
    let wanted = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let marker = venv.join(format!(".easel-installed-{}", requirements.replace('/', "_")));
    if std::fs::read_to_string(&marker).is_ok_and(|have| have == wanted) {
        return Ok(venv);
    }
    println!("• Installing {what} into {}…", venv.display());
    if !venv.join("bin/python").exists() {
        run(
            Command::new("python3").args(["-m", "venv"]).arg(&venv),
            "creating the Python venv (is python3-venv installed?)",
        )
        .await?;
    }
    run(
        Command::new(venv.join("bin/pip")).args(["install", "--quiet", "--disable-pip-version-check", "-r"]).arg(&path),
        &format!("installing {requirements} into {}", venv.display()),
    )
    .await?;
    std::fs::write(&marker, wanted)?;
    Ok(venv)
}

/// A program from a Debian package: its path, installing the package with
/// apt when the program is missing.
pub async fn debian_program(program: &str, package: &str, what: &str) -> anyhow::Result<PathBuf> {
    let find =
        || ["/usr/bin", "/usr/local/bin", "/bin"].iter().map(|d| Path::new(d).join(program)).find(|p| p.exists());
    if let Some(path) = find() {
        return Ok(path);
    }
    apt_install(package, what).await?;
    find().with_context(|| format!("{package} was installed but {program} was not found"))
}

/// A data file from a Debian package (an ICC profile, say), installing the
/// package with apt when the file is missing.
pub async fn debian_file(path: &str, package: &str, what: &str) -> anyhow::Result<PathBuf> {
    let path = PathBuf::from(path);
    if !path.exists() {
        apt_install(package, what).await?;
    }
    anyhow::ensure!(path.exists(), "{package} was installed but {} was not found", path.display());
    Ok(path)
}

/// `npm ci` in `dir` when its lock file changed since the last install.
pub async fn npm_packages(dir: &Path, what: &str) -> anyhow::Result<()> {
    let lock = dir.join("package-lock.json");
    let installed = dir.join("node_modules/.package-lock.json");
    let fresh = match (std::fs::metadata(&lock), std::fs::metadata(&installed)) {
        (Ok(l), Ok(i)) => i.modified()? >= l.modified()?,
        _ => false,
    };
    if fresh {
        return Ok(());
    }
    println!("• Installing {what} with npm in {}…", dir.display());
    run(
        Command::new("npm").args(["ci", "--no-audit", "--no-fund", "--loglevel=error"]).current_dir(dir),
        &format!("npm ci for {what}"),
    )
    .await
}

pub const CHROMIUM: &str = "/usr/bin/chromium";

/// Debian's Chromium for the browser tests; a browser download would fail here.
pub async fn chromium() -> anyhow::Result<PathBuf> {
    let path = std::env::var("EASEL_CHROMIUM").map(PathBuf::from).unwrap_or_else(|_| PathBuf::from(CHROMIUM));
    if path.exists() {
        return Ok(path);
    }
    apt_install("chromium", "Chromium for the browser tests").await?;
    Ok(path)
}

/// PostgreSQL's server binaries (`initdb`, `pg_ctl`, `postgres`).
pub async fn postgres_bindir() -> anyhow::Result<PathBuf> {
    if let Ok(dir) = std::env::var("EASEL_PG_BIN") {
        return Ok(PathBuf::from(dir));
    }
    if let Some(dir) = find_pg_bindir() {
        return Ok(dir);
    }
    apt_install("postgresql", "the PostgreSQL server").await?;
    find_pg_bindir()
        .context("PostgreSQL was installed but no initdb was found under /usr/lib/postgresql/*/bin; set EASEL_PG_BIN")
}

fn find_pg_bindir() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("initdb").exists())
        .collect();
    // The newest major version wins.
    dirs.sort_by_key(|p| p.parent().and_then(|v| v.file_name()?.to_str()?.parse::<u32>().ok()).unwrap_or(0));
    dirs.pop()
}

async fn apt_install(package: &str, what: &str) -> anyhow::Result<()> {
    if !is_root() {
        bail!(
            "{what} is not installed. Install it with `sudo apt-get install -y {package}` and run the command again."
        );
    }
    println!("• Installing {what} (`apt-get install -y {package}`)…");
    run(Command::new("apt-get").args(["update", "-qq"]), "apt-get update").await?;
    run(
        Command::new("apt-get")
            .args(["install", "-y", "-qq", "--no-install-recommends", package])
            .env("DEBIAN_FRONTEND", "noninteractive"),
        &format!("apt-get install {package}"),
    )
    .await
}
