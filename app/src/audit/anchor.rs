//! Anchoring the trail outside the database: writing checkpoints (the copy
//! in Postgres, then the one in the backup bucket), reading them back, and
//! verifying the trail against them: against every one (`cargo ops audit
//! verify`), or from the newest on (the dashboard and the audit page, whose
//! cost then follows the rows since that checkpoint, not the whole history).

use std::{collections::BTreeMap, time::Duration};

use aws_sdk_s3::{Client, primitives::ByteStream};
use ed25519_dalek::VerifyingKey;
use sqlx::{PgExecutor, PgPool};
use time::OffsetDateTime;

use super::{
    ChainVerdict, GENESIS,
    checkpoint::{self, AuditKey, Finding, PREFIX, Signed, Statement},
    repo::verify_after,
};
use crate::aws::{AwsError, Service};

/// Where checkpoints are kept outside the database: a bucket (the backup
/// bucket), each object locked for `lock_days` in compliance mode when the
/// bucket has S3 Object Lock, as the AWS template makes it (the local
/// emulator's buckets have none: 0 days, not locked).
#[derive(Debug, Clone)]
pub struct Vault {
    pub s3: Client,
    pub bucket: String,
    pub lock_days: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum AnchorError {
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error("the audit chain is broken at event {id} ({reason}); a checkpoint would vouch for it, so none was signed")]
    Broken { id: i64, reason: String },
    #[error(
        "the newest checkpoint in Postgres ({seq}) is not one this key signed: {why}. Run `cargo ops audit verify`."
    )]
    Forged { seq: i64, why: String },
    #[error("checkpoint {seq} is in Postgres but could not be stored in S3: {source}")]
    NotStored { seq: i64, source: AwsError },
}

/// Writes a checkpoint of the trail as it is now. With `only_if_new`,
/// writes none when no row was added since the newest one (and returns
/// `None`), as the periodic task does. Two writers at once: one wins, the
/// other returns `None`.
pub async fn checkpoint(
    pool: &PgPool,
    vault: &Vault,
    key: &AuditKey,
    only_if_new: bool,
) -> Result<Option<Statement>, AnchorError> {
    let mut tx = pool.begin().await?;
    // One snapshot: the head read and the rows walked are the same trail.
    sqlx::query!("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ").execute(&mut *tx).await?;
    let prev = match newest_stored(&mut *tx).await? {
        Some(signed) => {
            let seq = signed_seq(&signed);
            Some(signed.verify(&key.public()).map_err(|why| AnchorError::Forged { seq, why: why.to_string() })?)
        }
        None => None,
    };
    let head =
        sqlx::query!("SELECT id, hash FROM audit_events ORDER BY id DESC LIMIT 1").fetch_optional(&mut *tx).await?;
    let (last_id, head) = match head {
        Some(row) => (row.id, row.hash.try_into().unwrap_or(GENESIS)),
        None => (0, GENESIS),
    };
    if only_if_new && prev.as_ref().is_some_and(|p| p.last_id == last_id) {
        tx.rollback().await?;
        if let Some(p) = &prev {
            copy_missing(pool, vault, p.seq - RECENT, p.seq).await?;
        }
        return Ok(None);
    }
    // Vouch only for rows that check out, from the last checkpoint on.
    let (after, from_hash, before) = match &prev {
        Some(p) => {
            if let Some((id, reason)) = mismatch(&mut *tx, p).await? {
                return Err(AnchorError::Broken { id, reason });
            }
            (p.last_id, p.head, p.rows as u64)
        }
        None => (0, GENESIS, 0),
    };
    let rows = match verify_after(&mut *tx, after, &from_hash, before).await? {
        ChainVerdict::Intact { rows, .. } => rows as i64,
        ChainVerdict::Broken { id, reason, .. } => return Err(AnchorError::Broken { id, reason }),
    };
    let statement = checkpoint::next(prev.as_ref(), last_id, head, rows, OffsetDateTime::now_utc());
    let signed = key.sign(&statement);
    let inserted = sqlx::query!(
        "INSERT INTO audit_checkpoints (seq, last_id, statement, signature, public_key) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (seq) DO NOTHING",
        statement.seq,
        statement.last_id,
        &signed.statement,
        &signed.signature,
        &signed.public_key,
    )
    .execute(&mut *tx)
    .await?;
    if inserted.rows_affected() == 0 {
        return Ok(None);
    }
    tx.commit().await?;
    copy_missing(pool, vault, statement.seq - RECENT, statement.seq).await?;
    tracing::info!(seq = statement.seq, last_id, rows, "signed an audit checkpoint");
    Ok(Some(statement))
}

/// Whether the row a checkpoint ended at lost the hash it signed: the
/// row's id and why.
async fn mismatch(db: impl PgExecutor<'_>, st: &Statement) -> Result<Option<(i64, String)>, sqlx::Error> {
    if st.last_id == 0 {
        return Ok(None);
    }
    let hash =
        sqlx::query_scalar!("SELECT hash FROM audit_events WHERE id = $1", st.last_id).fetch_optional(db).await?;
    Ok(match hash {
        Some(h) if h == st.head => None,
        Some(_) => Some((st.last_id, format!("it no longer matches what checkpoint {} signed", st.seq))),
        None => {
            Some((st.last_id, format!("checkpoint {} covers it, but it is gone (the trail was cut short)", st.seq)))
        }
    })
}

fn signed_seq(signed: &Signed) -> i64 {
    Statement::parse(&signed.statement).map(|s| s.seq).unwrap_or(0)
}

async fn newest_stored(db: impl PgExecutor<'_>) -> Result<Option<Signed>, sqlx::Error> {
    sqlx::query_as!(Signed, "SELECT statement, signature, public_key FROM audit_checkpoints ORDER BY seq DESC LIMIT 1")
        .fetch_optional(db)
        .await
}

/// How many of the newest checkpoints a write looks at to put those a
/// failed put left only in Postgres. One missing further back was removed,
/// and stays a finding.
const RECENT: i64 = 8;

/// Puts into the vault the checkpoints `from..=upto` that only Postgres
/// has: after a failed put, or (`cargo ops up`) after the local emulator,
/// which keeps objects in memory, restarted empty.
pub async fn copy_missing(pool: &PgPool, vault: &Vault, from: i64, upto: i64) -> Result<(), AnchorError> {
    let from = from.max(1);
    let in_s3 = list_seqs(vault, Some(&Signed::object_key(from - 1))).await?;
    let rows = sqlx::query!(
        "SELECT seq, statement, signature, public_key FROM audit_checkpoints WHERE seq BETWEEN $1 AND $2 ORDER BY seq",
        from,
        upto,
    )
    .fetch_all(pool)
    .await?;
    for row in rows {
        let seq = row.seq;
        if in_s3.contains(&seq) {
            continue;
        }
        let signed = Signed { statement: row.statement, signature: row.signature, public_key: row.public_key };
        let body = serde_json::to_vec_pretty(&signed).expect("a checkpoint serialises");
        let mut put = vault
            .s3
            .put_object()
            .bucket(&vault.bucket)
            .key(Signed::object_key(seq))
            .content_type("application/json")
            .body(ByteStream::from(body));
        if vault.lock_days > 0 {
            let until = std::time::SystemTime::now() + Duration::from_secs(u64::from(vault.lock_days) * 86_400);
            // S3 takes a locked put only with a checksum of its body.
            put = put
                .checksum_algorithm(aws_sdk_s3::types::ChecksumAlgorithm::Sha256)
                .object_lock_mode(aws_sdk_s3::types::ObjectLockMode::Compliance)
                .object_lock_retain_until_date(aws_sdk_s3::primitives::DateTime::from(until));
        }
        put.send()
            .await
            .map_err(|e| AnchorError::NotStored { seq, source: AwsError::new(Service::S3, "PutObject", e) })?;
    }
    Ok(())
}

/// The seqs of the checkpoint objects in S3 (after `start_after`).
async fn list_seqs(vault: &Vault, start_after: Option<&str>) -> Result<Vec<i64>, AwsError> {
    let mut out = Vec::new();
    let mut pages = vault
        .s3
        .list_objects_v2()
        .bucket(&vault.bucket)
        .prefix(PREFIX)
        .set_start_after(start_after.map(str::to_owned))
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = match page {
            Ok(page) => page,
            // No bucket, no checkpoint in it: each one Postgres has is then missing from S3.
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_bucket()) => return Ok(out),
            Err(e) => return Err(AwsError::new(Service::S3, "ListObjectsV2", e)),
        };
        out.extend(page.contents().iter().filter_map(|o| seq_of(o.key()?)));
    }
    Ok(out)
}

fn seq_of(key: &str) -> Option<i64> {
    key.strip_prefix(PREFIX)?.strip_suffix(".json")?.parse().ok()
}

/// Every checkpoint kept in Postgres, by seq.
pub async fn load_postgres(db: impl sqlx::PgExecutor<'_>) -> Result<BTreeMap<i64, Signed>, sqlx::Error> {
    let rows = sqlx::query!("SELECT seq, statement, signature, public_key FROM audit_checkpoints ORDER BY seq")
        .fetch_all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.seq, Signed { statement: r.statement, signature: r.signature, public_key: r.public_key }))
        .collect())
}

/// Larger than any checkpoint this code writes, by far.
const MAX_CHECKPOINT_BYTES: i64 = 64 * 1024;

/// Every checkpoint in the backup bucket, by the seq its name gives, and
/// findings for objects there that are not checkpoints at all.
pub async fn load_s3(vault: &Vault) -> Result<(BTreeMap<i64, Signed>, Vec<Finding>), AwsError> {
    let mut out = BTreeMap::new();
    let mut findings = Vec::new();
    for seq in list_seqs(vault, None).await? {
        let key = Signed::object_key(seq);
        let obj = vault
            .s3
            .get_object()
            .bucket(&vault.bucket)
            .key(&key)
            .send()
            .await
            .map_err(|e| AwsError::new(Service::S3, "GetObject", e))?;
        // A checkpoint is a few hundred bytes; anyone who could put a huge
        // object under the prefix must not make a verifier read it.
        if obj.content_length().unwrap_or(0) > MAX_CHECKPOINT_BYTES {
            let why = format!("{key} is {} bytes, no checkpoint is that big", obj.content_length().unwrap_or(0));
            findings.push(Finding::Forged { seq: Some(seq), place: "S3", why });
            continue;
        }
        let body = obj.body.collect().await.map_err(|e| AwsError {
            service: Service::S3,
            op: "GetObject",
            answer: "the answer broke off".into(),
            detail: e.to_string(),
            unavailable: true,
        })?;
        match serde_json::from_slice::<Signed>(&body.into_bytes()) {
            Ok(signed) => {
                out.insert(seq, signed);
            }
            Err(e) => findings.push(Finding::Forged {
                seq: Some(seq),
                place: "S3",
                why: format!("{key} is not a checkpoint: {e}"),
            }),
        }
    }
    Ok((out, findings))
}

/// The hash of each row a checkpoint names and how many rows reach it:
/// one pass over the trail's ids.
pub struct TrailPoints {
    last_id: i64,
    points: std::collections::HashMap<i64, ([u8; 32], i64)>,
}

impl TrailPoints {
    pub async fn load(pool: &PgPool, ids: &[i64]) -> Result<Self, sqlx::Error> {
        let last_id = sqlx::query_scalar!("SELECT max(id) FROM audit_events").fetch_one(pool).await?;
        let rows = sqlx::query!(
            r#"SELECT id AS "id!", hash AS "hash!", n AS "n!"
               FROM (SELECT id, hash, row_number() OVER (ORDER BY id) AS n FROM audit_events) t
               WHERE id = ANY($1)"#,
            ids,
        )
        .fetch_all(pool)
        .await?;
        let points = rows.into_iter().map(|r| (r.id, (r.hash.try_into().unwrap_or([0xff; 32]), r.n))).collect();
        Ok(TrailPoints { last_id: last_id.unwrap_or(0), points })
    }
}

impl checkpoint::Trail for TrailPoints {
    fn last_id(&self) -> i64 {
        self.last_id
    }
    fn at(&self, id: i64) -> Option<([u8; 32], i64)> {
        self.points.get(&id).copied()
    }
}

/// What `cargo ops audit verify` reports.
#[derive(Debug)]
pub struct Report {
    pub chain: ChainVerdict,
    pub checkpoints: Vec<Statement>,
    pub findings: Vec<Finding>,
}

/// Every checkpoint in both places, and the chain: walked whole with
/// `full`, else from the newest checkpoint on (the rows before it are what
/// the checkpoints vouch for).
pub async fn verify_all(pool: &PgPool, vault: &Vault, key: &VerifyingKey, full: bool) -> Result<Report, AnchorError> {
    let chain = if full { super::verify(pool).await? } else { verify_recent(pool, Some(key)).await? };
    let in_pg = load_postgres(pool).await?;
    let (in_s3, mut findings) = load_s3(vault).await?;
    let ids: Vec<i64> = in_s3
        .values()
        .chain(in_pg.values())
        .filter_map(|s| Statement::parse(&s.statement).ok().map(|st| st.last_id))
        .collect();
    let trail = TrailPoints::load(pool, &ids).await?;
    let (checkpoints, more) = checkpoint::verify(key, &in_s3, &in_pg, &trail);
    findings.extend(more);
    Ok(Report { chain, checkpoints, findings })
}

/// The pages' verdict: the newest checkpoint in Postgres (its signature
/// checked), the row it ends at, and the rows after it. Without a key,
/// the whole chain.
pub async fn verify_recent(pool: &PgPool, key: Option<&VerifyingKey>) -> Result<ChainVerdict, sqlx::Error> {
    let Some(key) = key else { return super::verify(pool).await };
    let Some(newest) = newest_stored(pool).await? else { return super::verify(pool).await };
    let st = match newest.verify(key) {
        Ok(st) => st,
        Err(why) => {
            return Ok(ChainVerdict::Broken {
                id: 0,
                reason: format!(
                    "the newest checkpoint ({}) is not signed by the audit key: {why}",
                    signed_seq(&newest)
                ),
                rows_checked: 0,
            });
        }
    };
    if let Some((id, reason)) = mismatch(pool, &st).await? {
        return Ok(ChainVerdict::Broken { id, reason, rows_checked: 0 });
    }
    verify_after(&mut *pool.acquire().await?, st.last_id, &st.head, st.rows as u64).await
}

/// Writes a checkpoint every `every`, or sooner once `rows` rows or a
/// decommission step were added since the last, until dropped.
pub fn spawn(pool: PgPool, vault: Vault, key: AuditKey, every: Duration, rows: i64) -> tokio::task::JoinHandle<()> {
    const LOOK: Duration = Duration::from_secs(2);
    tokio::spawn(async move {
        let mut last_written = tokio::time::Instant::now() - every;
        // While Postgres or S3 is down, each failed round waits twice as
        // long as the last (up to `every`), rather than a call every look.
        let mut pause = LOOK.min(every);
        loop {
            let wanted = if last_written.elapsed() >= every { Ok(true) } else { pending(&pool, rows).await };
            let failed = match wanted {
                Ok(true) => match checkpoint(&pool, &vault, &key, true).await {
                    Ok(_) => {
                        last_written = tokio::time::Instant::now();
                        false
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "could not write an audit checkpoint");
                        true
                    }
                },
                Ok(false) => false,
                Err(e) => {
                    tracing::warn!(error = %e, "could not look for audit rows to checkpoint");
                    true
                }
            };
            pause = if failed { (pause * 2).min(every) } else { LOOK.min(every) };
            tokio::time::sleep(pause).await;
        }
    })
}

/// Whether `rows` rows, or a decommission step, came since the newest
/// checkpoint. Ids come from a sequence, so their difference stands for the
/// count (a rolled-back append leaves a gap: at worst a checkpoint comes a
/// little early); no rows are counted each look.
async fn pending(pool: &PgPool, rows: i64) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"WITH since AS (SELECT coalesce(max(last_id), 0) AS id FROM audit_checkpoints)
         SELECT coalesce((SELECT max(id) FROM audit_events), 0) - (SELECT id FROM since) >= $1
             OR EXISTS (SELECT 1 FROM audit_events, since WHERE audit_events.id > since.id AND action LIKE 'decommission.%')
             AS "pending!""#,
        rows,
    )
    .fetch_one(pool)
    .await
}
