//! Colour-true renditions: an image tagged Display P3, Adobe RGB or CMYK
//! comes out in sRGB as LittleCMS converts it (through Pillow's ImageCms,
//! `colour_reference.py`), within the goal of mean ΔE₀₀ ≤ 1 and max ≤ 3;
//! and hostile forms of the same profiles are ignored within the budget.
//!
//! Needs a Python with Pillow (`EASEL_TEST_PYTHON`; `cargo ops test` sets
//! it to its venv) and Debian's colord-data and libgs-common for the Adobe
//! RGB and CMYK profiles (`cargo ops test` installs them).

use std::path::{Path, PathBuf};
use std::process::Command;

use easel_resizer::image::colour::{Ignored, Space};
use easel_resizer::image::delta_e::{self, Difference};
use easel_resizer::image::hostile;
use easel_resizer::{Colour, EncodeOptions, Limits, RenditionSpec, decode_full, render_metered};

const MEAN_GOAL: f64 = 1.0;
const MAX_GOAL: f64 = 3.0;

fn python() -> PathBuf {
    match std::env::var("EASEL_TEST_PYTHON") {
        Ok(p) if !p.trim().is_empty() => PathBuf::from(p.trim()),
        _ => panic!(
            "this test needs LittleCMS's reference conversion: run through `cargo ops test`, or set \
             EASEL_TEST_PYTHON to a Python with Pillow (pip install -r ops/bench/requirements.txt)"
        ),
    }
}

fn system_profile(path: &str, package: &str) -> PathBuf {
    let p = PathBuf::from(path);
    assert!(
        p.exists(),
        "{path} is missing: install Debian's {package} (`apt-get install {package}`; `cargo ops test` does)"
    );
    p
}

/// A private scratch directory, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("easel-colour-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a scratch directory");
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Smooth sweeps of every hue at every saturation, light and dark: the
/// saturated colours are where a wide-gamut or CMYK profile matters most,
/// and smooth, so chroma subsampling adds no edges of its own.
fn source(dir: &Path) -> PathBuf {
    let (w, h) = (240u32, 160u32);
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        let hue = f64::from(x) / f64::from(w) * 6.0;
        let sat = f64::from(y % 80) / 79.0;
        let val = if y < 80 { 1.0 } else { 0.2 + 0.8 * f64::from(y - 80) / 79.0 };
        let f = hue - hue.floor();
        let (p, q, t) = (val * (1.0 - sat), val * (1.0 - sat * f), val * (1.0 - sat * (1.0 - f)));
        let (r, g, b) = match hue as u32 % 6 {
            0 => (val, t, p),
            1 => (q, val, p),
            2 => (p, val, t),
            3 => (p, q, val),
            4 => (t, p, val),
            _ => (val, p, q),
        };
        image::Rgb([(r * 255.0).round() as u8, (g * 255.0).round() as u8, (b * 255.0).round() as u8])
    });
    let path = dir.join("source.png");
    img.save(&path).expect("writing the source");
    path
}

/// The tagged file and LittleCMS's conversion of it to sRGB.
fn reference(dir: &Path, profile: &Path, ext: &str) -> (Vec<u8>, image::RgbImage) {
    let src = source(dir);
    let (tagged, reference) = (dir.join(format!("tagged.{ext}")), dir.join("reference.png"));
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/colour_reference.py");
    let out = Command::new(python())
        .arg(script)
        .args([&src, profile, &tagged, &reference])
        .output()
        .expect("starting Python");
    assert!(out.status.success(), "colour_reference.py failed: {}", String::from_utf8_lossy(&out.stderr));
    let reference = image::open(&reference).expect("the reference").to_rgb8();
    (std::fs::read(&tagged).expect("the tagged file"), reference)
}

fn difference(a: &image::RgbImage, b: &image::RgbImage) -> Difference {
    assert_eq!(a.dimensions(), b.dimensions());
    delta_e::compare(a.as_raw(), b.as_raw(), 3).expect("same sizes")
}

/// A thumbnail, as the resizer makes it.
fn thumbnail(bytes: &[u8]) -> (image::RgbImage, Colour) {
    let spec = RenditionSpec::new("thumb", 120, 120);
    let (result, work) = render_metered(bytes, &[spec], &Limits::default(), &EncodeOptions::default());
    let rendition = result.expect("a rendition").remove(0);
    (image::load_from_memory(&rendition.bytes).expect("a readable rendition").to_rgb8(), work.colour)
}

/// The tagged file's full decode matches LittleCMS pixel for pixel, and its
/// thumbnail matches the reference made into a thumbnail the same way.
fn assert_matches_reference(name: &str, profile: &Path, ext: &str, space: Space) -> Difference {
    let scratch = Scratch::new(name);
    let (tagged, reference) = reference(&scratch.0, profile, ext);

    let (decoded, work) = decode_full(&tagged, &Limits::default());
    let decoded = decoded.expect("the tagged file decodes").to_rgb8();
    assert_eq!(work.colour, Colour::Converted(space), "{name}");
    let full = difference(&decoded, &reference);
    assert!(full.mean <= MEAN_GOAL && full.max <= MAX_GOAL, "{name}, full size: {full:?} against LittleCMS");

    let mut reference_png = Vec::new();
    reference
        .write_to(&mut std::io::Cursor::new(&mut reference_png), image::ImageFormat::Png)
        .expect("encoding the reference");
    let (ours, colour) = thumbnail(&tagged);
    assert_eq!(colour, Colour::Converted(space));
    let (theirs, colour) = thumbnail(&reference_png);
    assert_eq!(colour, Colour::Untagged);
    // The mean only: a thumbnail's single pixels also differ by what
    // shrinking on load (which averages before converting) and the lossy
    // encoder do to two different inputs, which is not colour management.
    // The per-pixel maximum is held at full size, above.
    let thumb = difference(&ours, &theirs);
    assert!(thumb.mean <= MEAN_GOAL, "{name}, thumbnail: {thumb:?}");
    full
}

/// What ignoring the profile (the old behaviour) would score: the test
/// can fail, and does, on the very files it passes.
fn ignoring_the_profile(profile: &Path) -> Difference {
    let scratch = Scratch::new("ignored");
    let (tagged, reference) = reference(&scratch.0, profile, "png");
    let stripped = image::load_from_memory(&tagged).expect("the tagged PNG").to_rgb8();
    difference(&stripped, &reference)
}

fn display_p3(dir: &Path) -> PathBuf {
    // Written by moxcms, read by LittleCMS for the reference: two
    // independent readings of the same bytes.
    let icc = moxcms::ColorProfile::new_display_p3().encode().expect("encoding Display P3");
    let path = dir.join("DisplayP3.icc");
    std::fs::write(&path, icc).expect("writing the profile");
    path
}

fn adobe_rgb() -> PathBuf {
    system_profile("/usr/share/color/icc/colord/AdobeRGB1998.icc", "colord-data")
}

fn swop_cmyk() -> PathBuf {
    system_profile("/usr/share/color/icc/ghostscript/default_cmyk.icc", "libgs-common")
}

#[test]
fn display_p3_matches_littlecms_in_png_and_jpeg() {
    let dir = Scratch::new("p3-profile");
    let p3 = display_p3(&dir.0);
    let png = assert_matches_reference("p3-png", &p3, "png", Space::Rgb);
    let jpeg = assert_matches_reference("p3-jpeg", &p3, "jpg", Space::Rgb);
    let before = ignoring_the_profile(&p3);
    assert!(before.mean > MEAN_GOAL, "ignoring Display P3 should be visibly wrong: {before:?}");
    eprintln!("Display P3: PNG {png:?}, JPEG {jpeg:?}; ignoring the profile {before:?}");
}

#[test]
fn adobe_rgb_matches_littlecms_in_png_and_jpeg() {
    let png = assert_matches_reference("adobe-png", &adobe_rgb(), "png", Space::Rgb);
    let jpeg = assert_matches_reference("adobe-jpeg", &adobe_rgb(), "jpg", Space::Rgb);
    let before = ignoring_the_profile(&adobe_rgb());
    assert!(before.mean > MEAN_GOAL, "ignoring Adobe RGB should be visibly wrong: {before:?}");
    eprintln!("Adobe RGB: PNG {png:?}, JPEG {jpeg:?}; ignoring the profile {before:?}");
}

#[test]
fn cmyk_with_its_profile_matches_littlecms() {
    let d = assert_matches_reference("cmyk", &swop_cmyk(), "jpg", Space::Cmyk);
    eprintln!("SWOP CMYK: {d:?}");
}

/// CMYK written by another encoder (jpeg-encoder), plainly and as YCCK
/// (Adobe's transform 2, which Photoshop uses for CMYK): both through
/// their embedded profile, as LittleCMS converts libjpeg's decoding.
#[test]
fn ycck_and_plain_cmyk_from_another_encoder_match_littlecms() {
    let scratch = Scratch::new("ycck");
    let src = image::open(source(&scratch.0)).expect("the source").to_rgb8();
    let (w, h) = src.dimensions();
    // Inks from the sweep: under-colour removal puts half the grey in K.
    let inks: Vec<u8> = src
        .pixels()
        .flat_map(|p| {
            let [c, m, y] = p.0.map(|v| 255 - v);
            let k = c.min(m).min(y) / 2;
            [c - k, m - k, y - k, k]
        })
        .collect();
    let icc = std::fs::read(swop_cmyk()).expect("the profile");
    for (name, colour_type) in [("cmyk", jpeg_encoder::ColorType::Cmyk), ("ycck", jpeg_encoder::ColorType::CmykAsYcck)]
    {
        let mut jpeg = Vec::new();
        let mut encoder = jpeg_encoder::Encoder::new(&mut jpeg, 95);
        encoder.add_icc_profile(&icc).expect("a profile fits");
        encoder.encode(&inks, w as u16, h as u16, colour_type).expect("encoding");
        let tagged = scratch.0.join(format!("{name}.jpg"));
        let reference = scratch.0.join(format!("{name}-reference.png"));
        std::fs::write(&tagged, &jpeg).expect("writing");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/colour_reference.py");
        let out = Command::new(python())
            .arg(script)
            .arg("--convert")
            .args([&tagged, &reference])
            .output()
            .expect("starting Python");
        assert!(out.status.success(), "colour_reference.py failed: {}", String::from_utf8_lossy(&out.stderr));
        let reference = image::open(&reference).expect("the reference").to_rgb8();
        let (decoded, work) = decode_full(&jpeg, &Limits::default());
        assert_eq!(work.colour, Colour::Converted(Space::Cmyk), "{name}");
        let d = difference(&decoded.expect("decodes").to_rgb8(), &reference);
        assert!(d.mean <= MEAN_GOAL && d.max <= MAX_GOAL, "{name}: {d:?} against LittleCMS");
        eprintln!("{name} from jpeg-encoder: {d:?}");
    }
}

/// Each hostile form of each profile, in the file type it would arrive
/// in: ignored (the image is still rendered, as sRGB), never a panic, and
/// the work within the decoders' budgets.
#[test]
fn hostile_profiles_are_ignored_within_budget() {
    let dir = Scratch::new("hostile");
    let p3 = display_p3(&dir.0);
    let cases = [(p3, "png"), (adobe_rgb(), "jpg"), (swop_cmyk(), "jpg")];
    for (profile, ext) in cases {
        let scratch = Scratch::new(&format!("hostile-{ext}"));
        let (tagged, _) = reference(&scratch.0, &profile, ext);
        let icc = std::fs::read(&profile).expect("the profile");
        let forms = hostile::hostile_profiles(&icc);
        // The SWOP profile's tables are lut16s, so it also gets the grid
        // that claims gigabytes.
        let want = if profile == swop_cmyk() { 4 } else { 3 };
        assert_eq!(forms.len(), want, "{}", profile.display());
        for (form, bad) in forms {
            let file = hostile::with_icc_profile(&tagged, &bad);
            let name = format!("{} {form}", profile.display());
            let (result, work) =
                render_metered(&file, &RenditionSpec::defaults(), &Limits::default(), &EncodeOptions::default());
            assert!(result.is_ok(), "{name}: {:?}", result.err());
            assert!(
                matches!(work.colour, Colour::Ignored(Ignored::Malformed | Ignored::Unsupported)),
                "{name}: {:?}",
                work.colour
            );
            assert!(work.within_budget(), "{name}: {work:?}");
        }
    }
}

/// A profile cut into APP2 pieces that do not add up is ignored whole.
#[test]
fn a_jpeg_profile_with_a_missing_piece_is_ignored() {
    let scratch = Scratch::new("pieces");
    let (tagged, _) = reference(&scratch.0, &swop_cmyk(), "jpg");
    // The SWOP profile is 187 KB: three pieces. Drop the second.
    let mut at = 2;
    let mut file = tagged[..2].to_vec();
    while tagged[at] == 0xFF && tagged[at + 1] != 0xDA {
        let len = usize::from(u16::from_be_bytes([tagged[at + 2], tagged[at + 3]]));
        let seg = &tagged[at..at + 2 + len];
        if !(seg[1] == 0xE2 && seg[4..].starts_with(b"ICC_PROFILE\0") && seg[16] == 2) {
            file.extend_from_slice(seg);
        }
        at += 2 + len;
    }
    file.extend_from_slice(&tagged[at..]);
    assert!(file.len() < tagged.len() - 60_000, "a piece was dropped");
    let (result, work) = decode_full(&file, &Limits::default());
    assert!(result.is_ok());
    assert_eq!(work.colour, Colour::Ignored(Ignored::Incomplete));
}
