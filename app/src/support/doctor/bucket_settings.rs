//! The bucket's own protections: `{role}.encryption` (on by default),
//! `{role}.public-access` (all four kinds blocked) and `{role}.versioning`
//! (only where the spec keeps versions: the backup bucket).

use super::model::{Aspect, Check, Fix, Status, unreadable};
use crate::storage::{BucketRole, live::LiveBucket, spec::StackSpec};

/// The settings' checks of one bucket, in reading order.
pub(super) fn checks(spec: &StackSpec, role: BucketRole, b: &LiveBucket) -> Vec<Check> {
    let mut checks = Vec::new();
    let want = spec.bucket(role);
    let id = |kind: &str| format!("{role}.{kind}");

    // Encryption.
    if let Some(e) = b.unreadable("encryption") {
        checks.push(unreadable(id("encryption"), format!("The {role} bucket encrypts objects by default"), e));
    } else {
        let (status, evidence) = match &b.encryption {
            Some(alg) => (Status::Pass, format!("default encryption: {alg}")),
            None => (Status::Fail, "no default encryption configured".to_string()),
        };
        checks.push(Check {
            id: id("encryption"),
            title: format!("The {role} bucket encrypts objects by default"),
            status,
            evidence: vec![evidence],
            remedy: if status == Status::Pass {
                String::new()
            } else {
                format!(
                    "Turn default encryption ({}) on; the fix does. Objects already stored keep their own setting.",
                    want.encryption
                )
            },
            fix: (status == Status::Fail).then_some(Fix { role, aspect: Aspect::Encryption }),
        });
    }

    // Public access.
    if let Some(e) = b.unreadable("public-access") {
        checks.push(unreadable(id("public-access"), format!("The {role} bucket blocks public access"), e));
    } else {
        let blocked = b.public_access.as_ref().is_some_and(|p| p.all_blocked());
        checks.push(Check {
            id: id("public-access"),
            title: format!("The {role} bucket blocks public access"),
            status: if blocked || !want.block_public_access { Status::Pass } else { Status::Fail },
            evidence: vec![match &b.public_access {
                Some(p) => format!(
                    "BlockPublicAcls={} IgnorePublicAcls={} BlockPublicPolicy={} RestrictPublicBuckets={}",
                    p.block_public_acls, p.ignore_public_acls, p.block_public_policy, p.restrict_public_buckets
                ),
                None => "no public access block configured".into(),
            }],
            remedy: if blocked { String::new() } else { "Block all four kinds of public access; the fix does.".into() },
            fix: (!blocked && want.block_public_access).then_some(Fix { role, aspect: Aspect::PublicAccess }),
        });
    }

    // Versioning, where the spec wants it.
    if let (true, Some(e)) = (want.versioned, b.unreadable("versioning")) {
        checks.push(unreadable(id("versioning"), format!("The {role} bucket keeps every version"), e));
    } else if want.versioned {
        let on = b.versioning.as_deref() == Some("Enabled");
        checks.push(Check {
            id: id("versioning"),
            title: format!("The {role} bucket keeps every version"),
            status: if on { Status::Pass } else { Status::Fail },
            evidence: vec![format!("versioning: {}", b.versioning.as_deref().unwrap_or("never enabled"))],
            remedy: if on {
                String::new()
            } else {
                "Enable versioning, so an overwritten or deleted backup can be recovered; the fix does.".into()
            },
            fix: (!on).then_some(Fix { role, aspect: Aspect::Versioning }),
        });
    }
    checks
}
