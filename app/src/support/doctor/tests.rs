//! The doctor's verdicts, proposals and diffs, judged on live stacks built
//! from the spec and then broken one setting at a time.

use super::*;
use crate::storage::{
    BucketNames,
    live::{LiveBucket, NotificationTarget, PublicAccess, TargetKind},
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
    assert!(c.evidence.iter().any(|e| e.contains("s3:PutObject") && e.contains("no statement grants it")), "{c:#?}");
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
