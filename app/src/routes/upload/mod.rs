mod get;
mod post;

pub use get::upload_form;
pub use post::{UPLOAD_FIELD, upload_artwork};
