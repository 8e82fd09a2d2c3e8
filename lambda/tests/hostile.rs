//! Hostile input costs bounded work: one regression test per class of
//! hostile file in `image::hostile`, each asserting the decision and the
//! decoder's own work counters (blocks decoded, bytes inflated) against
//! the budget, never the wall clock. And the files real cameras and
//! editors make still pass, within the same budgets.

use easel_resizer::Colour;
use easel_resizer::image::colour::{Ignored, MAX_PROFILE_BYTES};
use easel_resizer::image::hostile::{self, Expect, Hostile};
use easel_resizer::{EncodeOptions, ImageError, Limits, RenditionSpec, Work, inspect, inspect_metered, render_metered};

/// Both decisions (the upload check and the resizer) on one file.
fn decide(h: &Hostile) -> [(Result<(), ImageError>, Work); 2] {
    let limits = Limits::default();
    let (a, wa) = inspect_metered(&h.bytes, &limits);
    let (b, wb) = render_metered(&h.bytes, &RenditionSpec::defaults(), &limits, &EncodeOptions::default());
    [(a.map(drop), wa), (b.map(drop), wb)]
}

/// The JPEG decoder's charges, in blocks (`jpeg/budget.rs`): a scan's set-up,
/// a Huffman table built and defined, a quantisation table, a segment.
/// The exact counts below add them up, so a change of price shows here.
const SCAN: u64 = 7;
const TABLE_BUILT: u64 = 10;
const TABLE_DEFINED: u64 = 2;
const QUANT_TABLE: u64 = 1;
const SEGMENT: u64 = 1;

/// The frame's 8×8 blocks: one full decoding pass.
fn one_pass(h: &Hostile) -> u64 {
    u64::from(h.width.div_ceil(8)) * u64::from(h.height.div_ceil(8))
}

fn assert_refused(h: &Hostile, why: impl Fn(&ImageError) -> bool, max_blocks: u64) {
    for (i, (result, work)) in decide(h).into_iter().enumerate() {
        let step = ["inspect", "render"][i];
        let err = result.expect_err(&format!("{} must be refused by {step}", h.name));
        assert!(why(&err), "{}: {step} refused it for the wrong reason: {}", h.name, err.log_reason());
        assert!(work.within_budget(), "{}: {step} {work:?}", h.name);
        assert!(
            work.blocks_decoded <= max_blocks,
            "{}: {step} decoded {} blocks, more than the {max_blocks} this refusal should take",
            h.name,
            work.blocks_decoded
        );
    }
}

fn contrived(e: &ImageError) -> bool {
    matches!(e, ImageError::Contrived(_))
}

fn corrupt(e: &ImageError) -> bool {
    matches!(e, ImageError::Corrupt(_))
}

/// A few hundred scans, the first measured attack (13 s in the upload
/// check): refused at its first scan, whose data is missing.
#[test]
fn scans_without_data_are_refused_after_one_pass() {
    for (w, h) in [(1024, 1024), (8000, 6000)] {
        let file = hostile::empty_scans(w, h);
        assert_refused(&file, corrupt, 2000 + one_pass(&file));
    }
}

/// Legal scans that each cover the frame with a few end-of-band runs:
/// refused once they would pass the budget, so the work done is at most
/// the budget and far below what the 64 scans would take.
#[test]
fn end_of_band_run_passes_stop_at_the_budget() {
    for (w, h) in [(1024, 1024), (8000, 6000)] {
        let file = hostile::eob_run_passes(w, h);
        assert_refused(&file, contrived, 17 * one_pass(&file));
    }
}

/// Many legal scans on a small frame: refused by the scan or work limit.
#[test]
fn more_scans_than_any_encoder_writes_are_refused() {
    for (w, h) in [(1, 1), (64, 64)] {
        let file = hostile::many_scans(w, h);
        assert_refused(&file, contrived, 17 * one_pass(&file) + 2000);
    }
}

/// A component in a second sequential scan is refused before that scan's
/// data is read.
#[test]
fn repeated_sequential_scans_are_refused_at_the_second() {
    for (w, h) in [(1024, 1024), (8000, 6000)] {
        let file = hostile::repeated_sequential_scans(w, h);
        assert_refused(&file, contrived, 2000 + one_pass(&file));
    }
}

/// Refinement of coefficients no scan started.
#[test]
fn refinement_of_what_was_never_started_is_refused() {
    for (w, h) in [(1024, 1024), (8000, 6000)] {
        let file = hostile::refinement_never_started(w, h);
        assert_refused(&file, contrived, 2000 + one_pass(&file));
    }
}

/// The standard's longest legal refinement (DC from bit 13 down to 0):
/// decoded, and within the budget.
#[test]
fn the_longest_legal_refinement_stays_within_budget() {
    for (w, h) in [(1024, 1024), (8000, 6000)] {
        let file = hostile::dc_refinement_ladder(w, h);
        for (result, work) in decide(&file) {
            assert!(result.is_ok(), "{}: {:?}", file.name, result);
            assert!(work.within_budget(), "{work:?}");
            // 14 scans; two table definitions, the DC one built; one DQT;
            // 18 segments (DQT, SOF, two DHT, 14 SOS).
            assert_eq!(
                work.blocks_decoded,
                14 * (one_pass(&file) + SCAN) + 2 * TABLE_DEFINED + TABLE_BUILT + QUANT_TABLE + 18 * SEGMENT
            );
        }
    }
}

/// A few hundred bytes claiming a large frame: refused at its first
/// block, without decoding the frame.
#[test]
fn tiny_files_claiming_huge_frames_are_refused() {
    for (w, h) in [(1024, 1024), (8000, 6000)] {
        let file = hostile::claims_huge_frame(w, h);
        assert!(file.bytes.len() < 200);
        assert_refused(&file, corrupt, 2000 + one_pass(&file));
    }
}

/// Every code 16 bits long: legal, slow per symbol, still one pass.
#[test]
fn degenerate_huffman_tables_cost_one_pass() {
    for (w, h) in [(1024, 1024), (8000, 6000)] {
        let file = hostile::deep_huffman_tables(w, h);
        for (result, work) in decide(&file) {
            assert!(result.is_ok(), "{result:?}");
            // One scan, two tables defined and built, one DQT; 5 segments
            // (DQT, SOF, two DHT, SOS).
            assert_eq!(
                work.blocks_decoded,
                one_pass(&file) + SCAN + 2 * (TABLE_DEFINED + TABLE_BUILT) + QUANT_TABLE + 5 * SEGMENT
            );
        }
    }
}

/// Floods of tables, segments and stray bytes: refused by their limits.
#[test]
fn marker_floods_are_refused() {
    for (w, h) in [(1, 1), (64, 64)] {
        for file in [hostile::table_flood(w, h), hostile::segment_flood(w, h), hostile::stray_bytes(w, h)] {
            // Tables are charged to the budget before any block is decoded.
            assert_refused(&file, contrived, 2000 + 16 * one_pass(&file));
        }
    }
}

/// Megabytes of scan data behind a 1×1 frame.
#[test]
fn scan_data_longer_than_its_blocks_can_use_is_refused() {
    for (w, h) in [(1, 1), (64, 64)] {
        let file = hostile::overlong_scan_data(w, h);
        assert_refused(&file, contrived, 2000 + one_pass(&file));
    }
}

/// zTXt, iTXt and iCCP bombs of 64 MB. Text is never inflated; the ICC
/// profile only by the resizer (the upload check leaves colours alone),
/// and never past `MAX_PROFILE_BYTES`, then ignored. Where they fit the
/// metadata allowance the image decodes; where not, the file is refused
/// having inflated nothing.
#[test]
fn compressed_chunk_bombs_are_never_inflated_past_their_cap() {
    for (w, h) in [(1, 1), (64, 64), (1024, 1024), (8000, 6000)] {
        for kind in [*b"zTXt", *b"iTXt", *b"iCCP"] {
            let file = hostile::png_ancillary_bomb(w, h, kind);
            for (step, (result, work)) in decide(&file).into_iter().enumerate() {
                let raw = (u64::from(w) + 1) * u64::from(h);
                let profile = if kind == *b"iCCP" && step == 1 { MAX_PROFILE_BYTES as u64 } else { 0 };
                match result {
                    Ok(()) => {
                        let want = (raw + profile, raw + profile);
                        assert_eq!((work.bytes_inflated, work.inflate_budget), want, "{}", file.name);
                        if profile > 0 {
                            assert_eq!(work.colour, Colour::Ignored(Ignored::TooLarge), "{}", file.name);
                        }
                    }
                    Err(e) => {
                        assert!(contrived(&e), "{}: {}", file.name, e.log_reason());
                        assert_eq!(work.bytes_inflated, 0);
                    }
                }
            }
        }
    }
}

/// Hundreds of thousands of chunks, or image data far past the pixels.
#[test]
fn png_chunk_floods_and_overlong_image_data_are_refused() {
    for (w, h) in [(1, 1), (64, 64)] {
        assert_refused(&hostile::png_chunk_flood(w, h), contrived, 0);
    }
    assert_refused(&hostile::png_idat_overlong(1024, 1024), contrived, 0);
    let big = hostile::png_idat_overlong(8000, 6000);
    for (_, work) in decide(&big) {
        assert!(work.within_budget() && work.bytes_inflated <= (8001 * 6000), "{work:?}");
    }
}

#[test]
fn truncated_files_are_refused() {
    for file in hostile::truncations() {
        assert_refused(&file, corrupt, 16 * one_pass(&file));
    }
}

/// Each hostile form of a profile (cut short, a tag count of 2^28, tags
/// looping into their own table) on a real picture: the picture is
/// accepted and rendered, the profile ignored, within the budget.
#[test]
fn hostile_icc_profiles_are_ignored_not_fatal() {
    let files = hostile::hostile_icc();
    assert_eq!(files.len(), 6, "three forms, in a JPEG and a PNG");
    for file in &files {
        let [(checked, _), (rendered, work)] = decide(file);
        assert!(checked.is_ok() && rendered.is_ok(), "{}: {checked:?} {rendered:?}", file.name);
        assert!(matches!(work.colour, Colour::Ignored(Ignored::Malformed)), "{}: {:?}", file.name, work.colour);
        assert!(work.within_budget(), "{}: {work:?}", file.name);
    }
}

/// The whole corpus, as the benchmark sees it.
#[test]
fn every_hostile_file_is_decided_within_budget() {
    let all = hostile::corpus();
    assert!(all.len() >= 40);
    for file in &all {
        for (result, work) in decide(file) {
            assert!(work.within_budget(), "{}: {work:?}", file.name);
            if file.expect == Expect::Refused {
                assert!(result.is_err(), "{} must be refused", file.name);
            }
        }
    }
}

// ---- what real cameras and editors make --------------------------------------

fn picture(w: u32, h: u32, channels: usize) -> Vec<u8> {
    (0..w * h)
        .flat_map(|i| {
            let (x, y) = (i % w, i / w);
            let v = [(x * 255 / w.max(1)) as u8, (y * 255 / h.max(1)) as u8, ((x ^ y) & 0xFF) as u8, 200];
            v.into_iter().take(channels).collect::<Vec<_>>()
        })
        .collect()
}

fn jpeg(w: u32, h: u32, colour: jpeg_encoder::ColorType, progressive: bool) -> Vec<u8> {
    let channels = match colour {
        jpeg_encoder::ColorType::Luma => 1,
        jpeg_encoder::ColorType::Cmyk | jpeg_encoder::ColorType::Ycck => 4,
        _ => 3,
    };
    let mut out = Vec::new();
    let mut enc = jpeg_encoder::Encoder::new(&mut out, 90);
    enc.set_progressive(progressive);
    enc.encode(&picture(w, h, channels), w as u16, h as u16, colour).unwrap();
    out
}

fn png(w: u32, h: u32, colour: png::ColorType, depth: png::BitDepth, data: &[u8], trns: Option<&[u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut e = png::Encoder::new(&mut out, w, h);
    e.set_color(colour);
    e.set_depth(depth);
    if colour == png::ColorType::Indexed {
        e.set_palette((0..=255u8).flat_map(|i| [i, 255 - i, i / 2]).collect::<Vec<_>>());
    }
    if let Some(t) = trns {
        e.set_trns(t.to_vec());
    }
    e.write_header().unwrap().write_image_data(data).unwrap();
    out
}

fn with_exif_orientation(jpeg: &[u8], orientation: u8) -> Vec<u8> {
    let mut tiff = b"Exif\0\0MM\0\x2a\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01\0".to_vec();
    tiff.extend_from_slice(&[orientation, 0, 0, 0, 0, 0, 0]);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((tiff.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&tiff);
    out.extend_from_slice(&jpeg[2..]);
    out
}

#[test]
fn files_real_encoders_make_still_pass_within_budget() {
    use jpeg_encoder::ColorType as J;
    let grey16: Vec<u8> = (0..64 * 48u32).flat_map(|i| ((i * 21) as u16).to_be_bytes()).collect();
    let rgba16: Vec<u8> =
        (0..32 * 32u32).flat_map(|i| [(i * 64) as u16, 1000, 60000, 30000]).flat_map(u16::to_be_bytes).collect();
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("progressive 4:2:0 (libjpeg)", include_bytes!("../src/image/jpeg/testdata/prog_420.jpg").to_vec()),
        ("progressive 4:2:2 with restarts", include_bytes!("../src/image/jpeg/testdata/prog_422_rst.jpg").to_vec()),
        ("progressive 4:4:4", include_bytes!("../src/image/jpeg/testdata/prog_444.jpg").to_vec()),
        ("progressive grey", include_bytes!("../src/image/jpeg/testdata/prog_gray.jpg").to_vec()),
        ("baseline with restarts", include_bytes!("../src/image/jpeg/testdata/base_420_rst.jpg").to_vec()),
        ("progressive RGB (jpeg-encoder)", jpeg(640, 480, J::Rgb, true)),
        ("CMYK", jpeg(120, 80, J::Cmyk, false)),
        ("YCCK", jpeg(120, 80, J::Ycck, false)),
        ("progressive CMYK", jpeg(120, 80, J::Cmyk, true)),
        ("grey JPEG", jpeg(100, 70, J::Luma, false)),
        ("EXIF-rotated", with_exif_orientation(&jpeg(90, 60, J::Rgb, false), 6)),
        ("very wide strip", jpeg(8000, 1, J::Rgb, true)),
        ("very tall strip", jpeg(1, 8000, J::Rgb, false)),
        ("one-pixel JPEG", jpeg(1, 1, J::Rgb, true)),
        // libjpeg-turbo's `cjpeg -progressive -optimize`: a table per scan,
        // the most a small real file asks of the budget's floor.
        (
            "one-pixel progressive grey (cjpeg)",
            include_bytes!("../src/image/jpeg/testdata/one_px_prog_gray_cjpeg.jpg").to_vec(),
        ),
        (
            "one-pixel progressive 4:2:0 (cjpeg)",
            include_bytes!("../src/image/jpeg/testdata/one_px_prog_420_cjpeg.jpg").to_vec(),
        ),
        (
            "one-pixel progressive 4:4:4 (cjpeg)",
            include_bytes!("../src/image/jpeg/testdata/one_px_prog_444_cjpeg.jpg").to_vec(),
        ),
        (
            "one-pixel progressive grey with 16 comment segments",
            include_bytes!("../src/image/jpeg/testdata/one_px_prog_gray_16_segments.jpg").to_vec(),
        ),
        ("16-bit grey PNG", png(64, 48, png::ColorType::Grayscale, png::BitDepth::Sixteen, &grey16, None)),
        ("16-bit RGBA PNG", png(32, 32, png::ColorType::Rgba, png::BitDepth::Sixteen, &rgba16, None)),
        (
            "palette PNG with transparency",
            png(
                16,
                16,
                png::ColorType::Indexed,
                png::BitDepth::Eight,
                &(0..=255).collect::<Vec<u8>>(),
                Some(&[0, 128]),
            ),
        ),
        ("grey PNG", png(50, 40, png::ColorType::Grayscale, png::BitDepth::Eight, &picture(50, 40, 1), None)),
        ("one-pixel PNG", png(1, 1, png::ColorType::Rgb, png::BitDepth::Eight, &[1, 2, 3], None)),
        ("wide PNG strip", png(10000, 1, png::ColorType::Rgb, png::BitDepth::Eight, &picture(10000, 1, 3), None)),
    ];
    let limits = Limits::default();
    for (what, bytes) in files {
        let (result, work) = inspect_metered(&bytes, &limits);
        let info = result.unwrap_or_else(|e| panic!("{what} was refused: {}", e.log_reason()));
        assert!(work.within_budget(), "{what}: {work:?}");
        let (renditions, work) = render_metered(&bytes, &RenditionSpec::defaults(), &limits, &EncodeOptions::default());
        assert!(renditions.is_ok() && work.within_budget(), "{what}: {work:?}");
        if what == "EXIF-rotated" {
            assert_eq!((info.width, info.height), (60, 90), "turned upright");
        }
        assert_eq!(inspect(&bytes, &limits), Ok(info));
    }
}
