//! The bucket doctor: the live configuration compared with the spec that
//! provisioning applies (`storage::spec`), check by check, each with a
//! verdict, the evidence it rests on and the remedy in plain words; and,
//! for checks that have one, a fix that writes exactly the spec's value for
//! one aspect of one bucket (shown as a diff first, idempotent).
//!
//! `diagnose` is pure (live snapshot in, checks out) so every verdict is
//! unit-tested; `examine` and `apply` do the reading and writing.

use std::fmt;

use aws_sdk_s3::error::DisplayErrorContext;
use serde_json::Value;

use super::{Support, trigger::ResizerTrigger};
use crate::storage::policy::{Decision, Effect, Policy, Principal, Request};
use crate::storage::{
    BucketRole,
    live::{self, ConfigError, LiveBucket, NotificationTarget},
    spec::StackSpec,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    Pass,
    Warn,
    Fail,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
        }
    }
}

/// One aspect of one bucket that a fix sets to the spec's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aspect {
    /// The bucket exists in the right region (created, or re-created when empty).
    Location,
    Policy,
    Encryption,
    PublicAccess,
    Versioning,
    Notifications,
}

impl Aspect {
    const ALL: [Aspect; 6] = [
        Aspect::Location,
        Aspect::Policy,
        Aspect::Encryption,
        Aspect::PublicAccess,
        Aspect::Versioning,
        Aspect::Notifications,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Aspect::Location => "location",
            Aspect::Policy => "policy",
            Aspect::Encryption => "encryption",
            Aspect::PublicAccess => "public-access",
            Aspect::Versioning => "versioning",
            Aspect::Notifications => "notifications",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fix {
    pub role: BucketRole,
    pub aspect: Aspect,
}

impl Fix {
    /// `originals.policy` and so on: the fix's address in URLs and the CLI.
    pub fn parse(s: &str) -> Option<Fix> {
        let (role, aspect) = s.split_once('.')?;
        let role = BucketRole::ALL.into_iter().find(|r| r.as_str() == role)?;
        let aspect = Aspect::ALL.into_iter().find(|a| a.as_str() == aspect)?;
        Some(Fix { role, aspect })
    }
}

impl fmt::Display for Fix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.role, self.aspect.as_str())
    }
}

#[derive(Debug, Clone)]
pub struct Check {
    /// `backup.versioning`, `function.region`, …
    pub id: String,
    pub title: String,
    pub status: Status,
    /// What was actually found: statements, regions, settings.
    pub evidence: Vec<String>,
    /// What to do about it, in plain words.
    pub remedy: String,
    pub fix: Option<Fix>,
}

/// What the resizer function looks like, as found.
#[derive(Debug, Clone, PartialEq)]
pub enum FunctionState {
    Found { arn: String, region: String },
    Missing,
    Unreadable(String),
}

/// Everything `diagnose` looks at.
#[derive(Debug, Clone)]
pub struct LiveStack {
    pub buckets: Vec<(BucketRole, LiveBucket)>,
    pub function: FunctionState,
}

impl LiveStack {
    pub fn bucket(&self, role: BucketRole) -> &LiveBucket {
        &self.buckets.iter().find(|(r, _)| *r == role).expect("every role is read").1
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DoctorError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("{0}")]
    NoFix(String),
    /// No currently failing check offers this fix: nothing to repair, or
    /// not a change the doctor makes.
    #[error("no failing check offers the fix {0}")]
    NotOffered(Fix),
    #[error(transparent)]
    Refused(crate::gate::Refused),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// Reads the live configuration of the three buckets and the function.
pub async fn examine(support: &Support, spec: &StackSpec) -> Result<LiveStack, DoctorError> {
    // The three buckets are read side by side (each read is several S3 calls).
    let reads = spec
        .buckets()
        .into_iter()
        .map(|b| async move { live::read_bucket(&support.s3, &b.name).await.map(|live| (b.role, live)) });
    let buckets = futures_util::future::try_join_all(reads).await?;
    let function =
        match support.lambda.get_function_configuration().function_name(&spec.resizer.function_name).send().await {
            Ok(out) => {
                let arn = out.function_arn().unwrap_or_default().to_owned();
                let region = arn.split(':').nth(3).unwrap_or_default().to_owned();
                FunctionState::Found { arn, region }
            }
            Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_not_found_exception()) => {
                FunctionState::Missing
            }
            Err(e) => FunctionState::Unreadable(DisplayErrorContext(e).to_string()),
        };
    Ok(LiveStack { buckets, function })
}

/// Every check, in the order a person reads them; for a decommissioned
/// Easel, against the destroyed state (`as_decommissioned`).
pub async fn run(support: &Support, decommissioned: bool) -> Result<(StackSpec, LiveStack, Vec<Check>), DoctorError> {
    let spec = support.spec().await?;
    let live = examine(support, &spec).await?;
    let mut checks = diagnose(&spec, &support.trigger(&spec), &live);
    if decommissioned {
        checks = as_decommissioned(checks, &live);
    }
    // What needs doing first: failures, then warnings, each in the order
    // diagnosed (a stable sort), for the page and the CLI alike.
    checks.sort_by_key(|c| std::cmp::Reverse(c.status));
    Ok((spec, live, checks))
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
pub fn resizer_actions(spec: &StackSpec, role: BucketRole) -> Vec<String> {
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

pub fn diagnose(spec: &StackSpec, trigger: &ResizerTrigger, live: &LiveStack) -> Vec<Check> {
    let mut checks = Vec::new();
    let fn_region = match &live.function {
        FunctionState::Found { region, .. } => Some(region.clone()),
        _ => None,
    };
    // Where the originals bucket's notification really sends events: the
    // region in its ARN, which must be the bucket's (S3 cannot invoke a
    // function in another region).
    let notified: Option<(String, String)> = live
        .bucket(BucketRole::Originals)
        .notifications
        .iter()
        .find(|t| trigger.names_resizer(t))
        .map(|t| (t.arn.clone(), t.arn.split(':').nth(3).unwrap_or_default().to_owned()));

    // The three names must differ: resized == originals makes the resizer
    // trigger itself, and a backup that is the bucket it backs up is none.
    let names: Vec<(BucketRole, String)> =
        BucketRole::ALL.into_iter().map(|r| (r, spec.buckets.get(r).to_string())).collect();
    let clashes: Vec<String> = names
        .iter()
        .enumerate()
        .flat_map(|(i, (a, an))| names[i + 1..].iter().filter(move |(_, bn)| bn == an).map(move |(b, _)| (a, b, an)))
        .map(|(a, b, n)| format!("the {a} and {b} buckets are both named {n}"))
        .collect();
    checks.push(Check {
        id: "stack.distinct-buckets".into(),
        title: "The originals, resized and backup buckets are three different buckets".into(),
        status: if clashes.is_empty() { Status::Pass } else { Status::Fail },
        evidence: if clashes.is_empty() {
            names.iter().map(|(r, n)| format!("{r}: {n}")).collect()
        } else {
            clashes.clone()
        },
        remedy: if clashes.is_empty() {
            String::new()
        } else {
            "Give each role its own bucket (EASEL_BUCKET_* settings): with resized = originals every rendition the \
             resizer writes triggers it again, and a backup in the same bucket protects nothing."
                .into()
        },
        fix: None,
    });
    for role in BucketRole::ALL {
        let b = live.bucket(role);
        let want = spec.bucket(role);
        let id = |kind: &str| format!("{role}.{kind}");
        let fix = |aspect| Some(Fix { role, aspect });

        // Location.
        let location = if !b.exists {
            Check {
                id: id("location"),
                title: format!("The {role} bucket {} exists in {}", want.name, spec.region),
                status: Status::Fail,
                evidence: vec![format!("HeadBucket {}: no such bucket", want.name)],
                remedy: format!(
                    "Create it. The fix creates {} in {} with the spec's encryption, public access block, versioning and policy.",
                    want.name, spec.region
                ),
                fix: fix(Aspect::Location),
            }
        } else {
            let region = b.region.clone().unwrap_or_default();
            let fn_evidence = match &live.function {
                FunctionState::Found { region, arn } => format!("the resizer function {arn} is in {region}"),
                FunctionState::Missing => format!("the resizer function was not found in {}", spec.region),
                FunctionState::Unreadable(e) => format!("the resizer function could not be read: {e}"),
            };
            // For originals, the region that matters is the one its
            // notification sends events to; else the function's.
            let resizer_region = match (&notified, role) {
                (Some((_, r)), BucketRole::Originals) => Some(r.clone()),
                _ => fn_region.clone(),
            };
            let mut location_evidence = vec![format!("bucket {} is in {region}", want.name), fn_evidence];
            if let (Some((arn, r)), BucketRole::Originals) = (&notified, role) {
                location_evidence.push(format!("its notification invokes {arn}, in {r}"));
            }
            location_evidence.push(format!("Easel is configured for {}", spec.region));
            let in_place = region == spec.region && resizer_region.as_deref().is_none_or(|r| r == region);
            let (status, remedy, fix) = if in_place {
                (Status::Pass, String::new(), None)
            } else if b.empty {
                (
                    Status::Fail,
                    format!(
                        "A bucket cannot move between regions, but this one is empty: the fix deletes it and creates it again in {} with the spec's settings.",
                        spec.region
                    ),
                    fix(Aspect::Location),
                )
            } else {
                (
                    Status::Fail,
                    format!(
                        "A bucket cannot move between regions and this one holds objects. Either point Easel and the resizer at {region} \
                         (EASEL_AWS_REGION and `cargo ops deploy --region {region}`), or copy the objects out, delete the bucket and let the doctor create it in {}.",
                        spec.region
                    ),
                    None,
                )
            };
            Check {
                id: id("location"),
                title: format!("The {role} bucket is in the resizer's region"),
                status,
                evidence: location_evidence,
                remedy,
                fix,
            }
        };
        checks.push(location);
        if !b.exists {
            continue;
        }
        if let Some(e) = b.unreadable("settings") {
            checks.push(unreadable(id("settings"), format!("The {role} bucket's settings can be read"), e));
            continue;
        }

        // The policy, parsed.
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
                // The resizer's grants.
                let mut evidence = Vec::new();
                let mut missing = Vec::new();
                let mut unsure = Vec::new();
                for action in resizer_actions(spec, role) {
                    let decision = policy.evaluate(&Request::new(Some(&role_arn), &action, &object));
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
                checks.push(Check {
                    id: id("resizer-access"),
                    title: format!(
                        "The resizer's role may {} in the {role} bucket",
                        resizer_actions(spec, role).join(" and ")
                    ),
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
                });

                // Nothing wider than the spec.
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
                            s.applies_to(&Request::new(Some(&role_arn), a, &object))
                                || s.applies_to(&Request::new(Some(&role_arn), a, &bucket_arn))
                        })
                        .collect();
                    if !extra.is_empty() {
                        too_wide.push(format!(
                            "{} also grants the resizer {}: {}",
                            statement_name(policy, i),
                            extra.join(", "),
                            compact(&s.raw)
                        ));
                    } else if !s.applies_to(&Request::new(
                        Some(&role_arn),
                        &needed.first().cloned().unwrap_or_default(),
                        &object,
                    )) {
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
                checks.push(Check {
                    id: id("least-privilege"),
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
                });

                // TLS only.
                let plain: Vec<(Option<&str>, &str, &str)> = vec![
                    (None, "s3:GetObject", object.as_str()),
                    (Some(role_arn.as_str()), "s3:PutObject", object.as_str()),
                    (None, "s3:ListBucket", bucket_arn.as_str()),
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
                checks.push(Check {
                    id: id("tls-only"),
                    title: format!("The {role} bucket denies requests without TLS"),
                    status,
                    evidence,
                    remedy,
                    fix: (status == Status::Fail).then_some(Fix { role, aspect: Aspect::Policy }),
                });
            }
        }

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
                remedy: if blocked {
                    String::new()
                } else {
                    "Block all four kinds of public access; the fix does.".into()
                },
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

        // Notifications.
        if let Some(e) = b.unreadable("notifications") {
            let (kind, title) = if role == BucketRole::Originals {
                ("trigger", "New originals trigger the resizer".to_string())
            } else {
                ("no-loop", format!("Writes to the {role} bucket cannot trigger the resizer"))
            };
            checks.push(unreadable(id(kind), title, e));
            continue;
        }
        let to_resizer: Vec<&NotificationTarget> = b.notifications.iter().filter(|t| trigger.is_target(t)).collect();
        let listed = |ts: &[&NotificationTarget]| ts.iter().map(|t| t.describe()).collect::<Vec<_>>();
        if role == BucketRole::Originals {
            let firing =
                to_resizer.iter().any(|t| t.fires_on_created("artwork/0190f2a4-7b3c-7d41-9a2e-5f6b7c8d9e0f.jpg"));
            let mut evidence = listed(&b.notifications.iter().collect::<Vec<_>>());
            if evidence.is_empty() {
                evidence.push("the bucket has no notification configuration".into());
            }
            checks.push(Check {
                id: id("trigger"),
                title: "New originals trigger the resizer".to_string(),
                status: if firing { Status::Pass } else { Status::Fail },
                evidence,
                remedy: if firing {
                    String::new()
                } else {
                    format!(
                        "Uploads are stored but never resized. Add an s3:ObjectCreated:* notification to {} (the fix does, keeping any other notifications).",
                        trigger.describe()
                    )
                },
                fix: (!firing).then_some(Fix { role, aspect: Aspect::Notifications }),
            });
        } else {
            let looping = !to_resizer.is_empty();
            checks.push(Check {
                id: id("no-loop"),
                title: format!("Writes to the {role} bucket cannot trigger the resizer"),
                status: if looping { Status::Fail } else { Status::Pass },
                evidence: if looping {
                    listed(&to_resizer)
                } else {
                    vec![format!("no notification of {} reaches {}", want.name, trigger.describe())]
                },
                remedy: if looping {
                    "The resizer writes here, so this notification would make it trigger itself (it refuses such events, but each one is a wasted invocation). Remove it; the fix does, keeping other notifications."
                        .into()
                } else {
                    String::new()
                },
                fix: looping.then_some(Fix { role, aspect: Aspect::Notifications }),
            });
        }
    }

    checks.push(match &live.function {
        FunctionState::Found { arn, region } => Check {
            id: "function.region".into(),
            title: "The resizer function is in Easel's region".into(),
            status: if *region == spec.region { Status::Pass } else { Status::Fail },
            evidence: vec![format!("{arn} is in {region}; Easel is configured for {}", spec.region)],
            remedy: if *region == spec.region {
                String::new()
            } else {
                format!("Deploy the resizer to {} (`cargo ops deploy --region {}`).", spec.region, spec.region)
            },
            fix: None,
        },
        FunctionState::Missing => Check {
            id: "function.region".into(),
            title: "The resizer function is in Easel's region".into(),
            status: Status::Fail,
            evidence: vec![format!("no function named {} in {}", spec.resizer.function_name, spec.region)],
            remedy: format!(
                "Deploy the resizer to {} with `cargo ops deploy` (locally, `cargo ops up` registers it).",
                spec.region
            ),
            fix: None,
        },
        FunctionState::Unreadable(e) => Check {
            id: "function.region".into(),
            title: "The resizer function is in Easel's region".into(),
            status: Status::Warn,
            evidence: vec![format!("reading the function failed: {e}")],
            remedy: "Check that the console's credentials may call lambda:GetFunctionConfiguration.".into(),
            fix: None,
        },
    });
    checks
}

/// A check whose setting could not be read: a warning with the error, and
/// no fix (writing blind could undo a setting that is fine).
fn unreadable(id: String, title: String, error: &str) -> Check {
    Check {
        id,
        title,
        status: Status::Warn,
        evidence: vec![format!("could not read the setting: {error}")],
        remedy: "The doctor cannot tell whether this is as the spec says. Check that the console's credentials may \
                 read the bucket's configuration, then run the checks again."
            .into(),
        fix: None,
    }
}

/// What a fix would write, as text lines for a diff.
#[derive(Debug, Clone)]
pub struct Proposal {
    pub fix: Fix,
    pub bucket: String,
    pub before: String,
    pub after: String,
}

impl Proposal {
    pub fn changes_something(&self) -> bool {
        self.before != self.after
    }

    pub fn diff(&self) -> Vec<DiffLine> {
        line_diff(&self.before, &self.after)
    }

    /// The audit row of an applied fix: what it was, before and after, plus
    /// any `extra` fields of the caller's.
    pub async fn record(
        &self,
        pool: &sqlx::PgPool,
        actor: &crate::audit::Actor,
        client_addr: &str,
        extra: serde_json::Value,
    ) -> Result<(), sqlx::Error> {
        let mut details =
            serde_json::json!({ "fix": self.fix.to_string(), "before": self.before, "after": self.after });
        if let (Some(d), serde_json::Value::Object(more)) = (details.as_object_mut(), extra) {
            d.extend(more);
        }
        super::record(
            pool,
            actor,
            crate::audit::AuditAction::DoctorFixApplied,
            format!("bucket:{}", self.bucket),
            details,
            client_addr,
        )
        .await
    }
}

fn desired_notifications(fix: Fix, trigger: &ResizerTrigger, b: &LiveBucket) -> Vec<NotificationTarget> {
    let mut kept: Vec<NotificationTarget> = b.notifications.iter().filter(|t| !trigger.is_target(t)).cloned().collect();
    if fix.role == BucketRole::Originals {
        kept.push(trigger.notification());
    }
    kept
}

fn notifications_text(ts: &[NotificationTarget]) -> String {
    if ts.is_empty() {
        return "(no notifications)".into();
    }
    ts.iter().map(|t| format!("{}: {}", t.id.as_deref().unwrap_or("-"), t.describe())).collect::<Vec<_>>().join("\n")
}

fn pretty_policy(b: &LiveBucket) -> String {
    match (&b.policy, b.policy_json()) {
        (_, Some(v)) => serde_json::to_string_pretty(&v).unwrap_or_default(),
        (Some(raw), None) => raw.clone(),
        (None, None) => "(no policy)".into(),
    }
}

/// The change `fix` would make to the bucket as it is now.
pub fn propose(spec: &StackSpec, trigger: &ResizerTrigger, live: &LiveStack, fix: Fix) -> Proposal {
    let b = live.bucket(fix.role);
    let want = spec.bucket(fix.role);
    let (before, after) = match fix.aspect {
        Aspect::Location => (
            if b.exists {
                format!("bucket {} in {}", b.name, b.region.as_deref().unwrap_or("?"))
            } else {
                format!("(no bucket {})", b.name)
            },
            format!("bucket {} in {}", want.name, spec.region),
        ),
        Aspect::Policy => (pretty_policy(b), serde_json::to_string_pretty(&want.policy).unwrap_or_default()),
        Aspect::Encryption => (
            format!("default encryption: {}", b.encryption.as_deref().unwrap_or("off")),
            format!(
                "default encryption: {}",
                b.encryption.as_deref().filter(|_| b.encryption.is_some()).unwrap_or(want.encryption)
            ),
        ),
        Aspect::PublicAccess => {
            let p = b.public_access.clone().unwrap_or_default();
            (
                format!(
                    "BlockPublicAcls={}\nIgnorePublicAcls={}\nBlockPublicPolicy={}\nRestrictPublicBuckets={}",
                    p.block_public_acls, p.ignore_public_acls, p.block_public_policy, p.restrict_public_buckets
                ),
                "BlockPublicAcls=true\nIgnorePublicAcls=true\nBlockPublicPolicy=true\nRestrictPublicBuckets=true"
                    .into(),
            )
        }
        Aspect::Versioning => (
            format!("versioning: {}", b.versioning.as_deref().unwrap_or("never enabled")),
            "versioning: Enabled".into(),
        ),
        Aspect::Notifications => {
            (notifications_text(&b.notifications), notifications_text(&desired_notifications(fix, trigger, b)))
        }
    };
    Proposal { fix, bucket: want.name, before, after }
}

/// The change `fix` would make, if a check failing now offers it (or it
/// would change nothing): the doctor writes only what a failing check asks
/// for, never an aspect the spec leaves alone (`resized.versioning`).
pub fn review(spec: &StackSpec, trigger: &ResizerTrigger, live: &LiveStack, fix: Fix) -> Result<Proposal, DoctorError> {
    let proposal = propose(spec, trigger, live, fix);
    if proposal.changes_something() && !fixes(&diagnose(spec, trigger, live)).contains(&fix) {
        return Err(DoctorError::NotOffered(fix));
    }
    Ok(proposal)
}

/// Applies `fix` if a check that fails now offers it and it changes
/// something. Returns the proposal it applied (`None`: already as the spec
/// says, nothing written); `NotOffered` when no failing check offers it.
pub async fn apply(pool: &sqlx::PgPool, support: &Support, fix: Fix) -> Result<Option<Proposal>, DoctorError> {
    // A repair changes what acts on the data: frozen with it (whoever asks:
    // the console, `cargo ops doctor --fix`, a restore's bucket re-creation).
    crate::gate::check(pool, crate::gate::Change::Data).await.map_err(|e| match e {
        crate::gate::GateError::Refused(r) => DoctorError::Refused(r),
        crate::gate::GateError::Db(e) => DoctorError::Unexpected(e.into()),
    })?;
    let spec = support.spec().await?;
    let trigger = support.trigger(&spec);
    let live = examine(support, &spec).await?;
    let proposal = review(&spec, &trigger, &live, fix)?;
    if !proposal.changes_something() {
        return Ok(None);
    }
    let s3 = &support.s3;
    let b = live.bucket(fix.role);
    let want = spec.bucket(fix.role);
    let name = want.name.as_str();
    match fix.aspect {
        Aspect::Location => {
            if b.exists {
                if !b.empty {
                    return Err(DoctorError::NoFix(format!(
                        "{name} holds objects, so it is not deleted to move it; copy them out first"
                    )));
                }
                live::delete_empty_bucket(s3, name).await?;
            }
            live::create_bucket(s3, name, &spec.region).await?;
            live::put_encryption(s3, name, want.encryption).await?;
            live::block_public_access(s3, name).await?;
            if want.versioned {
                live::enable_versioning(s3, name).await?;
            }
            live::put_policy(s3, name, &want.policy).await?;
            if fix.role == BucketRole::Originals {
                live::put_notifications(s3, name, &[trigger.notification()]).await?;
            }
        }
        Aspect::Policy => live::put_policy(s3, name, &want.policy).await?,
        Aspect::Encryption => live::put_encryption(s3, name, want.encryption).await?,
        Aspect::PublicAccess => live::block_public_access(s3, name).await?,
        Aspect::Versioning => live::enable_versioning(s3, name).await?,
        Aspect::Notifications => live::put_notifications(s3, name, &desired_notifications(fix, &trigger, b)).await?,
    }
    Ok(Some(proposal))
}

/// Fixes worth offering: one per distinct fix, in check order.
/// The checks of a decommissioned Easel: the destruction removed the
/// bucket policies, the resizer's trigger and (locally) the resizer itself
/// on purpose, so their absence is what is expected; and nothing is
/// repaired any more.
pub fn as_decommissioned(checks: Vec<Check>, live: &LiveStack) -> Vec<Check> {
    checks
        .into_iter()
        .map(|mut c| {
            let removed = c.fix.is_some_and(|f| matches!(f.aspect, Aspect::Policy | Aspect::Notifications))
                || (c.id == "function.region" && live.function == FunctionState::Missing);
            if removed && c.status != Status::Pass {
                c.status = Status::Pass;
                c.title = format!("{} — decommissioned: as intended", c.title);
                c.evidence.push("The decommission's destruction removed it; Easel is read-only.".into());
                c.remedy = String::new();
            }
            c.fix = None;
            c
        })
        .collect()
}

pub fn fixes(checks: &[Check]) -> Vec<Fix> {
    let mut out: Vec<Fix> = Vec::new();
    for f in checks.iter().filter(|c| c.status != Status::Pass).filter_map(|c| c.fix) {
        if !out.contains(&f) {
            out.push(f);
        }
    }
    out
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiffLine {
    Same(String),
    Removed(String),
    Added(String),
}

/// A line diff (longest common subsequence); policies are short.
pub fn line_diff(before: &str, after: &str) -> Vec<DiffLine> {
    let a: Vec<&str> = before.lines().collect();
    let b: Vec<&str> = after.lines().collect();
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] { lcs[i + 1][j + 1] + 1 } else { lcs[i + 1][j].max(lcs[i][j + 1]) };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            out.push(DiffLine::Same(a[i].to_owned()));
            i += 1;
            j += 1;
        } else if j < b.len() && (i == a.len() || lcs[i][j + 1] >= lcs[i + 1][j]) {
            out.push(DiffLine::Added(b[j].to_owned()));
            j += 1;
        } else {
            out.push(DiffLine::Removed(a[i].to_owned()));
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{
        BucketNames,
        live::{PublicAccess, TargetKind},
    };
    use serde_json::json;

    fn spec() -> StackSpec {
        StackSpec::new("eu-west-1", "123456789012", BucketNames::with_prefix("easel"))
    }

    /// A stack exactly as the spec describes it.
    fn healthy(spec: &StackSpec, trigger: &ResizerTrigger) -> LiveStack {
        let buckets = spec
            .buckets()
            .into_iter()
            .map(|b| {
                let live = LiveBucket {
                    name: b.name.clone(),
                    exists: true,
                    region: Some(spec.region.clone()),
                    encryption: Some("AES256".into()),
                    public_access: Some(PublicAccess {
                        block_public_acls: true,
                        ignore_public_acls: true,
                        block_public_policy: true,
                        restrict_public_buckets: true,
                    }),
                    versioning: b.versioned.then(|| "Enabled".into()),
                    policy: Some(b.policy.to_string()),
                    notifications: if b.role == BucketRole::Originals { vec![trigger.notification()] } else { vec![] },
                    empty: false,
                    unreadable: vec![],
                };
                (b.role, live)
            })
            .collect();
        LiveStack { buckets, function: FunctionState::Found { arn: spec.function_arn(), region: spec.region.clone() } }
    }

    fn bucket_mut(live: &mut LiveStack, role: BucketRole) -> &mut LiveBucket {
        &mut live.buckets.iter_mut().find(|(r, _)| *r == role).unwrap().1
    }

    fn failing(checks: &[Check]) -> Vec<(String, Option<Fix>)> {
        checks.iter().filter(|c| c.status == Status::Fail).map(|c| (c.id.clone(), c.fix)).collect()
    }

    #[test]
    fn the_spec_itself_passes_every_check() {
        let s = spec();
        let t = ResizerTrigger::for_spec(&s, false);
        let checks = diagnose(&s, &t, &healthy(&s, &t));
        assert!(checks.iter().all(|c| c.status == Status::Pass), "{checks:#?}");
        // Distinct names, seven per bucket, versioning on backup, and the function.
        assert_eq!(checks.len(), 1 + 3 * 7 + 1 + 1);
    }

    #[test]
    fn locally_the_missing_tls_deny_is_a_warning_only() {
        let s = StackSpec::local("eu-west-1", BucketNames::with_prefix("easel"));
        let t = ResizerTrigger::for_spec(&s, true);
        let checks = diagnose(&s, &t, &healthy(&s, &t));
        assert!(failing(&checks).is_empty(), "{checks:#?}");
        assert_eq!(checks.iter().filter(|c| c.status == Status::Warn).count(), 3);
    }

    #[test]
    fn a_policy_without_put_object_fails_the_resizer_access_check_with_the_statement() {
        let s = spec();
        let t = ResizerTrigger::for_spec(&s, false);
        let mut live = healthy(&s, &t);
        let mut policy = s.bucket(BucketRole::Resized).policy;
        policy["Statement"][1]["Action"] = json!(["s3:GetObject"]);
        bucket_mut(&mut live, BucketRole::Resized).policy = Some(policy.to_string());
        let checks = diagnose(&s, &t, &live);
        assert_eq!(
            failing(&checks),
            vec![("resized.resizer-access".into(), Some(Fix { role: BucketRole::Resized, aspect: Aspect::Policy }))]
        );
        let c = checks.iter().find(|c| c.id == "resized.resizer-access").unwrap();
        assert!(
            c.evidence.iter().any(|e| e.contains("s3:PutObject") && e.contains("no statement grants it")),
            "{c:#?}"
        );
    }

    #[test]
    fn a_wildcard_grant_and_an_explicit_deny_are_both_caught() {
        let s = spec();
        let t = ResizerTrigger::for_spec(&s, false);
        let mut live = healthy(&s, &t);
        let mut policy = s.bucket(BucketRole::Backup).policy;
        policy["Statement"][1]["Action"] = json!("s3:*");
        bucket_mut(&mut live, BucketRole::Backup).policy = Some(policy.to_string());
        let mut deny = s.bucket(BucketRole::Originals).policy;
        deny["Statement"].as_array_mut().unwrap().push(json!({
            "Effect": "Deny", "Principal": {"AWS": s.role_arn()}, "NotAction": "s3:ListBucket", "Resource": "*"
        }));
        bucket_mut(&mut live, BucketRole::Originals).policy = Some(deny.to_string());
        let checks = diagnose(&s, &t, &live);
        let ids: Vec<String> = failing(&checks).into_iter().map(|(id, _)| id).collect();
        assert_eq!(ids, vec!["originals.resizer-access", "backup.least-privilege"]);
        let c = checks.iter().find(|c| c.id == "backup.least-privilege").unwrap();
        assert!(c.evidence[0].contains("s3:DeleteObject") && c.evidence[0].contains("s3:*"), "{c:#?}");
        let c = checks.iter().find(|c| c.id == "originals.resizer-access").unwrap();
        assert!(c.evidence[0].contains("explicit Deny"), "{c:#?}");
    }

    #[test]
    fn a_public_grant_and_a_missing_tls_deny_fail() {
        let s = spec();
        let t = ResizerTrigger::for_spec(&s, false);
        let mut live = healthy(&s, &t);
        let policy = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::easel-resized/*"},
            {"Effect": "Allow", "Principal": {"AWS": s.role_arn()}, "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "arn:aws:s3:::easel-resized/*"}
        ]});
        bucket_mut(&mut live, BucketRole::Resized).policy = Some(policy.to_string());
        let ids: Vec<String> = failing(&diagnose(&s, &t, &live)).into_iter().map(|(id, _)| id).collect();
        assert_eq!(ids, vec!["resized.least-privilege", "resized.tls-only"]);
    }

    #[test]
    fn a_destroyed_stack_is_decommissioned_as_intended_with_nothing_to_fix() {
        let s = spec();
        let t = ResizerTrigger::for_spec(&s, false);
        let mut live = healthy(&s, &t);
        // What the destruction leaves: no policies, no trigger, no function.
        for role in BucketRole::ALL {
            bucket_mut(&mut live, role).policy = None;
            bucket_mut(&mut live, role).notifications.clear();
        }
        live.function = FunctionState::Missing;
        let before = diagnose(&s, &t, &live);
        assert!(!failing(&before).is_empty(), "an open Easel would call this broken");
        let after = as_decommissioned(before, &live);
        assert_eq!(failing(&after), vec![], "{after:#?}");
        assert!(fixes(&after).is_empty());
        let trigger = after.iter().find(|c| c.id == "originals.trigger").unwrap();
        assert!(trigger.title.ends_with("decommissioned: as intended"), "{trigger:#?}");
        // Something else broken is still reported, with no fix offered.
        bucket_mut(&mut live, BucketRole::Resized).encryption = None;
        let after = as_decommissioned(diagnose(&s, &t, &live), &live);
        assert_eq!(failing(&after), vec![("resized.encryption".to_string(), None)]);
    }

    #[test]
    fn region_encryption_versioning_and_notifications_fail_with_fixes() {
        let s = spec();
        let t = ResizerTrigger::for_spec(&s, false);
        let mut live = healthy(&s, &t);
        bucket_mut(&mut live, BucketRole::Backup).region = Some("us-west-2".into());
        bucket_mut(&mut live, BucketRole::Backup).versioning = Some("Suspended".into());
        bucket_mut(&mut live, BucketRole::Resized).encryption = None;
        bucket_mut(&mut live, BucketRole::Originals).notifications.clear();
        bucket_mut(&mut live, BucketRole::Resized).notifications.push(t.notification());
        let f = failing(&diagnose(&s, &t, &live));
        let fix = |role, aspect| Some(Fix { role, aspect });
        assert_eq!(
            f,
            vec![
                ("originals.trigger".into(), fix(BucketRole::Originals, Aspect::Notifications)),
                ("resized.encryption".into(), fix(BucketRole::Resized, Aspect::Encryption)),
                ("resized.no-loop".into(), fix(BucketRole::Resized, Aspect::Notifications)),
                // Not empty: no automatic fix for the region.
                ("backup.location".into(), None),
                ("backup.versioning".into(), fix(BucketRole::Backup, Aspect::Versioning)),
            ]
        );
        bucket_mut(&mut live, BucketRole::Backup).empty = true;
        let f = failing(&diagnose(&s, &t, &live));
        assert!(f.contains(&("backup.location".into(), fix(BucketRole::Backup, Aspect::Location))));
    }

    #[test]
    fn a_filtered_or_wrong_target_notification_does_not_count() {
        let s = spec();
        let t = ResizerTrigger::for_spec(&s, false);
        let mut live = healthy(&s, &t);
        let mut n = t.notification();
        n.filter = vec![("prefix".into(), "uploads/".into())];
        let other = NotificationTarget { kind: TargetKind::Queue, ..t.notification() };
        bucket_mut(&mut live, BucketRole::Originals).notifications = vec![n, other.clone()];
        assert_eq!(failing(&diagnose(&s, &t, &live))[0].0, "originals.trigger");
        // The fix keeps the unrelated notification and replaces the resizer's.
        let p = propose(&s, &t, &live, Fix { role: BucketRole::Originals, aspect: Aspect::Notifications });
        assert!(p.after.contains("Queue") && !p.after.contains("uploads/"), "{}", p.after);
    }

    #[test]
    fn a_fix_for_a_setting_already_in_place_changes_nothing() {
        let s = spec();
        let t = ResizerTrigger::for_spec(&s, false);
        let live = healthy(&s, &t);
        for aspect in Aspect::ALL {
            for role in BucketRole::ALL {
                if aspect == Aspect::Versioning && role != BucketRole::Backup {
                    continue;
                }
                let p = propose(&s, &t, &live, Fix { role, aspect });
                assert!(!p.changes_something(), "{role}.{}: {p:#?}", aspect.as_str());
            }
        }
    }

    #[test]
    fn an_unreadable_setting_warns_with_the_error_and_offers_no_fix() {
        let s = spec();
        let t = ResizerTrigger::for_spec(&s, false);
        let mut live = healthy(&s, &t);
        let b = bucket_mut(&mut live, BucketRole::Resized);
        b.encryption = None;
        b.policy = None;
        b.unreadable = vec![("encryption", "AccessDenied".into()), ("policy", "AccessDenied: no".into())];
        let checks = diagnose(&s, &t, &live);
        assert!(failing(&checks).is_empty(), "{checks:#?}");
        for id in ["resized.encryption", "resized.resizer-access"] {
            let c = checks.iter().find(|c| c.id == id).unwrap();
            assert_eq!((c.status, c.fix), (Status::Warn, None), "{c:#?}");
            assert!(c.evidence[0].contains("AccessDenied"), "{c:#?}");
        }
        assert!(!checks.iter().any(|c| c.id == "resized.least-privilege"));
        assert!(fixes(&checks).is_empty());
    }

    #[test]
    fn a_bucket_in_another_region_fails_its_location_without_a_fix_and_nothing_else() {
        let s = spec();
        let t = ResizerTrigger::for_spec(&s, false);
        let mut live = healthy(&s, &t);
        let b = bucket_mut(&mut live, BucketRole::Backup);
        *b = LiveBucket {
            name: b.name.clone(),
            exists: true,
            region: Some("us-west-2".into()),
            unreadable: vec![("settings", "HeadBucket redirected to us-west-2".into())],
            ..Default::default()
        };
        let checks = diagnose(&s, &t, &live);
        assert_eq!(failing(&checks), vec![("backup.location".into(), None)]);
        let c = checks.iter().find(|c| c.id == "backup.location").unwrap();
        assert!(c.evidence[0].contains("us-west-2"), "{c:#?}");
        let c = checks.iter().find(|c| c.id == "backup.settings").unwrap();
        assert_eq!(c.status, Status::Warn);
    }

    #[test]
    fn a_notification_to_the_resizer_in_another_region_fails_the_originals_location() {
        let s = spec();
        let t = ResizerTrigger::for_spec(&s, false);
        let mut live = healthy(&s, &t);
        let mut n = t.notification();
        n.arn = n.arn.replace(":eu-west-1:", ":us-east-2:");
        bucket_mut(&mut live, BucketRole::Originals).notifications = vec![n.clone()];
        let checks = diagnose(&s, &t, &live);
        let c = checks.iter().find(|c| c.id == "originals.location").unwrap();
        assert_eq!(c.status, Status::Fail, "{c:#?}");
        assert!(c.evidence.iter().any(|e| e.contains("is in eu-west-1")), "{c:#?}");
        assert!(c.evidence.iter().any(|e| e.contains(&n.arn) && e.contains("us-east-2")), "{c:#?}");
        let c = checks.iter().find(|c| c.id == "resized.location").unwrap();
        assert_eq!(c.status, Status::Pass, "{c:#?}");
    }

    #[test]
    fn conditions_on_unknown_keys_make_a_warning_not_a_verdict() {
        let s = spec();
        let t = ResizerTrigger::for_spec(&s, false);
        let mut live = healthy(&s, &t);
        let mut policy = s.bucket(BucketRole::Resized).policy;
        policy["Statement"][1]["Condition"] = json!({"StringEquals": {"aws:SourceVpce": "vpce-1234"}});
        policy["Statement"][0]["Condition"]["StringNotEquals"] = json!({"aws:SourceIp": "10.0.0.1"});
        bucket_mut(&mut live, BucketRole::Resized).policy = Some(policy.to_string());
        let checks = diagnose(&s, &t, &live);
        for id in ["resized.resizer-access", "resized.tls-only"] {
            let c = checks.iter().find(|c| c.id == id).unwrap();
            assert_eq!((c.status, c.fix), (Status::Warn, None), "{c:#?}");
            assert!(c.evidence.iter().any(|e| e.contains("cannot know")), "{c:#?}");
        }
    }

    #[test]
    fn the_three_buckets_must_have_three_names() {
        let mut names = BucketNames::with_prefix("easel");
        names.resized = names.originals.clone();
        let s = StackSpec::new("eu-west-1", "123456789012", names);
        let t = ResizerTrigger::for_spec(&s, false);
        let checks = diagnose(&s, &t, &healthy(&s, &t));
        let c = checks.iter().find(|c| c.id == "stack.distinct-buckets").unwrap();
        assert_eq!((c.status, c.fix), (Status::Fail, None), "{c:#?}");
        assert!(c.evidence[0].contains("originals and resized"), "{c:#?}");
    }

    #[test]
    fn only_a_fix_a_failing_check_offers_is_reviewed_or_applied() {
        let s = spec();
        let t = ResizerTrigger::for_spec(&s, false);
        let mut live = healthy(&s, &t);
        let versioning = Fix { role: BucketRole::Resized, aspect: Aspect::Versioning };
        assert!(matches!(review(&s, &t, &live, versioning), Err(DoctorError::NotOffered(_))));
        // A fix already in place is "unchanged", not refused.
        let enc = Fix { role: BucketRole::Resized, aspect: Aspect::Encryption };
        assert!(!review(&s, &t, &live, enc).unwrap().changes_something());
        bucket_mut(&mut live, BucketRole::Resized).encryption = None;
        assert!(review(&s, &t, &live, enc).unwrap().changes_something());
    }

    #[test]
    fn fixes_have_addresses_and_diffs_show_lines() {
        let f = Fix { role: BucketRole::Backup, aspect: Aspect::PublicAccess };
        assert_eq!(Fix::parse(&f.to_string()), Some(f));
        assert_eq!(Fix::parse("nope.policy"), None);
        assert_eq!(
            line_diff("a\nb\nc", "a\nc\nd"),
            vec![
                DiffLine::Same("a".into()),
                DiffLine::Removed("b".into()),
                DiffLine::Same("c".into()),
                DiffLine::Added("d".into())
            ]
        );
    }
}
