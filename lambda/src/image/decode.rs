//! Decoding with limits, EXIF orientation and conversion to 8-bit RGB(A).
//! JPEG goes through our own decoder (see `jpeg`), which can shrink on
//! load; PNG through the png crate (see `png_decode`).

use image::metadata::Orientation;
use image::{DynamicImage, GenericImageView, RgbImage};

use super::{ImageError, ImageFormat, ImageInfo, Limits, Work, jpeg, png_decode};

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
/// (1, 2, 4 or 8) the caller can use; it only matters for JPEG. With
/// `manage_colour` an embedded profile is read and the pixels converted
/// to sRGB (`colour`); without, the profile is left unread.
pub(crate) fn decode(
    bytes: &[u8],
    limits: &Limits,
    shrink: &dyn Fn(u32, u32) -> u32,
    manage_colour: bool,
    work: &mut Work,
) -> Result<Decoded, ImageError> {
    match check_container(bytes, limits)? {
        ImageFormat::Png => {
            let png = png_decode::decode(bytes, limits, manage_colour, work)?;
            let (mut image, opaque) = to_rgb8_or_rgba8(png.image);
            if let Some(to_srgb) = png.to_srgb {
                let channels = usize::from(image.color().channel_count());
                match &mut image {
                    DynamicImage::ImageRgb8(buf) => to_srgb.apply(buf, channels),
                    DynamicImage::ImageRgba8(buf) => to_srgb.apply(buf, channels),
                    _ => {}
                }
            }
            image.apply_orientation(png.orientation);
            let (width, height) = image.dimensions();
            Ok(Decoded { info: ImageInfo { format: ImageFormat::Png, width, height }, image, opaque })
        }
        ImageFormat::Jpeg => decode_jpeg(bytes, limits, shrink, manage_colour, work),
    }
}

fn decode_jpeg(
    bytes: &[u8],
    limits: &Limits,
    shrink: &dyn Fn(u32, u32) -> u32,
    manage_colour: bool,
    work: &mut Work,
) -> Result<Decoded, ImageError> {
    let decoded = jpeg::decode(bytes, limits, &|probe| Ok(shrink(probe.width, probe.height)), manage_colour, work)?;
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
