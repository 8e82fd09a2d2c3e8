use easel_resizer::{image::ImageFormat, keys::ArtworkId, manifest::ManifestEntry};
use sqlx::{PgExecutor, PgPool, types::Json};
use time::OffsetDateTime;

/// One web rendition as the resizer's manifest describes it.
pub type Rendition = ManifestEntry;

#[derive(Debug, Clone, PartialEq)]
pub enum ArtworkStatus {
    /// Stored; the resizer has not finished yet.
    Processing,
    Ready {
        resized_at: OffsetDateTime,
        renditions: Renditions,
    },
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Renditions(pub Vec<Rendition>);

impl Renditions {
    pub fn get(&self, name: &str) -> Option<&Rendition> {
        self.0.iter().find(|r| r.name == name)
    }
    /// Smallest first, as `srcset` and a thumbnail want them.
    pub fn by_width(&self) -> Vec<&Rendition> {
        let mut v: Vec<&Rendition> = self.0.iter().collect();
        v.sort_by_key(|r| r.width);
        v
    }
}

#[derive(Debug, Clone)]
pub struct Artwork {
    pub id: ArtworkId,
    pub original_key: String,
    pub original_filename: String,
    pub format: ImageFormat,
    pub width: u32,
    pub height: u32,
    pub bytes: u64,
    pub uploaded_at: OffsetDateTime,
    pub status: ArtworkStatus,
}

pub struct NewArtwork<'a> {
    pub id: ArtworkId,
    pub original_key: &'a str,
    pub original_filename: &'a str,
    pub format: ImageFormat,
    pub width: u32,
    pub height: u32,
    pub bytes: u64,
}

/// An `artworks` row as the queries below select it (all columns, the
/// renditions typed).
struct Row {
    id: uuid::Uuid,
    original_key: String,
    original_filename: String,
    format: String,
    width: i32,
    height: i32,
    bytes: i64,
    uploaded_at: OffsetDateTime,
    resized_at: Option<OffsetDateTime>,
    renditions: Option<Json<Renditions>>,
}

impl TryFrom<Row> for Artwork {
    type Error = sqlx::Error;
    fn try_from(r: Row) -> Result<Self, Self::Error> {
        let format = match r.format.as_str() {
            "png" => ImageFormat::Png,
            "jpeg" => ImageFormat::Jpeg,
            other => {
                return Err(sqlx::Error::Decode(format!("unknown artwork format {other:?}").into()));
            }
        };
        let status = match (r.resized_at, r.renditions) {
            (Some(resized_at), Some(Json(renditions))) => ArtworkStatus::Ready { resized_at, renditions },
            _ => ArtworkStatus::Processing,
        };
        Ok(Artwork {
            id: ArtworkId::from(r.id),
            original_key: r.original_key,
            original_filename: r.original_filename,
            format,
            width: r.width as u32,
            height: r.height as u32,
            bytes: r.bytes as u64,
            uploaded_at: r.uploaded_at,
            status,
        })
    }
}

fn format_str(f: ImageFormat) -> &'static str {
    match f {
        ImageFormat::Png => "png",
        ImageFormat::Jpeg => "jpeg",
    }
}

pub async fn insert(db: impl PgExecutor<'_>, a: &NewArtwork<'_>) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO artworks (id, original_key, original_filename, format, width, height, bytes)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        a.id.as_uuid(),
        a.original_key,
        a.original_filename,
        format_str(a.format),
        a.width as i32,
        a.height as i32,
        a.bytes as i64,
    )
    .execute(db)
    .await?;
    Ok(())
}

pub async fn find(pool: &PgPool, id: ArtworkId) -> Result<Option<Artwork>, sqlx::Error> {
    let row = sqlx::query_as!(
        Row,
        r#"SELECT id, original_key, original_filename, format, width, height, bytes, uploaded_at, resized_at,
                  renditions AS "renditions: Json<Renditions>"
           FROM artworks
           WHERE id = $1"#,
        id.as_uuid(),
    )
    .fetch_optional(pool)
    .await?;
    row.map(Artwork::try_from).transpose()
}

/// How many artworks there are, and how many of them still wait for their
/// renditions.
pub async fn counts(pool: &PgPool) -> Result<(i64, i64), sqlx::Error> {
    let counts = sqlx::query!(
        r#"SELECT count(*) AS "all!", count(*) FILTER (WHERE resized_at IS NULL) AS "processing!" FROM artworks"#
    )
    .fetch_one(pool)
    .await?;
    Ok((counts.all, counts.processing))
}

/// The originals still without renditions, oldest first: what the archive
/// waits for before it copies the buckets.
pub async fn unrendered_keys(db: impl PgExecutor<'_>) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar!("SELECT original_key FROM artworks WHERE resized_at IS NULL ORDER BY uploaded_at")
        .fetch_all(db)
        .await
}

/// The newest upload, as the archive's manifest records it (Postgres's own
/// JSON spelling of its time, so the manifest matches the exported row).
pub async fn last_upload(db: impl PgExecutor<'_>) -> Result<Option<serde_json::Value>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT jsonb_build_object('id', id, 'original_key', original_key, 'uploaded_at', uploaded_at) AS "upload!"
           FROM artworks ORDER BY uploaded_at DESC, id DESC LIMIT 1"#
    )
    .fetch_optional(db)
    .await
}

/// Records the resizer's result. Only a processing row changes, so a late
/// duplicate manifest never rewrites a finished one.
pub async fn mark_ready(pool: &PgPool, id: ArtworkId, renditions: &Renditions) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "UPDATE artworks SET resized_at = now(), renditions = $2 WHERE id = $1 AND resized_at IS NULL",
        id.as_uuid(),
        Json(renditions) as Json<&Renditions>,
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Unfinished artworks uploaded after `since`, oldest first.
pub async fn processing_since(pool: &PgPool, since: OffsetDateTime, limit: i64) -> Result<Vec<Artwork>, sqlx::Error> {
    let rows = sqlx::query_as!(
        Row,
        r#"SELECT id, original_key, original_filename, format, width, height, bytes, uploaded_at, resized_at,
                  renditions AS "renditions: Json<Renditions>"
           FROM artworks
           WHERE resized_at IS NULL AND uploaded_at >= $1 ORDER BY uploaded_at LIMIT $2"#,
        since,
        limit,
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(Artwork::try_from).collect()
}

/// Where a gallery page starts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PageCursor {
    Newest,
    /// Artworks older than this one.
    Before(ArtworkId),
    /// Artworks newer than this one.
    After(ArtworkId),
}

#[derive(Debug)]
pub struct GalleryPage {
    pub items: Vec<Artwork>,
    pub has_newer: bool,
    pub has_older: bool,
}

/// One page of finished artworks, newest first. Keyset paging on the
/// time-ordered id: each page is one index range scan however deep it is.
pub async fn gallery_page(pool: &PgPool, cursor: PageCursor, per_page: i64) -> Result<GalleryPage, sqlx::Error> {
    // Three fixed queries, not one with optional bounds: each keeps its
    // index range scan in its own direction.
    let mut rows =
        match cursor {
            PageCursor::Newest => sqlx::query_as!(
                Row,
                r#"SELECT id, original_key, original_filename, format, width, height, bytes, uploaded_at, resized_at,
                          renditions AS "renditions: Json<Renditions>"
                   FROM artworks
                   WHERE resized_at IS NOT NULL ORDER BY id DESC LIMIT $1"#,
                per_page,
            )
            .fetch_all(pool)
            .await?,
            PageCursor::Before(id) => sqlx::query_as!(
                Row,
                r#"SELECT id, original_key, original_filename, format, width, height, bytes, uploaded_at, resized_at,
                          renditions AS "renditions: Json<Renditions>"
                   FROM artworks
                   WHERE resized_at IS NOT NULL AND id < $1 ORDER BY id DESC LIMIT $2"#,
                id.as_uuid(),
                per_page,
            )
            .fetch_all(pool)
            .await?,
            PageCursor::After(id) => sqlx::query_as!(
                Row,
                r#"SELECT id, original_key, original_filename, format, width, height, bytes, uploaded_at, resized_at,
                          renditions AS "renditions: Json<Renditions>"
                   FROM artworks
                   WHERE resized_at IS NOT NULL AND id > $1 ORDER BY id ASC LIMIT $2"#,
                id.as_uuid(),
                per_page,
            )
            .fetch_all(pool)
            .await?,
        };
    if matches!(cursor, PageCursor::After(_)) {
        rows.reverse();
    }
    let (has_newer, has_older) = match (rows.first(), rows.last()) {
        (Some(first), Some(last)) => (
            sqlx::query_scalar!(
                r#"SELECT EXISTS (SELECT 1 FROM artworks WHERE resized_at IS NOT NULL AND id > $1) AS "newer!""#,
                first.id,
            )
            .fetch_one(pool)
            .await?,
            sqlx::query_scalar!(
                r#"SELECT EXISTS (SELECT 1 FROM artworks WHERE resized_at IS NOT NULL AND id < $1) AS "older!""#,
                last.id,
            )
            .fetch_one(pool)
            .await?,
        ),
        // An empty page past either end still offers the way back.
        _ => (matches!(cursor, PageCursor::Before(_)), matches!(cursor, PageCursor::After(_))),
    };
    let items = rows.into_iter().map(Artwork::try_from).collect::<Result<_, _>>()?;
    Ok(GalleryPage { items, has_newer, has_older })
}
