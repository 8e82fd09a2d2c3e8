//! `/admin/doctor`: the bucket doctor. Staff run the checks; admins review
//! a fix as a diff and apply it.

mod fix;
mod get;

pub use fix::{apply_fix, review_fix};
pub use get::doctor;
