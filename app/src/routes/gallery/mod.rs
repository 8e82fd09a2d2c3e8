mod get;

pub use get::{PER_PAGE, gallery};
