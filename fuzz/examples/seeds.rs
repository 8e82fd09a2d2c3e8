//! Writes the image seeds of the fuzz corpus: one small file of every kind
//! the image core must read (the legitimate files issue 11 lists), into
//! `fuzz/corpus/{inspect,render,jpeg_reference}/`, and upload bodies of
//! every shape a browser or a stranger sends into `fuzz/corpus/multipart/`,
//! and ICC profiles into `fuzz/corpus/icc_profile/`.
//! The JSON seeds of the other targets are written by hand. Re-run after changing it:
//!
//! ```sh
//! cargo run -p easel-fuzz --example seeds
//! ```

use std::path::Path;

use jpeg_encoder::{ColorType, Encoder, SamplingFactor};

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();

    // JPEG: the decoder's own fixtures (libjpeg-made, progressive with
    // refinement, restarts, grey) and a few more made here.
    let testdata = root.join("../lambda/src/image/jpeg/testdata");
    for entry in std::fs::read_dir(&testdata).expect("the JPEG fixtures") {
        let path = entry.unwrap().path();
        files.push((path.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&path).unwrap()));
    }
    let (w, h) = (48, 32);
    let rgb = pattern(w, h, 3);
    files.push(("base_444.jpg".into(), jpeg(&rgb, w, h, ColorType::Rgb, |_| {})));
    files.push((
        "base_420.jpg".into(),
        jpeg(&rgb, w, h, ColorType::Rgb, |e| e.set_sampling_factor(SamplingFactor::F_2_2)),
    ));
    files.push((
        "base_422_rst3.jpg".into(),
        jpeg(&rgb, w, h, ColorType::Rgb, |e| {
            e.set_sampling_factor(SamplingFactor::F_2_1);
            e.set_restart_interval(3);
        }),
    ));
    files.push((
        "base_411.jpg".into(),
        jpeg(&rgb, w, h, ColorType::Rgb, |e| e.set_sampling_factor(SamplingFactor::F_4_1)),
    ));
    files.push((
        "prog_420_made.jpg".into(),
        jpeg(&rgb, w, h, ColorType::Rgb, |e| {
            e.set_sampling_factor(SamplingFactor::F_2_2);
            e.set_progressive(true);
        }),
    ));
    files.push(("grey.jpg".into(), jpeg(&pattern(w, h, 1), w, h, ColorType::Luma, |_| {})));
    files.push(("cmyk.jpg".into(), jpeg(&pattern(w, h, 4), w, h, ColorType::Cmyk, |_| {})));
    files.push(("ycck.jpg".into(), jpeg(&pattern(w, h, 4), w, h, ColorType::CmykAsYcck, |_| {})));
    files.push(("one_pixel.jpg".into(), jpeg(&[200, 30, 90], 1, 1, ColorType::Rgb, |_| {})));
    files.push(("wide_strip.jpg".into(), jpeg(&pattern(1200, 2, 3), 1200, 2, ColorType::Rgb, |_| {})));
    files.push(("tall_strip.jpg".into(), jpeg(&pattern(3, 500, 3), 3, 500, ColorType::Rgb, |_| {})));
    for orientation in [3u16, 6, 8] {
        let bytes = jpeg(&rgb, w, h, ColorType::Rgb, |e| e.add_exif_metadata(&exif(orientation)).unwrap());
        files.push((format!("exif_orientation_{orientation}.jpg"), bytes));
    }

    // PNG: every colour type and depth the decoder converts, transparency,
    // compressed text and colour profile chunks, interlacing.
    files.push((
        "grey8.png".into(),
        png(w, h, png::ColorType::Grayscale, png::BitDepth::Eight, &pattern(w, h, 1), |_| {}),
    ));
    files.push((
        "grey1.png".into(),
        png(16, 8, png::ColorType::Grayscale, png::BitDepth::One, &[0b1010_0110; 16], |_| {}),
    ));
    files.push((
        "grey16.png".into(),
        png(w, h, png::ColorType::Grayscale, png::BitDepth::Sixteen, &pattern(w, h, 2), |_| {}),
    ));
    files.push((
        "grey_alpha.png".into(),
        png(w, h, png::ColorType::GrayscaleAlpha, png::BitDepth::Eight, &pattern(w, h, 2), |_| {}),
    ));
    files.push(("rgb8.png".into(), png(w, h, png::ColorType::Rgb, png::BitDepth::Eight, &rgb, |_| {})));
    files.push(("rgb16.png".into(), png(w, h, png::ColorType::Rgb, png::BitDepth::Sixteen, &pattern(w, h, 6), |_| {})));
    files.push(("rgba8.png".into(), png(w, h, png::ColorType::Rgba, png::BitDepth::Eight, &pattern(w, h, 4), |_| {})));
    let indices: Vec<u8> = (0..w * h).map(|i| ((i % w) / 12) as u8).collect();
    files.push((
        "palette_trns.png".into(),
        png(w, h, png::ColorType::Indexed, png::BitDepth::Eight, &indices, |e| {
            e.set_palette(vec![255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255]);
            e.set_trns(vec![0, 128, 255]);
        }),
    ));
    files.push((
        "text_chunks.png".into(),
        png(w, h, png::ColorType::Rgb, png::BitDepth::Eight, &rgb, |e| {
            e.add_text_chunk("Title".into(), "Easel seed".into()).unwrap();
            e.add_ztxt_chunk("Comment".into(), "compressed ".repeat(20)).unwrap();
            e.add_itxt_chunk("Description".into(), "international text ✓".into()).unwrap();
        }),
    ));
    files.push(("iccp.png".into(), png_with_icc(w, h, &rgb)));
    files.push((
        "one_pixel.png".into(),
        png(1, 1, png::ColorType::Rgba, png::BitDepth::Eight, &[9, 99, 199, 40], |_| {}),
    ));
    files.push(("adam7.png".into(), adam7_png(13, 11)));

    let mut total = 0;
    for target in ["inspect", "render", "jpeg_reference"] {
        let dir = root.join("corpus").join(target);
        std::fs::create_dir_all(&dir).unwrap();
        for (name, bytes) in &files {
            if target == "jpeg_reference" && !name.ends_with(".jpg") {
                continue;
            }
            assert!(bytes.len() < 20_000, "{name} is {} bytes; seeds stay small", bytes.len());
            std::fs::write(dir.join(name), bytes).unwrap();
            total += bytes.len();
        }
    }
    println!("wrote {} image seeds, {total} bytes", files.len());

    let dir = root.join("corpus").join("multipart");
    std::fs::create_dir_all(&dir).unwrap();
    let bodies = multipart_seeds(&files[0].1);
    for (name, bytes) in &bodies {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    println!("wrote {} multipart seeds", bodies.len());

    // ICC profiles, written by moxcms: matrix-and-curves RGB of three
    // gamuts and a grey one, for the `icc_profile` target to mutate.
    let dir = root.join("corpus").join("icc_profile");
    std::fs::create_dir_all(&dir).unwrap();
    let profiles = [
        ("display_p3.icc", moxcms::ColorProfile::new_display_p3()),
        ("adobe_rgb.icc", moxcms::ColorProfile::new_adobe_rgb()),
        ("pro_photo_rgb.icc", moxcms::ColorProfile::new_pro_photo_rgb()),
        ("grey_gamma_2_2.icc", moxcms::ColorProfile::new_gray_with_gamma(2.2)),
    ];
    for (name, profile) in &profiles {
        std::fs::write(dir.join(name), profile.encode().expect("an encodable profile")).unwrap();
    }
    println!("wrote {} ICC profile seeds", profiles.len());
}

/// Upload bodies for the `multipart` target, each behind its two control
/// bytes: the file limit in units of 64 bytes, and the chunk size less one.
/// `art` is a small image to carry.
fn multipart_seeds(art: &[u8]) -> Vec<(String, Vec<u8>)> {
    let b = easel_fuzz::BOUNDARY;
    let part = |headers: &str, data: &[u8]| {
        let mut p = format!("--{b}\r\n{headers}\r\n\r\n").into_bytes();
        p.extend_from_slice(data);
        p.extend_from_slice(b"\r\n");
        p
    };
    let file = |name: &str, filename: &str, data: &[u8]| {
        part(
            &format!(
                "Content-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: image/jpeg"
            ),
            data,
        )
    };
    let text =
        |name: &str, value: &str| part(&format!("Content-Disposition: form-data; name=\"{name}\""), value.as_bytes());
    let close = format!("--{b}--\r\n").into_bytes();
    let seed = |limit: u8, cut: u8, parts: &[&[u8]]| [vec![limit, cut], parts.concat()].concat();
    let art = &art[..art.len().min(600)];
    // Limits in units of 64 bytes: 16 holds `art`, 2 does not.
    vec![
        ("browser_form".into(), seed(16, 7, &[&text("note", "hi"), &file("artwork", "sunset.jpg", art), &close])),
        ("no_file_chosen".into(), seed(16, 0, &[&file("artwork", "", b""), &close])),
        ("empty_file".into(), seed(16, 3, &[&file("artwork", "empty.jpg", b""), &close])),
        (
            "two_files".into(),
            seed(16, 31, &[&file("artwork", "a.jpg", b"first"), &file("artwork", "b.jpg", art), &close]),
        ),
        ("over_limit".into(), seed(2, 15, &[&file("artwork", "big.jpg", art), &close])),
        ("cut_off".into(), seed(16, 63, &[&file("artwork", "sunset.jpg", art)[..200]])),
        (
            "preamble_and_epilogue".into(),
            seed(16, 5, &[b"preamble text\r\n", &file("artwork", "p.jpg", b"data"), &close, b"epilogue"]),
        ),
        (
            "paths_and_encoded_names".into(),
            seed(
                16,
                1,
                &[
                    &file("artwork", "C:\\fakepath\\../x\u{7}y.jpg", b"a"),
                    &part("Content-Disposition: form-data; name=\"artwork\"; filename*=UTF-8''caf%C3%A9.jpg", b"b"),
                ],
            ),
        ),
        ("endless_headers".into(), seed(16, 255, &[format!("--{b}\r\nX-Pad: {}", "a".repeat(17 * 1024)).as_bytes()])),
        (
            "lf_only".into(),
            seed(
                16,
                2,
                &[format!(
                    "--{b}\nContent-Disposition: form-data; name=\"artwork\"; filename=\"x.jpg\"\n\nabc\n--{b}--\n"
                )
                .as_bytes()],
            ),
        ),
        ("other_field_only".into(), seed(16, 9, &[&text("artwork_note", "no file here"), &close])),
    ]
}

/// Smooth ramps with a few edges, `channels` bytes a pixel.
fn pattern(w: u32, h: u32, channels: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity((w * h * channels) as usize);
    for y in 0..h {
        for x in 0..w {
            for c in 0..channels {
                let edge = if (x / 8 + y / 8) % 2 == 0 { 0 } else { 60 };
                out.push(((x * 5 + y * 3 + c * 70 + edge) % 256) as u8);
            }
        }
    }
    out
}

fn jpeg(pixels: &[u8], w: u32, h: u32, color: ColorType, setup: impl FnOnce(&mut Encoder<&mut Vec<u8>>)) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = Encoder::new(&mut out, 80);
    setup(&mut encoder);
    encoder.encode(pixels, w as u16, h as u16, color).unwrap();
    out
}

/// A big-endian TIFF with one IFD entry: Orientation.
fn exif(orientation: u16) -> Vec<u8> {
    let mut t = b"MM\0\x2A\0\0\0\x08".to_vec();
    t.extend_from_slice(&1u16.to_be_bytes());
    t.extend_from_slice(&0x0112u16.to_be_bytes());
    t.extend_from_slice(&3u16.to_be_bytes());
    t.extend_from_slice(&1u32.to_be_bytes());
    t.extend_from_slice(&orientation.to_be_bytes());
    t.extend_from_slice(&[0, 0]);
    t.extend_from_slice(&0u32.to_be_bytes());
    t
}

fn png(
    w: u32,
    h: u32,
    color: png::ColorType,
    depth: png::BitDepth,
    data: &[u8],
    setup: impl FnOnce(&mut png::Encoder<&mut Vec<u8>>),
) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, w, h);
    encoder.set_color(color);
    encoder.set_depth(depth);
    setup(&mut encoder);
    let mut writer = encoder.write_header().unwrap();
    writer.write_image_data(data).unwrap();
    writer.finish().unwrap();
    out
}

fn png_with_icc(w: u32, h: u32, rgb: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut info = png::Info::with_size(w, h);
    info.color_type = png::ColorType::Rgb;
    info.bit_depth = png::BitDepth::Eight;
    // Not a valid profile, only its size and shape: decoders must not care.
    let mut profile = vec![0u8; 512];
    profile[..4].copy_from_slice(&512u32.to_be_bytes());
    profile[36..40].copy_from_slice(b"acsp");
    info.icc_profile = Some(profile.into());
    let mut writer = png::Encoder::with_info(&mut out, info).unwrap().write_header().unwrap();
    writer.write_image_data(rgb).unwrap();
    writer.finish().unwrap();
    out
}

/// An Adam7-interlaced 8-bit RGBA PNG, assembled by hand (the png crate
/// writes only progressive-scan files): each pass's rows, filter byte 0,
/// in stored deflate blocks.
fn adam7_png(w: u32, h: u32) -> Vec<u8> {
    const PASSES: [(u32, u32, u32, u32); 7] =
        [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)];
    let pixels = pattern(w, h, 4);
    let mut raw = Vec::new();
    for (x0, y0, dx, dy) in PASSES {
        let xs: Vec<u32> = (x0..w).step_by(dx as usize).collect();
        if xs.is_empty() {
            continue;
        }
        for y in (y0..h).step_by(dy as usize) {
            raw.push(0);
            for &x in &xs {
                let at = ((y * w + x) * 4) as usize;
                raw.extend_from_slice(&pixels[at..at + 4]);
            }
        }
    }
    let mut zlib = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = raw.chunks(65_535).collect();
    for (i, block) in blocks.iter().enumerate() {
        zlib.push(u8::from(i + 1 == blocks.len()));
        let len = block.len() as u16;
        zlib.extend_from_slice(&len.to_le_bytes());
        zlib.extend_from_slice(&(!len).to_le_bytes());
        zlib.extend_from_slice(block);
    }
    zlib.extend_from_slice(&adler2::adler32_slice(&raw).to_be_bytes());

    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 1]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    for (kind, data) in [(b"IHDR", &ihdr[..]), (b"IDAT", &zlib[..]), (b"IEND", &[][..])] {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let start = out.len();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        let crc = crc32fast::hash(&out[start..]);
        out.extend_from_slice(&crc.to_be_bytes());
    }
    out
}
