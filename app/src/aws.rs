//! What an AWS call's failure means to the person waiting on a page: the
//! service did not answer (down, unreachable, past its deadline, or a 5xx),
//! which is a 503 naming it and worth a retry; or it answered no (access
//! denied, a bad request), which the page reports as AWS's answer. Told
//! apart once, here, for every service the console calls.

use aws_sdk_s3::{
    config::http::HttpResponse,
    error::{DisplayErrorContext, SdkError},
};

/// The AWS services the console calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    S3,
    CloudWatchLogs,
    Lambda,
    Sqs,
    Sts,
}

impl Service {
    pub fn name(self) -> &'static str {
        match self {
            Service::S3 => "Amazon S3",
            Service::CloudWatchLogs => "Amazon CloudWatch Logs",
            Service::Lambda => "AWS Lambda",
            Service::Sqs => "Amazon SQS",
            Service::Sts => "AWS STS",
        }
    }
}

/// One failed AWS call, with the SDK's whole explanation in `detail`.
#[derive(Debug, thiserror::Error)]
#[error("{} {op} failed: {detail}", .service.name())]
pub struct AwsError {
    pub service: Service,
    pub op: &'static str,
    pub detail: String,
    /// No answer, or a 5xx: see [`unavailable`].
    pub unavailable: bool,
}

impl AwsError {
    pub fn new<E: std::error::Error + 'static>(
        service: Service,
        op: &'static str,
        e: SdkError<E, HttpResponse>,
    ) -> Self {
        let unavailable = unavailable(&e);
        AwsError { service, op, detail: DisplayErrorContext(e).to_string(), unavailable }
    }
}

/// Whether the call failed for want of an answer: it timed out (connect,
/// attempt or operation), could not be sent, its answer broke off, or the
/// service answered a 5xx after the SDK's retries. Every SDK crate's error
/// has this one shape, so one function serves them all.
pub fn unavailable<E>(e: &SdkError<E, HttpResponse>) -> bool {
    match e {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => true,
        SdkError::ServiceError(se) => se.raw().status().is_server_error(),
        _ => false,
    }
}
