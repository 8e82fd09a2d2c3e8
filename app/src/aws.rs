//! What an AWS call's failure means to the person waiting on a page: the
//! service did not answer (down, unreachable, past its deadline, or a 5xx),
//! which is a 503 naming it and worth a retry; or it answered no (access
//! denied, a bad request), which the page reports as AWS's answer. Told
//! apart once, here, for every service the console calls.

use aws_sdk_s3::{
    config::http::HttpResponse,
    error::{DisplayErrorContext, ProvideErrorMetadata, SdkError},
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

/// One failed AWS call: AWS's own short `answer`, for a page, and the SDK's
/// whole explanation in `detail` (request ids, the HTTP exchange), for the
/// log. `Display` gives the detail; `page_text` the answer.
#[derive(Debug, thiserror::Error)]
#[error("{} {op} failed: {detail}", .service.name())]
pub struct AwsError {
    pub service: Service,
    pub op: &'static str,
    pub answer: String,
    pub detail: String,
    /// No answer, or a 5xx: see [`unavailable`].
    pub unavailable: bool,
}

impl AwsError {
    pub fn new<E: std::error::Error + ProvideErrorMetadata + 'static>(
        service: Service,
        op: &'static str,
        e: SdkError<E, HttpResponse>,
    ) -> Self {
        AwsError {
            service,
            op,
            answer: answer(&e),
            unavailable: unavailable(&e),
            detail: DisplayErrorContext(e).to_string(),
        }
    }

    /// A request the SDK could not build: our bug, never the service's absence.
    pub fn unbuilt(service: Service, op: &'static str, e: aws_sdk_s3::error::BuildError) -> Self {
        AwsError {
            service,
            op,
            answer: "the request could not be built".to_owned(),
            unavailable: false,
            detail: DisplayErrorContext(e).to_string(),
        }
    }

    /// The answer's body broke off (or stalled past the read timeout): the
    /// service stopped answering halfway.
    pub fn broken_off(service: Service, op: &'static str, e: impl std::error::Error) -> Self {
        AwsError {
            service,
            op,
            answer: "the answer broke off".to_owned(),
            unavailable: true,
            detail: DisplayErrorContext(e).to_string(),
        }
    }

    /// What a page says: the service, the call, and what came of it.
    pub fn page_text(&self) -> String {
        format!("{} {} failed: {}", self.service.name(), self.op, self.answer)
    }
}

/// Longer than any AWS error message seen; a page shows no more of one.
const MAX_ANSWER_CHARS: usize = 300;

/// What came of a call, in a few words a person can act on: the service's
/// error code and message when it answered, else what kind of silence it
/// was. Never the SDK's chain, which carries request ids and the HTTP dump.
pub fn answer<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> String {
    let said = match e {
        SdkError::ServiceError(se) => match (se.err().code(), se.err().message()) {
            (Some(code), Some(message)) => format!("{code}: {message}"),
            (Some(said), None) | (None, Some(said)) => said.to_owned(),
            (None, None) => "an error without a code or message".to_owned(),
        },
        SdkError::TimeoutError(_) => "no answer within the deadline".to_owned(),
        SdkError::DispatchFailure(_) => "the service could not be reached".to_owned(),
        SdkError::ResponseError(_) => "the answer could not be read".to_owned(),
        SdkError::ConstructionFailure(_) => "the request could not be built".to_owned(),
        _ => "the call failed".to_owned(),
    };
    said.chars().take(MAX_ANSWER_CHARS).collect()
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

#[cfg(test)]
mod tests {
    use aws_sdk_s3::operation::head_bucket::HeadBucketError;

    use super::*;

    #[test]
    fn each_kind_of_silence_is_named_and_none_is_the_chain() {
        let timeout: SdkError<HeadBucketError, HttpResponse> =
            SdkError::timeout_error("operation timeout (all attempts including retries) occurred after 2s");
        assert_eq!(answer(&timeout), "no answer within the deadline");
        assert!(unavailable(&timeout));
        let unbuilt: SdkError<HeadBucketError, HttpResponse> = SdkError::construction_failure("no region");
        assert_eq!(answer(&unbuilt), "the request could not be built");
    }
}
