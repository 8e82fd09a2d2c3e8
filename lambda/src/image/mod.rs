//! The pure image core: bytes in, renditions out. Nothing here touches the
//! network, so the upload page and the Lambda apply exactly the same checks.

pub mod colour;
mod decode;
pub mod delta_e;
mod encode;
pub mod hostile;
mod jpeg;
mod png_decode;
mod resize;
mod sniff;
#[cfg(test)]
pub(crate) mod testutil;

use serde::{Deserialize, Serialize};

pub use colour::Colour;
pub use sniff::ImageFormat;

/// Bounds on what we agree to decode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted file, in bytes.
    pub max_bytes: u64,
    /// Largest accepted width × height, checked from the header before any
    /// pixel memory is allocated.
    pub max_pixels: u64,
    /// Ceiling on the memory the decoder and the pixel conversions may take.
    pub max_alloc: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_bytes: 25 * 1024 * 1024, max_pixels: 50_000_000, max_alloc: 512 * 1024 * 1024 }
    }
}

/// One rendition to produce: the image is fitted inside the box, keeping its
/// aspect ratio and never enlarged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenditionSpec {
    pub name: String,
    pub max_width: u32,
    pub max_height: u32,
}

impl RenditionSpec {
    pub fn new(name: impl Into<String>, max_width: u32, max_height: u32) -> Self {
        RenditionSpec { name: name.into(), max_width, max_height }
    }

    /// `thumb` 400×400 and `display` 1600×1600.
    pub fn defaults() -> Vec<RenditionSpec> {
        vec![RenditionSpec::new("thumb", 400, 400), RenditionSpec::new("display", 1600, 1600)]
    }
}

/// Largest box side we accept in a rendition spec; beyond this a typo is far
/// more likely than intent.
const MAX_RENDITION_SIDE: u32 = 16_384;
const MAX_RENDITION_NAME: usize = 32;

/// Why a rendition list was refused, in words for the settings error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid rendition list: {0}")]
pub struct RenditionsError(pub String);

/// Parses `"thumb=400,display=1600"` (square boxes) or `"thumb=400x300"`.
pub fn parse_renditions(s: &str) -> Result<Vec<RenditionSpec>, RenditionsError> {
    let bad = RenditionsError;
    let mut specs: Vec<RenditionSpec> = Vec::new();
    for item in s.split(',').map(str::trim) {
        if item.is_empty() {
            return Err(bad(format!("empty entry in `{s}`; write entries like thumb=400,display=1600")));
        }
        let Some((name, size)) = item.split_once('=') else {
            return Err(bad(format!("`{item}` has no size; write it as name=400 or name=400x300")));
        };
        let name = name.trim();
        // The name becomes part of an S3 key, so keep it to a safe alphabet.
        if name.is_empty()
            || name.len() > MAX_RENDITION_NAME
            || !name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        {
            return Err(bad(format!(
                "rendition name `{name}` must be 1 to {MAX_RENDITION_NAME} characters of a-z, 0-9, - or _"
            )));
        }
        if name == "manifest" {
            return Err(bad("`manifest` is reserved for the manifest file".to_owned()));
        }
        if specs.iter().any(|s| s.name == name) {
            return Err(bad(format!("rendition `{name}` is listed twice")));
        }
        let size = size.trim();
        let (w, h) = match size.split_once(['x', 'X']) {
            Some((w, h)) => (w.trim(), h.trim()),
            None => (size, size),
        };
        let parse_side = |v: &str| -> Result<u32, RenditionsError> {
            match v.parse::<u32>() {
                Ok(n) if (1..=MAX_RENDITION_SIDE).contains(&n) => Ok(n),
                _ => Err(bad(format!(
                    "size `{size}` of `{name}` must be 1 to {MAX_RENDITION_SIDE} pixels, like 400 or 400x300"
                ))),
            }
        };
        specs.push(RenditionSpec::new(name, parse_side(w)?, parse_side(h)?));
    }
    Ok(specs)
}

/// How renditions are encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EncodeOptions {
    /// JPEG quality, 1–100.
    pub jpeg_quality: u8,
}

impl Default for EncodeOptions {
    fn default() -> Self {
        EncodeOptions { jpeg_quality: 85 }
    }
}

/// What an upload is, as the viewer will see it (after EXIF orientation).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageInfo {
    pub format: ImageFormat,
    pub width: u32,
    pub height: u32,
}

/// One encoded rendition, ready to store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendition {
    pub name: String,
    pub width: u32,
    pub height: u32,
    pub format: ImageFormat,
    pub bytes: Vec<u8>,
}

/// Why an image was refused. The `Display` text is shown to merchants on the
/// "try again" page, so it stays in plain words; `detail()` has the
/// technical cause for logs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageError {
    #[error("The file is empty.")]
    Empty,
    #[error("The file is not a PNG or JPEG image.")]
    UnsupportedFormat,
    #[error("The file is {} MB; the largest file we accept is {} MB.", mb(.bytes), mb(.limit))]
    TooLarge { bytes: u64, limit: u64 },
    #[error(
        "The image is {width} × {height} pixels; the largest image we accept is {} megapixels.",
        megapixels(.limit)
    )]
    TooManyPixels { width: u32, height: u32, limit: u64 },
    #[error("The image is too large to process: it would need more than {} MB of memory.", mb(.limit))]
    TooMuchMemory { limit: u64 },
    #[error("The image file is damaged or incomplete.")]
    Corrupt(String),
    /// Legal or nearly so, but shaped to make decoding expensive (endless
    /// scans, table floods, compressed-chunk bombs): refused once its work
    /// budget would be exceeded, and never worth retrying.
    #[error("The file is built in a way no camera or editor makes. Please save it again as a standard PNG or JPEG.")]
    Contrived(String),
    #[error("The image uses a kind of {format} we cannot read. Please save it again as a standard PNG or JPEG.")]
    UnsupportedVariant { format: ImageFormat, detail: String },
    #[error("The image could not be converted.")]
    Encode(String),
}

impl ImageError {
    /// The technical cause, where there is one beyond the message.
    pub fn detail(&self) -> Option<&str> {
        match self {
            ImageError::Corrupt(d) | ImageError::Contrived(d) | ImageError::Encode(d) => Some(d),
            ImageError::UnsupportedVariant { detail, .. } => Some(detail),
            _ => None,
        }
    }

    /// The message plus the technical cause, for log lines.
    pub fn log_reason(&self) -> String {
        match self.detail() {
            Some(d) if !d.is_empty() => format!("{self} ({d})"),
            _ => self.to_string(),
        }
    }
}

fn mb(bytes: &u64) -> String {
    trim_decimal(*bytes as f64 / (1024.0 * 1024.0))
}

fn megapixels(pixels: &u64) -> String {
    trim_decimal(*pixels as f64 / 1_000_000.0)
}

fn trim_decimal(v: f64) -> String {
    let s = format!("{v:.1}");
    s.strip_suffix(".0").map(str::to_owned).unwrap_or(s)
}

/// The work a decision took, counted by the decoders, and the budget it
/// had. The budget grows with the image's pixel count, not with anything
/// else a file controls, so a hostile file costs no more than a real
/// photograph of the same size.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Work {
    /// JPEG: the work charged against the budget before it is done, in
    /// blocks: every block a scan covers, plus the fixed prices of scans,
    /// tables and segments (`jpeg/budget.rs`).
    pub blocks_decoded: u64,
    /// JPEG: the most `blocks_decoded` may reach.
    pub block_budget: u64,
    /// JPEG: 8×8 blocks actually entropy-decoded, counted where they are
    /// decoded; never more than was charged.
    pub blocks_visited: u64,
    /// PNG: bytes produced by inflating (image data and any compressed
    /// ancillary chunk).
    pub bytes_inflated: u64,
    /// PNG: the most `bytes_inflated` may reach.
    pub inflate_budget: u64,
    /// What was done about the image's colours (an embedded profile
    /// converted, or ignored and why), for the resizer's log line.
    pub colour: Colour,
}

impl Work {
    /// Whether every counter stayed within its budget, and no block was
    /// decoded without being charged first.
    pub fn within_budget(&self) -> bool {
        self.blocks_visited <= self.blocks_decoded
            && self.blocks_decoded <= self.block_budget
            && self.bytes_inflated <= self.inflate_budget
    }
}

/// Checks that `bytes` is a PNG or JPEG within `limits` that decodes
/// completely; a truncated upload fails here rather than in the resizer.
pub fn inspect(bytes: &[u8], limits: &Limits) -> Result<ImageInfo, ImageError> {
    inspect_metered(bytes, limits).0
}

/// `inspect`, also telling the work it took.
pub fn inspect_metered(bytes: &[u8], limits: &Limits) -> (Result<ImageInfo, ImageError>, Work) {
    let mut work = Work::default();
    // A JPEG at ⅛ scale is still entropy-decoded in full, which is the
    // check; only its pixels are 64 times fewer. Colours do not decide
    // anything here (an unusable profile is ignored, not refused), so the
    // check leaves them to the resizer.
    let result = decode::decode(bytes, limits, &|_, _| 8, false, &mut work).map(|d| d.info);
    (result, work)
}

/// How much reduction each JPEG shrink-on-load factor must leave, at
/// least, for the Lanczos3 resize. Measured on the benchmark's photographs
/// against a full-decode Lanczos3 reference: a ½ reduction in the DCT
/// domain is as good a filter as Lanczos (it may even do the whole job,
/// mean PSNR within 0.05 dB), while ¼ and ⅛ alias enough that Lanczos must
/// still do a real share (at ¼ with 1.1× left, one 18 MP photograph lost
/// 1.2 dB); libvips's thumbnail demands 2× at every level.
const SHRINK_MARGINS: [(u32, f64); 3] = [(8, 2.0), (4, 2.0), (2, 1.0)];

/// The largest JPEG shrink-on-load factor that still serves every spec.
fn shrink_for(width: u32, height: u32, specs: &[RenditionSpec]) -> u32 {
    specs
        .iter()
        .map(|spec| {
            let (w, h) = resize::fit(width, height, spec.max_width, spec.max_height);
            let factor = (f64::from(width) / f64::from(w)).min(f64::from(height) / f64::from(h));
            SHRINK_MARGINS.iter().find(|(s, margin)| factor / f64::from(*s) >= *margin).map_or(1, |(s, _)| *s)
        })
        .min()
        .unwrap_or(8)
}

thread_local! {
    /// The resizer's scratch buffers outlive one call, so a warm Lambda or
    /// a batch of files reuses their pages: faulting in fresh ones for
    /// every image was a fifth of the PNG set's time.
    static RESIZER: std::cell::RefCell<resize::Resizer> = std::cell::RefCell::new(resize::Resizer::new());
}

/// Decodes once and produces one rendition per spec, in the order given.
pub fn render(
    bytes: &[u8],
    specs: &[RenditionSpec],
    limits: &Limits,
    enc: &EncodeOptions,
) -> Result<Vec<Rendition>, ImageError> {
    render_metered(bytes, specs, limits, enc).0
}

/// `render`, also telling the work its decode took.
pub fn render_metered(
    bytes: &[u8],
    specs: &[RenditionSpec],
    limits: &Limits,
    enc: &EncodeOptions,
) -> (Result<Vec<Rendition>, ImageError>, Work) {
    let mut work = Work::default();
    let result = render_counted(bytes, specs, limits, enc, &mut work);
    (result, work)
}

/// The full-size decode, upright, as 8-bit RGB or RGBA, for comparing our
/// decoders with reference ones (the fuzz targets do).
pub fn decode_full(bytes: &[u8], limits: &Limits) -> (Result<::image::DynamicImage, ImageError>, Work) {
    let mut work = Work::default();
    let result = decode::decode(bytes, limits, &|_, _| 1, true, &mut work).map(|d| d.image);
    (result, work)
}

fn render_counted(
    bytes: &[u8],
    specs: &[RenditionSpec],
    limits: &Limits,
    enc: &EncodeOptions,
    work: &mut Work,
) -> Result<Vec<Rendition>, ImageError> {
    let decoded = decode::decode(bytes, limits, &|w, h| shrink_for(w, h, specs), true, work)?;
    RESIZER.with_borrow_mut(|resizer| {
        let mut out = Vec::with_capacity(specs.len());
        for spec in specs {
            let (width, height) = resize::fit(decoded.info.width, decoded.info.height, spec.max_width, spec.max_height);
            let resized = resizer.resize(&decoded.image, width, height, decoded.opaque)?;
            let (format, bytes) = encode::encode(&resized, decoded.opaque, enc)?;
            out.push(Rendition { name: spec.name.clone(), width, height, format, bytes });
        }
        Ok(out)
    })
}

#[cfg(test)]
mod tests;
