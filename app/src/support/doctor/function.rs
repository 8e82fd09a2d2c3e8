//! `function.region`: the resizer function exists, in Easel's region.

use super::model::{Check, FunctionState, Status};
use crate::storage::spec::StackSpec;

pub(super) fn check(spec: &StackSpec, function: &FunctionState) -> Check {
    match function {
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
    }
}
