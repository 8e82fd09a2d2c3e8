//! Output quality: PSNR of each tool's rendition against a reference made
//! the slow, careful way (full decode, then Lanczos3 in f64 to exactly the
//! size the tool chose). The reference deliberately shares no code with
//! the image core: the decode is the `image` crate's and the resampler is
//! written out here, so our own pipeline gets no home advantage beyond
//! using the same filter family everyone uses.

use std::path::Path;

use anyhow::{Context, bail};
use image::{DynamicImage, ImageDecoder, ImageReader};

/// A decoded source, upright, as 8-bit RGBA with straight alpha.
pub struct Source {
    pub width: u32,
    pub height: u32,
    /// Every pixel fully opaque: the job writes JPEG for it, PNG otherwise.
    pub opaque: bool,
    rgba: Vec<u8>,
}

impl Source {
    pub fn load(path: &Path) -> anyhow::Result<Source> {
        let reader = ImageReader::open(path)?.with_guessed_format()?;
        let mut decoder = reader.into_decoder().with_context(|| format!("decoding {}", path.display()))?;
        let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
        let mut img = DynamicImage::from_decoder(decoder).with_context(|| format!("decoding {}", path.display()))?;
        img.apply_orientation(orientation);
        let rgba = img.to_rgba8();
        let (width, height) = rgba.dimensions();
        let rgba = rgba.into_raw();
        let opaque = rgba.chunks_exact(4).all(|p| p[3] == 255);
        Ok(Source { width, height, opaque, rgba })
    }

    pub fn megapixels(&self) -> f64 {
        f64::from(self.width) * f64::from(self.height) / 1e6
    }

    /// The ideal rendition at `width`×`height`: premultiplied RGBA in f64,
    /// 0–255. Written as plain row loops: `cargo ops` runs unoptimised.
    pub fn reference(&self, width: u32, height: u32) -> Vec<f64> {
        let (w, h) = (self.width as usize, self.height as usize);
        let (ow, oh) = (width as usize, height as usize);
        let xtaps = taps(w, ow);
        let ytaps = taps(h, oh);
        // Across first, one premultiplied source row at a time: an f64 copy
        // of a whole 18 MP source would be over half a gigabyte.
        let mut across = vec![0.0f64; ow * h * 4];
        let mut row = vec![0.0f64; w * 4];
        for y in 0..h {
            for (x, px) in self.rgba[y * w * 4..(y + 1) * w * 4].chunks_exact(4).enumerate() {
                let a = f64::from(px[3]);
                for c in 0..3 {
                    row[x * 4 + c] = f64::from(px[c]) * a / 255.0;
                }
                row[x * 4 + 3] = a;
            }
            let out = &mut across[y * ow * 4..(y + 1) * ow * 4];
            for (x, (lo, weights)) in xtaps.iter().enumerate() {
                let mut acc = [0.0f64; 4];
                for (k, wt) in weights.iter().enumerate() {
                    let at = (lo + k) * 4;
                    for c in 0..4 {
                        acc[c] += wt * row[at + c];
                    }
                }
                out[x * 4..x * 4 + 4].copy_from_slice(&acc);
            }
        }
        let mut out = vec![0.0f64; ow * oh * 4];
        for (y, (lo, weights)) in ytaps.iter().enumerate() {
            let dst = &mut out[y * ow * 4..(y + 1) * ow * 4];
            for (k, wt) in weights.iter().enumerate() {
                let src = &across[(lo + k) * ow * 4..(lo + k + 1) * ow * 4];
                for (d, s) in dst.iter_mut().zip(src) {
                    *d += wt * s;
                }
            }
        }
        out
    }
}

fn lanczos3(x: f64) -> f64 {
    let x = x.abs();
    if x < 1e-12 {
        1.0
    } else if x < 3.0 {
        let px = std::f64::consts::PI * x;
        3.0 * px.sin() * (px / 3.0).sin() / (px * px)
    } else {
        0.0
    }
}

/// Lanczos3 taps for resampling `in_len` samples to `out_len`: the kernel
/// is widened by the scale factor when shrinking (a proper low-pass), and
/// taps falling outside the image are dropped and the rest renormalised.
fn taps(in_len: usize, out_len: usize) -> Vec<(usize, Vec<f64>)> {
    let scale = in_len as f64 / out_len as f64;
    let filter_scale = scale.max(1.0);
    let support = 3.0 * filter_scale;
    (0..out_len)
        .map(|i| {
            let centre = (i as f64 + 0.5) * scale;
            let lo = (centre - support).floor().max(0.0) as usize;
            let hi = ((centre + support).ceil() as usize).min(in_len);
            let mut weights: Vec<f64> = (lo..hi).map(|j| lanczos3((j as f64 + 0.5 - centre) / filter_scale)).collect();
            let sum: f64 = weights.iter().sum();
            weights.iter_mut().for_each(|wt| *wt /= sum);
            (lo, weights)
        })
        .collect()
}

/// PSNR in dB of a tool's output file against `reference` (premultiplied,
/// as from [`Source::reference`]). Opaque images are compared on RGB only;
/// transparent ones on premultiplied RGBA, so colours hidden under zero
/// alpha, which no viewer sees, do not count.
pub fn psnr(output: &[u8], reference: &[f64], width: u32, height: u32, opaque: bool) -> anyhow::Result<f64> {
    let img = image::load_from_memory(output).context("decoding a tool's output")?;
    if (img.width(), img.height()) != (width, height) {
        bail!("output is {}×{}, expected {width}×{height}", img.width(), img.height());
    }
    let rgba = img.to_rgba8();
    let channels = if opaque { 3 } else { 4 };
    let mut sum = 0.0f64;
    for (p, r) in rgba.as_raw().chunks_exact(4).zip(reference.chunks_exact(4)) {
        let a = f64::from(p[3]) / 255.0;
        let got = [f64::from(p[0]) * a, f64::from(p[1]) * a, f64::from(p[2]) * a, f64::from(p[3])];
        for c in 0..channels {
            let d = got[c] - r[c].clamp(0.0, 255.0);
            sum += d * d;
        }
    }
    let mse = sum / (f64::from(width) * f64::from(height) * channels as f64);
    Ok(if mse <= 1e-12 { 99.0 } else { 10.0 * (255.0 * 255.0 / mse).log10() })
}

/// Width and height of an encoded PNG or JPEG, from its header.
pub fn dimensions(bytes: &[u8]) -> anyhow::Result<(u32, u32)> {
    let reader = ImageReader::new(std::io::Cursor::new(bytes)).with_guessed_format()?;
    Ok(reader.into_dimensions()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode_png(img: &image::RgbaImage) -> Vec<u8> {
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    }

    fn source(img: &image::RgbaImage) -> Source {
        let rgba = img.as_raw().clone();
        let opaque = rgba.chunks_exact(4).all(|p| p[3] == 255);
        Source { width: img.width(), height: img.height(), opaque, rgba }
    }

    #[test]
    fn flat_image_stays_flat_and_scores_perfectly() {
        let img = image::RgbaImage::from_pixel(90, 60, image::Rgba([200, 100, 50, 255]));
        let src = source(&img);
        let reference = src.reference(30, 20);
        assert!(reference.chunks_exact(4).all(|p| (p[0] - 200.0).abs() < 1e-9 && (p[3] - 255.0).abs() < 1e-9));
        let out = encode_png(&image::RgbaImage::from_pixel(30, 20, image::Rgba([200, 100, 50, 255])));
        assert_eq!(psnr(&out, &reference, 30, 20, true).unwrap(), 99.0);
    }

    #[test]
    fn a_worse_rendition_scores_lower() {
        let img = image::RgbaImage::from_fn(120, 80, |x, y| image::Rgba([(x * 2) as u8, (y * 3) as u8, 90, 255]));
        let src = source(&img);
        let reference = src.reference(60, 40);
        let good: image::RgbaImage = image::RgbaImage::from_fn(60, 40, |x, y| {
            let at = ((y * 60 + x) * 4) as usize;
            image::Rgba([
                reference[at].round() as u8,
                reference[at + 1].round() as u8,
                reference[at + 2].round() as u8,
                255,
            ])
        });
        let bad = image::RgbaImage::from_fn(60, 40, |x, y| {
            let p = good.get_pixel(x, y).0;
            image::Rgba([p[0].saturating_add(12), p[1], p[2].saturating_sub(12), 255])
        });
        let good_db = psnr(&encode_png(&good), &reference, 60, 40, true).unwrap();
        let bad_db = psnr(&encode_png(&bad), &reference, 60, 40, true).unwrap();
        assert!(good_db > 50.0, "rounding only: {good_db}");
        assert!(bad_db < 30.0 && bad_db > 20.0, "{bad_db}");
        assert!(psnr(&encode_png(&good), &reference, 30, 40, true).is_err(), "size mismatch is an error");
    }

    #[test]
    fn hidden_colour_under_zero_alpha_does_not_count() {
        let img = image::RgbaImage::from_fn(40, 40, |x, _| {
            if x < 20 { image::Rgba([0, 0, 255, 255]) } else { image::Rgba([0, 0, 0, 0]) }
        });
        let src = source(&img);
        assert!(!src.opaque);
        let reference = src.reference(40, 40);
        let mut out = img.clone();
        for (x, _, p) in out.enumerate_pixels_mut() {
            if x >= 20 {
                *p = image::Rgba([255, 0, 0, 0]);
            }
        }
        assert_eq!(psnr(&encode_png(&out), &reference, 40, 40, false).unwrap(), 99.0);
    }
}
