//! Step 4's archive: one zip with every object (and every stored version) of
//! every bucket, a database export including the whole audit trail, and a
//! manifest with each file's SHA-256 and the audit chain's head hash. It is
//! written under `EASEL_ARCHIVE_DIR`, outside the buckets it is about to
//! outlive, then re-read and checked against its manifest.

use std::{
    fs::File,
    io::{Read, Write},
    path::{Path, PathBuf},
};

use anyhow::{Context, bail};
use aws_sdk_s3::Client as S3Client;
use ed25519_dalek::VerifyingKey;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use uuid::Uuid;

mod export;

use export::export_database;

use crate::{
    audit::{self, ChainVerdict},
    storage::BucketRole,
};

pub const MANIFEST: &str = "manifest.json";
pub const AUDIT_FILE: &str = "database/audit_events.jsonl";

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct ManifestFile {
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Manifest {
    pub format: String,
    pub decommission_id: Uuid,
    pub created_at: String,
    pub audit_chain_head: String,
    pub audit_rows: u64,
    pub buckets: serde_json::Value,
    pub files: Vec<ManifestFile>,
    /// The newest upload in the archive: `{id, original_key, uploaded_at}`.
    #[serde(default)]
    pub last_upload: Option<serde_json::Value>,
    /// The newest rendition object in it: `{key, last_modified}`.
    #[serde(default)]
    pub last_rendition: Option<serde_json::Value>,
    /// Uploads the resizer had not rendered when the archive stopped
    /// waiting for it (their originals are archived; renditions are not).
    #[serde(default)]
    pub not_rendered: Vec<String>,
    /// Events of the resizer's log group, in `logs/resizer.jsonl`.
    #[serde(default)]
    pub resizer_log_events: u64,
}

pub const RESIZER_LOG_FILE: &str = "logs/resizer.jsonl";

/// Waits until every upload has its manifest in the resized bucket (the
/// resizer writes it last, after every rendition), or `limit` passes;
/// returns the originals still without one. Uploads are frozen and those
/// under way have finished (the caller waited), so the set only shrinks.
pub async fn wait_for_renditions<F, Fut>(
    pool: &PgPool,
    s3: &S3Client,
    resized: &str,
    limit: std::time::Duration,
    progress: F,
) -> anyhow::Result<Vec<String>>
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = ()>,
{
    let started = std::time::Instant::now();
    let mut waiting = crate::artworks::unrendered_keys(pool).await?;
    loop {
        let mut still = Vec::new();
        for key in waiting {
            if crate::storage::objects::read_manifest(s3, resized, &key).await?.is_none() {
                still.push(key);
            }
        }
        waiting = still;
        if waiting.is_empty() || started.elapsed() >= limit {
            return Ok(waiting);
        }
        progress(format!("waiting for the resizer: {} upload(s) not rendered yet", waiting.len())).await;
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}

/// Every event of the resizer's log group, as JSON Lines (oldest first).
async fn resizer_logs(support: &crate::support::Support) -> anyhow::Result<(Vec<u8>, u64)> {
    let (from, to) = (time::OffsetDateTime::UNIX_EPOCH, time::OffsetDateTime::now_utc());
    let (mut out, mut n, mut token) = (Vec::new(), 0u64, None::<String>);
    loop {
        let page = crate::support::logs::fetch_page(support, from, to, None, token.as_deref(), 1000).await?;
        for e in &page.events {
            serde_json::to_writer(
                &mut out,
                &serde_json::json!({ "stream": e.stream, "timestamp": e.timestamp, "message": e.message }),
            )?;
            out.push(b'\n');
            n += 1;
        }
        match page.next_token {
            Some(t) if !page.events.is_empty() && Some(&t) != token.as_ref() => token = Some(t),
            _ => return Ok((out, n)),
        }
    }
}

#[derive(Debug, Clone)]
pub struct BuiltArchive {
    pub path: PathBuf,
    pub sha256: String,
    pub bytes: u64,
    pub files: usize,
    pub audit_head: String,
}

/// What travels to the zip writer: a new file, then its bytes piece by
/// piece. Objects are streamed, never held whole in memory, so the size of
/// a bucket (or of one object) does not matter.
enum Piece {
    Start(String),
    Data(bytes::Bytes),
}

/// How often, in bytes copied, a long copy reports progress (and so keeps
/// its heartbeat fresh: a build that still copies is never taken for dead).
const PROGRESS_EVERY: u64 = 8 * 1024 * 1024;

/// Builds, then verifies. `progress` is told what is happening.
pub async fn build<F, Fut>(
    pool: &PgPool,
    support: &crate::support::Support,
    dir: &Path,
    id: Uuid,
    audit_key: Option<&VerifyingKey>,
    not_rendered: Vec<String>,
    progress: F,
) -> anyhow::Result<BuiltArchive>
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = ()>,
{
    let (s3, buckets) = (&support.s3, &support.buckets);
    progress("checking the audit chain".into()).await;
    if let ChainVerdict::Broken { id: row, reason, .. } = audit::verify(pool).await? {
        bail!("the audit chain is broken at row {row} ({reason}); it must be intact to be archived");
    }
    tokio::fs::create_dir_all(dir).await.with_context(|| format!("creating {}", dir.display()))?;
    // Each build writes its own files: a build restarted while an old one is
    // still running can never write into (or replace) the other's archive.
    let build_id = Uuid::new_v4().simple().to_string();
    let path = dir.join(format!("easel-archive-{id}-{build_id}.zip"));
    let partial = dir.join(format!("easel-archive-{id}-{build_id}.zip.partial"));
    let _cleanup = RemoveOnDrop(partial.clone());

    // The zip is written on a blocking thread; pieces arrive over a bounded
    // channel, so at most a few chunks are in memory at once.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Piece>(16);
    let out = partial.clone();
    let writer = tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let file = File::create(&out).with_context(|| format!("creating {}", out.display()))?;
        let mut zip = zip::ZipWriter::new(std::io::BufWriter::new(file));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .large_file(true);
        while let Some(piece) = rx.blocking_recv() {
            match piece {
                Piece::Start(path) => zip.start_file(path.as_str(), opts)?,
                Piece::Data(bytes) => zip.write_all(&bytes)?,
            }
        }
        zip.finish()?.flush()?;
        Ok(())
    });

    let mut files: Vec<ManifestFile> = Vec::new();

    // The database, from one consistent snapshot.
    progress("exporting the database".into()).await;
    let export = export_database(pool, id, audit_key).await?;
    let (audit_head, audit_rows) = (export.audit_head.clone(), export.audit_rows);
    let last_upload = export.last_upload.clone();
    for (name, bytes) in export.files {
        send(&tx, &mut files, name, bytes).await?;
    }
    // The resizer's logs are part of the record; the destruction removes them.
    progress("exporting the resizer's logs".into()).await;
    let (logs, resizer_log_events) = resizer_logs(support).await.context("exporting the resizer's logs")?;
    send(&tx, &mut files, RESIZER_LOG_FILE.into(), logs).await?;

    // Every object version of every bucket.
    let mut objects = Vec::new();
    for role in BucketRole::ALL {
        // Delete markers carry no data.
        for v in super::versions::list(s3, buckets.get(role)).await?.into_iter().filter(|v| !v.delete_marker) {
            objects.push((role, v));
        }
    }
    let last_rendition = objects
        .iter()
        .filter(|(role, _)| *role == BucketRole::Resized)
        .filter_map(|(_, v)| Some((v.last_modified.clone()?, v.key.clone())))
        .max()
        .map(|(at, key)| serde_json::json!({ "key": key, "last_modified": at }));
    let total = objects.len();
    let mut copied: u64 = 0;
    let mut reported: u64 = 0;
    for (i, (role, v)) in objects.into_iter().enumerate() {
        progress(format!("copying objects: {} of {total}", i + 1)).await;
        let bucket = buckets.get(role);
        let mut get = s3.get_object().bucket(bucket).key(&v.key);
        if let Some(version) = v.real_version_id() {
            get = get.version_id(version);
        }
        let obj = get.send().await.with_context(|| format!("reading {bucket}/{}", v.key))?;
        let key = entry_name(&v.key);
        let name = match (v.real_version_id(), v.latest) {
            (Some(version), false) => format!("buckets/{role}/.versions/{}/{key}", entry_name(version)),
            _ => format!("buckets/{role}/{key}"),
        };
        tx.send(Piece::Start(name.clone())).await.map_err(|_| anyhow::anyhow!("the archive writer stopped"))?;
        let (mut body, mut hasher, mut size) = (obj.body, Sha256::new(), 0u64);
        while let Some(chunk) = body.try_next().await.with_context(|| format!("reading {bucket}/{}", v.key))? {
            hasher.update(&chunk);
            size += chunk.len() as u64;
            copied += chunk.len() as u64;
            tx.send(Piece::Data(chunk)).await.map_err(|_| anyhow::anyhow!("the archive writer stopped"))?;
            if copied - reported >= PROGRESS_EVERY {
                reported = copied;
                progress(format!("copying objects: {} of {total} ({} MB copied)", i + 1, copied / (1024 * 1024))).await;
            }
        }
        files.push(ManifestFile { path: name, sha256: hex::encode(hasher.finalize()), bytes: size });
    }

    let manifest = Manifest {
        format: "easel-decommission-archive/1".into(),
        decommission_id: id,
        created_at: time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        audit_chain_head: audit_head.clone(),
        audit_rows,
        buckets: serde_json::json!({
            "originals": buckets.originals, "resized": buckets.resized, "backup": buckets.backup,
        }),
        files: files.clone(),
        last_upload,
        last_rendition,
        not_rendered,
        resizer_log_events,
    };
    let manifest_bytes = serde_json::to_vec_pretty(&manifest)?;
    tx.send(Piece::Start(MANIFEST.into())).await.map_err(|_| anyhow::anyhow!("the archive writer stopped"))?;
    tx.send(Piece::Data(manifest_bytes.into())).await.map_err(|_| anyhow::anyhow!("the archive writer stopped"))?;
    drop(tx);
    writer.await.context("the archive writer panicked")??;
    // The archive must outlive a crash once it is handed over.
    let synced = partial.clone();
    tokio::task::spawn_blocking(move || File::open(&synced)?.sync_all()).await.context("syncing panicked")??;

    progress("verifying the archive against its manifest".into()).await;
    let check = partial.clone();
    let (sha256, bytes) = tokio::task::spawn_blocking(move || verify(&check)).await.context("verifying panicked")??;
    tokio::fs::rename(&partial, &path).await.context("moving the archive into place")?;
    Ok(BuiltArchive { path, sha256, bytes, files: files.len() + 1, audit_head })
}

/// An object key as a path inside the zip that no unzip tool can take
/// outside the folder it extracts to: no `..`, `.` or empty segments, no
/// backslashes, no leading `/`. Such characters are percent-encoded (as is
/// `%` itself), so distinct keys stay distinct.
pub fn entry_name(key: &str) -> String {
    let key = key.replace('%', "%25").replace('\\', "%5C");
    key.split('/')
        .map(|seg| match seg {
            "" => "%2F".to_string(),
            "." => "%2E".to_string(),
            ".." => "%2E%2E".to_string(),
            s => s.to_string(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Removes what builds of `id` left half-written when their console stopped
/// (a build that fails on its own removes its file itself).
pub async fn remove_partials(dir: &Path, id: Uuid) -> std::io::Result<usize> {
    let mut entries = match tokio::fs::read_dir(dir).await {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let (prefix, mut removed) = (format!("easel-archive-{id}-"), 0);
    while let Some(entry) = entries.next_entry().await? {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(&prefix) && name.ends_with(".zip.partial") {
            tokio::fs::remove_file(entry.path()).await?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// A build that stops half-way leaves no partial file behind (after the
/// final rename there is nothing left to remove).
struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Hashes a file for the manifest and hands it to the zip writer.
async fn send(
    tx: &tokio::sync::mpsc::Sender<Piece>,
    files: &mut Vec<ManifestFile>,
    path: String,
    bytes: Vec<u8>,
) -> anyhow::Result<()> {
    let sha256 = hex::encode(Sha256::digest(&bytes));
    files.push(ManifestFile { path: path.clone(), sha256, bytes: bytes.len() as u64 });
    let stopped = |_| anyhow::anyhow!("the archive writer stopped");
    tx.send(Piece::Start(path)).await.map_err(stopped)?;
    tx.send(Piece::Data(bytes.into())).await.map_err(stopped)
}

/// Re-reads the zip: every manifest entry present with its hash and size,
/// nothing unlisted. Returns the whole file's SHA-256 and size.
pub fn verify(path: &Path) -> anyhow::Result<(String, u64)> {
    let mut zip = zip::ZipArchive::new(File::open(path)?).context("the archive is not a readable zip")?;
    let manifest: Manifest = {
        let mut f = zip.by_name(MANIFEST).context("the archive has no manifest")?;
        let mut buf = Vec::new();
        f.read_to_end(&mut buf)?;
        serde_json::from_slice(&buf).context("the manifest is not valid")?
    };
    if zip.len() != manifest.files.len() + 1 {
        bail!("the archive holds {} files but its manifest lists {}", zip.len() - 1, manifest.files.len());
    }
    for m in &manifest.files {
        let mut f = zip.by_name(&m.path).with_context(|| format!("{} is missing", m.path))?;
        let mut hasher = Sha256::new();
        let n = std::io::copy(&mut f, &mut hasher)?;
        if n != m.bytes || hex::encode(hasher.finalize()) != m.sha256 {
            bail!("{} does not match its manifest entry", m.path);
        }
    }
    let mut hasher = Sha256::new();
    let bytes = std::io::copy(&mut File::open(path)?, &mut hasher)?;
    Ok((hex::encode(hasher.finalize()), bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, files: &[(&str, &[u8])], manifest_files: Vec<ManifestFile>) {
        let mut zip = zip::ZipWriter::new(File::create(path).unwrap());
        let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        for (name, bytes) in files {
            zip.start_file(*name, opts).unwrap();
            zip.write_all(bytes).unwrap();
        }
        let m = Manifest {
            format: "easel-decommission-archive/1".into(),
            decommission_id: Uuid::nil(),
            created_at: String::new(),
            audit_chain_head: String::new(),
            audit_rows: 0,
            buckets: serde_json::json!({}),
            files: manifest_files,
            last_upload: None,
            last_rendition: None,
            not_rendered: Vec::new(),
            resizer_log_events: 0,
        };
        zip.start_file(MANIFEST, opts).unwrap();
        zip.write_all(&serde_json::to_vec(&m).unwrap()).unwrap();
        zip.finish().unwrap();
    }

    fn entry(path: &str, bytes: &[u8]) -> ManifestFile {
        ManifestFile { path: path.into(), sha256: hex::encode(Sha256::digest(bytes)), bytes: bytes.len() as u64 }
    }

    #[test]
    fn object_keys_cannot_escape_the_extraction_folder() {
        assert_eq!(entry_name("artwork/abc/photo.jpg"), "artwork/abc/photo.jpg");
        assert_eq!(entry_name("../../etc/passwd"), "%2E%2E/%2E%2E/etc/passwd");
        assert_eq!(entry_name("/abs//x/./y"), "%2F/abs/%2F/x/%2E/y");
        assert_eq!(entry_name("a\\..\\b"), "a%5C..%5Cb");
        assert_ne!(entry_name("a/%2E%2E"), entry_name("a/.."));
        for key in ["../x", "/x", "a/../../b", "..\\x"] {
            let name = entry_name(key);
            assert!(!name.starts_with('/') && !name.contains('\\'), "{name}");
            assert!(name.split('/').all(|s| !s.is_empty() && s != "." && s != ".."), "{name}");
        }
    }

    #[tokio::test]
    async fn a_restart_removes_only_this_decommissions_half_written_files() {
        let dir = std::env::temp_dir().join(format!("easel-partials-test-{}", Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let (id, other) = (Uuid::new_v4(), Uuid::new_v4());
        let files = [
            format!("easel-archive-{id}-a.zip.partial"),
            format!("easel-archive-{id}-b.zip"),
            format!("easel-archive-{other}-c.zip.partial"),
        ];
        for f in &files {
            std::fs::write(dir.join(f), b"x").unwrap();
        }
        assert_eq!(remove_partials(&dir, id).await.unwrap(), 1);
        assert!(!dir.join(&files[0]).exists());
        assert!(dir.join(&files[1]).exists() && dir.join(&files[2]).exists());
        assert_eq!(remove_partials(&dir.join("missing"), id).await.unwrap(), 0);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn verification_catches_a_changed_missing_or_unlisted_file() {
        let dir = std::env::temp_dir().join(format!("easel-archive-test-{}", Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("a.zip");
        write(&p, &[("a", b"one"), ("b", b"two")], vec![entry("a", b"one"), entry("b", b"two")]);
        assert!(verify(&p).is_ok());
        write(&p, &[("a", b"one"), ("b", b"tw0")], vec![entry("a", b"one"), entry("b", b"two")]);
        assert!(verify(&p).is_err());
        write(&p, &[("a", b"one")], vec![entry("a", b"one"), entry("b", b"two")]);
        assert!(verify(&p).is_err());
        write(&p, &[("a", b"one"), ("b", b"two")], vec![entry("a", b"one")]);
        assert!(verify(&p).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
