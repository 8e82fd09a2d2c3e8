//! `{role}.location`: the bucket exists, in Easel's region and in the one
//! the resizer runs in (a bucket cannot move between regions, so the fix
//! re-creates it only while it is empty).

use super::model::{Aspect, Check, Fix, FunctionState, LiveStack, Status};
use crate::storage::{BucketRole, spec::StackSpec};
use crate::support::trigger::ResizerTrigger;

pub(super) fn check(spec: &StackSpec, trigger: &ResizerTrigger, live: &LiveStack, role: BucketRole) -> Check {
    let b = live.bucket(role);
    let want = spec.bucket(role);
    let id = format!("{role}.location");
    let fix = Some(Fix { role, aspect: Aspect::Location });
    if !b.exists {
        return Check {
            id,
            title: format!("The {role} bucket {} exists in {}", want.name, spec.region),
            status: Status::Fail,
            evidence: vec![format!("HeadBucket {}: no such bucket", want.name)],
            remedy: format!(
                "Create it. The fix creates {} in {} with the spec's encryption, public access block, versioning and policy.",
                want.name, spec.region
            ),
            fix,
        };
    }
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
        _ => fn_region,
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
            fix,
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
        id,
        title: format!("The {role} bucket is in the resizer's region"),
        status,
        evidence: location_evidence,
        remedy,
        fix,
    }
}
