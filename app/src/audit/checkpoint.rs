//! Signed checkpoints of the audit trail: the chain's head, signed with an
//! Ed25519 key the database never holds, kept in Postgres and, outside it,
//! in the backup bucket (under S3 Object Lock in AWS). The hash chain alone
//! catches a changed middle row; a checkpoint also catches what an insider
//! with the database's credentials can do to the end of it (remove the last
//! rows, or rewrite them with hashes computed afresh), because the rows it
//! covers can no longer be made to match a signature they cannot forge.
//! As CloudTrail's digest files do, each checkpoint names the one before it,
//! so a checkpoint removed from the middle is named too.
//!
//! A checkpoint is a short text (`Statement::text`), signed as bytes, so that
//! anyone can check it with any Ed25519 implementation (the archive carries
//! a standalone verifier, `verify_audit.py`).

use std::{collections::BTreeMap, fmt, path::Path};

use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier as _, VerifyingKey};
use sha2::{Digest, Sha256};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use super::GENESIS;

/// Where checkpoints live in the backup bucket.
pub const PREFIX: &str = "audit-checkpoints/";
const HEADER: &str = "easel-audit-checkpoint v1";

/// What one checkpoint says about the trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// 1, 2, 3…: a gap means a checkpoint went missing.
    pub seq: i64,
    /// The last row covered (0: the trail was empty).
    pub last_id: i64,
    /// That row's hash (`GENESIS` for an empty trail).
    pub head: [u8; 32],
    /// How many rows there were up to and including `last_id`.
    pub rows: i64,
    pub at: OffsetDateTime,
    /// The SHA-256 of the previous checkpoint's text (`GENESIS` for the first).
    pub prev: [u8; 32],
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("not a checkpoint: {0}")]
pub struct Malformed(String);

impl Statement {
    /// The exact bytes signed: one field per line, in this order.
    pub fn text(&self) -> String {
        let at = self.at.to_offset(time::UtcOffset::UTC).format(&Rfc3339).expect("a timestamp formats");
        format!(
            "{HEADER}\nseq {}\nlast_id {}\nhead {}\nrows {}\nat {at}\nprev {}\n",
            self.seq,
            self.last_id,
            hex::encode(self.head),
            self.rows,
            hex::encode(self.prev)
        )
    }

    pub fn parse(text: &str) -> Result<Self, Malformed> {
        let bad = |why: &str| Malformed(why.to_owned());
        let mut lines = text.strip_suffix('\n').ok_or_else(|| bad("no final newline"))?.split('\n');
        if lines.next() != Some(HEADER) {
            return Err(bad("the first line is not the checkpoint header"));
        }
        let mut field = |name: &str| {
            lines
                .next()
                .and_then(|l| l.strip_prefix(name))
                .and_then(|l| l.strip_prefix(' '))
                .ok_or_else(|| bad(&format!("no {name} line where it belongs")))
        };
        let int = |v: &str, name: &str| v.parse::<i64>().map_err(|_| bad(&format!("{name} is not a number")));
        let hash = |v: &str, name: &str| {
            let mut out = [0u8; 32];
            hex::decode_to_slice(v, &mut out).map_err(|_| bad(&format!("{name} is not 64 hex digits")))?;
            Ok::<_, Malformed>(out)
        };
        let seq = int(field("seq")?, "seq")?;
        let last_id = int(field("last_id")?, "last_id")?;
        let head = hash(field("head")?, "head")?;
        let rows = int(field("rows")?, "rows")?;
        let at = OffsetDateTime::parse(field("at")?, &Rfc3339).map_err(|_| bad("at is not an RFC 3339 time"))?;
        let prev = hash(field("prev")?, "prev")?;
        if lines.next().is_some() {
            return Err(bad("lines after prev"));
        }
        let statement = Statement { seq, last_id, head, rows, at, prev };
        // Only one text per statement, so its digest is well defined.
        if statement.text() != text {
            return Err(bad("not in canonical form"));
        }
        Ok(statement)
    }

    pub fn digest(&self) -> [u8; 32] {
        Sha256::digest(self.text().as_bytes()).into()
    }
}

/// A checkpoint as stored: the statement's text and its signature.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Signed {
    pub statement: String,
    /// Hex, 64 bytes.
    pub signature: String,
    /// Hex, 32 bytes: whose key signed it, for the reader's convenience.
    /// Verification trusts only the key it was given, never this one.
    pub public_key: String,
}

impl Signed {
    pub fn object_key(seq: i64) -> String {
        format!("{PREFIX}{seq:012}.json")
    }

    /// The statement, if the signature is `key`'s over exactly this text.
    pub fn verify(&self, key: &VerifyingKey) -> Result<Statement, Forged> {
        let mut sig = [0u8; 64];
        hex::decode_to_slice(&self.signature, &mut sig).map_err(|_| Forged::Unreadable)?;
        key.verify(self.statement.as_bytes(), &Signature::from_bytes(&sig)).map_err(|_| Forged::BadSignature)?;
        Statement::parse(&self.statement).map_err(Forged::Malformed)
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Forged {
    #[error("its signature is not hex of 64 bytes")]
    Unreadable,
    #[error("its signature is not the audit key's")]
    BadSignature,
    #[error("signed, yet {0}")]
    Malformed(Malformed),
}

/// The checkpoint signing key, read from a file holding its 32-byte seed
/// in hex (`EASEL_AUDIT_KEY_FILE`).
#[derive(Clone)]
pub struct AuditKey(SigningKey);

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("reading the audit key {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error(
        "the audit key {path} is not 64 hex digits (a 32-byte Ed25519 seed); `cargo ops up` makes one where none is, or write one with `openssl rand -hex 32`"
    )]
    Invalid { path: String },
    #[error("{0} is not 64 hex digits (an Ed25519 public key)")]
    InvalidPublic(String),
}

impl AuditKey {
    pub fn generate() -> Self {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).expect("the OS gives random bytes");
        AuditKey(SigningKey::from_bytes(&seed))
    }

    pub fn from_file(path: &Path) -> Result<Self, KeyError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| KeyError::Read { path: path.display().to_string(), source })?;
        let mut seed = [0u8; 32];
        hex::decode_to_slice(text.trim(), &mut seed)
            .map_err(|_| KeyError::Invalid { path: path.display().to_string() })?;
        Ok(AuditKey(SigningKey::from_bytes(&seed)))
    }

    /// The seed in hex, as `from_file` reads it.
    pub fn to_file_contents(&self) -> String {
        format!("{}\n", hex::encode(self.0.to_bytes()))
    }

    pub fn public(&self) -> VerifyingKey {
        self.0.verifying_key()
    }

    pub fn sign(&self, statement: &Statement) -> Signed {
        let text = statement.text();
        let signature = self.0.sign(text.as_bytes());
        Signed {
            statement: text,
            signature: hex::encode(signature.to_bytes()),
            public_key: hex::encode(self.public().to_bytes()),
        }
    }
}

impl fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AuditKey(public {})", hex::encode(self.public().to_bytes()))
    }
}

pub fn public_key_from_hex(text: &str) -> Result<VerifyingKey, KeyError> {
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(text.trim(), &mut bytes).map_err(|_| KeyError::InvalidPublic(text.to_owned()))?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| KeyError::InvalidPublic(text.to_owned()))
}

/// The statement that follows `prev` for a trail whose last row is
/// `(last_id, head)` of `rows` rows.
pub fn next(prev: Option<&Statement>, last_id: i64, head: [u8; 32], rows: i64, at: OffsetDateTime) -> Statement {
    Statement {
        seq: prev.map_or(1, |p| p.seq + 1),
        last_id,
        head,
        rows,
        at,
        prev: prev.map_or(GENESIS, Statement::digest),
    }
}

/// What verification found wrong, each kind named on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// The trail ends before a checkpoint's last row: rows were removed
    /// from its end.
    Truncated { seq: i64, last_id: i64, trail_ends_at: i64 },
    /// The row a checkpoint covers is there, with another hash (or another
    /// number of rows up to it): the trail was rewritten from there back.
    Rewritten { seq: i64, last_id: i64 },
    /// A checkpoint is absent from one place, or from the sequence.
    Missing { seq: i64, from: &'static str },
    /// A checkpoint whose signature is not the audit key's.
    Forged { seq: Option<i64>, place: &'static str, why: String },
    /// The copies in S3 and Postgres of one checkpoint differ.
    CopiesDiffer { seq: i64 },
    /// A checkpoint does not name the one before it.
    Unlinked { seq: i64 },
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Finding::Truncated { seq, last_id, trail_ends_at } => write!(
                f,
                "truncated: checkpoint {seq} covers events up to {last_id}, but the trail ends at event {trail_ends_at}"
            ),
            Finding::Rewritten { seq, last_id } => write!(
                f,
                "rewritten: event {last_id} (or the events before it) no longer match what checkpoint {seq} signed"
            ),
            Finding::Missing { seq, from } => write!(f, "missing checkpoint: {seq} is not in {from}"),
            Finding::Forged { seq: Some(seq), place, why } => write!(f, "forged checkpoint: {seq} in {place}: {why}"),
            Finding::Forged { seq: None, place, why } => write!(f, "forged checkpoint in {place}: {why}"),
            Finding::CopiesDiffer { seq } => write!(f, "checkpoint {seq} differs between S3 and Postgres"),
            Finding::Unlinked { seq } => {
                write!(f, "checkpoint {seq} does not name the checkpoint before it (one was replaced)")
            }
        }
    }
}

/// One row of the trail as a checkpoint sees it: the hash of row `id`, and
/// how many rows there are up to it.
pub trait Trail {
    /// The last row's id (0 when empty).
    fn last_id(&self) -> i64;
    /// Row `id`'s hash and the number of rows up to it, if it exists.
    fn at(&self, id: i64) -> Option<([u8; 32], i64)>;
}

/// Checks the checkpoints found in S3 and in Postgres (each keyed by the
/// seq they were found under) against each other, the key and the trail.
/// Returns the good checkpoints' statements, in order, and the findings.
pub fn verify(
    key: &VerifyingKey,
    in_s3: &BTreeMap<i64, Signed>,
    in_postgres: &BTreeMap<i64, Signed>,
    trail: &impl Trail,
) -> (Vec<Statement>, Vec<Finding>) {
    let mut findings = Vec::new();
    let mut good: BTreeMap<i64, Statement> = BTreeMap::new();
    let seqs: std::collections::BTreeSet<i64> = in_s3.keys().chain(in_postgres.keys()).copied().collect();
    for &seq in &seqs {
        let (s3, pg) = (in_s3.get(&seq), in_postgres.get(&seq));
        match (s3, pg) {
            (None, Some(_)) => findings.push(Finding::Missing { seq, from: "S3" }),
            (Some(_), None) => findings.push(Finding::Missing { seq, from: "Postgres" }),
            (Some(a), Some(b)) if a.statement != b.statement || a.signature != b.signature => {
                findings.push(Finding::CopiesDiffer { seq })
            }
            _ => {}
        }
        // Each copy must stand on its own signature; the S3 copy (locked
        // in AWS) is the one relied on when both are good.
        let mut statement = None;
        for (place, copy) in [("Postgres", pg), ("S3", s3)] {
            let Some(copy) = copy else { continue };
            match copy.verify(key) {
                Ok(st) if st.seq == seq => statement = Some(st),
                Ok(st) => findings.push(Finding::Forged {
                    seq: Some(seq),
                    place,
                    why: format!("it is stored as {seq} but says it is {}", st.seq),
                }),
                Err(why) => findings.push(Finding::Forged { seq: Some(seq), place, why: why.to_string() }),
            }
        }
        if let Some(st) = statement {
            good.insert(seq, st);
        }
    }
    // The sequence has no gaps, and each names the one before.
    if let Some(&last) = seqs.last() {
        for seq in 1..=last {
            if !seqs.contains(&seq) {
                findings.push(Finding::Missing { seq, from: "S3 or Postgres" });
            }
        }
    }
    for (seq, st) in &good {
        let expected = if *seq == 1 { Some(GENESIS) } else { good.get(&(seq - 1)).map(Statement::digest) };
        if expected.is_some_and(|e| e != st.prev) {
            findings.push(Finding::Unlinked { seq: *seq });
        }
    }
    // The trail still holds what each checkpoint signed.
    let trail_ends_at = trail.last_id();
    for st in good.values() {
        if st.last_id == 0 {
            continue;
        }
        if trail_ends_at < st.last_id {
            findings.push(Finding::Truncated { seq: st.seq, last_id: st.last_id, trail_ends_at });
            continue;
        }
        match trail.at(st.last_id) {
            Some((hash, rows)) if hash == st.head && rows == st.rows => {}
            _ => findings.push(Finding::Rewritten { seq: st.seq, last_id: st.last_id }),
        }
    }
    (good.into_values().collect(), findings)
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    struct Rows(Vec<(i64, [u8; 32])>);
    impl Trail for Rows {
        fn last_id(&self) -> i64 {
            self.0.last().map_or(0, |r| r.0)
        }
        fn at(&self, id: i64) -> Option<([u8; 32], i64)> {
            let i = self.0.iter().position(|r| r.0 == id)?;
            Some((self.0[i].1, i as i64 + 1))
        }
    }

    fn h(n: u8) -> [u8; 32] {
        [n; 32]
    }

    /// Three checkpoints over a trail of rows 1..=6, stored in both places.
    fn setup() -> (AuditKey, Rows, BTreeMap<i64, Signed>) {
        let key = AuditKey::generate();
        let rows = Rows((1..=6).map(|i| (i, h(i as u8))).collect());
        let mut out = BTreeMap::new();
        let mut prev: Option<Statement> = None;
        for last in [2, 4, 6] {
            let st = next(prev.as_ref(), last, h(last as u8), last, datetime!(2026-12-04 12:00 UTC));
            out.insert(st.seq, key.sign(&st));
            prev = Some(st);
        }
        (key, rows, out)
    }

    #[test]
    fn statements_round_trip_and_refuse_anything_else() {
        let st = next(None, 7, h(1), 7, datetime!(2026-12-04 12:00:01.5 UTC));
        assert_eq!(Statement::parse(&st.text()), Ok(st.clone()));
        assert!(st.text().starts_with("easel-audit-checkpoint v1\nseq 1\nlast_id 7\n"));
        for bad in [
            st.text().replace("seq 1", "seq  1"),
            st.text().replace("seq 1", "seq 01"),
            st.text().trim_end().to_owned(),
            format!("{}extra\n", st.text()),
            st.text().replace("head ", "head 0"),
            String::new(),
        ] {
            assert!(Statement::parse(&bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn an_intact_trail_has_no_findings() {
        let (key, rows, cps) = setup();
        let (good, findings) = verify(&key.public(), &cps, &cps, &rows);
        assert_eq!(findings, vec![]);
        assert_eq!(good.len(), 3);
    }

    #[test]
    fn a_truncated_tail_is_named() {
        let (key, mut rows, cps) = setup();
        rows.0.truncate(5);
        let (_, findings) = verify(&key.public(), &cps, &cps, &rows);
        assert_eq!(findings, vec![Finding::Truncated { seq: 3, last_id: 6, trail_ends_at: 5 }]);
    }

    #[test]
    fn a_rewritten_suffix_is_named() {
        let (key, mut rows, cps) = setup();
        // Rows 4.. rewritten with fresh hashes (the chain itself would verify).
        for r in rows.0.iter_mut().skip(3) {
            r.1 = h(100 + r.0 as u8);
        }
        let (_, findings) = verify(&key.public(), &cps, &cps, &rows);
        assert_eq!(
            findings,
            vec![Finding::Rewritten { seq: 2, last_id: 4 }, Finding::Rewritten { seq: 3, last_id: 6 }]
        );
        // Rows removed before a checkpoint's last row and the ids kept: the count tells.
        let (key, mut rows, cps) = setup();
        rows.0.remove(2);
        let (_, findings) = verify(&key.public(), &cps, &cps, &rows);
        assert_eq!(
            findings,
            vec![Finding::Rewritten { seq: 2, last_id: 4 }, Finding::Rewritten { seq: 3, last_id: 6 }]
        );
    }

    #[test]
    fn missing_and_forged_checkpoints_are_named() {
        let (key, rows, cps) = setup();
        let mut s3 = cps.clone();
        s3.remove(&3);
        let (_, findings) = verify(&key.public(), &s3, &cps, &rows);
        assert_eq!(findings, vec![Finding::Missing { seq: 3, from: "S3" }]);

        // Removed from both: the gap names it (and 3 no longer links to 1).
        let mut both = cps.clone();
        both.remove(&2);
        let (_, findings) = verify(&key.public(), &both, &both, &rows);
        assert_eq!(findings, vec![Finding::Missing { seq: 2, from: "S3 or Postgres" }]);

        // Signed by someone else's key, in both places.
        let mut forged = cps.clone();
        let other = AuditKey::generate();
        let st = Statement::parse(&cps[&3].statement).unwrap();
        let fake = Statement { head: h(99), ..st };
        forged.insert(3, other.sign(&fake));
        let (good, findings) = verify(&key.public(), &forged, &forged, &rows);
        assert_eq!(good.len(), 2);
        assert!(
            matches!(
                &findings[..],
                [
                    Finding::Forged { seq: Some(3), place: "Postgres", .. },
                    Finding::Forged { seq: Some(3), place: "S3", .. }
                ]
            ),
            "{findings:?}"
        );

        // A real checkpoint replaced by another signed one (the key leaked)
        // no longer links to its successor.
        let mut replaced = cps.clone();
        replaced.insert(2, key.sign(&Statement { rows: 3, ..Statement::parse(&cps[&2].statement).unwrap() }));
        let (_, findings) = verify(&key.public(), &replaced, &replaced, &rows);
        assert!(findings.contains(&Finding::Unlinked { seq: 3 }), "{findings:?}");
        assert!(findings.contains(&Finding::Rewritten { seq: 2, last_id: 4 }), "{findings:?}");
    }
}
