//! The upload check (`inspect`) and the resizer's decode-resize-encode
//! (`render`): the two decisions the console and the Lambda take on an
//! upload's bytes.

use easel_resizer::{
    EncodeOptions, ImageFormat, ImageInfo, Limits, Rendition, RenditionSpec, inspect_metered, render_metered,
};

/// The limits every image target decides under. Smaller than production's
/// (50 MP, 25 MB) so one execution stays in milliseconds and the fuzzer
/// tries many more files; the work budget scales with the pixel count, so
/// the code paths and the budget arithmetic are the same.
pub const LIMITS: Limits = Limits { max_bytes: 1 << 20, max_pixels: 1 << 22, max_alloc: 256 << 20 };

/// Small boxes of three shapes, so every shrink-on-load factor and both
/// binding sides are reached from small inputs.
const BOXES: [(&str, u32, u32); 3] = [("thumb", 64, 64), ("strip", 40, 7), ("tall", 5, 33)];

/// The upload check decides within its work budget, whatever the file, and
/// what it accepts is a real, bounded image.
pub fn inspect(data: &[u8]) {
    let (result, work) = inspect_metered(data, &LIMITS);
    assert!(work.within_budget(), "the upload check went over its work budget: {work:?} (result {result:?})");
    if let Ok(info) = result {
        check_info(data, &info);
    }
}

fn check_info(data: &[u8], info: &ImageInfo) {
    assert!(info.width >= 1 && info.height >= 1, "accepted an empty image: {info:?}");
    assert!(
        u64::from(info.width) * u64::from(info.height) <= LIMITS.max_pixels,
        "accepted {info:?}, over the {} pixel limit",
        LIMITS.max_pixels
    );
    assert_eq!(Some(info.format), ImageFormat::sniff(data), "accepted as a format its magic bytes do not say");
}

/// Rendering decides within its work budget; whatever the upload check
/// accepts, rendering produces (else the upload page says yes and the
/// gallery never gets a picture); and each rendition fits its box, keeps the
/// aspect ratio, is never enlarged, and reads back as what it claims to be.
pub fn render(data: &[u8]) {
    let specs: Vec<RenditionSpec> = BOXES.iter().map(|(n, w, h)| RenditionSpec::new(*n, *w, *h)).collect();
    let (inspected, _) = inspect_metered(data, &LIMITS);
    let (result, work) = render_metered(data, &specs, &LIMITS, &EncodeOptions::default());
    assert!(work.within_budget(), "rendering went over its work budget: {work:?} (result {:?})", result.as_ref().err());
    match (inspected, result) {
        (Ok(info), Ok(renditions)) => {
            check_info(data, &info);
            assert_eq!(renditions.len(), specs.len(), "one rendition per spec");
            for (spec, r) in specs.iter().zip(&renditions) {
                check_rendition(&info, spec, r);
            }
        }
        (Ok(info), Err(e)) => {
            panic!("the upload check accepted {info:?} but rendering refused it: {}", e.log_reason())
        }
        // Rendering may be more lenient than the check; nothing depends on it.
        (Err(_), _) => {}
    }
}

fn check_rendition(info: &ImageInfo, spec: &RenditionSpec, r: &Rendition) {
    let what = format!(
        "rendition `{}` ({}×{}) of {info:?} in {}×{}",
        r.name, r.width, r.height, spec.max_width, spec.max_height
    );
    assert_eq!(r.name, spec.name, "{what}: renditions come in spec order");
    let (bound_w, bound_h) = (spec.max_width.min(info.width), spec.max_height.min(info.height));
    assert!((1..=bound_w).contains(&r.width) && (1..=bound_h).contains(&r.height), "{what}: outside its box");
    assert!(r.width == bound_w || r.height == bound_h, "{what}: neither side fills the box");
    // The free side is the exact scaled size rounded, within one pixel,
    // unless it was clamped to one pixel (a very long strip).
    let (w, h, iw, ih) = (u64::from(r.width), u64::from(r.height), u64::from(info.width), u64::from(info.height));
    assert!(r.width == 1 || r.height == 1 || (w * ih).abs_diff(h * iw) <= iw.max(ih), "{what}: aspect ratio changed");
    let (back, _) = inspect_metered(&r.bytes, &LIMITS);
    let back = back.unwrap_or_else(|e| panic!("{what}: our own check refuses it: {}", e.log_reason()));
    assert_eq!((back.width, back.height, back.format), (r.width, r.height, r.format), "{what}: reads back differently");
}
