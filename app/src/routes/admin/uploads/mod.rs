//! `/admin/uploads`: stuck and failed uploads, and "resize again" (single
//! and bulk).

mod get;
mod resize;

pub use get::stuck_uploads;
pub use resize::{resize_one, resize_selected};
