//! The tamper-evident audit trail. Every state change appends one row in
//! the same transaction as the change; each row's hash covers the row and
//! the previous row's hash, so altering, removing or reordering any row
//! breaks the chain from there on.

pub mod anchor;
mod chain;
pub mod checkpoint;
mod repo;

pub use chain::{Actor, AuditAction, GENESIS, canonical_form, chain_hash};
pub use repo::{
    AuditFilter, ChainVerdict, EventRow, append, head_hash, list, record, rows_for_export, verify, verify_after,
    whole_trail,
};

/// A state change about to be recorded.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub actor: Actor,
    pub action: AuditAction,
    pub subject: String,
    pub details: serde_json::Value,
    pub client_addr: String,
}
