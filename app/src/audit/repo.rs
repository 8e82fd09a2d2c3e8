use sqlx::{PgConnection, PgExecutor, PgPool, Postgres, Transaction, types::Json};
use time::OffsetDateTime;

use super::{GENESIS, NewEvent, canonical_form, chain_hash};

/// Any fixed number; appenders take this transaction-scoped lock so that
/// reading the previous hash and inserting the next row is one step, and the
/// chain never forks however many writers there are.
const APPEND_LOCK: i64 = 0x0EA5_E1A0_D17;

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct EventRow {
    pub id: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub actor: String,
    pub role: String,
    pub action: String,
    pub subject: String,
    pub details: Json<serde_json::Value>,
    pub client_addr: String,
    #[serde(serialize_with = "as_hex")]
    pub prev_hash: Vec<u8>,
    #[serde(serialize_with = "as_hex")]
    pub hash: Vec<u8>,
}

fn as_hex<S: serde::Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex::encode(bytes))
}

impl EventRow {
    fn canonical(&self) -> String {
        canonical_form(
            self.id,
            self.at,
            &self.actor,
            &self.role,
            &self.action,
            &self.subject,
            &self.details.0,
            &self.client_addr,
        )
    }
}

/// Appends one row in a transaction of its own: for changes made outside
/// Postgres (S3, the resizer, mail), recorded after they succeeded.
pub async fn record(pool: &sqlx::PgPool, event: NewEvent) -> Result<EventRow, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let row = append(&mut tx, event).await?;
    tx.commit().await?;
    Ok(row)
}

/// Appends `event` inside `tx`: it becomes part of the trail exactly when
/// the change it records commits.
pub async fn append(tx: &mut Transaction<'_, Postgres>, event: NewEvent) -> Result<EventRow, sqlx::Error> {
    sqlx::query!("SELECT pg_advisory_xact_lock($1)", APPEND_LOCK).execute(&mut **tx).await?;
    let prev = head_hash(&mut **tx).await?.unwrap_or_else(|| GENESIS.to_vec());
    // Let Postgres pick the id and time and normalise the details first, so
    // the hash is computed over exactly what will be read back.
    let picked = sqlx::query!(
        r#"SELECT nextval('audit_events_id_seq') AS "id!", date_trunc('microseconds', clock_timestamp()) AS "at!",
                  $1::jsonb AS "details!: Json<serde_json::Value>""#,
        &event.details,
    )
    .fetch_one(&mut **tx)
    .await?;
    let row = EventRow {
        id: picked.id,
        at: picked.at,
        actor: event.actor.name().to_owned(),
        role: event.actor.role().to_owned(),
        action: event.action.as_str().to_owned(),
        subject: event.subject,
        details: picked.details,
        client_addr: event.client_addr.to_string(),
        hash: Vec::new(),
        prev_hash: prev,
    };
    let hash = chain_hash(&row.prev_hash, &row.canonical()).to_vec();
    sqlx::query!(
        "INSERT INTO audit_events (id, at, actor, role, action, subject, details, client_addr, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        row.id,
        row.at,
        &row.actor,
        &row.role,
        &row.action,
        &row.subject,
        &row.details.0,
        &row.client_addr,
        &row.prev_hash,
        &hash,
    )
    .execute(&mut **tx)
    .await?;
    Ok(EventRow { hash, ..row })
}

/// What an audit list or export is narrowed to. Empty fields match all.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub from: Option<OffsetDateTime>,
    pub to: Option<OffsetDateTime>,
    pub actor: Option<String>,
    pub action: Option<String>,
    /// Matches anywhere in the subject, case-insensitively.
    pub subject: Option<String>,
}

/// Newest first; `before` (an id) pages back. Fetches one row more than
/// `limit` so the caller knows whether there is an older page.
pub async fn list(
    pool: &PgPool,
    f: &AuditFilter,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<EventRow>, sqlx::Error> {
    // Each filter is a parameter that may be NULL, so one fixed, checked
    // query serves every combination.
    sqlx::query_as!(
        EventRow,
        r#"SELECT id, at, actor, role, action, subject, details AS "details: Json<serde_json::Value>",
                  client_addr, prev_hash, hash
           FROM audit_events
           WHERE ($1::timestamptz IS NULL OR at >= $1) AND ($2::timestamptz IS NULL OR at < $2)
             AND ($3::text IS NULL OR actor = $3) AND ($4::text IS NULL OR action = $4)
             AND ($5::text IS NULL OR strpos(lower(subject), lower($5)) > 0)
             AND ($6::bigint IS NULL OR id < $6)
           ORDER BY id DESC LIMIT $7"#,
        f.from,
        f.to,
        f.actor.as_deref(),
        f.action.as_deref(),
        f.subject.as_deref(),
        before,
        limit,
    )
    .fetch_all(pool)
    .await
}

/// Every row matching `f`, oldest first, for CSV / JSON Lines export.
pub async fn rows_for_export(pool: &PgPool, f: &AuditFilter) -> Result<Vec<EventRow>, sqlx::Error> {
    let mut rows = list(pool, f, None, i64::MAX).await?;
    rows.reverse();
    Ok(rows)
}

/// The newest row's hash: what a copy of the trail must end in.
pub async fn head_hash(db: impl PgExecutor<'_>) -> Result<Option<Vec<u8>>, sqlx::Error> {
    sqlx::query_scalar!("SELECT hash FROM audit_events ORDER BY id DESC LIMIT 1").fetch_optional(db).await
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainVerdict {
    /// Every row checks out; `head` is the last hash (None: no rows yet).
    Intact { rows: u64, head: Option<String> },
    /// The first row that does not check out, and why.
    Broken { id: i64, reason: String, rows_checked: u64 },
}

/// Re-walks the whole chain from the first row.
pub async fn verify(pool: &PgPool) -> Result<ChainVerdict, sqlx::Error> {
    verify_after(&mut *pool.acquire().await?, 0, &GENESIS, 0).await
}

/// Rows read per query of a walk. A bounded, keyset-paged query keeps its
/// plan an index scan from `id > $1` on, whatever Postgres guesses for a
/// cached generic plan: unbounded, that guess is a third of the table, and
/// a view of the newest hundred rows of a million-row trail became a
/// sequential scan and a sort.
const WALK_PAGE: usize = 2_000;
/// Declares the walk's query, its limit written out (a bound one is a guess
/// again): one literal for the checked query and for `WALK`, which the test
/// below holds to `WALK_PAGE`.
macro_rules! walk {
    ($sql:literal) => {
        #[cfg(test)]
        const WALK: &str = $sql;

        /// The next page of the walk: up to `WALK_PAGE` rows after `cursor`.
        async fn walk_page(conn: &mut PgConnection, cursor: i64) -> Result<Vec<EventRow>, sqlx::Error> {
            sqlx::query_as!(EventRow, $sql, cursor).fetch_all(conn).await
        }
    };
}
walk!(
    r#"SELECT id, at, actor, role, action, subject, details AS "details: Json<serde_json::Value>", client_addr, prev_hash, hash
       FROM audit_events WHERE id > $1 ORDER BY id LIMIT 2000"#
);

/// The whole trail, oldest first (the decommission archive's copy), read
/// page by page through the walk's query.
pub async fn whole_trail(conn: &mut PgConnection) -> Result<Vec<EventRow>, sqlx::Error> {
    let mut rows: Vec<EventRow> = Vec::new();
    loop {
        let page = walk_page(conn, rows.last().map_or(0, |r| r.id)).await?;
        let last_page = page.len() < WALK_PAGE;
        rows.extend(page);
        if last_page {
            return Ok(rows);
        }
    }
}

/// Walks the rows after `after_id`, the first of which must follow `prev`
/// (the hash of row `after_id`, or `GENESIS`); `before` rows are taken as
/// checked already (a signed checkpoint vouches for them).
pub async fn verify_after(
    conn: &mut PgConnection,
    after_id: i64,
    prev: &[u8],
    before: u64,
) -> Result<ChainVerdict, sqlx::Error> {
    let mut expected_prev = prev.to_vec();
    let mut checked = before;
    let mut cursor = after_id;
    loop {
        let rows = walk_page(&mut *conn, cursor).await?;
        let Some(last) = rows.last() else { break };
        cursor = last.id;
        let full_page = rows.len() == WALK_PAGE;
        for row in rows {
            if row.prev_hash != expected_prev {
                return Ok(ChainVerdict::Broken {
                    id: row.id,
                    reason: "its prev_hash does not match the hash of the row before it (a row was removed, inserted or reordered)"
                        .into(),
                    rows_checked: checked,
                });
            }
            let recomputed = chain_hash(&row.prev_hash, &row.canonical());
            if recomputed.as_slice() != row.hash.as_slice() {
                return Ok(ChainVerdict::Broken {
                    id: row.id,
                    reason: "its contents do not match its hash (the row was altered)".into(),
                    rows_checked: checked,
                });
            }
            expected_prev = row.hash;
            checked += 1;
        }
        if !full_page {
            break;
        }
    }
    let head = (checked > 0).then(|| hex::encode(&expected_prev));
    Ok(ChainVerdict::Intact { rows: checked, head })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_walk_reads_pages_of_its_stated_size() {
        assert!(super::WALK.ends_with(&format!("LIMIT {}", super::WALK_PAGE)), "{}", super::WALK);
    }
}
