//! Images made in memory for the tests, so no fixture files are needed.

use image::{Rgb, RgbImage};

pub(crate) fn png_bytes(width: u32, height: u32, color: png::ColorType, depth: png::BitDepth, data: &[u8]) -> Vec<u8> {
    png_with(width, height, color, depth, data, |_| {})
}

pub(crate) fn png_with(
    width: u32,
    height: u32,
    color: png::ColorType,
    depth: png::BitDepth,
    data: &[u8],
    configure: impl FnOnce(&mut png::Encoder<'_, &mut Vec<u8>>),
) -> Vec<u8> {
    png_with_chunks(width, height, color, depth, data, configure, &[])
}

/// As `png_with`, plus raw ancillary chunks written before the image data.
pub(crate) fn png_with_chunks(
    width: u32,
    height: u32,
    color: png::ColorType,
    depth: png::BitDepth,
    data: &[u8],
    configure: impl FnOnce(&mut png::Encoder<'_, &mut Vec<u8>>),
    chunks: &[([u8; 4], Vec<u8>)],
) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, width, height);
        enc.set_color(color);
        enc.set_depth(depth);
        configure(&mut enc);
        let mut w = enc.write_header().unwrap();
        for (kind, body) in chunks {
            w.write_chunk(png::chunk::ChunkType(*kind), body).unwrap();
        }
        w.write_image_data(data).unwrap();
        w.finish().unwrap();
    }
    out
}

pub(crate) fn gradient(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| Rgb([(x * 255 / width.max(1)) as u8, (y * 255 / height.max(1)) as u8, 128]))
}

pub(crate) fn rgb_png(width: u32, height: u32) -> Vec<u8> {
    let img = gradient(width, height);
    png_bytes(width, height, png::ColorType::Rgb, png::BitDepth::Eight, img.as_raw())
}

pub(crate) fn jpeg_of(img: &RgbImage, exif: Option<Vec<u8>>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = jpeg_encoder::Encoder::new(&mut out, 95);
    if let Some(tiff) = exif {
        enc.add_exif_metadata(&tiff).unwrap();
    }
    enc.encode(img.as_raw(), img.width() as u16, img.height() as u16, jpeg_encoder::ColorType::Rgb).unwrap();
    out
}

pub(crate) fn rgb_jpeg(width: u32, height: u32) -> Vec<u8> {
    jpeg_of(&gradient(width, height), None)
}

pub(crate) const RED: [u8; 3] = [255, 0, 0];
pub(crate) const GREEN: [u8; 3] = [0, 255, 0];
pub(crate) const BLUE: [u8; 3] = [0, 0, 255];
pub(crate) const WHITE: [u8; 3] = [255, 255, 255];

/// 64×32: red top-left, green top-right, blue bottom-left, white
/// bottom-right. Blocks of 32×16 survive JPEG's 16×16 chroma blocks.
pub(crate) fn quadrants() -> RgbImage {
    RgbImage::from_fn(64, 32, |x, y| {
        Rgb(match (x < 32, y < 16) {
            (true, true) => RED,
            (false, true) => GREEN,
            (true, false) => BLUE,
            (false, false) => WHITE,
        })
    })
}

/// A big-endian TIFF structure as found after `Exif\0\0`: IFD0 holds the
/// orientation, a camera make and a pointer to a GPS IFD with a position.
pub(crate) fn exif_tiff(orientation: u16) -> Vec<u8> {
    let mut t = Vec::new();
    t.extend_from_slice(b"MM\0\x2A\0\0\0\x08");
    // IFD0 at 8: 3 entries (2 + 3*12 + 4 = 42 bytes), data after it at 50.
    let make = b"EaselCam\0";
    let make_at: u32 = 8 + 42;
    let gps_at: u32 = make_at + make.len() as u32 + 1; // keep even
    t.extend_from_slice(&3u16.to_be_bytes());
    entry(&mut t, 0x010F, 2, make.len() as u32, make_at); // Make
    let mut orient = [0u8; 4];
    orient[..2].copy_from_slice(&orientation.to_be_bytes());
    entry(&mut t, 0x0112, 3, 1, u32::from_be_bytes(orient)); // Orientation
    entry(&mut t, 0x8825, 4, 1, gps_at); // GPSInfo IFD pointer
    t.extend_from_slice(&0u32.to_be_bytes());
    t.extend_from_slice(make);
    t.push(0);
    assert_eq!(t.len() as u32, gps_at);
    // GPS IFD: latitude ref "N" and version 2.3.0.0.
    t.extend_from_slice(&2u16.to_be_bytes());
    entry(&mut t, 0x0000, 1, 4, u32::from_be_bytes([2, 3, 0, 0]));
    entry(&mut t, 0x0001, 2, 2, u32::from_be_bytes([b'N', 0, 0, 0]));
    t.extend_from_slice(&0u32.to_be_bytes());
    t
}

fn entry(t: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: u32) {
    t.extend_from_slice(&tag.to_be_bytes());
    t.extend_from_slice(&kind.to_be_bytes());
    t.extend_from_slice(&count.to_be_bytes());
    t.extend_from_slice(&value.to_be_bytes());
}

pub(crate) fn jpeg_with_exif(img: &RgbImage, orientation: u16) -> Vec<u8> {
    jpeg_of(img, Some(exif_tiff(orientation)))
}

/// The marker bytes of a JPEG's header segments, up to the first scan.
pub(crate) fn jpeg_markers(bytes: &[u8]) -> Vec<u8> {
    let mut markers = Vec::new();
    let mut i = 2;
    while i + 3 < bytes.len() && bytes[i] == 0xFF {
        let m = bytes[i + 1];
        markers.push(m);
        if m == 0xDA {
            break;
        }
        let len = usize::from(u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]));
        i += 2 + len;
    }
    markers
}

/// The chunk types of a PNG, in order.
pub(crate) fn png_chunks(bytes: &[u8]) -> Vec<String> {
    let mut chunks = Vec::new();
    let mut i = 8;
    while i + 8 <= bytes.len() {
        let len = u32::from_be_bytes(bytes[i..i + 4].try_into().unwrap()) as usize;
        chunks.push(String::from_utf8_lossy(&bytes[i + 4..i + 8]).into_owned());
        i += 12 + len;
    }
    chunks
}

fn push_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let mut body = kind.to_vec();
    body.extend_from_slice(data);
    out.extend_from_slice(&body);
    out.extend_from_slice(&crc32fast::hash(&body).to_be_bytes());
}

/// A valid, tiny PNG whose header claims `width`×`height` RGBA pixels: what a
/// decompression bomb looks like before anyone inflates it.
pub(crate) fn png_bomb(width: u32, height: u32) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    push_chunk(&mut out, b"IHDR", &ihdr);
    // An empty zlib stream: the decoder must give up long before reading it.
    push_chunk(&mut out, b"IDAT", &[0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
    push_chunk(&mut out, b"IEND", &[]);
    out
}

pub(crate) fn close(actual: &[u8], expected: &[u8], tolerance: u8) -> bool {
    actual.iter().zip(expected).all(|(a, e)| a.abs_diff(*e) <= tolerance)
}
