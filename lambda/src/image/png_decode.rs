//! PNG decoding with a work budget. The chunk structure is walked first,
//! without inflating or checksumming anything, and refused when it is
//! shaped like no encoder's output (floods of chunks, image data far
//! longer than the pixels need). Then the png crate decodes with text and
//! ICC chunks skipped unread: the `image` crate's PNG decoder inflates
//! every `iCCP` up to the memory limit (512 MB), which a 400 KB chunk
//! reaches. The walk keeps the colour chunks instead, and `colour` inflates
//! the ICC profile itself, stopping at `MAX_PROFILE_BYTES`.

use std::io::Cursor;

use image::metadata::Orientation;
use image::{DynamicImage, ImageBuffer, Luma, LumaA, Rgb, Rgba};

use super::colour::{self, Colour, Ignored, MAX_PROFILE_BYTES, PngChunks, Space, ToSrgb};
use super::{ImageError, ImageFormat, Limits, Work};

/// Ancillary chunks (everything but IHDR, PLTE, IDAT and IEND) before the
/// image data ends. Editors write a handful: text, gamma, pHYs, an ICC
/// profile, EXIF.
const MAX_ANCILLARY_CHUNKS: usize = 256;
/// Bytes of ancillary chunks, beyond half the image's own size. A large
/// ICC profile or XMP packet stays well inside this.
const ANCILLARY_BYTES_FLOOR: u64 = 256 * 1024;
/// IDAT chunks: encoders split the data every 8 to 64 KB; one chunk per
/// 256 bytes is already far past any of them.
const IDAT_BYTES_PER_CHUNK: u64 = 256;
const IDAT_CHUNKS_FLOOR: u64 = 16;

fn corrupt(msg: impl Into<String>) -> ImageError {
    ImageError::Corrupt(msg.into())
}

fn hostile(detail: impl Into<String>) -> ImageError {
    ImageError::Contrived(detail.into())
}

/// What the walk learnt.
struct Shape {
    width: u32,
    height: u32,
    /// The image data's size once inflated, filter bytes included.
    raw_bytes: u64,
    /// The colour chunks before the image data: an iCCP's data (name,
    /// method, compressed profile) and the rest.
    iccp: Option<std::ops::Range<usize>>,
    chunks: PngChunks,
}

/// Bytes per row once inflated (plus the filter byte), for a colour type
/// and bit depth; `None` for combinations the format does not have.
fn row_bytes(width: u64, colour: u8, depth: u8) -> Option<u64> {
    let channels = match colour {
        0 | 3 => 1,
        4 => 2,
        2 => 3,
        6 => 4,
        _ => return None,
    };
    Some((width * channels * u64::from(depth)).div_ceil(8) + 1)
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Walks the chunks up to the end of the image data, checking the pixel
/// limit first so that a bomb is named as one.
fn walk(bytes: &[u8], limits: &Limits) -> Result<Shape, ImageError> {
    let early = || corrupt("the file ends too early");
    let mut at = 8;
    let len = be32(bytes, at).ok_or_else(early)? as usize;
    if bytes.get(at + 4..at + 8) != Some(b"IHDR") || len != 13 {
        return Err(corrupt("the PNG does not start with its header"));
    }
    let ihdr = bytes.get(at + 8..at + 21).ok_or_else(early)?;
    let (width, height) = (be32(ihdr, 0).unwrap_or(0), be32(ihdr, 4).unwrap_or(0));
    if width == 0 || height == 0 {
        return Err(corrupt(format!("the header claims {width}×{height} pixels")));
    }
    let pixels = u64::from(width) * u64::from(height);
    if pixels > limits.max_pixels {
        return Err(ImageError::TooManyPixels { width, height, limit: limits.max_pixels });
    }
    let (depth, colour, interlace) = (ihdr[8], ihdr[9], ihdr[12]);
    let row = row_bytes(u64::from(width), colour, depth).ok_or_else(|| corrupt("bad colour type or bit depth"))?;
    // Adam7 adds a filter byte per row of each pass: at most 15 rows per 8.
    let raw_bytes = row * u64::from(height) + if interlace == 1 { u64::from(height) * 2 + 16 } else { 0 };
    // A stored (uncompressed) deflate stream adds 5 bytes per 64 KB block
    // plus zlib's 6: this is the most image data any encoder can write.
    let idat_limit = raw_bytes + raw_bytes / 1024 + 1024;
    let idat_chunk_limit = IDAT_CHUNKS_FLOOR + idat_limit / IDAT_BYTES_PER_CHUNK;
    let ancillary_limit = ANCILLARY_BYTES_FLOOR + raw_bytes / 2;

    at += 25;
    let (mut ancillary, mut ancillary_bytes) = (0usize, 0u64);
    let (mut idat_chunks, mut idat_bytes) = (0u64, 0u64);
    let (mut iccp, mut chunks) = (None, PngChunks::default());
    loop {
        let len = u64::from(be32(bytes, at).ok_or_else(early)?);
        let kind: [u8; 4] = bytes.get(at + 4..at + 8).ok_or_else(early)?.try_into().map_err(|_| early())?;
        let next = at as u64 + 12 + len;
        if next > bytes.len() as u64 {
            return Err(early());
        }
        match &kind {
            b"IDAT" => {
                idat_chunks += 1;
                idat_bytes += len;
                if idat_bytes > idat_limit {
                    return Err(hostile(format!(
                        "{idat_bytes} bytes of image data where {width}×{height} pixels need at most {idat_limit}"
                    )));
                }
                if idat_chunks > idat_chunk_limit {
                    return Err(hostile(format!("its image data is split into more than {idat_chunk_limit} chunks")));
                }
            }
            // The decoder stops at the first chunk after the image data.
            _ if idat_chunks > 0 => break,
            b"IEND" => return Err(corrupt("the PNG has no image data")),
            b"PLTE" | b"IHDR" => {}
            _ => {
                ancillary += 1;
                ancillary_bytes += len;
                if ancillary > MAX_ANCILLARY_CHUNKS {
                    return Err(hostile(format!("more than {MAX_ANCILLARY_CHUNKS} metadata chunks")));
                }
                if ancillary_bytes > ancillary_limit {
                    return Err(hostile(format!(
                        "{ancillary_bytes} bytes of metadata for a {width}×{height} image (at most {ancillary_limit})"
                    )));
                }
                // The first of each counts, as in libpng.
                let data = at + 8..next as usize - 4;
                match &kind {
                    b"iCCP" if iccp.is_none() => iccp = Some(data),
                    b"sRGB" => chunks.srgb = true,
                    b"gAMA" if chunks.gamma.is_none() => chunks.gamma = be32(bytes, data.start),
                    b"cHRM" if chunks.chromaticities.is_none() && data.len() == 32 => {
                        let mut c = [0u32; 8];
                        for (i, v) in c.iter_mut().enumerate() {
                            *v = be32(bytes, data.start + 4 * i).unwrap_or(0);
                        }
                        chunks.chromaticities = Some(c);
                    }
                    _ => {}
                }
            }
        }
        at = next as usize;
    }
    Ok(Shape { width, height, raw_bytes, iccp, chunks })
}

/// A decoded PNG: an image of its own colour type (8 or 16 bits, palettes
/// expanded), its EXIF orientation, and the conversion its colour chunks
/// ask for.
pub(super) struct Png {
    pub image: DynamicImage,
    pub orientation: Orientation,
    pub to_srgb: Option<ToSrgb>,
}

pub(super) fn decode(bytes: &[u8], limits: &Limits, manage_colour: bool, work: &mut Work) -> Result<Png, ImageError> {
    let shape = walk(bytes, limits)?;
    work.inflate_budget += shape.raw_bytes;
    let mut decoder = png::Decoder::new_with_limits(
        Cursor::new(bytes),
        png::Limits { bytes: usize::try_from(limits.max_alloc).unwrap_or(usize::MAX) },
    );
    decoder.set_ignore_text_chunk(true);
    decoder.set_ignore_iccp_chunk(true);
    decoder.set_transformations(png::Transformations::EXPAND);
    let mut reader = decoder.read_info().map_err(|e| from_png(e, limits))?;
    let (colour, depth) = reader.output_color_type();
    let size = reader.output_buffer_size().ok_or(ImageError::TooMuchMemory { limit: limits.max_alloc })?;
    // Peak memory: the decoded buffer plus an 8-bit RGBA copy when the
    // colour type changes, plus another when rotating by 90°. The EXIF
    // orientation is known here when eXIf comes before the image data, as
    // the PNG specification asks; a later one is checked after decoding.
    let pixels = u64::from(shape.width) * u64::from(shape.height);
    let converts = !matches!((colour, depth), (png::ColorType::Rgb | png::ColorType::Rgba, png::BitDepth::Eight));
    let copies = u64::from(converts) + u64::from(rotates(orientation_of(reader.info())));
    if size as u64 + copies * pixels * 4 > limits.max_alloc {
        return Err(ImageError::TooMuchMemory { limit: limits.max_alloc });
    }
    // The png crate inflates the image's rows and stops at their end (the
    // walk already bounded the compressed data); text and ICC chunks are
    // skipped unread. So what it inflates is the rows with their filter
    // bytes, counted before decoding so a failure part-way is covered.
    work.bytes_inflated += reader.info().raw_bytes() as u64;
    let mut buf = vec![0; size];
    let frame = reader.next_frame(&mut buf).map_err(|e| from_png(e, limits))?;
    buf.truncate(frame.buffer_size());
    let orientation = orientation_of(reader.info());
    if rotates(orientation) && size as u64 + (u64::from(converts) + 1) * pixels * 4 > limits.max_alloc {
        return Err(ImageError::TooMuchMemory { limit: limits.max_alloc });
    }
    let (w, h) = (frame.width, frame.height);
    let wrong_size = || corrupt("decoded pixel buffer has the wrong size");
    let image = match (colour, depth) {
        (png::ColorType::Grayscale, png::BitDepth::Eight) => {
            DynamicImage::ImageLuma8(ImageBuffer::<Luma<u8>, _>::from_raw(w, h, buf).ok_or_else(wrong_size)?)
        }
        (png::ColorType::GrayscaleAlpha, png::BitDepth::Eight) => {
            DynamicImage::ImageLumaA8(ImageBuffer::<LumaA<u8>, _>::from_raw(w, h, buf).ok_or_else(wrong_size)?)
        }
        (png::ColorType::Rgb, png::BitDepth::Eight) => {
            DynamicImage::ImageRgb8(ImageBuffer::<Rgb<u8>, _>::from_raw(w, h, buf).ok_or_else(wrong_size)?)
        }
        (png::ColorType::Rgba, png::BitDepth::Eight) => {
            DynamicImage::ImageRgba8(ImageBuffer::<Rgba<u8>, _>::from_raw(w, h, buf).ok_or_else(wrong_size)?)
        }
        (colour, png::BitDepth::Sixteen) => {
            let wide: Vec<u16> = buf.chunks_exact(2).map(|b| u16::from_be_bytes([b[0], b[1]])).collect();
            match colour {
                png::ColorType::Grayscale => {
                    DynamicImage::ImageLuma16(ImageBuffer::<Luma<u16>, _>::from_raw(w, h, wide).ok_or_else(wrong_size)?)
                }
                png::ColorType::GrayscaleAlpha => DynamicImage::ImageLumaA16(
                    ImageBuffer::<LumaA<u16>, _>::from_raw(w, h, wide).ok_or_else(wrong_size)?,
                ),
                png::ColorType::Rgb => {
                    DynamicImage::ImageRgb16(ImageBuffer::<Rgb<u16>, _>::from_raw(w, h, wide).ok_or_else(wrong_size)?)
                }
                png::ColorType::Rgba => {
                    DynamicImage::ImageRgba16(ImageBuffer::<Rgba<u16>, _>::from_raw(w, h, wide).ok_or_else(wrong_size)?)
                }
                png::ColorType::Indexed => return Err(corrupt("a 16-bit palette")),
            }
        }
        (colour, depth) => {
            return Err(ImageError::UnsupportedVariant {
                format: ImageFormat::Png,
                detail: format!("{colour:?} at {depth:?} bits after expansion"),
            });
        }
    };
    let samples = if image.color().has_color() { Space::Rgb } else { Space::Gray };
    let to_srgb = if manage_colour { colour_of(bytes, &shape, samples, work) } else { None };
    Ok(Png { image, orientation, to_srgb })
}

/// The conversion the colour chunks ask for (PNG 3rd edition: iCCP before
/// sRGB, before gAMA and cHRM). The profile is inflated here, counted as
/// work, and never past `MAX_PROFILE_BYTES`, however well it compresses.
fn colour_of(bytes: &[u8], shape: &Shape, samples: Space, work: &mut Work) -> Option<ToSrgb> {
    let Some(range) = shape.iccp.clone() else {
        return colour::from_png_chunks(&shape.chunks, samples, &mut work.colour);
    };
    let data = &bytes[range];
    // A name of 1 to 79 bytes, its NUL, the method (0, zlib), the stream.
    let stream = data.iter().position(|&b| b == 0).filter(|&n| n <= 79).and_then(|n| data.get(n + 2..));
    let Some(stream) = stream else {
        work.colour = Colour::Ignored(Ignored::Malformed);
        return None;
    };
    work.inflate_budget += MAX_PROFILE_BYTES as u64;
    match miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(stream, MAX_PROFILE_BYTES) {
        Ok(icc) => {
            work.bytes_inflated += icc.len() as u64;
            colour::from_icc(&icc, samples, &mut work.colour)
        }
        Err(e) => {
            work.bytes_inflated += e.output.len() as u64;
            let too_large = e.status == miniz_oxide::inflate::TINFLStatus::HasMoreOutput;
            work.colour = Colour::Ignored(if too_large { Ignored::TooLarge } else { Ignored::Malformed });
            None
        }
    }
}

/// Malformed EXIF is common and says nothing about the pixels.
fn orientation_of(info: &png::Info<'_>) -> Orientation {
    info.exif_metadata.as_deref().and_then(Orientation::from_exif_chunk).unwrap_or(Orientation::NoTransforms)
}

/// Turning by 90° needs a second copy of the pixels.
fn rotates(o: Orientation) -> bool {
    matches!(
        o,
        Orientation::Rotate90 | Orientation::Rotate270 | Orientation::Rotate90FlipH | Orientation::Rotate270FlipH
    )
}

fn from_png(e: png::DecodingError, limits: &Limits) -> ImageError {
    match e {
        png::DecodingError::LimitsExceeded => ImageError::TooMuchMemory { limit: limits.max_alloc },
        png::DecodingError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            corrupt("the file ends too early")
        }
        other => corrupt(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::testutil;

    #[test]
    fn row_sizes_follow_colour_type_and_depth() {
        assert_eq!(row_bytes(10, 2, 8), Some(31));
        assert_eq!(row_bytes(10, 6, 16), Some(81));
        assert_eq!(row_bytes(9, 0, 1), Some(3));
        assert_eq!(row_bytes(9, 5, 8), None);
    }

    #[test]
    fn a_real_png_walks_clean() {
        let png = testutil::rgb_png(40, 30);
        let shape = walk(&png, &Limits::default()).unwrap();
        assert_eq!((shape.width, shape.height, shape.raw_bytes), (40, 30, 30 * 121));
    }

    /// The memory check counts an RGBA copy only when the colour type
    /// must change: an RGB file whose pixels alone fit is decoded.
    #[test]
    fn only_a_conversion_adds_a_copy_to_the_memory_check() {
        let limits = Limits { max_alloc: 40_000, ..Limits::default() };
        let rgb = testutil::rgb_png(100, 100); // 30,000 bytes decoded
        assert!(decode(&rgb, &limits, true, &mut Work::default()).is_ok());
        let grey = testutil::png_bytes(100, 100, png::ColorType::Grayscale, png::BitDepth::Eight, &[7; 100 * 100]);
        // 10,000 bytes decoded plus a 40,000-byte RGBA copy.
        assert_eq!(
            decode(&grey, &limits, true, &mut Work::default()).err(),
            Some(ImageError::TooMuchMemory { limit: 40_000 })
        );
    }
}
