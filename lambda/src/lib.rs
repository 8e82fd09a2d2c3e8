//! Easel's image core and the S3-triggered resizer.
//!
//! The `image` module is pure (bytes in, renditions out) so the web app can
//! reuse exactly the checks the Lambda applies; everything that talks to AWS
//! lives in `aws` and `handler`.

pub mod aws;
pub mod bucket;
pub mod config;
pub mod event;
pub mod handler;
pub mod image;
pub mod keys;
pub mod manifest;

pub use bucket::{BucketName, BucketNameError};
pub use config::{ConfigError, ResizerConfig};
pub use handler::{InvocationOutcome, RecordOutcome, Resizer};
pub use image::{
    Colour, EncodeOptions, ImageError, ImageFormat, ImageInfo, Limits, Rendition, RenditionSpec, Work, decode_full,
    inspect, inspect_metered, parse_renditions, render, render_metered,
};
pub use keys::{ArtworkId, manifest_key, original_key, rendition_key};
pub use manifest::{Manifest, ManifestEntry};
