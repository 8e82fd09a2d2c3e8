//! The resizer as AWS runs it: `bootstrap` built for arm64 (Graviton) by
//! cargo-lambda, which cross-links with zig, zipped the way
//! `provided.al2023` expects (one executable named `bootstrap` at the root).

use std::{
    io::Read,
    path::{Path, PathBuf},
    process::Stdio,
};

use anyhow::{Context, bail};
use sha2::{Digest, Sha256};
use tokio::process::Command;

use crate::stack::{install, paths::workspace_root};

/// ELF `e_machine` of AArch64.
const EM_AARCH64: u16 = 183;

pub struct Package {
    pub path: PathBuf,
    pub bytes: Vec<u8>,
    pub sha256: String,
}

/// Where cargo-lambda leaves the zip (we pass `--lambda-dir`, so this holds
/// whatever `CARGO_TARGET_DIR` says).
pub fn zip_path() -> PathBuf {
    workspace_root().join("target/lambda/bootstrap/bootstrap.zip")
}

/// Builds the package (release profile of the workspace, arm64) and checks
/// that what came out is what Lambda will run.
pub async fn build() -> anyhow::Result<Package> {
    let venv = install::aws_tools_venv().await?;
    let root = workspace_root();
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut paths = vec![venv.join("bin")];
    paths.extend(std::env::split_paths(&path));
    println!("• Building the resizer for arm64 (release, cargo-lambda + zig)…");
    let status = Command::new(venv.join("bin/cargo-lambda"))
        .args(["lambda", "build", "--release", "--arm64", "-p", "easel-resizer", "--bin", "bootstrap"])
        .args(["--output-format", "zip", "--lambda-dir"])
        .arg(root.join("target/lambda"))
        // cargo-lambda finds zig through the venv's python (the ziglang package).
        .env("PATH", std::env::join_paths(paths)?)
        .current_dir(&root)
        .stdin(Stdio::null())
        .status()
        .await
        .context("starting cargo-lambda")?;
    if !status.success() {
        bail!("cargo lambda build failed ({status}); its output is above");
    }
    let path = zip_path();
    let bytes = std::fs::read(&path).with_context(|| format!("cargo-lambda wrote no package at {}", path.display()))?;
    check_bootstrap(&bytes).with_context(|| format!("{} is not a package Lambda can run", path.display()))?;
    let sha256 = hex::encode(Sha256::digest(&bytes));
    Ok(Package { path, bytes, sha256 })
}

/// The zip must hold an executable `bootstrap` for aarch64 Linux.
pub fn check_bootstrap(zip: &[u8]) -> anyhow::Result<()> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).context("not a zip archive")?;
    let mut entry = archive.by_name("bootstrap").context("no `bootstrap` at the root of the zip")?;
    if entry.unix_mode().is_none_or(|m| m & 0o111 == 0) {
        bail!("`bootstrap` is not marked executable");
    }
    let mut header = [0u8; 20];
    entry.read_exact(&mut header).context("`bootstrap` is shorter than an ELF header")?;
    if &header[..4] != b"\x7fELF" || header[4] != 2 || header[5] != 1 {
        bail!("`bootstrap` is not a 64-bit little-endian ELF file");
    }
    let machine = u16::from_le_bytes([header[18], header[19]]);
    if machine != EM_AARCH64 {
        bail!("`bootstrap` is built for ELF machine {machine}, not aarch64 ({EM_AARCH64})");
    }
    Ok(())
}

pub fn describe(p: &Package, root: &Path) -> String {
    let shown = p.path.strip_prefix(root).unwrap_or(&p.path);
    format!("{} ({:.1} MB, sha256 {})", shown.display(), p.bytes.len() as f64 / 1e6, &p.sha256[..12])
}
