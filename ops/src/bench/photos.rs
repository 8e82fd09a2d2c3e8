//! Real photographs at exactly the pixel counts the hostile files claim:
//! one of the benchmark corpus's photographs, cropped to the aspect ratio
//! and resized with Lanczos3, then written the ways cameras and editors
//! write them. Kept in a cache beside the corpus, made once per size.

use std::path::{Path, PathBuf};

use anyhow::Context;
use image::{DynamicImage, ImageEncoder, imageops::FilterType};

/// JPEG quality of the photographs, a camera's or an editor's "high".
pub const QUALITY: u8 = 90;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Format {
    Jpeg,
    Png,
}

/// One way of writing a photograph.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Variant {
    pub format: Format,
    /// Colour (YCbCr 4:2:0 for JPEG, RGB for PNG) or grey.
    pub colour: bool,
    /// JPEG only: progressive rather than baseline.
    pub progressive: bool,
}

impl Variant {
    pub const ALL: [Variant; 6] = [
        Variant { format: Format::Jpeg, colour: true, progressive: false },
        Variant { format: Format::Jpeg, colour: true, progressive: true },
        Variant { format: Format::Jpeg, colour: false, progressive: false },
        Variant { format: Format::Jpeg, colour: false, progressive: true },
        Variant { format: Format::Png, colour: true, progressive: false },
        Variant { format: Format::Png, colour: false, progressive: false },
    ];

    pub fn label(self) -> &'static str {
        match (self.format, self.colour, self.progressive) {
            (Format::Jpeg, true, false) => "JPEG baseline",
            (Format::Jpeg, true, true) => "JPEG progressive",
            (Format::Jpeg, false, false) => "JPEG grey baseline",
            (Format::Jpeg, false, true) => "JPEG grey progressive",
            (Format::Png, true, _) => "PNG RGB",
            (Format::Png, false, _) => "PNG grey",
        }
    }

    fn file_name(self, width: u32, height: u32) -> String {
        let tone = if self.colour { "colour" } else { "grey" };
        match self.format {
            Format::Jpeg => {
                let kind = if self.progressive { "progressive" } else { "baseline" };
                format!("photo-{width}x{height}-{tone}-{kind}-q{QUALITY}.jpg")
            }
            Format::Png => format!("photo-{width}x{height}-{tone}.png"),
        }
    }
}

/// A photograph written to disk.
#[derive(Clone, Debug)]
pub struct Photo {
    pub path: PathBuf,
    pub width: u32,
    pub height: u32,
    pub variant: Variant,
    pub bytes: u64,
}

/// The photograph every size is made from, decoded on first need.
pub struct Source {
    path: PathBuf,
    image: Option<DynamicImage>,
}

impl Source {
    pub fn new(path: PathBuf) -> Self {
        Source { path, image: None }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn image(&mut self) -> anyhow::Result<&DynamicImage> {
        if self.image.is_none() {
            let img = image::open(&self.path).with_context(|| format!("decoding {}", self.path.display()))?;
            self.image = Some(DynamicImage::ImageRgb8(img.to_rgb8()));
        }
        self.image.as_ref().context("source image")
    }

    /// The source, centre-cropped to `width`:`height` and resized to it.
    fn at(&mut self, width: u32, height: u32) -> anyhow::Result<DynamicImage> {
        let img = self.image()?;
        let (sw, sh) = (img.width(), img.height());
        // Crop the wider dimension so the aspect ratios match.
        let (cw, ch) = if u64::from(sw) * u64::from(height) > u64::from(sh) * u64::from(width) {
            (((u64::from(sh) * u64::from(width)) / u64::from(height)).max(1) as u32, sh)
        } else {
            (sw, ((u64::from(sw) * u64::from(height)) / u64::from(width)).max(1) as u32)
        };
        let cropped = img.crop_imm((sw - cw) / 2, (sh - ch) / 2, cw, ch);
        Ok(cropped.resize_exact(width, height, FilterType::Lanczos3))
    }
}

/// The photographs of `variants` at `width`×`height` in `dir`, made from
/// `source` where not already there.
pub fn make(
    source: &mut Source,
    dir: &Path,
    width: u32,
    height: u32,
    variants: &[Variant],
) -> anyhow::Result<Vec<Photo>> {
    std::fs::create_dir_all(dir)?;
    let mut resized: Option<DynamicImage> = None;
    let mut out = Vec::new();
    for &variant in variants {
        let path = dir.join(variant.file_name(width, height));
        if !path.exists() {
            if resized.is_none() {
                resized = Some(source.at(width, height)?);
            }
            let img = resized.as_ref().context("resized photograph")?;
            let bytes = encode(img, variant).with_context(|| format!("encoding {}", path.display()))?;
            // Written under a temporary name first, so an interrupted run
            // leaves no half file that later runs would take as made.
            let partial = path.with_extension("partial");
            std::fs::write(&partial, &bytes)?;
            std::fs::rename(&partial, &path)?;
        }
        let bytes = std::fs::metadata(&path)?.len();
        out.push(Photo { path, width, height, variant, bytes });
    }
    Ok(out)
}

fn encode(img: &DynamicImage, variant: Variant) -> anyhow::Result<Vec<u8>> {
    let (w, h) = (img.width(), img.height());
    let (pixels, jpeg_colour, png_colour) = if variant.colour {
        (img.to_rgb8().into_raw(), jpeg_encoder::ColorType::Rgb, image::ExtendedColorType::Rgb8)
    } else {
        (img.to_luma8().into_raw(), jpeg_encoder::ColorType::Luma, image::ExtendedColorType::L8)
    };
    let mut out = Vec::new();
    match variant.format {
        Format::Jpeg => {
            let mut enc = jpeg_encoder::Encoder::new(&mut out, QUALITY);
            enc.set_progressive(variant.progressive);
            // 4:2:0, as phones write; jpeg-encoder would pick 4:4:4 at q90,
            // a third more blocks to decode and so a kinder baseline.
            enc.set_sampling_factor(jpeg_encoder::SamplingFactor::F_2_2);
            enc.encode(&pixels, u16::try_from(w)?, u16::try_from(h)?, jpeg_colour)?;
        }
        Format::Png => {
            image::codecs::png::PngEncoder::new(&mut out).write_image(&pixels, w, h, png_colour)?;
        }
    }
    Ok(out)
}
