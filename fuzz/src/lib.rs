//! The bodies of Easel's fuzz targets: everything that reads bytes a
//! stranger chose. Each function takes the raw input and panics when a
//! property fails. The libFuzzer binaries in `fuzz_targets/` are one-line
//! wrappers around them (`cargo ops fuzz`, nightly), and `tests/replay.rs`
//! runs every committed corpus and regression file through the very same
//! functions on stable, inside `cargo test --workspace`.

mod icc_profile;
mod images;
mod jpeg_reference;
mod multipart;
mod policy;
mod s3_event;

pub use icc_profile::icc_profile;
pub use images::{LIMITS, inspect, render};
pub use jpeg_reference::jpeg_reference;
pub use multipart::{BOUNDARY, multipart};
pub use policy::bucket_policy;
pub use s3_event::{encode_key, s3_event};

/// A target's body: panics when a property fails.
pub type Target = fn(&[u8]);

/// Every target, by the name of its binary and corpus directory.
pub const TARGETS: &[(&str, Target)] = &[
    ("inspect", inspect),
    ("render", render),
    ("jpeg_reference", jpeg_reference),
    ("multipart", multipart),
    ("s3_event", s3_event),
    ("bucket_policy", bucket_policy),
    ("icc_profile", icc_profile),
];

/// The target called `name`.
pub fn target(name: &str) -> Option<Target> {
    TARGETS.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}
