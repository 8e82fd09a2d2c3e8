//! The one place the doctor reads AWS: the three buckets' live settings and
//! the resizer function, into a `LiveStack` that every check is judged on.

use aws_sdk_s3::error::DisplayErrorContext;

use super::model::{DoctorError, FunctionState, LiveStack};
use crate::storage::{live, spec::StackSpec};
use crate::support::Support;

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
            Err(e) => {
                tracing::warn!(error = %DisplayErrorContext(&e), "the resizer function could not be read");
                FunctionState::Unreadable(crate::aws::answer(&e))
            }
        };
    Ok(LiveStack { buckets, function })
}
