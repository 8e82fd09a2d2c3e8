//! The resizer Lambda: wiring only; the work is in `easel_resizer::handler`.

use easel_resizer::aws::{endpoint_from_env, region_from_env, s3_client, sdk_config};
use easel_resizer::{InvocationOutcome, Resizer, ResizerConfig};
use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    // The runtime's own diagnostics go to stderr; stdout is reserved for the
    // one-JSON-object-per-line record log.
    tracing_subscriber::fmt()
        .json()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();

    let config = ResizerConfig::from_env().inspect_err(|e| {
        // main's own error report uses Debug; operators need the sentence.
        eprintln!("easel-resizer: configuration error: {e}");
    })?;
    let endpoint = endpoint_from_env();
    let sdk = sdk_config(endpoint.as_deref(), &region_from_env()).await;
    let resizer = Resizer::new(s3_client(&sdk, endpoint.is_some()), config);
    let resizer = &resizer;

    lambda_runtime::run(service_fn(move |event: LambdaEvent<aws_lambda_events::s3::S3Event>| async move {
        let outcome = resizer.handle_event(event.payload).await;
        respond(outcome)
    }))
    .await
}

/// Every record is logged; an error response makes Lambda deliver the event
/// again, which is harmless for the records that already succeeded.
fn respond(outcome: InvocationOutcome) -> Result<InvocationOutcome, Error> {
    for record in &outcome.records {
        println!("{}", record.log_line());
    }
    if outcome.has_retryable_failure() {
        let failed = outcome
            .records
            .iter()
            .filter(|r| matches!(r, easel_resizer::RecordOutcome::Failed { retryable: true, .. }))
            .count();
        return Err(format!("{failed} record(s) failed with a retryable error; asking Lambda to retry").into());
    }
    Ok(outcome)
}
