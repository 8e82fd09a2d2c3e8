//! The archive's database part: every table as JSON Lines from one
//! snapshot, the whole audit trail, and what lets the client check that
//! trail without Easel (the signed checkpoints, the public key, the
//! verifier).

use ed25519_dalek::VerifyingKey;
use sqlx::PgPool;
use uuid::Uuid;

use super::AUDIT_FILE;
use crate::audit;

/// What lets the client check the archived trail without Easel: every
/// signed checkpoint (from the same snapshot as the trail), the public key,
/// and the standalone verifier with its instructions.
async fn audit_evidence(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    audit_key: Option<&VerifyingKey>,
) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let mut files = Vec::new();
    for (seq, signed) in crate::audit::anchor::load_postgres(&mut **tx).await? {
        files.push((format!("audit/checkpoints/{seq:012}.json"), serde_json::to_vec_pretty(&signed)?));
    }
    if let Some(key) = audit_key {
        files.push(("audit/public-key.txt".into(), format!("{}\n", hex::encode(key.to_bytes())).into_bytes()));
    }
    files.push(("audit/verify_audit.py".into(), include_bytes!("../../audit/verify_audit.py").to_vec()));
    files.push(("audit/README.txt".into(), AUDIT_README.as_bytes().to_vec()));
    Ok(files)
}

const AUDIT_README: &str = "\
Checking this archive and its audit trail without Easel
=======================================================

With Python 3.8 or later (nothing to install):

    python3 audit/verify_audit.py <this archive>.zip

It checks every file against manifest.json (SHA-256 and size), that the audit
trail in database/audit_events.jsonl is one unbroken hash chain ending at the
manifest's audit_chain_head, and that every signed checkpoint in
audit/checkpoints/ is signed by the key in audit/public-key.txt (Ed25519), names
the checkpoint before it, and still matches the events it covers. It prints each
finding and ends with VERIFIED or NOT VERIFIED.

A checkpoint's text is signed as it stands (one field per line: seq, last_id,
head, rows, at, prev). Any Ed25519 tool can check the signatures too.

Compare the key's fingerprint that the verifier prints with the one Easel's
operators gave you separately: an archive cannot vouch for its own key.
";

pub(super) struct Export {
    pub(super) last_upload: Option<serde_json::Value>,
    pub(super) files: Vec<(String, Vec<u8>)>,
    pub(super) audit_head: String,
    pub(super) audit_rows: u64,
}

fn lines<T: serde::Serialize>(rows: &[T]) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    for r in rows {
        serde_json::to_writer(&mut out, r)?;
        out.push(b'\n');
    }
    Ok(out)
}

/// Tables as JSON Lines. Password hashes, sessions, link tokens and sign-in
/// failures stay out: they are credentials or noise, not the client's data.
pub(super) async fn export_database(
    pool: &PgPool,
    id: Uuid,
    audit_key: Option<&VerifyingKey>,
) -> anyhow::Result<Export> {
    let mut tx = pool.begin().await?;
    sqlx::query!("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(&mut *tx).await?;
    let mut files = Vec::new();
    // One checked query per table; each row is Postgres's own JSON of it.
    macro_rules! table {
        ($table:literal, $sql:literal) => {{
            let rows: Vec<String> = sqlx::query_scalar!($sql).fetch_all(&mut *tx).await?;
            let mut text = rows.join("\n");
            if !text.is_empty() {
                text.push('\n');
            }
            files.push((concat!("database/", $table, ".jsonl").to_owned(), text.into_bytes()));
        }};
    }
    table!("artworks", r#"SELECT to_jsonb(t)::text AS "row!" FROM artworks t ORDER BY t.uploaded_at"#);
    table!("users", r#"SELECT (to_jsonb(t) - 'password_hash')::text AS "row!" FROM users t ORDER BY t.created_at"#);
    table!(
        "decommissions",
        r#"SELECT (to_jsonb(t) - 'reason_pdf')::text AS "row!" FROM decommissions t ORDER BY t.opened_at"#
    );
    table!(
        "stakeholders",
        r#"SELECT to_jsonb(t)::text AS "row!" FROM stakeholders t ORDER BY t.decommission_id, t.position"#
    );
    table!("stakeholder_decisions", r#"SELECT to_jsonb(t)::text AS "row!" FROM stakeholder_decisions t ORDER BY t.id"#);
    table!("outbound_mail", r#"SELECT to_jsonb(t)::text AS "row!" FROM outbound_mail t ORDER BY t.id"#);
    let events = audit::whole_trail(&mut tx).await?;
    let audit_head = events.last().map(|e| hex::encode(&e.hash)).unwrap_or_default();
    files.push((AUDIT_FILE.into(), lines(&events)?));
    files.extend(audit_evidence(&mut tx, audit_key).await?);
    if let Some((_, bytes)) = crate::decommission::repo::reason_pdf(&mut *tx, id).await? {
        files.push(("decommission/reason.pdf".into(), bytes));
    }
    let last_upload = crate::artworks::last_upload(&mut *tx).await?;
    tx.commit().await?;
    Ok(Export { last_upload, files, audit_head, audit_rows: events.len() as u64 })
}
