mod get;
mod post;
pub mod receive;

pub use get::{closure_notice, upload_form};
pub use post::upload_artwork;
pub use receive::{UPLOAD_FIELD, sanitize_filename};
