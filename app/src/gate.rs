//! The one rule every write path asks, whatever its entry point (a console
//! route, a `cargo ops` command, a background task): may this change happen
//! now? From the archive step on, the data the archive holds is frozen, so
//! that what is archived is what is destroyed; once it is destroyed, Easel
//! is read-only. The procedure's own steps are the only writes past the
//! gate: they are what moves it.
//!
//! The state is the `upload_gate` row, moved in the same transactions as
//! the procedure's steps (`decommission::repo` writes it; only this module
//! reads it). It sits below every module that writes, decommissioning
//! included, so asking it imports nothing above. Checked in a transaction with `hold`, a change
//! holds the gate (FOR SHARE) until it commits, so a freeze waits for it and
//! none slips in behind the archive's listing.

use sqlx::{PgExecutor, Postgres, Transaction};
use time::OffsetDateTime;

/// Whether merchants may upload, and where the procedure stands: the
/// `upload_gate` row, which the decommissioning procedure moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadGate {
    Open,
    /// Archiving: uploads wait until the procedure ends (they never reopen).
    Frozen,
    /// Destroyed: Easel is closed.
    Closed,
}

fn gate_from(row: (Option<OffsetDateTime>, bool)) -> UploadGate {
    match row {
        (_, true) => UploadGate::Closed,
        (Some(_), false) => UploadGate::Frozen,
        (None, false) => UploadGate::Open,
    }
}

pub async fn upload_gate(db: impl PgExecutor<'_>) -> Result<UploadGate, sqlx::Error> {
    let row = sqlx::query!("SELECT frozen_at, closed FROM upload_gate").fetch_one(db).await?;
    Ok(gate_from((row.frozen_at, row.closed)))
}

/// Holds the gate open (FOR SHARE) until `tx` ends; freezing waits for it.
pub async fn hold_upload_gate(tx: &mut Transaction<'_, Postgres>) -> Result<UploadGate, sqlx::Error> {
    let row = sqlx::query!("SELECT frozen_at, closed FROM upload_gate FOR SHARE").fetch_one(&mut **tx).await?;
    Ok(gate_from((row.frozen_at, row.closed)))
}

/// What a change touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// The client's data and what acts on it: artworks and their objects
    /// (uploads, resize again, restores, the orphan sweep, the reconciler),
    /// the buckets' configuration and the resizer's trigger (the doctor's
    /// fixes, provisioning). Frozen from the archive step on.
    Data,
    /// Staff accounts: still managed while the data is archived (someone
    /// must be able to finish the procedure), not once Easel is closed.
    Accounts,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error(
        "Easel's data is frozen while it is archived and handed over for decommissioning: nothing may change it now."
    )]
    Frozen,
    #[error("Easel has been decommissioned: its data is destroyed and it is read-only.")]
    Decommissioned,
}

#[derive(Debug, thiserror::Error)]
pub enum GateError {
    #[error(transparent)]
    Refused(#[from] Refused),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// The rule itself.
pub fn decide(gate: UploadGate, change: Change) -> Result<(), Refused> {
    match (gate, change) {
        (UploadGate::Open, _) | (UploadGate::Frozen, Change::Accounts) => Ok(()),
        (UploadGate::Frozen, Change::Data) => Err(Refused::Frozen),
        (UploadGate::Closed, _) => Err(Refused::Decommissioned),
    }
}

/// Asks the gate now (for work with no transaction of its own to hold it in).
pub async fn check(db: impl PgExecutor<'_>, change: Change) -> Result<(), GateError> {
    Ok(decide(upload_gate(db).await?, change)?)
}

/// Whether the gate allows `change` now: for work that, refused, simply
/// does nothing (the background tasks).
pub async fn allows(db: impl PgExecutor<'_>, change: Change) -> Result<bool, sqlx::Error> {
    Ok(decide(upload_gate(db).await?, change).is_ok())
}

/// Whether Easel is decommissioned (its data destroyed): what the doctor
/// then expects to find is the destroyed state.
pub async fn decommissioned(db: impl PgExecutor<'_>) -> Result<bool, sqlx::Error> {
    Ok(upload_gate(db).await? == UploadGate::Closed)
}

/// Asks the gate and holds it until `tx` ends.
pub async fn hold(tx: &mut Transaction<'_, Postgres>, change: Change) -> Result<(), GateError> {
    Ok(decide(hold_upload_gate(tx).await?, change)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_freezes_first_and_everything_closes_last() {
        for change in [Change::Data, Change::Accounts] {
            assert_eq!(decide(UploadGate::Open, change), Ok(()));
            assert_eq!(decide(UploadGate::Closed, change), Err(Refused::Decommissioned));
        }
        assert_eq!(decide(UploadGate::Frozen, Change::Data), Err(Refused::Frozen));
        assert_eq!(decide(UploadGate::Frozen, Change::Accounts), Ok(()));
    }
}
