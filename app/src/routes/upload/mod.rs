mod get;
mod post;

pub use get::{closure_notice, upload_form};
pub use post::{UPLOAD_FIELD, sanitize_filename, upload_artwork};
