//! Colour management: an image that says which colours its numbers mean
//! (an embedded ICC profile, or PNG's gAMA and cHRM) is converted to sRGB
//! before it is resized, and every rendition is written as untagged sRGB.
//!
//! Why convert and then untag: the web takes untagged images as sRGB, so
//! a rendition in sRGB needs no profile to be shown right, and a profile
//! would cost every thumbnail a few hundred bytes (imgproxy converts and
//! strips by default for the same reason). Dropping a profile *without*
//! converting, as we did before, shows Display P3 and Adobe RGB dull and
//! CMYK with shifted hues.
//!
//! The conversion is relative colorimetric with black-point compensation,
//! Photoshop's default for converting to a smaller space. For the
//! matrix-and-curves profiles of RGB images both blacks are zero and the
//! compensation changes nothing; for CMYK it maps the paper's deepest
//! black to sRGB black instead of a washed-out grey.
//!
//! The engine is moxcms: pure Rust (the aarch64 Lambda builds it like
//! everything else), hardened against hostile profiles (bounded tag
//! tables, table sizes and text), and within the ΔE goal of LittleCMS,
//! which `cargo ops bench resize` measures on every profiled set.
//!
//! A profile that cannot be used (too large, malformed, for another
//! colour space than the image's, or of a kind moxcms cannot convert) is
//! ignored: the image is shown as untagged sRGB, which is what browsers
//! do with such a profile, and the outcome says why so the resizer logs it.
//!
//! About 520 lines of code (and 110 of tests): reading profiles, the RGB and
//! CMYK conversions, black-point compensation and the cache of recent
//! conversions share one set of decisions about what to trust, so they stay
//! in one file.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use moxcms::{
    Chromaticity, ColorPrimaries, ColorProfile, DataColorSpace, Layout, ParsingOptions, ProfileClass, RenderingIntent,
    ToneReprCurve, Transform8BitExecutor, Transform16BitExecutor, TransformOptions, XyY,
};

/// The largest profile read. Press profiles (ECI's ISO Coated, IDEAlliance's
/// GRACoL) are 2 to 4 MB; twice that leaves room, and parsing is linear in
/// the bytes, so this also bounds the work a hostile profile can ask for.
pub const MAX_PROFILE_BYTES: usize = 8 << 20;

/// What was done about an image's colours.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Colour {
    /// No colour information: sRGB, as the web takes it.
    #[default]
    Untagged,
    /// Tagged as sRGB (or with a profile that converts nothing): left alone.
    Srgb,
    /// Converted to sRGB from an embedded profile of this kind.
    Converted(Space),
    /// Converted to sRGB from PNG's gAMA and cHRM chunks.
    ConvertedFromChunks,
    /// An embedded profile that could not be used; the image is taken as sRGB.
    Ignored(Ignored),
}

/// The colour space an image's samples are in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Space {
    Gray,
    Rgb,
    Cmyk,
}

/// Why a profile was ignored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ignored {
    /// Larger than `MAX_PROFILE_BYTES` (or, in a PNG, inflating past it).
    TooLarge,
    /// Not a well-formed ICC profile (truncated, tables out of bounds).
    Malformed,
    /// JPEG: the profile's APP2 pieces are missing, repeated or disagree.
    Incomplete,
    /// Made for another colour space than the image's samples.
    WrongSpace,
    /// Well-formed, but of a kind the colour engine cannot convert.
    Unsupported,
}

impl std::fmt::Display for Space {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Space::Gray => "grey",
            Space::Rgb => "RGB",
            Space::Cmyk => "CMYK",
        })
    }
}

impl std::fmt::Display for Colour {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Colour::Untagged => f.write_str("untagged, taken as sRGB"),
            Colour::Srgb => f.write_str("sRGB"),
            Colour::Converted(space) => write!(f, "converted to sRGB from its embedded {space} profile"),
            Colour::ConvertedFromChunks => f.write_str("converted to sRGB from its PNG gamma and chromaticities"),
            Colour::Ignored(why) => write!(
                f,
                "embedded ICC profile ignored ({}); taken as sRGB",
                match why {
                    Ignored::TooLarge => "larger than the 8 MB we read",
                    Ignored::Malformed => "not a well-formed profile",
                    Ignored::Incomplete => "its pieces are missing or repeated",
                    Ignored::WrongSpace => "made for another colour space than the image's",
                    Ignored::Unsupported => "a kind of profile we cannot convert",
                }
            ),
        }
    }
}

/// As its words, in the resizer's log lines and invocation results.
impl serde::Serialize for Colour {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl Colour {
    /// Whether the log line about this image should be a warning.
    pub fn is_ignored(&self) -> bool {
        matches!(self, Colour::Ignored(_))
    }
}

/// A conversion to sRGB, ready to run over the image's samples.
#[derive(Clone)]
pub(crate) struct ToSrgb {
    space: Space,
    run: Run,
}

#[derive(Clone)]
enum Run {
    /// RGB and grey: moxcms's 8-bit transform, matrices and curves.
    Bits8(Arc<Transform8BitExecutor>),
    /// CMYK: through a four-dimensional table to linear sRGB in 16 bits,
    /// then black-point compensation and sRGB's curve. moxcms
    /// leaves the compensation out of CMYK conversions, so it is done here
    /// as LittleCMS does it (`Cmyk::new`).
    Cmyk(Cmyk),
}

#[derive(Clone)]
struct Cmyk {
    run: Arc<Transform16BitExecutor>,
    /// The profile's black, as linear luminance (white = 1): what
    /// compensation maps to sRGB's black.
    black: f32,
    /// Linear light (in `ENCODE_STEPS` steps) to 8-bit sRGB.
    encode: Arc<[u8]>,
}

const ENCODE_STEPS: usize = 16_384;

/// The CMYK conversion's working rows, in 16 bits: inks in, linear light out.
#[derive(Default)]
pub(crate) struct CmykScratch {
    inks: Vec<u16>,
    linear: Vec<u16>,
}

/// Pixels converted per call: small enough that the scratch stays in cache,
/// large enough that the per-call cost vanishes.
const CHUNK_PIXELS: usize = 4096;

/// The conversion an embedded profile asks for, given the colour space the
/// image's samples are in. `None` when there is nothing to do; `colour`
/// says what was decided.
pub(crate) fn from_icc(icc: &[u8], samples: Space, colour: &mut Colour) -> Option<ToSrgb> {
    match recent(icc, samples) {
        Ok(Some(t)) => {
            *colour = Colour::Converted(samples);
            Some(t)
        }
        Ok(None) => {
            *colour = Colour::Srgb;
            None
        }
        Err(why) => {
            *colour = Colour::Ignored(why);
            None
        }
    }
}

/// Profiles up to this size are remembered with their conversion.
const REMEMBERED_BYTES: usize = 1 << 20;
const REMEMBERED: usize = 4;

type Plan = Result<Option<ToSrgb>, Ignored>;

thread_local! {
    /// The last few profiles seen, byte for byte, with what they made: a
    /// warm resizer meets the same few again and again (a phone's Display
    /// P3, a press's CMYK), and a CMYK conversion takes about 20 ms to
    /// build. Compared whole, not by hash, so no file can make another's
    /// profile stand in for its own.
    static RECENT: std::cell::RefCell<Vec<(Vec<u8>, Space, Plan)>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn recent(icc: &[u8], samples: Space) -> Plan {
    let hit = RECENT.with_borrow_mut(|recent| {
        let at = recent.iter().position(|(bytes, space, _)| *space == samples && bytes.as_slice() == icc)?;
        let entry = recent.remove(at);
        let plan = entry.2.clone();
        recent.insert(0, entry);
        Some(plan)
    });
    if let Some(plan) = hit {
        return plan;
    }
    let made = plan(icc, samples);
    if icc.len() <= REMEMBERED_BYTES {
        RECENT.with_borrow_mut(|recent| {
            recent.insert(0, (icc.to_vec(), samples, made.clone()));
            recent.truncate(REMEMBERED);
        });
    }
    made
}

fn plan(icc: &[u8], samples: Space) -> Plan {
    if icc.len() > MAX_PROFILE_BYTES {
        return Err(Ignored::TooLarge);
    }
    let options = ParsingOptions { max_profile_size: MAX_PROFILE_BYTES + 1, ..ParsingOptions::default() };
    // moxcms is written for hostile profiles and fuzzed (so is this path,
    // by `cargo ops fuzz`); a panic in it still must not take the
    // resizer down with it, so it counts as a malformed profile.
    let profile = catch_unwind(|| ColorProfile::new_from_slice_with_options(icc, options))
        .map_err(|_| Ignored::Malformed)?
        .map_err(|_| Ignored::Malformed)?;
    let matches = match samples {
        Space::Gray => profile.color_space == DataColorSpace::Gray,
        Space::Rgb => profile.color_space == DataColorSpace::Rgb,
        Space::Cmyk => profile.color_space == DataColorSpace::Cmyk,
    };
    if !matches {
        return Err(Ignored::WrongSpace);
    }
    let t = transform(&profile, samples)?;
    Ok(if samples == Space::Rgb && t.is_identity() { None } else { Some(t) })
}

const RELATIVE: TransformOptions = TransformOptions {
    rendering_intent: RenderingIntent::RelativeColorimetric,
    allow_use_cicp_transfer: true,
    prefer_fixed_point: true,
    interpolation_method: moxcms::InterpolationMethod::Linear,
    barycentric_weight_scale: moxcms::BarycentricWeightScale::Low,
};

fn transform(profile: &ColorProfile, samples: Space) -> Result<ToSrgb, Ignored> {
    // moxcms is written for hostile profiles; a panic still counts as a
    // malformed profile rather than taking the resizer down.
    let run = catch_unwind(AssertUnwindSafe(|| match samples {
        Space::Cmyk => Cmyk::new(profile).map(Run::Cmyk),
        Space::Gray | Space::Rgb => {
            let layout = if samples == Space::Gray { Layout::Gray } else { Layout::Rgb };
            profile.create_transform_8bit(layout, &ColorProfile::new_srgb(), Layout::Rgb, RELATIVE).map(Run::Bits8)
        }
    }))
    .map_err(|_| Ignored::Malformed)?
    .map_err(|_| Ignored::Unsupported)?;
    Ok(ToSrgb { space: samples, run })
}

impl Cmyk {
    fn new(profile: &ColorProfile) -> Result<Cmyk, moxcms::CmsError> {
        // 16 bits, because linear light needs more than 8 in the shadows;
        // measured against moxcms's f32 path, within 2e-5 and 40% faster.
        let float = TransformOptions { prefer_fixed_point: false, ..RELATIVE };
        let run = profile.create_transform_16bit(Layout::Rgba, &linear_srgb(), Layout::Rgb, float)?;
        let luminance = |rgb: [u16; 3]| {
            (0.212_672_9 * f32::from(rgb[0]) + 0.715_152_2 * f32::from(rgb[1]) + 0.072_175 * f32::from(rgb[2]))
                / 65_535.0
        };
        let through = |cmyk: [u16; 4]| -> Result<f32, moxcms::CmsError> {
            let mut rgb = [0u16; 3];
            run.transform(&cmyk, &mut rgb)?;
            Ok(luminance(rgb))
        };
        // LittleCMS's black point (cmsDetectBlackPoint), for relative
        // colorimetric: a printer's profile gives the black its perceptual
        // table prints for the darkest colour (which respects its ink
        // limit); any other, the black of all four inks at full. Made
        // neutral, and no lighter than L* 50.
        let black = if profile.profile_class == ProfileClass::OutputDevice {
            let perceptual = TransformOptions { rendering_intent: RenderingIntent::Perceptual, ..float };
            let to_cmyk =
                ColorProfile::new_srgb().create_transform_f32(Layout::Rgb, profile, Layout::Rgba, perceptual)?;
            let mut cmyk = [0f32; 4];
            to_cmyk.transform(&[0.0, 0.0, 0.0], &mut cmyk)?;
            through(cmyk.map(|v| (v.clamp(0.0, 1.0) * 65_535.0).round() as u16))?
        } else {
            through([u16::MAX; 4])?
        };
        let black = if black.is_finite() { black.clamp(0.0, 0.184) } else { 0.0 };
        let encode = (0..ENCODE_STEPS)
            .map(|i| {
                let v = i as f64 / (ENCODE_STEPS - 1) as f64;
                let s = if v <= 0.003_130_8 { 12.92 * v } else { 1.055 * v.powf(1.0 / 2.4) - 0.055 };
                (s * 255.0).round() as u8
            })
            .collect();
        Ok(Cmyk { run, black, encode })
    }

    fn row(&self, inks: &[u8], rgb: &mut [u8], scratch: &mut CmykScratch) -> Result<(), moxcms::CmsError> {
        let CmykScratch { inks: src, linear } = scratch;
        src.clear();
        src.extend(inks.iter().map(|&v| u16::from(v) * 257));
        linear.resize(rgb.len(), 0);
        self.run.transform(src, linear)?;
        // Compensation maps the profile's black to 0 and keeps white: in
        // linear light, and with a neutral black, (v − k) / (1 − k).
        let (k, scale) = (self.black * 65_535.0, (ENCODE_STEPS - 1) as f32 / (65_535.0 * (1.0 - self.black)));
        for (o, &v) in rgb.iter_mut().zip(linear.iter()) {
            let at = ((f32::from(v) - k) * scale).clamp(0.0, (ENCODE_STEPS - 1) as f32);
            *o = self.encode[at.round() as usize];
        }
        Ok(())
    }
}

/// sRGB's primaries and white with a straight line for a curve.
fn linear_srgb() -> ColorProfile {
    let mut p = ColorProfile::new_srgb();
    p.cicp = None;
    let linear = ToneReprCurve::Lut(vec![256]);
    p.red_trc = Some(linear.clone());
    p.green_trc = Some(linear.clone());
    p.blue_trc = Some(linear);
    p
}

/// PNG's colour chunks, when there is no iCCP: `srgb` for an sRGB chunk,
/// `gamma` from gAMA (in 1/100000, the encoding exponent), `chromaticities`
/// from cHRM (white, red, green, blue as x, y pairs in 1/100000).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct PngChunks {
    pub srgb: bool,
    pub gamma: Option<u32>,
    pub chromaticities: Option<[u32; 8]>,
}

/// sRGB's white point and primaries, as cHRM writes them.
const SRGB_CHRM: [u32; 8] = [31270, 32900, 64000, 33000, 30000, 60000, 15000, 6000];

/// The conversion PNG's colour chunks ask for (PNG 3rd edition §11.3.2:
/// sRGB, then cHRM and gAMA). A gamma near 1/2.2 with sRGB's primaries (or
/// none) is taken as sRGB, as libpng does: encoders write 45455 for plain
/// sRGB images, and the curves differ only in the deepest shadows.
pub(crate) fn from_png_chunks(chunks: &PngChunks, samples: Space, colour: &mut Colour) -> Option<ToSrgb> {
    if chunks.srgb {
        *colour = Colour::Srgb;
        return None;
    }
    if chunks.gamma.is_none() && chunks.chromaticities.is_none() {
        return None;
    }
    let srgb_like_gamma = chunks.gamma.is_none_or(|g| (44_500..=46_500).contains(&g));
    let srgb_like_primaries =
        chunks.chromaticities.is_none_or(|c| c.iter().zip(SRGB_CHRM).all(|(&a, b)| a.abs_diff(b) <= 1000));
    if srgb_like_gamma && srgb_like_primaries {
        *colour = Colour::Srgb;
        return None;
    }
    let Some(profile) = chunk_profile(chunks, samples) else {
        *colour = Colour::Ignored(Ignored::Malformed);
        return None;
    };
    match transform(&profile, samples) {
        Ok(t) => {
            *colour = Colour::ConvertedFromChunks;
            Some(t)
        }
        Err(why) => {
            *colour = Colour::Ignored(why);
            None
        }
    }
}

/// A matrix-and-curves profile from gAMA and cHRM; `None` when their values
/// make no sense (a zero gamma, a white point off the diagram).
fn chunk_profile(chunks: &PngChunks, samples: Space) -> Option<ColorProfile> {
    // The curve's exponent decodes: gAMA stores the encoding exponent. ICC
    // writes a plain power curve as one u8.8 number (how Adobe RGB's 2.2
    // becomes 563/256).
    let curve = match chunks.gamma {
        Some(g) if (1_000..=1_000_000).contains(&g) => {
            ToneReprCurve::Lut(vec![(100_000.0 * 256.0 / f64::from(g)).round() as u16])
        }
        Some(_) => return None,
        None => ColorProfile::new_srgb().red_trc?,
    };
    match samples {
        Space::Gray => {
            let mut p = ColorProfile::new_gray_with_gamma(2.2);
            p.gray_trc = Some(curve);
            Some(p)
        }
        Space::Rgb => {
            let mut p = ColorProfile::new_srgb();
            if let Some(c) = chunks.chromaticities {
                let v = c.map(|n| n as f32 / 100_000.0);
                if v.chunks_exact(2).any(|xy| !(0.0..=1.0).contains(&xy[0]) || !(0.001..=1.0).contains(&xy[1])) {
                    return None;
                }
                let white = XyY::new(f64::from(v[0]), f64::from(v[1]), 1.0);
                let primaries = ColorPrimaries {
                    red: Chromaticity::new(v[2], v[3]),
                    green: Chromaticity::new(v[4], v[5]),
                    blue: Chromaticity::new(v[6], v[7]),
                };
                p.update_rgb_colorimetry(white, primaries);
                let finite = [p.red_colorant, p.green_colorant, p.blue_colorant]
                    .iter()
                    .all(|c| c.x.is_finite() && c.y.is_finite() && c.z.is_finite());
                if !finite {
                    return None;
                }
            }
            // new_srgb's CICP tag would otherwise stand in for the curves.
            p.cicp = None;
            p.red_trc = Some(curve.clone());
            p.green_trc = Some(curve.clone());
            p.blue_trc = Some(curve);
            Some(p)
        }
        Space::Cmyk => None,
    }
}

impl ToSrgb {
    /// Whether the conversion changes no colour by more than one level: a
    /// profile that is sRGB in all but name (cameras and editors embed
    /// several) costs nothing more.
    fn is_identity(&self) -> bool {
        const STEPS: [u8; 9] = [0, 16, 48, 80, 112, 144, 176, 224, 255];
        let mut probe = Vec::with_capacity(STEPS.len().pow(3) * 3);
        for r in STEPS {
            for g in STEPS {
                for b in STEPS {
                    probe.extend_from_slice(&[r, g, b]);
                }
            }
        }
        let Run::Bits8(run) = &self.run else { return false };
        let mut out = vec![0u8; probe.len()];
        run.transform(&probe, &mut out).is_ok() && probe.iter().zip(&out).all(|(a, b)| a.abs_diff(*b) <= 1)
    }

    /// Converts 8-bit RGB or RGBA pixels (`channels` 3 or 4) in place; alpha
    /// is left alone. Grey conversions expect grey already spread over R, G
    /// and B, as the decoders leave it.
    pub(crate) fn apply(&self, pixels: &mut [u8], channels: usize) {
        let Run::Bits8(run) = &self.run else {
            // CMYK has four samples to RGB's three, so it is converted a
            // row at a time as the JPEG decoder produces it (`cmyk_row`).
            return;
        };
        match self.space {
            Space::Gray => {
                // 256 levels, so a table: one conversion per level, not per pixel.
                let levels: Vec<u8> = (0..=255).collect();
                let mut table = vec![0u8; 256 * 3];
                if run.transform(&levels, &mut table).is_err() {
                    return;
                }
                for px in pixels.chunks_exact_mut(channels) {
                    let at = usize::from(px[0]) * 3;
                    px[..3].copy_from_slice(&table[at..at + 3]);
                }
            }
            Space::Rgb => {
                let mut src = vec![0u8; CHUNK_PIXELS * 3];
                let mut dst = vec![0u8; CHUNK_PIXELS * 3];
                for chunk in pixels.chunks_mut(CHUNK_PIXELS * channels) {
                    let n = chunk.len() / channels;
                    if channels == 3 {
                        src[..n * 3].copy_from_slice(chunk);
                    } else {
                        for (s, p) in src.chunks_exact_mut(3).zip(chunk.chunks_exact(channels)) {
                            s.copy_from_slice(&p[..3]);
                        }
                    }
                    if run.transform(&src[..n * 3], &mut dst[..n * 3]).is_err() {
                        return;
                    }
                    for (p, d) in chunk.chunks_exact_mut(channels).zip(dst.chunks_exact(3)) {
                        p[..3].copy_from_slice(d);
                    }
                }
            }
            Space::Cmyk => {}
        }
    }

    /// Whether this converts CMYK, a row at a time with `cmyk_row`.
    pub(crate) fn is_cmyk(&self) -> bool {
        matches!(self.run, Run::Cmyk(_))
    }

    /// One row: `cmyk` as ink amounts (0 = no ink, ICC's convention), four
    /// samples a pixel, into `rgb`, three a pixel. `scratch` is the caller's,
    /// kept from row to row so a row costs no allocation.
    pub(crate) fn cmyk_row(&self, cmyk: &[u8], rgb: &mut [u8], scratch: &mut CmykScratch) {
        let converted = match &self.run {
            Run::Cmyk(c) => c.row(cmyk, rgb, scratch).is_ok(),
            Run::Bits8(_) => false,
        };
        if !converted {
            rgb.fill(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p3() -> Vec<u8> {
        ColorProfile::new_display_p3().encode().unwrap()
    }

    #[test]
    fn an_srgb_profile_converts_nothing() {
        let mut colour = Colour::Untagged;
        let icc = ColorProfile::new_srgb().encode().unwrap();
        assert!(from_icc(&icc, Space::Rgb, &mut colour).is_none());
        assert_eq!(colour, Colour::Srgb);
    }

    #[test]
    fn display_p3_red_becomes_a_more_saturated_srgb_red() {
        let mut colour = Colour::Untagged;
        let t = from_icc(&p3(), Space::Rgb, &mut colour).expect("a conversion");
        assert_eq!(colour, Colour::Converted(Space::Rgb));
        let mut px = [255, 0, 0, 128, 128, 128];
        t.apply(&mut px, 3);
        // P3's red lies outside sRGB: clipped at 255, with green and blue at 0.
        assert_eq!(&px[..3], &[255, 0, 0]);
        // Neutral stays neutral.
        assert!(px[3..].iter().all(|&v| v.abs_diff(128) <= 1), "{px:?}");
        let mut px = [200, 100, 50, 7];
        t.apply(&mut px, 4);
        assert!(px[0] > 200 && px[2] < 50, "P3 orange is more saturated in sRGB numbers: {px:?}");
        assert_eq!(px[3], 7, "alpha is left alone");
    }

    #[test]
    fn a_remembered_profile_is_matched_byte_for_byte_and_by_space() {
        let mut colour = Colour::Untagged;
        let icc = p3();
        for _ in 0..2 {
            assert!(from_icc(&icc, Space::Rgb, &mut colour).is_some());
            assert_eq!(colour, Colour::Converted(Space::Rgb));
        }
        assert!(from_icc(&icc, Space::Gray, &mut colour).is_none());
        assert_eq!(colour, Colour::Ignored(Ignored::WrongSpace));
        // The same length, one tag table entry broken: decided afresh.
        let mut broken = icc.clone();
        broken[132 + 4..132 + 8].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(from_icc(&broken, Space::Rgb, &mut colour).is_none());
        assert_eq!(colour, Colour::Ignored(Ignored::Malformed));
        assert!(from_icc(&icc, Space::Rgb, &mut colour).is_some());
    }

    #[test]
    fn a_profile_for_another_space_is_ignored() {
        let mut colour = Colour::Untagged;
        assert!(from_icc(&p3(), Space::Cmyk, &mut colour).is_none());
        assert_eq!(colour, Colour::Ignored(Ignored::WrongSpace));
        assert!(from_icc(&p3(), Space::Gray, &mut colour).is_none());
        assert_eq!(colour, Colour::Ignored(Ignored::WrongSpace));
    }

    #[test]
    fn garbage_and_oversized_profiles_are_ignored() {
        let mut colour = Colour::Untagged;
        assert!(from_icc(&[0; 200], Space::Rgb, &mut colour).is_none());
        assert_eq!(colour, Colour::Ignored(Ignored::Malformed));
        let icc = p3();
        assert!(from_icc(&icc[..icc.len() / 2], Space::Rgb, &mut colour).is_none());
        assert_eq!(colour, Colour::Ignored(Ignored::Malformed));
        assert!(from_icc(&vec![0; MAX_PROFILE_BYTES + 1], Space::Rgb, &mut colour).is_none());
        assert_eq!(colour, Colour::Ignored(Ignored::TooLarge));
    }

    #[test]
    fn png_chunks_near_srgb_are_srgb() {
        let mut colour = Colour::Untagged;
        let chunks = PngChunks { gamma: Some(45455), ..PngChunks::default() };
        assert!(from_png_chunks(&chunks, Space::Rgb, &mut colour).is_none());
        assert_eq!(colour, Colour::Srgb);
        let chunks = PngChunks { gamma: Some(45455), chromaticities: Some(SRGB_CHRM), srgb: false };
        assert!(from_png_chunks(&chunks, Space::Rgb, &mut colour).is_none());
        assert_eq!(colour, Colour::Srgb);
        let mut colour = Colour::Untagged;
        assert!(from_png_chunks(&PngChunks::default(), Space::Rgb, &mut colour).is_none());
        assert_eq!(colour, Colour::Untagged);
    }

    #[test]
    fn png_gamma_one_is_linear_light() {
        let mut colour = Colour::Untagged;
        let chunks = PngChunks { gamma: Some(100_000), ..PngChunks::default() };
        let t = from_png_chunks(&chunks, Space::Rgb, &mut colour).expect("a conversion");
        assert_eq!(colour, Colour::ConvertedFromChunks);
        // Linear 0.5 is sRGB 188.
        let mut px = [128, 128, 128];
        t.apply(&mut px, 3);
        assert!(px.iter().all(|&v| v.abs_diff(188) <= 1), "{px:?}");
        // The same gamma on grey samples.
        let t = from_png_chunks(&chunks, Space::Gray, &mut colour).expect("a grey conversion");
        let mut px = [128, 128, 128, 255];
        t.apply(&mut px, 4);
        assert!(px[..3].iter().all(|&v| v.abs_diff(188) <= 1), "{px:?}");
    }

    #[test]
    fn nonsense_png_chunks_are_ignored() {
        let mut colour = Colour::Untagged;
        let chunks = PngChunks { gamma: Some(0), ..PngChunks::default() };
        assert!(from_png_chunks(&chunks, Space::Rgb, &mut colour).is_none());
        assert_eq!(colour, Colour::Ignored(Ignored::Malformed));
        let chunks = PngChunks { gamma: Some(100_000), chromaticities: Some([0; 8]), srgb: false };
        assert!(from_png_chunks(&chunks, Space::Rgb, &mut colour).is_none());
        assert_eq!(colour, Colour::Ignored(Ignored::Malformed));
    }
}
