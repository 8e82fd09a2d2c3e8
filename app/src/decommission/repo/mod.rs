//! The decommission tables, one file each. Callers pass a transaction where
//! a change and its audit row must commit together.

mod decisions;
mod decommissions;
mod mails;
mod stakeholders;
mod tokens;
mod upload_gate;

pub use decisions::{Decision, Verdict, decisions, insert_decision, pending_approvals};
pub use decommissions::{
    ARCHIVE_STALE_AFTER_MINUTES, ArchiveFacts, ArchiveState, Decommission, NewDecommission, Plan, Receipt, all,
    archive_alive, current, find, insert, lock, reason_pdf, set_archive_progress, set_archive_ready, set_archive_state,
    set_closed, set_destroyed, set_halted, set_plan, set_plan_comment, set_receipt, set_step,
};
pub use mails::{MailRow, mails};
pub use stakeholders::{Stakeholder, insert_stakeholders, stakeholders};
pub use tokens::{TokenRow, end_tokens, find_token, insert_token, lock_token, use_token};
pub use upload_gate::{close_uploads, freeze_uploads};
