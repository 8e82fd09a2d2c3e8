//! An embedded ICC profile, the one part of an image file that is a small
//! program of tables: whatever its bytes, a picture that is fine without
//! it renders with it (the profile is used or ignored, never fatal), within
//! the work budget, and a profile is never the reason for a panic.

use std::sync::OnceLock;

use easel_resizer::image::hostile;
use easel_resizer::{EncodeOptions, RenditionSpec, render_metered};

use crate::LIMITS;

/// A small real picture as a JPEG and a PNG, made once.
fn pictures() -> &'static [(&'static str, Vec<u8>); 2] {
    static PICTURES: OnceLock<[(&'static str, Vec<u8>); 2]> = OnceLock::new();
    PICTURES.get_or_init(|| hostile::real_pair(24, 16))
}

pub fn icc_profile(data: &[u8]) {
    let specs = [RenditionSpec::new("thumb", 8, 8)];
    for (what, picture) in pictures() {
        assert!(!picture.is_empty(), "the {what} picture could not be made");
        let file = hostile::with_icc_profile(picture, data);
        if file.len() as u64 > LIMITS.max_bytes {
            return;
        }
        let (result, work) = render_metered(&file, &specs, &LIMITS, &EncodeOptions::default());
        assert!(work.within_budget(), "{what}: over the work budget: {work:?}");
        if let Err(e) = result {
            panic!("a {what} that renders without its profile was refused with it: {}", e.log_reason());
        }
    }
}
