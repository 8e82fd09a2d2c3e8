//! The decoder against the `image` crate's (zune-jpeg) on the same files:
//! encoded here with jpeg-encoder for the sequential and sampling
//! variants, and small progressive fixtures with successive approximation
//! and restart markers that Pillow (libjpeg-turbo) wrote from a synthetic
//! picture, since jpeg-encoder writes no refinement scans.

use super::frame::usable_shrink;
use super::markers::exif_orientation;
use super::*;

const PROG_420: &[u8] = include_bytes!("testdata/prog_420.jpg");
const PROG_422_RST: &[u8] = include_bytes!("testdata/prog_422_rst.jpg");
const PROG_444: &[u8] = include_bytes!("testdata/prog_444.jpg");
const PROG_GRAY: &[u8] = include_bytes!("testdata/prog_gray.jpg");
const BASE_420_RST: &[u8] = include_bytes!("testdata/base_420_rst.jpg");

fn ours(bytes: &[u8], shrink: u32) -> Jpeg {
    decode(bytes, &Limits::default(), &|_| Ok(shrink), true, &mut Work::default()).unwrap()
}

fn theirs(bytes: &[u8]) -> image::RgbImage {
    image::load_from_memory(bytes).unwrap().to_rgb8()
}

/// A picture with smooth areas, edges and noise, so every kind of block
/// (DC only, sparse, dense) occurs.
fn picture(w: u32, h: u32) -> Vec<u8> {
    let mut s = 12_345u32;
    (0..w * h)
        .flat_map(|i| {
            let (x, y) = (i % w, i / w);
            s = s.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let noise = (s >> 27) as u8;
            let r = if (x / 9 + y / 7) % 2 == 0 { 200 } else { 40 };
            let g = ((x * 255) / w.max(1)) as u8;
            let b = (((x as f32 / 5.0).sin() * 60.0 + 128.0) as u8).wrapping_add(noise);
            [r, g, b]
        })
        .collect()
}

fn encode(w: u16, h: u16, quality: u8, configure: impl FnOnce(&mut jpeg_encoder::Encoder<&mut Vec<u8>>)) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = jpeg_encoder::Encoder::new(&mut out, quality);
    configure(&mut enc);
    enc.encode(&picture(u32::from(w), u32::from(h)), w, h, jpeg_encoder::ColorType::Rgb).unwrap();
    out
}

/// Mean and largest per-channel difference.
fn diff(a: &[u8], b: &[u8]) -> (f64, u8) {
    assert_eq!(a.len(), b.len());
    let sum: u64 = a.iter().zip(b).map(|(x, y)| u64::from(x.abs_diff(*y))).sum();
    (sum as f64 / a.len() as f64, a.iter().zip(b).map(|(x, y)| x.abs_diff(*y)).max().unwrap_or(0))
}

fn assert_matches_reference(bytes: &[u8], what: &str) {
    let got = ours(bytes, 1);
    let want = theirs(bytes);
    assert_eq!((got.pixel_width, got.pixel_height), want.dimensions(), "{what}");
    let (mean, max) = diff(&got.rgb, want.as_raw());
    // Decoders differ in IDCT rounding and chroma upsampling, never by more.
    assert!(mean < 1.5 && max <= 48, "{what}: mean {mean:.2}, max {max}");
}

#[test]
fn sequential_files_match_the_reference_decoder() {
    use jpeg_encoder::SamplingFactor::*;
    for (w, h) in [(64, 48), (97, 61), (1, 1), (17, 130)] {
        // Not F_4_2 or F_2_4: jpeg-encoder writes those as one sequential
        // scan per component, which zune-jpeg 0.5 mis-decodes; libjpeg (via
        // Pillow) agreed with ours to within 0.05 levels on average when
        // checked by hand. `non_interleaved_scans_decode` covers them.
        for sampling in [F_1_1, F_2_1, F_1_2, F_2_2, F_4_1] {
            let jpeg = encode(w, h, 88, |e| e.set_sampling_factor(sampling));
            assert_matches_reference(&jpeg, &format!("{w}×{h} {sampling:?}"));
        }
    }
}

#[test]
fn non_interleaved_scans_decode() {
    use jpeg_encoder::SamplingFactor::*;
    let (w, h) = (70u16, 50u16);
    let smooth: Vec<u8> = (0..u32::from(w) * u32::from(h))
        .flat_map(|i| [(i % 70 * 3) as u8, (i / 70 * 5) as u8, 255 - (i % 70 * 2) as u8])
        .collect();
    let jpeg = |sampling| {
        let mut out = Vec::new();
        let mut enc = jpeg_encoder::Encoder::new(&mut out, 95);
        enc.set_sampling_factor(sampling);
        enc.encode(&smooth, w, h, jpeg_encoder::ColorType::Rgb).unwrap();
        out
    };
    for sampling in [F_4_2, F_2_4] {
        let got = ours(&jpeg(sampling), 1);
        let (mean, _) = diff(&got.rgb, &smooth);
        // Subsampling a 4:1 chroma ramp costs a few levels; a broken decode ~100.
        assert!(mean < 5.0, "{sampling:?}: mean difference from the source {mean:.2}");
    }
}

#[test]
fn restart_intervals_are_followed() {
    for interval in [1, 3, 7] {
        let jpeg = encode(97, 61, 80, |e| e.set_restart_interval(interval));
        assert_matches_reference(&jpeg, &format!("restart every {interval}"));
    }
    assert_matches_reference(BASE_420_RST, "libjpeg baseline with restarts");
}

#[test]
fn progressive_files_match_the_reference_decoder() {
    let spectral_only = encode(97, 61, 85, |e| e.set_progressive(true));
    assert_matches_reference(&spectral_only, "spectral selection only");
    for (bytes, what) in [
        (PROG_420, "4:2:0 with refinement"),
        (PROG_422_RST, "4:2:2 with refinement and restarts"),
        (PROG_444, "4:4:4 with refinement"),
        (PROG_GRAY, "grey with refinement"),
    ] {
        assert_matches_reference(bytes, what);
    }
}

#[test]
fn grey_jpeg_is_grey_rgb() {
    let got = ours(PROG_GRAY, 1);
    assert!(got.rgb.chunks_exact(3).all(|p| p[0] == p[1] && p[1] == p[2]));
}

/// The reference decode averaged over `s`×`s` cells, rounding the size up.
fn box_down(img: &image::RgbImage, s: u32) -> Vec<u8> {
    let (w, h) = img.dimensions();
    let (ow, oh) = (w.div_ceil(s), h.div_ceil(s));
    let mut out = Vec::with_capacity((ow * oh * 3) as usize);
    for oy in 0..oh {
        for ox in 0..ow {
            for c in 0..3 {
                let (mut sum, mut n) = (0u32, 0u32);
                for y in oy * s..((oy + 1) * s).min(h) {
                    for x in ox * s..((ox + 1) * s).min(w) {
                        sum += u32::from(img.get_pixel(x, y)[c]);
                        n += 1;
                    }
                }
                out.push(((sum + n / 2) / n) as u8);
            }
        }
    }
    out
}

#[test]
fn shrink_on_load_approximates_an_area_average() {
    let smooth = {
        let mut out = Vec::new();
        let (w, h) = (160u32, 120u32);
        let data: Vec<u8> = (0..w * h).flat_map(|i| [(i % w * 255 / w) as u8, (i / w * 255 / h) as u8, 90]).collect();
        jpeg_encoder::Encoder::new(&mut out, 92)
            .encode(&data, w as u16, h as u16, jpeg_encoder::ColorType::Rgb)
            .unwrap();
        out
    };
    for (bytes, what) in [(&smooth[..], "smooth"), (PROG_420, "progressive 4:2:0"), (PROG_422_RST, "progressive 4:2:2")]
    {
        let reference = theirs(bytes);
        for s in [2, 4, 8] {
            let got = ours(bytes, s);
            assert_eq!(
                (got.pixel_width, got.pixel_height),
                (reference.width().div_ceil(s), reference.height().div_ceil(s))
            );
            let (mean, _) = diff(&got.rgb, &box_down(&reference, s));
            // Busy fixtures alias a little differently from a box filter.
            let bound = if what == "smooth" { 2.0 } else { 12.0 };
            assert!(mean < bound, "{what} at 1/{s}: mean difference {mean:.2}");
        }
    }
}

#[test]
fn odd_subsampling_ratios_fall_back_to_a_smaller_shrink() {
    assert_eq!(usable_shrink(8, &[(2, 2), (1, 1), (1, 1)]), 8);
    assert_eq!(usable_shrink(3, &[(2, 2), (1, 1), (1, 1)]), 2);
    assert_eq!(usable_shrink(1, &[(1, 1)]), 1);
    // Chroma at a third of luma's width: ½ would need a 1.5× upsampling,
    // while ⅛ and ¼ leave it at most 8 samples a block.
    assert_eq!(usable_shrink(2, &[(3, 1), (1, 1), (1, 1)]), 1);
    assert_eq!(usable_shrink(8, &[(3, 1), (1, 1), (1, 1)]), 8);
    assert_eq!(usable_shrink(4, &[(3, 1), (1, 1), (1, 1)]), 4);
}

#[test]
fn exif_orientation_is_read_from_either_byte_order() {
    let mut be = b"Exif\0\0MM\0\x2A\0\0\0\x08\0\x01".to_vec();
    be.extend_from_slice(&[0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0]);
    assert_eq!(exif_orientation(&be), Some(6));
    let mut le = b"Exif\0\0II\x2A\0\x08\0\0\0\x01\0".to_vec();
    le.extend_from_slice(&[0x12, 0x01, 3, 0, 1, 0, 0, 0, 8, 0, 0, 0]);
    assert_eq!(exif_orientation(&le), Some(8));
    assert_eq!(exif_orientation(b"Exif\0\0MM\0\x2A\0\0\0\x40"), None, "offset past the end");
    assert_eq!(exif_orientation(b"XMP data"), None);
}

#[test]
fn twelve_bit_and_arithmetic_jpegs_are_unsupported_variants() {
    let mut jpeg = encode(16, 16, 90, |_| {});
    let sof = jpeg.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
    jpeg[sof + 4] = 12;
    assert!(matches!(ours_err(&jpeg), ImageError::UnsupportedVariant { .. }));
    let mut jpeg = encode(16, 16, 90, |_| {});
    jpeg[sof + 1] = 0xC9;
    assert!(matches!(ours_err(&jpeg), ImageError::UnsupportedVariant { .. }));
}

fn ours_err(bytes: &[u8]) -> ImageError {
    match decode(bytes, &Limits::default(), &|_| Ok(1), true, &mut Work::default()) {
        Ok(_) => panic!("decoded"),
        Err(e) => e,
    }
}

/// Damaged data of every kind must give an error or some picture, never a
/// panic: in the Lambda a panic would take the whole batch down.
#[test]
fn damaged_files_never_panic() {
    let sources: Vec<Vec<u8>> = vec![
        PROG_420.to_vec(),
        PROG_422_RST.to_vec(),
        BASE_420_RST.to_vec(),
        encode(40, 24, 80, |e| e.set_sampling_factor(jpeg_encoder::SamplingFactor::F_2_2)),
    ];
    let mut seed = 99u32;
    let mut next = move || {
        seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        seed
    };
    for source in &sources {
        for round in 0..150 {
            let mut bytes = source.clone();
            match round % 3 {
                0 => {
                    for _ in 0..1 + next() % 4 {
                        let at = next() as usize % bytes.len();
                        bytes[at] ^= 1 << (next() % 8);
                    }
                }
                1 => {
                    let at = next() as usize % bytes.len();
                    bytes[at] = (next() % 256) as u8;
                }
                _ => bytes.truncate(4 + next() as usize % (bytes.len() - 4)),
            }
            for shrink in [1, 2, 8] {
                let _ = decode(&bytes, &Limits::default(), &|_| Ok(shrink), true, &mut Work::default());
            }
        }
    }
}

#[test]
fn limits_are_checked_from_the_header() {
    let jpeg = encode(64, 48, 80, |_| {});
    let tight = Limits { max_pixels: 64 * 48 - 1, ..Limits::default() };
    assert!(matches!(
        decode(&jpeg, &tight, &|_| Ok(1), true, &mut Work::default()),
        Err(ImageError::TooManyPixels { width: 64, height: 48, .. })
    ));
    let tiny = Limits { max_alloc: 1000, ..Limits::default() };
    assert!(matches!(
        decode(&jpeg, &tiny, &|_| Ok(8), true, &mut Work::default()),
        Err(ImageError::TooMuchMemory { limit: 1000 })
    ));
}
