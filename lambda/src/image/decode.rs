//! Decoding with limits, EXIF orientation and conversion to 8-bit RGB(A).
//! JPEG goes through our own decoder (see `jpeg`), which can shrink on
//! load; PNG through the `image` crate.

use std::io::Cursor;

use image::codecs::png::PngDecoder;
use image::metadata::Orientation;
use image::{ColorType, DynamicImage, GenericImageView, ImageDecoder, RgbImage};

use super::{ImageError, ImageFormat, ImageInfo, Limits, jpeg};

/// A decoded image, upright and in 8-bit RGB or RGBA.
pub(crate) struct Decoded {
    /// The full upright size, whatever the shrink.
    pub info: ImageInfo,
    /// The pixels, possibly shrunk on load (JPEG only) to no less than what
    /// `shrink` asked for.
    pub image: DynamicImage,
    /// No pixel is even slightly transparent, so the image may become a JPEG.
    pub opaque: bool,
}

/// `shrink` maps the upright size to the largest shrink-on-load factor
/// (1, 2, 4 or 8) the caller can use; it only matters for JPEG.
pub(crate) fn decode(bytes: &[u8], limits: &Limits, shrink: &dyn Fn(u32, u32) -> u32) -> Result<Decoded, ImageError> {
    let format = check_container(bytes, limits)?;
    let mut image_limits = image::Limits::default();
    image_limits.max_alloc = Some(limits.max_alloc);
    let err = |e| from_image_error(e, format, limits);
    match format {
        ImageFormat::Png => {
            let decoder = PngDecoder::with_limits(Cursor::new(bytes), image_limits.clone()).map_err(err)?;
            finish(decoder, format, limits, image_limits, || Ok(()))
        }
        ImageFormat::Jpeg => decode_jpeg(bytes, limits, shrink),
    }
}

fn decode_jpeg(bytes: &[u8], limits: &Limits, shrink: &dyn Fn(u32, u32) -> u32) -> Result<Decoded, ImageError> {
    // The structure check runs after the header's size checks, so a bomb
    // is reported as one even when it is also truncated.
    let decoded = jpeg::decode(bytes, limits, &|probe| {
        check_jpeg_complete(bytes)?;
        Ok(shrink(probe.width, probe.height))
    })?;
    let (full_w, full_h) = (decoded.width, decoded.height);
    let rgb = RgbImage::from_raw(decoded.pixel_width, decoded.pixel_height, decoded.rgb)
        .ok_or_else(|| ImageError::Corrupt("decoded pixel buffer has the wrong size".to_owned()))?;
    let mut image = DynamicImage::ImageRgb8(rgb);
    let orientation = Orientation::from_exif(decoded.orientation as u8).unwrap_or(Orientation::NoTransforms);
    image.apply_orientation(orientation);
    let (width, height) = if decoded.orientation >= 5 { (full_h, full_w) } else { (full_w, full_h) };
    Ok(Decoded { info: ImageInfo { format: ImageFormat::Jpeg, width, height }, image, opaque: true })
}

/// The checks that need no decoding at all: empty, size, magic bytes.
fn check_container(bytes: &[u8], limits: &Limits) -> Result<ImageFormat, ImageError> {
    if bytes.is_empty() {
        return Err(ImageError::Empty);
    }
    let len = bytes.len() as u64;
    if len > limits.max_bytes {
        return Err(ImageError::TooLarge { bytes: len, limit: limits.max_bytes });
    }
    ImageFormat::sniff(bytes).ok_or(ImageError::UnsupportedFormat)
}

/// Everything after the header has been read: the pixel count is checked
/// here, before a single pixel buffer exists, so a decompression bomb costs
/// only the header parse.
fn finish<D: ImageDecoder>(
    mut decoder: D,
    format: ImageFormat,
    limits: &Limits,
    image_limits: image::Limits,
    check_complete: impl FnOnce() -> Result<(), ImageError>,
) -> Result<Decoded, ImageError> {
    let err = |e| from_image_error(e, format, limits);
    let (width, height) = decoder.dimensions();
    if width == 0 || height == 0 {
        return Err(ImageError::Corrupt(format!("the header claims {width}×{height} pixels")));
    }
    let pixels = u64::from(width) * u64::from(height);
    if pixels > limits.max_pixels {
        return Err(ImageError::TooManyPixels { width, height, limit: limits.max_pixels });
    }
    check_complete()?;

    // Malformed EXIF is common in the wild and says nothing about the
    // pixels, so it only costs the orientation, not the upload.
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let converts = !matches!(decoder.color_type(), ColorType::Rgb8 | ColorType::Rgba8);
    let rotates = matches!(
        orientation,
        Orientation::Rotate90 | Orientation::Rotate270 | Orientation::Rotate90FlipH | Orientation::Rotate270FlipH
    );
    // Peak memory: the decoded buffer, plus an 8-bit RGBA copy when the
    // colour type must change, plus another when rotating by 90°.
    let needed = decoder.total_bytes() + if converts { pixels * 4 } else { 0 } + if rotates { pixels * 4 } else { 0 };
    if needed > limits.max_alloc {
        return Err(ImageError::TooMuchMemory { limit: limits.max_alloc });
    }
    decoder.set_limits(image_limits).map_err(err)?;

    let decoded = DynamicImage::from_decoder(decoder).map_err(err)?;
    let (mut image, opaque) = to_rgb8_or_rgba8(decoded);
    image.apply_orientation(orientation);
    let (width, height) = image.dimensions();
    Ok(Decoded { info: ImageInfo { format, width, height }, image, opaque })
}

/// Grey, grey+alpha, 16-bit and float images become 8-bit RGB or RGBA (the
/// PNG decoder already expands palettes).
fn to_rgb8_or_rgba8(image: DynamicImage) -> (DynamicImage, bool) {
    match image {
        DynamicImage::ImageRgb8(_) => (image, true),
        DynamicImage::ImageRgba8(buf) => {
            let opaque = is_opaque(&buf);
            (DynamicImage::ImageRgba8(buf), opaque)
        }
        // Grey is common in scanned artwork; expanding it by hand skips the
        // image crate's general colour conversion, which measured 3× slower.
        DynamicImage::ImageLuma8(buf) => {
            let (w, h) = buf.dimensions();
            let mut rgb = vec![0u8; buf.len() * 3];
            for (o, &g) in rgb.chunks_exact_mut(3).zip(buf.as_raw()) {
                o.fill(g);
            }
            (DynamicImage::ImageRgb8(image::RgbImage::from_raw(w, h, rgb).unwrap_or_default()), true)
        }
        DynamicImage::ImageLumaA8(buf) => {
            let (w, h) = buf.dimensions();
            let mut rgba = vec![0u8; buf.len() * 2];
            for (o, p) in rgba.chunks_exact_mut(4).zip(buf.as_raw().chunks_exact(2)) {
                o.copy_from_slice(&[p[0], p[0], p[0], p[1]]);
            }
            let buf = image::RgbaImage::from_raw(w, h, rgba).unwrap_or_default();
            let opaque = is_opaque(&buf);
            (DynamicImage::ImageRgba8(buf), opaque)
        }
        other if other.color().has_alpha() => {
            let buf = other.to_rgba8();
            let opaque = is_opaque(&buf);
            (DynamicImage::ImageRgba8(buf), opaque)
        }
        other => (DynamicImage::ImageRgb8(other.to_rgb8()), true),
    }
}

fn is_opaque(buf: &image::RgbaImage) -> bool {
    buf.as_raw().chunks_exact(4).all(|p| p[3] == u8::MAX)
}

fn from_image_error(e: image::ImageError, format: ImageFormat, limits: &Limits) -> ImageError {
    match e {
        image::ImageError::Limits(_) => ImageError::TooMuchMemory { limit: limits.max_alloc },
        image::ImageError::Unsupported(u) => ImageError::UnsupportedVariant { format, detail: u.to_string() },
        image::ImageError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            ImageError::Corrupt("the file ends too early".to_owned())
        }
        other => ImageError::Corrupt(other.to_string()),
    }
}

/// The JPEG decoder, like browsers, pads a truncated scan with grey and
/// reports success. An upload cut off mid-way must be refused instead, so
/// walk the marker structure and require the end-of-image marker after the
/// image data.
fn check_jpeg_complete(bytes: &[u8]) -> Result<(), ImageError> {
    let n = bytes.len();
    let mut i = 2; // past SOI
    let mut seen_scan = false;
    while i < n {
        // Entropy-coded data (and stray bytes some encoders leave between
        // segments) is skipped up to the next 0xFF.
        match bytes[i..].iter().position(|&b| b == 0xFF) {
            Some(p) => i += p,
            None => break,
        }
        let mut j = i + 1;
        while j < n && bytes[j] == 0xFF {
            j += 1; // fill bytes
        }
        if j >= n {
            break;
        }
        let marker = bytes[j];
        match marker {
            // Stuffed zero, restart markers, TEM, stray SOI: no length field.
            0x00 | 0xD0..=0xD8 | 0x01 => i = j + 1,
            0xD9 if seen_scan => return Ok(()),
            0xD9 => return Err(ImageError::Corrupt("the JPEG has no image data".to_owned())),
            _ => {
                if j + 2 >= n {
                    break;
                }
                let len = usize::from(u16::from_be_bytes([bytes[j + 1], bytes[j + 2]]));
                if len < 2 {
                    return Err(ImageError::Corrupt(format!("JPEG segment {marker:#04X} has length {len}")));
                }
                if marker == 0xDA {
                    seen_scan = true;
                }
                i = j + 1 + len;
            }
        }
    }
    Err(ImageError::Corrupt("the JPEG data ends before its end-of-image marker".to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::testutil;

    #[test]
    fn complete_jpeg_passes_structure_check() {
        check_jpeg_complete(&testutil::rgb_jpeg(40, 30)).unwrap();
        check_jpeg_complete(&testutil::jpeg_with_exif(&testutil::quadrants(), 6)).unwrap();
    }

    #[test]
    fn every_truncation_of_a_jpeg_is_caught() {
        let jpeg = testutil::rgb_jpeg(40, 30);
        for cut in 3..jpeg.len() {
            assert!(check_jpeg_complete(&jpeg[..cut]).is_err(), "cut at {cut} of {}", jpeg.len());
        }
    }

    #[test]
    fn jpeg_with_trailing_bytes_after_eoi_is_accepted() {
        let mut jpeg = testutil::rgb_jpeg(16, 16);
        jpeg.extend_from_slice(b"trailing junk some cameras append");
        check_jpeg_complete(&jpeg).unwrap();
    }
}
