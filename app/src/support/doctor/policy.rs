//! The bucket policy, parsed and asked as AWS would: `{role}.resizer-access`
//! (the resizer may do what it must), `{role}.least-privilege` (nobody may do
//! more) and `{role}.tls-only` (plain HTTP is refused). A policy that is
//! missing or does not parse fails the first and skips the others.

use serde_json::Value;

use super::model::{Aspect, Check, Fix, Status, unreadable};
use crate::storage::policy::{Decision, Effect, Policy, Principal, Request};
use crate::storage::{BucketRole, live::LiveBucket, spec::StackSpec};

/// The policy's checks of one bucket, in reading order.
pub(super) fn checks(spec: &StackSpec, role: BucketRole, b: &LiveBucket) -> Vec<Check> {
    let mut checks = Vec::new();
    let want = spec.bucket(role);
    let id = |kind: &str| format!("{role}.{kind}");
    let fix = |aspect| Some(Fix { role, aspect });
    let parsed = b.policy.as_deref().map(Policy::parse);
    let policy_unreadable = b.unreadable("policy");
    if let Some(e) = policy_unreadable {
        checks.push(unreadable(id("resizer-access"), format!("The {role} bucket's policy can be read"), e));
    }
    let role_arn = spec.role_arn();
    let object = sample_object(spec, role);
    let bucket_arn = format!("arn:aws:s3:::{}", want.name);
    match &parsed {
        None if policy_unreadable.is_some() => {}
        None => checks.push(Check {
            id: id("resizer-access"),
            title: format!("The resizer may {} in the {role} bucket", resizer_actions(spec, role).join(" and ")),
            status: Status::Fail,
            evidence: vec![format!("bucket {} has no bucket policy", want.name)],
            remedy: "Put the spec's bucket policy on the bucket (the fix does exactly that).".into(),
            fix: fix(Aspect::Policy),
        }),
        Some(Err(e)) => checks.push(Check {
            id: id("resizer-access"),
            title: format!("The {role} bucket's policy is valid"),
            status: Status::Fail,
            evidence: vec![format!("the policy does not parse: {e}"), b.policy.clone().unwrap_or_default()],
            remedy: "Replace it with the spec's bucket policy (the fix does exactly that).".into(),
            fix: fix(Aspect::Policy),
        }),
        Some(Ok(policy)) => {
            let probe = Probe { spec, role, policy, role_arn: &role_arn, object: &object, bucket_arn: &bucket_arn };
            checks.extend([resizer_access(probe), least_privilege(probe), tls_only(probe)]);
        }
    }
    checks
}

/// What the three checks of a parsed policy ask it about.
#[derive(Clone, Copy)]
struct Probe<'a> {
    spec: &'a StackSpec,
    role: BucketRole,
    policy: &'a Policy,
    /// The resizer's role.
    role_arn: &'a str,
    /// An object of the shape the resizer reads or writes in this bucket.
    object: &'a str,
    bucket_arn: &'a str,
}

/// The resizer's grants: each action it needs on an object of the bucket.
fn resizer_access(probe: Probe<'_>) -> Check {
    let Probe { spec, role, policy, role_arn, object, .. } = probe;
    let mut evidence = Vec::new();
    let mut missing = Vec::new();
    let mut unsure = Vec::new();
    for action in resizer_actions(spec, role) {
        let decision = policy.evaluate(&Request::new(Some(role_arn), &action, object));
        match decision {
            Decision::Allowed(by) => evidence.push(format!(
                "{action} on {object}: allowed by {}: {}",
                statement_name(policy, by[0]),
                compact(&policy.statements[by[0]].raw)
            )),
            Decision::ExplicitDeny(by) => {
                missing.push(action.clone());
                evidence.push(format!(
                    "{action} on {object}: refused by an explicit Deny in {}: {}",
                    statement_name(policy, by[0]),
                    compact(&policy.statements[by[0]].raw)
                ))
            }
            Decision::ImplicitDeny => {
                missing.push(action.clone());
                evidence.push(format!("{action} on {object}: no statement grants it to {role_arn}"))
            }
            Decision::Indeterminate(by) => {
                unsure.push(action.clone());
                evidence.push(format!(
                    "{action} on {object}: depends on condition keys the doctor cannot know, in {}: {}",
                    statement_name(policy, by[0]),
                    compact(&policy.statements[by[0]].raw)
                ))
            }
        }
    }
    Check {
        id: format!("{role}.resizer-access"),
        title: format!("The resizer's role may {} in the {role} bucket", resizer_actions(spec, role).join(" and ")),
        status: if !missing.is_empty() {
            Status::Fail
        } else if !unsure.is_empty() {
            Status::Warn
        } else {
            Status::Pass
        },
        evidence,
        remedy: if !missing.is_empty() {
            format!(
                "The resizer cannot {} here, so uploads will not be resized. Put the spec's policy back (the fix does).",
                missing.join(" or ")
            )
        } else if !unsure.is_empty() {
            format!(
                "Whether the resizer may {} depends on the request (its source IP, VPC endpoint or tags). \
                 Check that the condition admits the resizer's requests.",
                unsure.join(" or ")
            )
        } else {
            String::new()
        },
        fix: (!missing.is_empty()).then_some(Fix { role, aspect: Aspect::Policy }),
    }
}

/// Nothing wider than the spec: no grant to anyone, no action beyond the
/// resizer's, and (a warning) no grant to a principal the spec does not name.
fn least_privilege(probe: Probe<'_>) -> Check {
    let Probe { spec, role, policy, role_arn, object, bucket_arn } = probe;
    let needed = resizer_actions(spec, role);
    let mut too_wide = Vec::new();
    let mut others = Vec::new();
    for (i, s) in policy.statements.iter().enumerate().filter(|(_, s)| s.effect == Effect::Allow) {
        if s.principal == Principal::Anyone && !s.not_principal {
            too_wide.push(format!(
                "{} grants to anyone (Principal \"*\"): {}",
                statement_name(policy, i),
                compact(&s.raw)
            ));
            continue;
        }
        let extra: Vec<&str> = PROBE_ACTIONS
            .iter()
            .copied()
            .filter(|a| !needed.iter().any(|n| n.eq_ignore_ascii_case(a)))
            .filter(|a| {
                s.applies_to(&Request::new(Some(role_arn), a, object))
                    || s.applies_to(&Request::new(Some(role_arn), a, bucket_arn))
            })
            .collect();
        if !extra.is_empty() {
            too_wide.push(format!(
                "{} also grants the resizer {}: {}",
                statement_name(policy, i),
                extra.join(", "),
                compact(&s.raw)
            ));
        } else if !s.applies_to(&Request::new(Some(role_arn), &needed.first().cloned().unwrap_or_default(), object)) {
            others.push(format!(
                "{} grants someone the spec does not name: {}",
                statement_name(policy, i),
                compact(&s.raw)
            ));
        }
    }
    let status = if !too_wide.is_empty() {
        Status::Fail
    } else if !others.is_empty() {
        Status::Warn
    } else {
        Status::Pass
    };
    let mut evidence = too_wide;
    evidence.extend(others);
    if evidence.is_empty() {
        evidence.push(format!(
            "no statement allows more than {} to the resizer, or anything to anyone else",
            needed.join(", ")
        ));
    }
    Check {
        id: format!("{role}.least-privilege"),
        title: format!("The {role} bucket's policy grants nothing beyond the spec"),
        status,
        evidence,
        remedy: match status {
            Status::Pass => String::new(),
            Status::Warn => "Check that the extra grant is intended; if not, put the spec's policy back (the fix does).".into(),
            Status::Fail => "A wildcard or public grant lets more through than the resizer needs. Put the spec's policy back (the fix does), \
                             then add any grant you really need with exact actions."
                .into(),
        },
        fix: (status != Status::Pass).then_some(Fix { role, aspect: Aspect::Policy }),
    }
}

/// TLS only: reading, writing and listing over plain HTTP are denied.
fn tls_only(probe: Probe<'_>) -> Check {
    let Probe { spec, role, policy, role_arn, object, bucket_arn } = probe;
    let plain: Vec<(Option<&str>, &str, &str)> = vec![
        (None, "s3:GetObject", object),
        (Some(role_arn), "s3:PutObject", object),
        (None, "s3:ListBucket", bucket_arn),
    ];
    let mut denied_all = true;
    let mut maybe_denied = false;
    let mut evidence = Vec::new();
    for (who, action, resource) in plain {
        let d = policy.evaluate(&Request::new(who, action, resource).with("aws:SecureTransport", "false"));
        match d {
            Decision::ExplicitDeny(by) => evidence.push(format!(
                "{action} over plain HTTP by {}: denied by {}: {}",
                who.unwrap_or("anyone"),
                statement_name(policy, by[0]),
                compact(&policy.statements[by[0]].raw)
            )),
            Decision::Indeterminate(by) if policy.statements[by[0]].effect == Effect::Deny => {
                denied_all = false;
                maybe_denied = true;
                evidence.push(format!(
                    "{action} over plain HTTP by {}: denied only depending on condition keys the doctor cannot know, by {}: {}",
                    who.unwrap_or("anyone"),
                    statement_name(policy, by[0]),
                    compact(&policy.statements[by[0]].raw)
                ))
            }
            _ => {
                denied_all = false;
                evidence.push(format!(
                    "{action} over plain HTTP by {}: not denied by any statement",
                    who.unwrap_or("anyone")
                ))
            }
        }
    }
    let (status, remedy) = match (denied_all, spec.tls_only) {
        (true, _) => (Status::Pass, String::new()),
        (false, true) if maybe_denied => (
            Status::Warn,
            "Whether plain-HTTP requests are refused depends on condition keys the doctor cannot know. \
             Check the Deny's conditions; the spec's Deny has only aws:SecureTransport = false."
                .to_string(),
        ),
        (false, true) => (
            Status::Fail,
            "Requests without TLS are not refused. Put the spec's policy back (the fix does): it starts with a Deny on aws:SecureTransport = false."
                .to_string(),
        ),
        (false, false) => (
            Status::Warn,
            "The local spec leaves the TLS-only Deny out because the emulator speaks plain HTTP; in AWS this check fails without it."
                .to_string(),
        ),
    };
    Check {
        id: format!("{role}.tls-only"),
        title: format!("The {role} bucket denies requests without TLS"),
        status,
        evidence,
        remedy,
        fix: (status == Status::Fail).then_some(Fix { role, aspect: Aspect::Policy }),
    }
}

/// An object key of the shape the resizer reads or writes in each bucket.
fn sample_object(spec: &StackSpec, role: BucketRole) -> String {
    let name = spec.buckets.get(role);
    match role {
        BucketRole::Originals => format!("arn:aws:s3:::{name}/artwork/0190f2a4-7b3c-7d41-9a2e-5f6b7c8d9e0f.jpg"),
        _ => format!("arn:aws:s3:::{name}/artwork/0190f2a4-7b3c-7d41-9a2e-5f6b7c8d9e0f/thumb.jpg"),
    }
}

/// The object actions the spec grants the resizer on a bucket.
fn resizer_actions(spec: &StackSpec, role: BucketRole) -> Vec<String> {
    spec.bucket(role).policy["Statement"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["Sid"] == "ResizerObjectAccess"))
        .and_then(|s| s["Action"].as_array())
        .map(|a| a.iter().filter_map(|a| a.as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

/// Actions a too-wide grant would hand out; none is in any spec grant but
/// the resizer's own.
const PROBE_ACTIONS: &[&str] = &[
    "s3:GetObject",
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:PutObjectAcl",
    "s3:ListBucket",
    "s3:PutBucketPolicy",
    "s3:DeleteBucket",
    "s3:PutBucketNotification",
];

fn compact(v: &Value) -> String {
    v.to_string()
}

fn statement_name(p: &Policy, i: usize) -> String {
    match &p.statements[i].sid {
        Some(sid) => format!("statement {sid:?}"),
        None => format!("statement #{}", i + 1),
    }
}
