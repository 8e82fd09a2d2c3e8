mod get;
mod post;

pub use crate::receive::{UPLOAD_FIELD, sanitize_filename};
pub use get::{closure_notice, upload_form};
pub use post::upload_artwork;
