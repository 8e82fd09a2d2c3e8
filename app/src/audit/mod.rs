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
    pub client_addr: Origin,
}

/// Where a recorded change came from. The trail stores it as text (its
/// `Display`), and the chain hashes that text, so a row reads back and
/// verifies as it was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Origin {
    /// A request, from the client address the web edge resolved (behind a
    /// trusted proxy, the address it forwarded).
    Client(std::net::IpAddr),
    /// Sign-in attempts from an account's known devices, summed into one
    /// tally whatever their addresses: `known device`.
    KnownDevices,
    /// Refused sign-ins summed over every address, once the throttle's
    /// in-memory tallies are full: `*`.
    AnyAddress,
    /// `cargo ops` on the host: `local`.
    Local,
    /// The console's own work, no request behind it (the mail outbox, the
    /// orphan sweep, a restore finishing): `console`.
    Console,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Client(ip) => ip.fmt(f),
            Origin::KnownDevices => f.write_str("known device"),
            Origin::AnyAddress => f.write_str("*"),
            Origin::Local => f.write_str("local"),
            Origin::Console => f.write_str("console"),
        }
    }
}

/// Text that is none of `Origin`'s spellings.
#[derive(Debug, thiserror::Error)]
#[error("{0:?} is not an origin Easel records")]
pub struct UnknownOrigin(String);

impl std::str::FromStr for Origin {
    type Err = UnknownOrigin;
    fn from_str(s: &str) -> Result<Self, UnknownOrigin> {
        match s {
            "known device" => Ok(Origin::KnownDevices),
            "*" => Ok(Origin::AnyAddress),
            "local" => Ok(Origin::Local),
            "console" => Ok(Origin::Console),
            other => other.parse().map(Origin::Client).map_err(|_| UnknownOrigin(other.to_owned())),
        }
    }
}

impl From<std::net::IpAddr> for Origin {
    fn from(ip: std::net::IpAddr) -> Self {
        Origin::Client(ip)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_origin_reads_back_as_it_is_stored() {
        let origins = [
            Origin::Client("203.0.113.7".parse().unwrap()),
            Origin::Client("2001:db8::1".parse().unwrap()),
            Origin::KnownDevices,
            Origin::AnyAddress,
            Origin::Local,
            Origin::Console,
        ];
        for origin in origins {
            assert_eq!(origin.to_string().parse::<Origin>().unwrap(), origin);
        }
        assert!("somewhere".parse::<Origin>().is_err());
        assert!("".parse::<Origin>().is_err());
    }
}
