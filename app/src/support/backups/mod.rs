//! Backups: `verify` compares the resized bucket with the backup bucket
//! (missing, extra, differing by size or checksum); a restore copies what is
//! missing or different from backup into resized. The plan is stored item by
//! item, so a restore shows its progress and resumes after an interruption;
//! its start and end land in the audit trail with their counts.

use std::{collections::BTreeMap, time::Duration};

use anyhow::Context;

use super::Support;
use crate::aws::{AwsError, Service};

mod restore;

pub use restore::{
    ClaimError, RestoreRun, RunState, execute, failures, find_run, recent_runs, record_resume, spawn, start,
};

/// A running copier touches its run at least this often; a run quiet for
/// longer was interrupted and may be resumed.
pub const STALE_AFTER: Duration = Duration::from_secs(15);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    pub key: String,
    pub size: i64,
    /// The ETag without quotes: an MD5 of the content for a simple put.
    pub etag: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Comparison {
    /// The resized bucket exists at all.
    pub resized_exists: bool,
    pub backup_exists: bool,
    /// In backup, not in resized.
    pub missing: Vec<ObjectInfo>,
    /// In resized, not in backup.
    pub extra: Vec<ObjectInfo>,
    /// In both, but of another size or checksum: (backup, resized).
    pub differing: Vec<(ObjectInfo, ObjectInfo)>,
    pub matching: usize,
}

impl Comparison {
    pub fn in_step(&self) -> bool {
        self.missing.is_empty() && self.extra.is_empty() && self.differing.is_empty()
    }

    /// What a restore copies from backup: missing and differing objects.
    /// Extras are left alone (a restore never deletes).
    pub fn restore_plan(&self) -> Vec<(ObjectInfo, &'static str)> {
        let mut plan: Vec<(ObjectInfo, &'static str)> = self.missing.iter().map(|o| (o.clone(), "missing")).collect();
        plan.extend(self.differing.iter().map(|(b, _)| (b.clone(), "differing")));
        plan.sort_by(|a, b| a.0.key.cmp(&b.0.key));
        plan
    }
}

/// Pure comparison of two listings.
pub fn compare(resized: &[ObjectInfo], backup: &[ObjectInfo]) -> Comparison {
    let r: BTreeMap<&str, &ObjectInfo> = resized.iter().map(|o| (o.key.as_str(), o)).collect();
    let b: BTreeMap<&str, &ObjectInfo> = backup.iter().map(|o| (o.key.as_str(), o)).collect();
    let mut c = Comparison { resized_exists: true, backup_exists: true, ..Default::default() };
    for (key, bo) in &b {
        match r.get(key) {
            None => c.missing.push((*bo).clone()),
            Some(ro) if ro.size != bo.size || ro.etag != bo.etag => c.differing.push(((*bo).clone(), (*ro).clone())),
            Some(_) => c.matching += 1,
        }
    }
    c.extra = r.iter().filter(|(k, _)| !b.contains_key(*k)).map(|(_, o)| (*o).clone()).collect();
    c
}

/// Every current object of `bucket`; `None` when the bucket does not exist.
pub async fn list(s3: &aws_sdk_s3::Client, bucket: &str) -> anyhow::Result<Option<Vec<ObjectInfo>>> {
    let mut out = Vec::new();
    let mut pages = s3.list_objects_v2().bucket(bucket).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = match page {
            Ok(p) => p,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_bucket()) => return Ok(None),
            Err(e) => {
                return Err(anyhow::Error::new(AwsError::new(Service::S3, "ListObjectsV2", e)))
                    .with_context(|| format!("listing {bucket}"));
            }
        };
        out.extend(page.contents().iter().map(|o| ObjectInfo {
            key: o.key().unwrap_or_default().to_owned(),
            size: o.size().unwrap_or(0),
            etag: o.e_tag().unwrap_or_default().trim_matches('"').to_owned(),
        }));
    }
    Ok(Some(out))
}

/// Whether `bucket` exists (a one-key listing).
pub async fn bucket_exists(s3: &aws_sdk_s3::Client, bucket: &str) -> anyhow::Result<bool> {
    match s3.list_objects_v2().bucket(bucket).max_keys(1).send().await {
        Ok(_) => Ok(true),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_bucket()) => Ok(false),
        Err(e) => Err(anyhow::Error::new(AwsError::new(Service::S3, "ListObjectsV2", e)))
            .with_context(|| format!("listing {bucket}")),
    }
}

pub async fn verify(support: &Support) -> anyhow::Result<Comparison> {
    let (resized, mut backup) =
        tokio::try_join!(list(&support.s3, &support.buckets.resized), list(&support.s3, &support.buckets.backup))?;
    // The audit trail's checkpoints share the backup bucket; they are no rendition's copy.
    if let Some(objects) = backup.as_mut() {
        objects.retain(|o| !o.key.starts_with(crate::audit::checkpoint::PREFIX));
    }
    let mut c = compare(resized.as_deref().unwrap_or_default(), backup.as_deref().unwrap_or_default());
    c.resized_exists = resized.is_some();
    c.backup_exists = backup.is_some();
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn o(key: &str, size: i64, etag: &str) -> ObjectInfo {
        ObjectInfo { key: key.into(), size, etag: etag.into() }
    }

    #[test]
    fn comparison_finds_missing_extra_and_differing_objects() {
        let backup = [o("a", 1, "x"), o("b", 2, "y"), o("c", 3, "z"), o("d", 4, "w")];
        let resized = [o("a", 1, "x"), o("b", 2, "other"), o("c", 30, "z"), o("e", 5, "v")];
        let c = compare(&resized, &backup);
        assert_eq!(c.matching, 1);
        assert_eq!(c.missing, vec![o("d", 4, "w")]);
        assert_eq!(c.extra, vec![o("e", 5, "v")]);
        assert_eq!(c.differing.iter().map(|(b, _)| b.key.as_str()).collect::<Vec<_>>(), vec!["b", "c"]);
        let plan: Vec<_> = c.restore_plan().into_iter().map(|(o, r)| (o.key, r)).collect();
        assert_eq!(plan, vec![("b".into(), "differing"), ("c".into(), "differing"), ("d".into(), "missing")]);
        assert!(compare(&backup, &backup).in_step());
    }
}
