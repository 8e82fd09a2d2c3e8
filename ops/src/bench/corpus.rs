//! The benchmark's photographs: the JPEG and PNG images of Debian's
//! `mate-backgrounds` package, fetched with apt into a cache under
//! `.easel/bench/` on first use and never committed.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use tokio::process::Command;

use crate::stack::install::run;

const PACKAGE: &str = "mate-backgrounds";

pub struct Corpus {
    pub jpegs: Vec<PathBuf>,
    pub pngs: Vec<PathBuf>,
}

fn find_deb(cache: &Path) -> Option<PathBuf> {
    std::fs::read_dir(cache).ok()?.filter_map(|e| e.ok().map(|e| e.path())).find(|p| {
        p.extension().is_some_and(|e| e == "deb")
            && p.file_name().is_some_and(|n| n.to_string_lossy().starts_with(PACKAGE))
    })
}

/// Fetches and unpacks the package into `cache` unless already there.
pub async fn fetch(cache: &Path) -> anyhow::Result<Corpus> {
    let unpacked = cache.join(PACKAGE);
    let root = unpacked.join("usr/share/backgrounds");
    if !root.exists() {
        std::fs::create_dir_all(cache)?;
        if find_deb(cache).is_none() {
            println!("• Fetching the corpus (`apt-get download {PACKAGE}`) into {}…", cache.display());
            let download = || {
                let mut cmd = Command::new("apt-get");
                cmd.args(["download", "-qq", PACKAGE]).current_dir(cache);
                cmd
            };
            if run(&mut download(), "apt-get download").await.is_err() {
                // A fresh machine may have no package lists yet.
                run(Command::new("apt-get").args(["update", "-qq"]), "apt-get update").await?;
                run(&mut download(), &format!("apt-get download {PACKAGE}")).await?;
            }
        }
        let deb = find_deb(cache).context("apt-get download left no .deb behind")?;
        run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&unpacked), "unpacking the corpus with dpkg-deb").await?;
    }
    let mut files = Vec::new();
    walk(&root, &mut files)?;
    files.sort();
    let ext = |p: &Path| p.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    let jpegs: Vec<PathBuf> =
        files.iter().filter(|p| matches!(ext(p).as_deref(), Some("jpg" | "jpeg"))).cloned().collect();
    let pngs: Vec<PathBuf> = files.iter().filter(|p| ext(p).as_deref() == Some("png")).cloned().collect();
    if jpegs.is_empty() || pngs.is_empty() {
        bail!(
            "the corpus in {} has {} JPEGs and {} PNGs; delete it to fetch again",
            root.display(),
            jpegs.len(),
            pngs.len()
        );
    }
    Ok(Corpus { jpegs, pngs })
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else if path.is_file() {
            out.push(path);
        }
    }
    Ok(())
}
