//! Behaviour of the public image API on images made in memory.

use std::time::{Duration, Instant};

use super::testutil::*;
use super::*;

fn render_one(bytes: &[u8], spec: RenditionSpec) -> Rendition {
    let mut out = render(bytes, &[spec], &Limits::default(), &EncodeOptions::default()).unwrap();
    assert_eq!(out.len(), 1);
    out.remove(0)
}

fn decode_output(r: &Rendition) -> image::DynamicImage {
    let img = image::load_from_memory(&r.bytes).unwrap();
    assert_eq!((img.width(), img.height()), (r.width, r.height), "reported size matches the encoded one");
    assert_eq!(ImageFormat::sniff(&r.bytes), Some(r.format), "declared format matches the bytes");
    img
}

/// Where a source pixel lands for each EXIF orientation, written out
/// independently of the image crate's own mapping.
fn oriented(orientation: u16, x: u32, y: u32, w: u32, h: u32) -> (u32, u32) {
    match orientation {
        1 => (x, y),
        2 => (w - 1 - x, y),
        3 => (w - 1 - x, h - 1 - y),
        4 => (x, h - 1 - y),
        5 => (y, x),
        6 => (h - 1 - y, x),
        7 => (h - 1 - y, w - 1 - x),
        8 => (y, w - 1 - x),
        _ => unreachable!("EXIF orientations are 1 to 8"),
    }
}

#[test]
fn all_eight_exif_orientations_are_applied() {
    let src = quadrants();
    let (w, h) = src.dimensions();
    for orientation in 1..=8u16 {
        let jpeg = jpeg_with_exif(&src, orientation);
        let info = inspect(&jpeg, &Limits::default()).unwrap();
        let expected_dims = if orientation >= 5 { (h, w) } else { (w, h) };
        assert_eq!((info.width, info.height), expected_dims, "inspect, orientation {orientation}");

        let r = render_one(&jpeg, RenditionSpec::new("full", 1000, 1000));
        assert_eq!((r.width, r.height), expected_dims, "orientation {orientation}");
        let out = decode_output(&r).to_rgb8();
        // Sample the centre of each source quadrant where it should now be.
        for (sx, sy, colour) in [(16, 8, RED), (48, 8, GREEN), (16, 24, BLUE), (48, 24, WHITE)] {
            let (dx, dy) = oriented(orientation, sx, sy, w, h);
            let got = out.get_pixel(dx, dy).0;
            assert!(
                close(&got, &colour, 40),
                "orientation {orientation}: {colour:?} expected at ({dx},{dy}), got {got:?}"
            );
        }
    }
}

#[test]
fn orientation_also_applies_when_downscaling() {
    let jpeg = jpeg_with_exif(&quadrants(), 6);
    let r = render_one(&jpeg, RenditionSpec::new("thumb", 16, 16));
    assert_eq!((r.width, r.height), (8, 16));
}

#[test]
fn exif_and_gps_are_stripped_from_jpeg_output() {
    let jpeg = jpeg_with_exif(&gradient(200, 100), 1);
    assert!(jpeg_markers(&jpeg).contains(&0xE1), "the source carries APP1/Exif");
    assert!(jpeg.windows(4).any(|w| w == b"Exif"));
    for r in render(&jpeg, &RenditionSpec::defaults(), &Limits::default(), &EncodeOptions::default()).unwrap() {
        assert_eq!(r.format, ImageFormat::Jpeg);
        let markers = jpeg_markers(&r.bytes);
        assert!(
            markers.iter().all(|m| !(0xE1..=0xEF).contains(m) && *m != 0xFE),
            "no APP1-APP15 or COM segment in output: {markers:02X?}"
        );
        assert!(!r.bytes.windows(4).any(|w| w == b"Exif"));
        assert!(!r.bytes.windows(8).any(|w| w == b"EaselCam"), "camera make gone");
    }
}

#[test]
fn png_metadata_is_stripped_from_png_output() {
    let (w, h) = (20u32, 10u32);
    let data: Vec<u8> = (0..w * h).flat_map(|i| [200, 100, 50, (i % 200) as u8]).collect();
    let src = png_with_chunks(
        w,
        h,
        png::ColorType::Rgba,
        png::BitDepth::Eight,
        &data,
        |enc| enc.add_text_chunk("GPS".to_owned(), "51.5N 0.1W".to_owned()).unwrap(),
        &[(*b"eXIf", exif_tiff(1))],
    );
    assert!(png_chunks(&src).iter().any(|c| c == "tEXt"));
    assert!(png_chunks(&src).iter().any(|c| c == "eXIf"));
    let r = render_one(&src, RenditionSpec::new("full", 100, 100));
    assert_eq!(r.format, ImageFormat::Png);
    assert!(
        png_chunks(&r.bytes).iter().all(|c| c == "IHDR" || c == "IDAT" || c == "IEND"),
        "{:?}",
        png_chunks(&r.bytes)
    );
    assert!(!r.bytes.windows(3).any(|w| w == b"GPS"));
}

#[test]
fn cmyk_jpeg_becomes_rgb() {
    let (w, h) = (32u32, 16u32);
    // Left half pure cyan ink, right half pure magenta ink.
    let data: Vec<u8> = (0..w * h).flat_map(|i| if i % w < 16 { [255, 0, 0, 0] } else { [0, 255, 0, 0] }).collect();
    let mut src = Vec::new();
    jpeg_encoder::Encoder::new(&mut src, 95).encode(&data, w as u16, h as u16, jpeg_encoder::ColorType::Cmyk).unwrap();
    let r = render_one(&src, RenditionSpec::new("full", 100, 100));
    assert_eq!((r.format, r.width, r.height), (ImageFormat::Jpeg, 32, 16));
    let out = decode_output(&r);
    assert_eq!(out.color(), image::ColorType::Rgb8);
    let out = out.to_rgb8();
    let cyan = out.get_pixel(4, 8).0;
    let magenta = out.get_pixel(28, 8).0;
    assert!(close(&cyan, &[0, 255, 255], 40), "cyan became {cyan:?}");
    assert!(close(&magenta, &[255, 0, 255], 40), "magenta became {magenta:?}");
}

#[test]
fn greyscale_png_and_jpeg_become_rgb_jpeg() {
    let (w, h) = (30u32, 20u32);
    let grey: Vec<u8> = (0..w * h).map(|i| (i % 256) as u8).collect();
    let png = png_bytes(w, h, png::ColorType::Grayscale, png::BitDepth::Eight, &grey);
    let mut jpeg = Vec::new();
    jpeg_encoder::Encoder::new(&mut jpeg, 90).encode(&grey, w as u16, h as u16, jpeg_encoder::ColorType::Luma).unwrap();
    for src in [png, jpeg] {
        let r = render_one(&src, RenditionSpec::new("full", 100, 100));
        assert_eq!(r.format, ImageFormat::Jpeg);
        let out = decode_output(&r).to_rgb8();
        let p = out.get_pixel(10, 10).0;
        assert!(p[0].abs_diff(p[1]) < 8 && p[1].abs_diff(p[2]) < 8, "stays grey: {p:?}");
    }
}

#[test]
fn grey_with_alpha_becomes_rgba_png() {
    let data: Vec<u8> = (0..100u32).flat_map(|i| [128u8, if i < 50 { 0 } else { 255 }]).collect();
    let src = png_bytes(10, 10, png::ColorType::GrayscaleAlpha, png::BitDepth::Eight, &data);
    let r = render_one(&src, RenditionSpec::new("full", 100, 100));
    assert_eq!(r.format, ImageFormat::Png);
    let out = decode_output(&r).to_rgba8();
    assert_eq!(out.get_pixel(0, 0)[3], 0);
    assert_eq!(out.get_pixel(5, 9).0, [128, 128, 128, 255]);
}

#[test]
fn sixteen_bit_png_becomes_8_bit() {
    let (w, h) = (8u32, 4u32);
    // 16-bit big-endian RGB: 0xFFFF red, 0x8080 green, 0 blue.
    let data: Vec<u8> = (0..w * h).flat_map(|_| [0xFF, 0xFF, 0x80, 0x80, 0, 0]).collect();
    let src = png_bytes(w, h, png::ColorType::Rgb, png::BitDepth::Sixteen, &data);
    let r = render_one(&src, RenditionSpec::new("full", 100, 100));
    assert_eq!(r.format, ImageFormat::Jpeg);
    let out = decode_output(&r);
    assert_eq!(out.color(), image::ColorType::Rgb8);
    assert!(close(&out.to_rgb8().get_pixel(4, 2).0, &[255, 128, 0], 12));
}

#[test]
fn sixteen_bit_png_with_alpha_keeps_alpha() {
    let data: Vec<u8> = (0..16u32)
        .flat_map(|i| {
            let a = if i < 8 { 0 } else { 0xFF };
            [0xFF, 0xFF, 0, 0, 0, 0, a, a]
        })
        .collect();
    let src = png_bytes(4, 4, png::ColorType::Rgba, png::BitDepth::Sixteen, &data);
    let r = render_one(&src, RenditionSpec::new("full", 100, 100));
    assert_eq!(r.format, ImageFormat::Png);
    let out = decode_output(&r).to_rgba8();
    assert_eq!(out.get_pixel(0, 0)[3], 0);
    assert_eq!(out.get_pixel(0, 3).0, [255, 0, 0, 255]);
}

#[test]
fn palette_png_with_transparency_becomes_rgba_png() {
    let (w, h) = (16u32, 16u32);
    let indices: Vec<u8> = (0..w * h).map(|i| if (i % w) < 8 { 0 } else { 1 }).collect();
    let src = png_with(w, h, png::ColorType::Indexed, png::BitDepth::Eight, &indices, |enc| {
        enc.set_palette(vec![255, 0, 0, 0, 0, 255]);
        enc.set_trns(vec![0]); // index 0 fully transparent, index 1 opaque
    });
    let r = render_one(&src, RenditionSpec::new("full", 100, 100));
    assert_eq!(r.format, ImageFormat::Png, "transparency must survive, so no JPEG");
    let out = decode_output(&r);
    assert_eq!(out.color(), image::ColorType::Rgba8);
    let out = out.to_rgba8();
    assert_eq!(out.get_pixel(2, 2)[3], 0);
    assert_eq!(out.get_pixel(12, 2).0, [0, 0, 255, 255]);
}

#[test]
fn opaque_palette_png_becomes_jpeg() {
    let indices: Vec<u8> = (0..64u32).map(|i| (i % 2) as u8).collect();
    let src = png_with(8, 8, png::ColorType::Indexed, png::BitDepth::Eight, &indices, |enc| {
        enc.set_palette(vec![255, 0, 0, 0, 0, 255]);
    });
    assert_eq!(render_one(&src, RenditionSpec::new("full", 100, 100)).format, ImageFormat::Jpeg);
}

#[test]
fn rgba_with_some_transparency_resizes_to_png() {
    let (w, h) = (800u32, 600u32);
    let data: Vec<u8> = (0..w * h).flat_map(|i| [10, 200, 30, if i % w < 400 { 255 } else { 40 }]).collect();
    let src = png_bytes(w, h, png::ColorType::Rgba, png::BitDepth::Eight, &data);
    let out = render(&src, &RenditionSpec::defaults(), &Limits::default(), &EncodeOptions::default()).unwrap();
    assert_eq!(
        out.iter().map(|r| (r.name.as_str(), r.width, r.height, r.format)).collect::<Vec<_>>(),
        [("thumb", 400, 300, ImageFormat::Png), ("display", 800, 600, ImageFormat::Png),]
    );
    let thumb = decode_output(&out[0]).to_rgba8();
    assert_eq!(thumb.get_pixel(10, 10).0, [10, 200, 30, 255]);
    let right = thumb.get_pixel(390, 10).0;
    // Premultiplying by a low alpha costs a few levels of colour precision.
    assert!(close(&right, &[10, 200, 30, 40], 4), "semi-transparent colour kept: {right:?}");
}

#[test]
fn fully_opaque_rgba_becomes_jpeg() {
    let data: Vec<u8> = (0..100u32).flat_map(|_| [10, 20, 30, 255]).collect();
    let src = png_bytes(10, 10, png::ColorType::Rgba, png::BitDepth::Eight, &data);
    let r = render_one(&src, RenditionSpec::new("full", 100, 100));
    assert_eq!(r.format, ImageFormat::Jpeg);
    assert_eq!(r.format.content_type(), "image/jpeg");
}

#[test]
fn one_pixel_images() {
    for src in [rgb_png(1, 1), rgb_jpeg(1, 1)] {
        let out = render(&src, &RenditionSpec::defaults(), &Limits::default(), &EncodeOptions::default()).unwrap();
        assert!(out.iter().all(|r| (r.width, r.height) == (1, 1)));
        for r in &out {
            decode_output(r);
        }
    }
}

#[test]
fn long_thin_strip_never_reaches_zero_height() {
    let src = rgb_png(6000, 20);
    let out = render(&src, &RenditionSpec::defaults(), &Limits::default(), &EncodeOptions::default()).unwrap();
    assert_eq!(out.iter().map(|r| (r.width, r.height)).collect::<Vec<_>>(), [(400, 1), (1600, 5)]);
    for r in &out {
        decode_output(r);
    }
}

#[test]
fn never_upscales() {
    let r = render_one(&rgb_jpeg(120, 80), RenditionSpec::new("display", 1600, 1600));
    assert_eq!((r.width, r.height), (120, 80));
}

#[test]
fn rectangular_boxes_bind_on_the_tighter_side() {
    let src = rgb_jpeg(1000, 500);
    let r = render_one(&src, RenditionSpec::new("banner", 400, 100));
    assert_eq!((r.width, r.height), (200, 100));
}

#[test]
fn jpeg_quality_is_honoured() {
    let src = rgb_png(400, 400);
    let spec = [RenditionSpec::new("full", 400, 400)];
    let low = render(&src, &spec, &Limits::default(), &EncodeOptions { jpeg_quality: 20 }).unwrap();
    let high = render(&src, &spec, &Limits::default(), &EncodeOptions { jpeg_quality: 98 }).unwrap();
    assert!(low[0].bytes.len() < high[0].bytes.len());
}

#[test]
fn truncated_files_are_corrupt() {
    let png = rgb_png(300, 200);
    let jpeg = rgb_jpeg(300, 200);
    for (name, full) in [("png", png), ("jpeg", jpeg)] {
        for cut in [full.len() / 2, full.len() - 20] {
            let err = inspect(&full[..cut], &Limits::default()).unwrap_err();
            assert!(matches!(err, ImageError::Corrupt(_)), "{name} cut at {cut}: {err:?}");
            let err = render(&full[..cut], &RenditionSpec::defaults(), &Limits::default(), &EncodeOptions::default())
                .unwrap_err();
            assert!(matches!(err, ImageError::Corrupt(_)), "{name} cut at {cut}: {err:?}");
        }
    }
}

#[test]
fn header_only_files_are_corrupt() {
    assert!(matches!(inspect(&rgb_png(10, 10)[..20], &Limits::default()), Err(ImageError::Corrupt(_))));
    assert!(matches!(inspect(&[0xFF, 0xD8, 0xFF, 0xE0, 0x00], &Limits::default()), Err(ImageError::Corrupt(_))));
}

#[test]
fn decompression_bomb_is_rejected_from_the_header() {
    let bomb = png_bomb(100_000, 100_000);
    assert!(bomb.len() < 100);
    let started = Instant::now();
    let err = inspect(&bomb, &Limits::default()).unwrap_err();
    assert_eq!(err, ImageError::TooManyPixels { width: 100_000, height: 100_000, limit: 50_000_000 });
    let err = render(&bomb, &RenditionSpec::defaults(), &Limits::default(), &EncodeOptions::default()).unwrap_err();
    assert!(matches!(err, ImageError::TooManyPixels { .. }));
    assert!(started.elapsed() < Duration::from_secs(1), "took {:?}", started.elapsed());
    assert_eq!(err.to_string(), "The image is 100000 × 100000 pixels; the largest image we accept is 50 megapixels.");
}

#[test]
fn pixel_limit_is_configurable() {
    let limits = Limits { max_pixels: 100, ..Limits::default() };
    assert!(matches!(inspect(&rgb_png(11, 10), &limits), Err(ImageError::TooManyPixels { width: 11, height: 10, .. })));
    assert!(inspect(&rgb_png(10, 10), &limits).is_ok());
}

#[test]
fn memory_limit_is_enforced() {
    let limits = Limits { max_alloc: 1000, ..Limits::default() };
    let err = inspect(&rgb_png(100, 100), &limits).unwrap_err();
    assert_eq!(err, ImageError::TooMuchMemory { limit: 1000 });
}

#[test]
fn empty_too_large_and_foreign_files() {
    assert_eq!(inspect(b"", &Limits::default()), Err(ImageError::Empty));
    let limits = Limits { max_bytes: 100, ..Limits::default() };
    let png = rgb_png(64, 64);
    assert_eq!(inspect(&png, &limits), Err(ImageError::TooLarge { bytes: png.len() as u64, limit: 100 }));
    let gif = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00";
    assert_eq!(inspect(gif, &Limits::default()), Err(ImageError::UnsupportedFormat));
    assert_eq!(
        inspect(b"<svg xmlns='http://www.w3.org/2000/svg'/>", &Limits::default()),
        Err(ImageError::UnsupportedFormat)
    );
}

#[test]
fn messages_are_plain_words() {
    assert_eq!(ImageError::Empty.to_string(), "The file is empty.");
    assert_eq!(ImageError::UnsupportedFormat.to_string(), "The file is not a PNG or JPEG image.");
    assert_eq!(
        ImageError::TooLarge { bytes: 30 * 1024 * 1024 + 200 * 1024, limit: 25 * 1024 * 1024 }.to_string(),
        "The file is 30.2 MB; the largest file we accept is 25 MB."
    );
    let corrupt = ImageError::Corrupt("unexpected EOF in IDAT".into());
    assert_eq!(corrupt.to_string(), "The image file is damaged or incomplete.");
    assert_eq!(corrupt.log_reason(), "The image file is damaged or incomplete. (unexpected EOF in IDAT)");
}

#[test]
fn jpeg_bytes_with_a_png_name_are_a_jpeg() {
    // Names never reach the core: the same bytes are a JPEG whatever they
    // were called, and render that way.
    let bytes = rgb_jpeg(50, 40);
    assert_eq!(inspect(&bytes, &Limits::default()).unwrap().format, ImageFormat::Jpeg);
}

#[test]
fn inspect_reports_format_and_size() {
    assert_eq!(
        inspect(&rgb_png(30, 20), &Limits::default()).unwrap(),
        ImageInfo { format: ImageFormat::Png, width: 30, height: 20 }
    );
}

#[test]
fn renditions_follow_spec_order() {
    let specs = vec![RenditionSpec::new("b", 50, 50), RenditionSpec::new("a", 10, 10)];
    let out = render(&rgb_jpeg(100, 100), &specs, &Limits::default(), &EncodeOptions::default()).unwrap();
    assert_eq!(out.iter().map(|r| (r.name.as_str(), r.width)).collect::<Vec<_>>(), [("b", 50), ("a", 10)]);
}

#[test]
fn parse_renditions_accepts_square_and_rectangular_boxes() {
    assert_eq!(parse_renditions("thumb=400,display=1600").unwrap(), RenditionSpec::defaults());
    assert_eq!(
        parse_renditions(" thumb = 400x300 , wide=1200X600").unwrap(),
        vec![RenditionSpec::new("thumb", 400, 300), RenditionSpec::new("wide", 1200, 600)]
    );
}

#[test]
fn parse_renditions_rejects_malformed_input() {
    for bad in [
        "",
        "thumb",
        "thumb=",
        "=400",
        "thumb=0",
        "thumb=abc",
        "thumb=400x",
        "thumb=x300",
        "thumb=-4",
        "thumb=400,,display=1600",
        "thumb=400,thumb=800",
        "Thumb=400",
        "th/umb=400",
        "thumb=99999",
        "manifest=400",
        "thumb=400x300x2",
    ] {
        let err = parse_renditions(bad).expect_err(bad);
        assert!(err.to_string().starts_with("invalid rendition list: "), "{bad}: {err:?}");
        assert!(!err.to_string().is_empty());
    }
}

#[test]
fn shrink_on_load_leaves_lanczos_its_share() {
    let box1280 = [RenditionSpec::new("fit", 1280, 1280)];
    // ½ may do the whole reduction; ¼ and ⅛ must leave at least 2×.
    assert_eq!(shrink_for(2560, 1600, &box1280), 2);
    assert_eq!(shrink_for(5640, 3172, &box1280), 2, "4.4× needed: ¼ would leave only 1.1×");
    assert_eq!(shrink_for(10240, 6400, &box1280), 4);
    assert_eq!(shrink_for(20480, 12800, &box1280), 8);
    assert_eq!(shrink_for(1920, 1080, &box1280), 1);
    assert_eq!(shrink_for(800, 600, &box1280), 1, "never below the source");
    // Every rendition must still be served: the largest box decides.
    assert_eq!(shrink_for(20480, 12800, &RenditionSpec::defaults()), 4);
    assert_eq!(shrink_for(5000, 5000, &[]), 8, "no rendition: cheapest full check");
}

#[test]
fn shrunk_jpeg_renders_like_a_full_decode() {
    // A smooth photo-like gradient, big enough for a ½ shrink-on-load.
    let (w, h) = (1024u32, 768u32);
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x * 255 / w) as u8, (y * 255 / h) as u8, ((x + y) * 255 / (w + h)) as u8])
    });
    let src = jpeg_of(&img, None);
    let r = render_one(&src, RenditionSpec::new("half", 512, 512));
    assert_eq!((r.width, r.height), (512, 384));
    let got = decode_output(&r).to_rgb8();
    let want = image::imageops::resize(&img, 512, 384, image::imageops::FilterType::Lanczos3);
    let mean = got.as_raw().iter().zip(want.as_raw()).map(|(a, b)| f64::from(a.abs_diff(*b))).sum::<f64>()
        / got.as_raw().len() as f64;
    assert!(mean < 1.5, "mean difference from a full Lanczos3 resize: {mean:.2}");
}

#[test]
fn work_is_over_budget_when_a_block_was_decoded_uncharged_or_the_budget_passed() {
    let fine = Work { blocks_decoded: 10, block_budget: 10, blocks_visited: 10, ..Work::default() };
    assert!(fine.within_budget());
    assert!(!Work { blocks_visited: 11, ..fine }.within_budget());
    assert!(!Work { blocks_decoded: 11, ..fine }.within_budget());
    assert!(!Work { bytes_inflated: 1, ..fine }.within_budget());
}

/// A real photograph's decoding is counted where it happens: every block
/// of a baseline frame once, all of it charged.
#[test]
fn decoded_blocks_are_counted_and_charged() {
    let jpeg = testutil::jpeg_of(&testutil::gradient(64, 48), None);
    let (result, work) = inspect_metered(&jpeg, &Limits::default());
    assert!(result.is_ok());
    // Three components at full resolution, 8×6 blocks each.
    assert_eq!(work.blocks_visited, 3 * 8 * 6);
    assert!(work.within_budget(), "{work:?}");
}

/// The decoder itself refuses an upload cut off anywhere (it replaced a
/// separate completeness walk that had this test).
#[test]
fn every_truncation_of_a_jpeg_is_refused() {
    let jpeg = rgb_jpeg(40, 30);
    for cut in 3..jpeg.len() {
        assert!(inspect(&jpeg[..cut], &Limits::default()).is_err(), "cut at {cut} of {}", jpeg.len());
    }
}

#[test]
fn jpeg_with_trailing_bytes_after_eoi_is_accepted() {
    let mut jpeg = rgb_jpeg(16, 16);
    jpeg.extend_from_slice(b"trailing junk some cameras append");
    assert_eq!(inspect(&jpeg, &Limits::default()).map(|i| (i.width, i.height)), Ok((16, 16)));
}
