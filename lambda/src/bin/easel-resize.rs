//! `easel-resize`: the resizer's image core on local files, for people and
//! benchmarks. Uses exactly the `render` the Lambda uses.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use easel_resizer::image::{EncodeOptions, ImageError, Limits, RenditionSpec, render};

/// Fit images within SIZE×SIZE (never enlarging), strip their metadata and
/// write JPEG (opaque) or PNG (transparent) files to DIR.
#[derive(Parser, Debug)]
#[command(name = "easel-resize", version)]
struct Args {
    /// Longest side of the output box, in pixels.
    #[arg(long, default_value_t = 1280, value_parser = clap::value_parser!(u32).range(1..=16384))]
    size: u32,
    /// JPEG quality, 1-100.
    #[arg(long, default_value_t = 85, value_parser = clap::value_parser!(u8).range(1..=100))]
    quality: u8,
    /// Output directory; created if missing.
    #[arg(long)]
    out: PathBuf,
    /// Largest accepted image, in pixels.
    #[arg(long, default_value_t = Limits::default().max_pixels)]
    max_pixels: u64,
    /// Largest accepted file, in bytes.
    #[arg(long, default_value_t = Limits::default().max_bytes)]
    max_bytes: u64,
    /// PNG or JPEG files.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
enum FileError {
    #[error("cannot read: {0}")]
    Read(std::io::Error),
    #[error("{}", .0.log_reason())]
    Image(#[from] ImageError),
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("{path} was already written from another input with the same name")]
    Duplicate { path: PathBuf },
    #[error("the file name has no usable stem")]
    NoStem,
}

struct Written {
    path: PathBuf,
    width: u32,
    height: u32,
    bytes: usize,
}

fn process(file: &Path, args: &Args, written: &mut HashSet<PathBuf>) -> Result<Written, FileError> {
    let limits = Limits { max_pixels: args.max_pixels, max_bytes: args.max_bytes, ..Limits::default() };
    // Refuse before reading a huge file into memory.
    let len = std::fs::metadata(file).map_err(FileError::Read)?.len();
    if len > limits.max_bytes {
        return Err(ImageError::TooLarge { bytes: len, limit: limits.max_bytes }.into());
    }
    let bytes = std::fs::read(file).map_err(FileError::Read)?;
    let spec = RenditionSpec::new("fit", args.size, args.size);
    let rendition = render(&bytes, &[spec], &limits, &EncodeOptions { jpeg_quality: args.quality })?
        .pop()
        .ok_or_else(|| ImageError::Encode("render returned no rendition".to_owned()))?;
    let stem = file.file_stem().ok_or(FileError::NoStem)?;
    let mut path = args.out.join(stem);
    path.set_extension(rendition.format.extension());
    if !written.insert(path.clone()) {
        return Err(FileError::Duplicate { path });
    }
    std::fs::write(&path, &rendition.bytes).map_err(|source| FileError::Write { path: path.clone(), source })?;
    Ok(Written { path, width: rendition.width, height: rendition.height, bytes: rendition.bytes.len() })
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Err(e) = std::fs::create_dir_all(&args.out) {
        eprintln!("easel-resize: cannot create {}: {e}", args.out.display());
        return ExitCode::FAILURE;
    }
    let mut written = HashSet::new();
    let mut failed = 0usize;
    let started = Instant::now();
    for file in &args.files {
        let t = Instant::now();
        match process(file, &args, &mut written) {
            Ok(w) => println!(
                "{} -> {} {}x{} {} bytes {:.1} ms",
                file.display(),
                w.path.display(),
                w.width,
                w.height,
                w.bytes,
                t.elapsed().as_secs_f64() * 1000.0
            ),
            Err(e) => {
                failed += 1;
                println!("{}: FAILED: {e}", file.display());
            }
        }
    }
    eprintln!("{} file(s), {} failed, {:.1} ms", args.files.len(), failed, started.elapsed().as_secs_f64() * 1000.0);
    if failed > 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(out: &Path, files: &[&Path]) -> Args {
        let mut argv =
            vec!["easel-resize".to_owned(), "--size".into(), "64".into(), "--out".into(), out.display().to_string()];
        argv.extend(files.iter().map(|f| f.display().to_string()));
        Args::try_parse_from(argv).unwrap()
    }

    fn scratch() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("easel-resize-test-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn jpeg(w: u16, h: u16) -> Vec<u8> {
        let data = vec![120u8; usize::from(w) * usize::from(h) * 3];
        let mut out = Vec::new();
        jpeg_encoder::Encoder::new(&mut out, 90).encode(&data, w, h, jpeg_encoder::ColorType::Rgb).unwrap();
        out
    }

    #[test]
    fn jpeg_named_png_is_written_as_jpg() {
        let dir = scratch();
        let input = dir.join("photo.png");
        std::fs::write(&input, jpeg(200, 100)).unwrap();
        let out = dir.join("out");
        std::fs::create_dir_all(&out).unwrap();
        let w = process(&input, &args(&out, &[&input]), &mut HashSet::new()).unwrap();
        assert_eq!(w.path, out.join("photo.jpg"));
        assert_eq!((w.width, w.height), (64, 32));
        let written = std::fs::read(&w.path).unwrap();
        assert_eq!(&written[..3], &[0xFF, 0xD8, 0xFF]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn bad_and_duplicate_inputs_fail_with_a_reason() {
        let dir = scratch();
        let text = dir.join("notes.jpg");
        std::fs::write(&text, "just text").unwrap();
        let a = dir.join("a.jpg");
        let b = dir.join("sub").join("a.jpeg");
        std::fs::create_dir_all(b.parent().unwrap()).unwrap();
        std::fs::write(&a, jpeg(16, 16)).unwrap();
        std::fs::write(&b, jpeg(16, 16)).unwrap();
        let out = dir.join("out");
        std::fs::create_dir_all(&out).unwrap();
        let args = args(&out, &[&text, &a, &b]);
        let mut written = HashSet::new();
        let err = process(&text, &args, &mut written).err().unwrap();
        assert_eq!(err.to_string(), "The file is not a PNG or JPEG image.");
        process(&a, &args, &mut written).unwrap();
        assert!(matches!(process(&b, &args, &mut written), Err(FileError::Duplicate { .. })));
        let missing = process(&dir.join("missing.png"), &args, &mut written).err().unwrap();
        assert!(matches!(missing, FileError::Read(_)));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
