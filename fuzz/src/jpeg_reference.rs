//! Our JPEG decoder against reference decoders, on every file both accept.
//!
//! - Ours and zune-jpeg (the decoder inside the `image` crate) both accept
//!   the file: the sizes agree (up to a quarter turn; see below). A frame size
//!   is read from one header field, so a disagreement means one of the
//!   decoders misread the structure.
//! - The pixels agree within what separates two correct decoders, IDCT
//!   rounding and chroma upsampling: mean difference < 1.5 levels, no sample
//!   off by more than 48 (the bounds `lambda/src/image/jpeg/tests.rs` holds
//!   on real files)…
//! - …unless the file is outside what decoders agree on, and so where ours
//!   and zune-jpeg differ, libjpeg-turbo (`djpeg -strict`) decides: the
//!   target fails only when libjpeg reads the file without a single warning
//!   *and* agrees with zune-jpeg, while ours agrees with neither.
//!
//! Why a second opinion, and why libjpeg's: decoders legitimately part ways
//! on data the standard forbids or that is damaged, and the fuzzer finds
//! such files within minutes (both are in `fuzz/regressions/jpeg_reference/`):
//!
//! - a Huffman table naming a 12-bit AC coefficient (8-bit JPEG allows 10),
//!   so runs overshoot the 63rd coefficient: ours clamps the position as
//!   libjpeg's code says it does, zune-jpeg wraps it around the block,
//!   jpeg-decoder drops the coefficient unread, and libjpeg-turbo's output
//!   differs from all three: four decoders, four pictures (mean differences
//!   13 to 91 levels), and libjpeg, even with `-strict`, warns of nothing;
//! - three stray bytes before a marker and a stray RST7 in a progressive
//!   file: zune-jpeg and jpeg-decoder agree with each other and differ from
//!   ours by 75 levels in one sample, while libjpeg agrees with ours (max 39)
//!   and calls the file corrupt.
//!
//! A majority of Rust decoders is therefore no oracle; libjpeg is the
//! reference implementation, its warnings are the standard's notion of
//! damage, and our decoder follows its conventions.
//!
//! Plain CMYK (Adobe transform 0) has its size compared but not its pixels:
//! zune-jpeg 0.5 converts it its own way (on the seed `cmyk.jpg` it is 40
//! levels on average from the naive conversion of the source inks, ours 8,
//! the same as both decoders on the YCCK version of the picture, where they
//! agree within 0.2), and djpeg does not write CMYK as RGB at all.
//!
//! `djpeg` comes from Debian's `libjpeg-turbo-progs`, which `cargo ops fuzz`
//! and `cargo ops test` install; it is only run when ours and zune-jpeg
//! differ, which is rare (of the committed files, only the regressions).
//!
//! Our decode is upright (EXIF orientation applied) and the references' are
//! turned by the orientation `image` reads. Malformed EXIF is common and the
//! two readers may disagree on it without either being wrong about pixels, so
//! when that orientation does not match, the other seven are tried;
//! orientation itself is covered by the image core's own tests.

use std::io::{Cursor, Write};
use std::process::{Command, Stdio};

use easel_resizer::{ImageFormat, Limits};
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, RgbImage};

use crate::images::LIMITS;

/// Comparing pixels needs no large images, and a frame of 4 MP claimed by a
/// few bytes would cost three full decodes an execution.
const REFERENCE_LIMITS: Limits = Limits { max_pixels: 1 << 18, ..LIMITS };

const MAX_MEAN: f64 = 1.5;
const MAX_DIFF: u8 = 48;

pub fn jpeg_reference(data: &[u8]) {
    if ImageFormat::sniff(data) != Some(ImageFormat::Jpeg) {
        return;
    }
    let (ours, work) = easel_resizer::image::decode_full(data, &REFERENCE_LIMITS);
    assert!(
        work.within_budget(),
        "the full decode went over its work budget: {work:?} (result {:?})",
        ours.as_ref().err()
    );
    let Ok(ours) = ours else { return };
    let ours = ours.to_rgb8();
    let Some((zune, orientation)) = zune_jpeg(data) else { return };

    let (zw, zh) = turned(&zune, orientation).dimensions();
    assert!(
        ours.dimensions() == (zw, zh) || ours.dimensions() == (zh, zw),
        "ours decodes {:?}, zune-jpeg {:?} (EXIF orientation {orientation:?})",
        ours.dimensions(),
        (zw, zh)
    );
    if declared_cmyk(data) {
        return;
    }
    let ours_vs_zune = best_match(&ours, &zune, orientation);
    if ours_vs_zune.close() {
        return;
    }
    let Some(libjpeg) = libjpeg(data) else { return };
    if !Match::of(&zune, &libjpeg).close() || best_match(&ours, &libjpeg, orientation).close() {
        return;
    }
    panic!(
        "zune-jpeg and libjpeg-turbo agree on a {}×{} JPEG libjpeg finds nothing wrong with, and ours differs: {}",
        ours.width(),
        ours.height(),
        ours_vs_zune.describe()
    );
}

/// How two decodes of the same file compare.
struct Match {
    same_size: bool,
    mean: f64,
    max: u8,
}

impl Match {
    fn of(a: &RgbImage, b: &RgbImage) -> Match {
        if a.dimensions() != b.dimensions() {
            return Match { same_size: false, mean: f64::INFINITY, max: u8::MAX };
        }
        let (mean, max) = diff(a.as_raw(), b.as_raw());
        Match { same_size: true, mean, max }
    }

    fn close(&self) -> bool {
        self.same_size && self.mean < MAX_MEAN && self.max <= MAX_DIFF
    }

    fn describe(&self) -> String {
        if self.same_size {
            format!("mean difference {:.2}, max {} (bounds {MAX_MEAN}, {MAX_DIFF})", self.mean, self.max)
        } else {
            "no orientation of the reference has our size".to_owned()
        }
    }
}

/// `ours` against `stored` turned by `orientation`, or, failing that, by
/// whichever other orientation matches.
fn best_match(ours: &RgbImage, stored: &RgbImage, orientation: Orientation) -> Match {
    let first = Match::of(ours, &turned(stored, orientation));
    if first.close() {
        return first;
    }
    ALL.into_iter()
        .filter(|o| *o != orientation)
        .map(|o| Match::of(ours, &turned(stored, o)))
        .find(Match::close)
        .unwrap_or(first)
}

fn turned(stored: &RgbImage, orientation: Orientation) -> RgbImage {
    let mut img = DynamicImage::ImageRgb8(stored.clone());
    img.apply_orientation(orientation);
    img.to_rgb8()
}

const ALL: [Orientation; 8] = [
    Orientation::NoTransforms,
    Orientation::Rotate90,
    Orientation::Rotate180,
    Orientation::Rotate270,
    Orientation::FlipHorizontal,
    Orientation::FlipVertical,
    Orientation::Rotate90FlipH,
    Orientation::Rotate270FlipH,
];

/// zune-jpeg's decode as `image` does it (lenient), as stored, with the EXIF
/// orientation `image` reads. A panic in it counts as refusing the file.
fn zune_jpeg(data: &[u8]) -> Option<(RgbImage, Orientation)> {
    reference_decoder(|| {
        let mut decoder = image::codecs::jpeg::JpegDecoder::new(Cursor::new(data)).ok()?;
        let mut limits = image::Limits::default();
        limits.max_alloc = Some(LIMITS.max_alloc);
        decoder.set_limits(limits).ok()?;
        let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
        let img = DynamicImage::from_decoder(decoder).ok()?;
        Some((img.to_rgb8(), orientation))
    })
}

/// Runs a reference decoder, whose own bugs are not this target's to find
/// (zune-jpeg 0.5.15 fails an assertion in its AVX2 upsampler on
/// `fuzz/regressions/jpeg_reference/zune_avx2_upsampler_panic.jpg`, and no
/// product code runs zune-jpeg on uploads): a panic means it refuses the
/// file. libFuzzer's panic hook aborts the process, so it is set aside
/// meanwhile; the fuzzer runs one input at a time.
fn reference_decoder<T>(decode: impl FnOnce() -> Option<T>) -> Option<T> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(decode));
    std::panic::set_hook(hook);
    result.ok().flatten()
}

/// Whether zune-jpeg reads the file as plain CMYK rather than YCCK.
fn declared_cmyk(data: &[u8]) -> bool {
    reference_decoder(|| {
        let mut decoder = zune_jpeg::JpegDecoder::new(zune_core::bytestream::ZCursor::new(data));
        decoder.decode_headers().ok()?;
        decoder.input_colorspace()
    }) == Some(zune_core::colorspace::ColorSpace::CMYK)
}

/// libjpeg-turbo's decode, as stored, when it reads the file without a
/// warning (`-strict` makes every warning fatal).
fn libjpeg(data: &[u8]) -> Option<RgbImage> {
    let child = Command::new("djpeg")
        .args(["-strict", "-pnm", "-maxscans", "1000"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
            "ours and zune-jpeg differ on this JPEG and libjpeg-turbo must decide, but `djpeg` is not installed \
             (apt-get install libjpeg-turbo-progs)"
        ),
        Err(e) => panic!("starting djpeg: {e}"),
    };
    let mut stdin = child.stdin.take()?;
    let input = data.to_vec();
    // djpeg may stop reading early; a closed pipe is not our failure.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().expect("djpeg runs");
    let _ = writer.join();
    if !out.status.success() {
        return None;
    }
    pnm_to_rgb(&out.stdout)
}

/// A binary PPM (P6) or PGM (P5) with 8-bit samples, as djpeg writes them.
fn pnm_to_rgb(pnm: &[u8]) -> Option<RgbImage> {
    let mut fields = Vec::new();
    let mut at = 0;
    while fields.len() < 4 {
        while pnm.get(at)?.is_ascii_whitespace() {
            at += 1;
        }
        let start = at;
        while !pnm.get(at)?.is_ascii_whitespace() {
            at += 1;
        }
        fields.push(std::str::from_utf8(&pnm[start..at]).ok()?);
    }
    let pixels = &pnm[at + 1..];
    let (w, h): (u32, u32) = (fields[1].parse().ok()?, fields[2].parse().ok()?);
    let rgb = match (fields[0], fields[3]) {
        ("P6", "255") => pixels.to_vec(),
        ("P5", "255") => pixels.iter().flat_map(|&g| [g, g, g]).collect(),
        _ => return None,
    };
    RgbImage::from_raw(w, h, rgb)
}

/// Mean and largest absolute difference between two equally long buffers.
fn diff(a: &[u8], b: &[u8]) -> (f64, u8) {
    let (mut sum, mut max) = (0u64, 0u8);
    for (x, y) in a.iter().zip(b) {
        let d = x.abs_diff(*y);
        sum += u64::from(d);
        max = max.max(d);
    }
    (sum as f64 / a.len().max(1) as f64, max)
}
