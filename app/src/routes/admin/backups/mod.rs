//! `/admin/backups`: verify resized against backup (the dry run of a
//! restore), start a restore, watch it, resume it.

mod get;
mod restore;

pub use get::backups;
pub use restore::{restore_progress, resume_restore, start_restore};
