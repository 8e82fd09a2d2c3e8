//! Fitting an image into a rendition box with Lanczos3.

use std::borrow::Cow;

use fast_image_resize::{self as fir, FilterType, ResizeAlg, ResizeOptions};
use image::{DynamicImage, GenericImageView};

use super::ImageError;

/// The largest size with the source's aspect ratio that fits in
/// `max_w`×`max_h`, never larger than the source and never below 1×1.
pub(crate) fn fit(src_w: u32, src_h: u32, max_w: u32, max_h: u32) -> (u32, u32) {
    let (max_w, max_h) = (max_w.max(1), max_h.max(1));
    if src_w <= max_w && src_h <= max_h {
        return (src_w, src_h);
    }
    let (sw, sh, mw, mh) = (u64::from(src_w), u64::from(src_h), u64::from(max_w), u64::from(max_h));
    // Integer cross-multiplication avoids float rounding deciding which side
    // binds; the other side is rounded to nearest.
    if sw * mh >= sh * mw {
        let h = (sh * mw * 2 + sw) / (2 * sw);
        (max_w, (h as u32).clamp(1, max_h))
    } else {
        let w = (sw * mh * 2 + sh) / (2 * sh);
        ((w as u32).clamp(1, max_w), max_h)
    }
}

/// Keeps fast_image_resize's scratch buffers alive across the renditions of
/// one image.
pub(crate) struct Resizer {
    inner: fir::Resizer,
}

impl Resizer {
    pub(crate) fn new() -> Self {
        Resizer { inner: fir::Resizer::new() }
    }

    /// `src` is 8-bit RGB or RGBA. With `opaque` the alpha channel (if any)
    /// is all 255, so premultiplying would only cost time.
    pub(crate) fn resize<'a>(
        &mut self,
        src: &'a DynamicImage,
        width: u32,
        height: u32,
        opaque: bool,
    ) -> Result<Cow<'a, DynamicImage>, ImageError> {
        if src.dimensions() == (width, height) {
            return Ok(Cow::Borrowed(src));
        }
        let mut dst = DynamicImage::new(width, height, src.color());
        // Premultiplied alpha keeps transparent pixels' (often garbage)
        // colours from bleeding into visible edges.
        let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3)).use_alpha(!opaque);
        self.inner.resize(src, &mut dst, &options).map_err(|e| ImageError::Encode(format!("resize: {e}")))?;
        Ok(Cow::Owned(dst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_never_upscales() {
        assert_eq!(fit(300, 200, 400, 400), (300, 200));
        assert_eq!(fit(1, 1, 400, 400), (1, 1));
        assert_eq!(fit(400, 400, 400, 400), (400, 400));
    }

    #[test]
    fn fit_keeps_aspect_ratio() {
        assert_eq!(fit(4000, 3000, 1600, 1600), (1600, 1200));
        assert_eq!(fit(3000, 4000, 1600, 1600), (1200, 1600));
        assert_eq!(fit(1920, 1080, 400, 300), (400, 225));
        assert_eq!(fit(1000, 1000, 400, 300), (300, 300));
        assert_eq!(fit(1001, 1000, 400, 400), (400, 400));
    }

    #[test]
    fn fit_never_reaches_zero() {
        assert_eq!(fit(6000, 20, 400, 400), (400, 1));
        assert_eq!(fit(20, 6000, 400, 400), (1, 400));
        assert_eq!(fit(100_000, 1, 400, 400), (400, 1));
    }

    #[test]
    fn resize_alpha_does_not_bleed_hidden_colour() {
        // Left half: opaque white. Right half: fully transparent but with a
        // saturated red colour that must not leak into the blend.
        let mut img = image::RgbaImage::new(64, 8);
        for (x, _, p) in img.enumerate_pixels_mut() {
            *p = if x < 32 { image::Rgba([255, 255, 255, 255]) } else { image::Rgba([255, 0, 0, 0]) };
        }
        let src = DynamicImage::ImageRgba8(img);
        let out = Resizer::new().resize(&src, 16, 2, false).unwrap().into_owned().to_rgba8();
        for (_, _, p) in out.enumerate_pixels() {
            if p[3] > 16 {
                // Any visible pixel must stay white, not pink.
                assert!(p[1] > 230 && p[2] > 230, "colour bled into {p:?}");
            }
        }
        assert!(out.get_pixel(15, 0)[3] < 10, "far right stays transparent");
        assert_eq!(out.get_pixel(0, 0)[3], 255);
    }
}
