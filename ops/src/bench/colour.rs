//! The resize benchmark's colour part: a profiled set made from the
//! corpus (each photograph tagged Display P3, Adobe RGB, ProPhoto RGB and
//! converted to SWOP CMYK, by `lambda/tests/colour_reference.py`, which
//! also writes LittleCMS's conversion of each to sRGB), the ΔE₀₀ of our
//! renditions against that reference, and the build of easel-resize from
//! before colour management that the untagged sets' speed is held to.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use easel_resizer::image::delta_e::{self, Difference};
use tokio::process::Command;

use crate::stack::install;

/// The last commit before colour management: the named baseline for "the
/// untagged sets keep their speed".
pub const BASELINE_COMMIT: &str = "9d6eed54bb835894fabc70ab9b438d8b3e9092ed";

/// Colourful photographs of the corpus, 4 MP each.
const PHOTOS: [&str; 4] = ["Garden", "LadyBird", "YellowFlower", "TwoWings"];

pub struct Profile {
    pub name: &'static str,
    /// Short and file-name safe.
    pub key: &'static str,
    pub path: PathBuf,
}

/// One tagged file and LittleCMS's conversion of it.
pub struct Profiled {
    pub profile: &'static str,
    pub tagged: PathBuf,
    pub reference: PathBuf,
}

/// The four profiles: Display P3 written by moxcms (LittleCMS reads it for
/// the reference), the rest real files from Debian's packages.
pub async fn profiles(cache: &Path) -> anyhow::Result<Vec<Profile>> {
    let p3 = cache.join("DisplayP3.icc");
    if !p3.exists() {
        let icc = moxcms::ColorProfile::new_display_p3().encode().map_err(|e| anyhow::anyhow!("{e:?}"))?;
        std::fs::create_dir_all(cache)?;
        std::fs::write(&p3, icc)?;
    }
    let what = "ICC profiles for the profiled set";
    Ok(vec![
        Profile { name: "Display P3", key: "p3", path: p3 },
        Profile {
            name: "Adobe RGB (1998)",
            key: "adobe",
            path: install::debian_file("/usr/share/color/icc/colord/AdobeRGB1998.icc", "colord-data", what).await?,
        },
        Profile {
            name: "ProPhoto RGB",
            key: "prophoto",
            path: install::debian_file("/usr/share/color/icc/colord/ProPhotoRGB.icc", "colord-data", what).await?,
        },
        Profile {
            name: "SWOP CMYK",
            key: "cmyk",
            path: install::debian_file("/usr/share/color/icc/ghostscript/default_cmyk.icc", "libgs-common", what)
                .await?,
        },
    ])
}

/// Tags each of `PHOTOS` with each profile, into `dir` (kept between runs).
pub async fn make(dir: &Path, jpegs: &[PathBuf], profiles: &[Profile], python: &Path) -> anyhow::Result<Vec<Profiled>> {
    let script = crate::stack::paths::workspace_root().join("lambda/tests/colour_reference.py");
    std::fs::create_dir_all(dir.join("tagged"))?;
    std::fs::create_dir_all(dir.join("reference"))?;
    let mut out = Vec::new();
    for photo in PHOTOS {
        let src = jpegs
            .iter()
            .find(|p| p.file_stem().is_some_and(|s| s == photo))
            .with_context(|| format!("the corpus has no {photo}.jpg"))?;
        for profile in profiles {
            let stem = format!("{photo}-{}", profile.key);
            let tagged = dir.join("tagged").join(format!("{stem}.jpg"));
            let reference = dir.join("reference").join(format!("{stem}.png"));
            if !(tagged.exists() && reference.exists()) {
                println!("• Tagging {photo} as {} and converting it with LittleCMS…", profile.name);
                let run = Command::new(python)
                    .arg(&script)
                    .args([src, &profile.path, &tagged, &reference])
                    .output()
                    .await
                    .context("starting Python for the reference conversion")?;
                if !run.status.success() {
                    bail!("colour_reference.py on {stem}: {}", String::from_utf8_lossy(&run.stderr).trim_end());
                }
            }
            out.push(Profiled { profile: profile.name, tagged, reference });
        }
    }
    Ok(out)
}

/// ΔE₀₀ between two renditions of the same size.
pub fn difference(ours: &Path, reference: &Path) -> anyhow::Result<Difference> {
    let load = |p: &Path| -> anyhow::Result<image::RgbImage> {
        Ok(image::open(p).with_context(|| format!("decoding {}", p.display()))?.to_rgb8())
    };
    let (a, b) = (load(ours)?, load(reference)?);
    if a.dimensions() != b.dimensions() {
        bail!("{} is {:?} but its reference is {:?}", ours.display(), a.dimensions(), b.dimensions());
    }
    delta_e::compare(a.as_raw(), b.as_raw(), 3).context("comparing renditions")
}

/// easel-resize as it was at `BASELINE_COMMIT`, built once (release, a
/// target directory of its own) under `cache`.
pub async fn baseline(root: &Path, cache: &Path) -> anyhow::Result<PathBuf> {
    let dir = cache.join(format!("baseline-{}", &BASELINE_COMMIT[..7]));
    let binary = dir.join("target/release/easel-resize");
    if binary.exists() {
        return Ok(binary);
    }
    let src = dir.join("src");
    if !src.join("Cargo.toml").exists() {
        std::fs::create_dir_all(&src)?;
        let tar = src.join("source.tar");
        install::run(
            Command::new("git")
                .args(["archive", "--format=tar", "-o"])
                .arg(&tar)
                .arg(BASELINE_COMMIT)
                .current_dir(root),
            &format!("git archive {BASELINE_COMMIT} (a shallow clone lacks it: `git fetch --unshallow`)"),
        )
        .await?;
        install::run(Command::new("tar").arg("-xf").arg(&tar).current_dir(&src), "unpacking the baseline's source")
            .await?;
    }
    println!(
        "• Building the baseline, easel-resize at {} (release, own target directory; first time only, a few minutes)…",
        &BASELINE_COMMIT[..7]
    );
    // The flag outranks CARGO_TARGET_DIR, so ours is never overwritten.
    let target = dir.join("target");
    let target = target.to_str().context("the cache's path is not UTF-8")?;
    super::build_release(&src, &["-q", "-p", "easel-resizer", "--bin", "easel-resize", "--target-dir", target]).await?;
    Ok(binary)
}
