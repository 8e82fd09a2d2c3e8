//! The bucket doctor: the live configuration compared with the spec that
//! provisioning applies (`storage::spec`), check by check, each with a
//! verdict, the evidence it rests on and the remedy in plain words; and,
//! for checks that have one, a fix that writes exactly the spec's value for
//! one aspect of one bucket (shown as a diff first, idempotent).
//!
//! How a diagnosis flows:
//! 1. `examine` reads the live stack (the three buckets, the resizer
//!    function) into a `LiveStack` (`model.rs` holds the types).
//! 2. `diagnose` judges it against the spec, family by family, in the order
//!    a person reads them: the bucket names (`names.rs`); then per bucket
//!    its `location`, its `policy` (resizer access, least privilege, TLS
//!    only), its `bucket_settings` (encryption, public access, versioning)
//!    and its `notifications` (trigger, no loop); last the resizer
//!    `function`. A missing bucket stops at its location check, an
//!    unreadable one at a warning.
//! 3. `as_decommissioned` re-reads the verdicts for a destroyed Easel.
//! 4. A fix is proposed as a before/after text (`proposal.rs`, shown with
//!    `diff.rs`), reviewed against the checks failing now, then applied.
//!
//! Invariants: `diagnose` and everything it calls are pure (live snapshot
//! in, checks out), so every verdict is unit-tested. Only `examine.rs`
//! reads the stack and only `apply.rs` changes it, after the decommission
//! gate and a fresh review: the doctor changes nothing a failing check
//! does not offer. An unreadable setting is a warning with no fix, never
//! a guess.

mod apply;
mod bucket_settings;
mod diff;
mod examine;
mod function;
mod location;
mod model;
mod names;
mod notifications;
mod policy;
mod proposal;
#[cfg(test)]
mod tests;

pub use apply::apply;
pub use diff::{DiffLine, line_diff};
pub use examine::examine;
pub use model::{Aspect, Check, DoctorError, Fix, FunctionState, LiveStack, Status};
pub use proposal::{Proposal, propose, review};

use super::{Support, trigger::ResizerTrigger};
use crate::storage::{BucketRole, spec::StackSpec};
use model::unreadable;

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

/// Every check of `live` against `spec`, in reading order.
pub fn diagnose(spec: &StackSpec, trigger: &ResizerTrigger, live: &LiveStack) -> Vec<Check> {
    let mut checks = vec![names::distinct_buckets(spec)];
    for role in BucketRole::ALL {
        let b = live.bucket(role);
        checks.push(location::check(spec, trigger, live, role));
        if !b.exists {
            continue;
        }
        if let Some(e) = b.unreadable("settings") {
            checks.push(unreadable(format!("{role}.settings"), format!("The {role} bucket's settings can be read"), e));
            continue;
        }
        checks.extend(policy::checks(spec, role, b));
        checks.extend(bucket_settings::checks(spec, role, b));
        checks.push(notifications::check(spec, trigger, role, b));
    }
    checks.push(function::check(spec, &live.function));
    checks
}

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

/// Fixes worth offering: one per distinct fix, in check order.
pub fn fixes(checks: &[Check]) -> Vec<Fix> {
    let mut out: Vec<Fix> = Vec::new();
    for f in checks.iter().filter(|c| c.status != Status::Pass).filter_map(|c| c.fix) {
        if !out.contains(&f) {
            out.push(f);
        }
    }
    out
}
