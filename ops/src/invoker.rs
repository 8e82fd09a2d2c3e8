//! The local stand-in for S3 → Lambda. The originals bucket's notifications
//! land in an SQS queue on the emulator; this drains it and feeds each
//! genuine S3 event to the very handler the `bootstrap` binary runs,
//! writing Lambda-format log lines (START/END/REPORT) to the function's
//! CloudWatch Logs group so the logs read as they would in AWS.

use std::time::{Duration, Instant};

use anyhow::Context;
use aws_config::SdkConfig;
use aws_lambda_events::s3::S3Event;
use aws_sdk_cloudwatchlogs::{error::DisplayErrorContext, types::InputLogEvent};
use aws_sdk_sqs::types::MessageSystemAttributeName;
use easel_resizer::handler::Resizer;
use tokio::sync::watch;

/// After this many failed deliveries a message is dropped (and logged), as
/// an on-failure destination would take it in AWS.
const MAX_RECEIVES: u32 = 5;

pub struct LocalInvoker {
    sqs: aws_sdk_sqs::Client,
    logs: aws_sdk_cloudwatchlogs::Client,
    queue_url: String,
    log_group: String,
    log_stream: String,
    memory_mb: i32,
    resizer: Resizer,
    /// Easel's database, to ask the decommission gate before each batch.
    gate: Option<sqlx::PgPool>,
}

impl LocalInvoker {
    /// Asks the decommission gate before each batch and stops for good once
    /// Easel is decommissioned. While the data is frozen it goes on: the
    /// archive waits for the renditions of the uploads accepted before.
    pub fn asking_the_gate(self, pool: sqlx::PgPool) -> Self {
        Self { gate: Some(pool), ..self }
    }

    pub async fn new(
        sdk: &SdkConfig,
        queue_url: String,
        log_group: String,
        memory_mb: i32,
        resizer: Resizer,
    ) -> anyhow::Result<Self> {
        let logs = aws_sdk_cloudwatchlogs::Client::new(sdk);
        let now = time::OffsetDateTime::now_utc();
        // Lambda names streams `YYYY/MM/DD/[$LATEST]<hex>`, one per instance.
        let log_stream = format!(
            "{:04}/{:02}/{:02}/[$LATEST]{}",
            now.year(),
            now.month() as u8,
            now.day(),
            uuid::Uuid::new_v4().simple()
        );
        logs.create_log_stream()
            .log_group_name(&log_group)
            .log_stream_name(&log_stream)
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("creating log stream {log_stream}: {}", DisplayErrorContext(e)))?;
        Ok(Self {
            sqs: aws_sdk_sqs::Client::new(sdk),
            logs,
            queue_url,
            log_group,
            log_stream,
            memory_mb,
            resizer,
            gate: None,
        })
    }

    /// Receives one batch and invokes the handler for each S3 event in it.
    /// Returns how many events were handled.
    pub async fn poll_once(&self, wait: Duration) -> anyhow::Result<usize> {
        let out = self
            .sqs
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(wait.as_secs() as i32)
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("receiving from the event queue: {}", DisplayErrorContext(e)))?;
        let mut handled = 0;
        for msg in out.messages() {
            let body = msg.body().unwrap_or_default();
            let receipt = msg.receipt_handle().context("an SQS message without a receipt handle")?;
            let receives: u32 = msg
                .attributes()
                .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                .and_then(|n| n.parse().ok())
                .unwrap_or(1);
            let done = match parse_event(body) {
                Delivery::TestEvent => true,
                Delivery::Unreadable(reason) => {
                    self.write_log(vec![format!(
                        r#"{{"level":"ERROR","event":"unreadable_message","reason":{}}}"#,
                        serde_json::json!(reason)
                    )])
                    .await;
                    true
                }
                Delivery::Event(event) => {
                    handled += 1;
                    let ok = self.invoke(event).await;
                    ok || receives >= MAX_RECEIVES
                }
            };
            if done {
                self.sqs
                    .delete_message()
                    .queue_url(&self.queue_url)
                    .receipt_handle(receipt)
                    .send()
                    .await
                    .map_err(|e| anyhow::anyhow!("deleting a handled message: {}", DisplayErrorContext(e)))?;
            }
        }
        Ok(handled)
    }

    /// One invocation, logged as Lambda logs it. Returns false when the
    /// event should be delivered again.
    async fn invoke(&self, event: S3Event) -> bool {
        let request_id = uuid::Uuid::new_v4();
        let started = Instant::now();
        let outcome = self.resizer.handle_event(event).await;
        let elapsed = started.elapsed();
        let ms = elapsed.as_secs_f64() * 1000.0;
        let mut lines = vec![format!("START RequestId: {request_id} Version: $LATEST")];
        lines.extend(outcome.records.iter().map(|r| r.log_line()));
        lines.push(format!("END RequestId: {request_id}"));
        lines.push(format!(
            "REPORT RequestId: {request_id}\tDuration: {ms:.2} ms\tBilled Duration: {} ms\tMemory Size: {} MB\tMax Memory Used: {} MB",
            ms.ceil() as u64,
            self.memory_mb,
            max_rss_mb()
        ));
        for line in &lines {
            tracing::info!(target: "resizer", "{line}");
        }
        self.write_log(lines).await;
        !outcome.has_retryable_failure()
    }

    async fn write_log(&self, lines: Vec<String>) {
        let now = time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
        let events: Vec<InputLogEvent> = lines
            .into_iter()
            .filter_map(|m| InputLogEvent::builder().timestamp(now as i64).message(m).build().ok())
            .collect();
        if let Err(e) = self
            .logs
            .put_log_events()
            .log_group_name(&self.log_group)
            .log_stream_name(&self.log_stream)
            .set_log_events(Some(events))
            .send()
            .await
        {
            tracing::warn!(error = %DisplayErrorContext(e), "could not write resizer logs to CloudWatch Logs");
        }
    }

    /// Drains the queue until `stop` flips to true.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        loop {
            if let Some(pool) = &self.gate
                && easel_app::gate::decommissioned(pool).await.unwrap_or(false)
            {
                tracing::info!("local invoker: Easel is decommissioned; the resizer stops");
                return;
            }
            tokio::select! {
                _ = stop.changed() => return,
                r = self.poll_once(Duration::from_secs(1)) => {
                    if let Err(e) = r {
                        tracing::warn!(error = %e, "local invoker: polling failed; retrying");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
            if *stop.borrow() {
                return;
            }
        }
    }
}

enum Delivery {
    Event(S3Event),
    /// S3 sends `s3:TestEvent` when notifications are configured.
    TestEvent,
    Unreadable(String),
}

fn parse_event(body: &str) -> Delivery {
    let mut value: serde_json::Value = match serde_json::from_str(body) {
        Ok(v) => v,
        Err(e) => return Delivery::Unreadable(format!("not JSON: {e}")),
    };
    if value.get("Event").and_then(|e| e.as_str()) == Some("s3:TestEvent") {
        return Delivery::TestEvent;
    }
    fill_fields_moto_leaves_out(&mut value);
    match serde_json::from_value::<S3Event>(value) {
        Ok(ev) if !ev.records.is_empty() => Delivery::Event(ev),
        Ok(_) => Delivery::Unreadable("an S3 event without records".into()),
        Err(e) => Delivery::Unreadable(format!("not an S3 event: {e}")),
    }
}

/// moto's event records lack `userIdentity`, `requestParameters` and
/// `responseElements`, which S3 always sends and the event type requires.
/// They carry nothing the resizer reads, so empty ones stand in.
fn fill_fields_moto_leaves_out(event: &mut serde_json::Value) {
    let Some(records) = event.get_mut("Records").and_then(|r| r.as_array_mut()) else {
        return;
    };
    for record in records.iter_mut().filter_map(|r| r.as_object_mut()) {
        record.entry("userIdentity").or_insert_with(|| serde_json::json!({ "principalId": "" }));
        record.entry("requestParameters").or_insert_with(|| serde_json::json!({ "sourceIPAddress": "" }));
        record.entry("responseElements").or_insert_with(|| serde_json::json!({}));
    }
}

/// Peak resident memory of this process, as Lambda's "Max Memory Used".
fn max_rss_mb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map(|kb| kb / 1024)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deliveries_are_classified() {
        assert!(matches!(
            parse_event(r#"{"Service":"Amazon S3","Event":"s3:TestEvent","Bucket":"b"}"#),
            Delivery::TestEvent
        ));
        assert!(matches!(parse_event("not json"), Delivery::Unreadable(_)));
        assert!(matches!(parse_event(r#"{"Records":[]}"#), Delivery::Unreadable(_)));
        // As moto sends it: no userIdentity, requestParameters or responseElements.
        let real = r#"{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"eu-west-1","eventTime":"2026-11-25T00:00:00.000Z","eventName":"ObjectCreated:Put","s3":{"s3SchemaVersion":"1.0","configurationId":"x","bucket":{"name":"easel-originals","arn":"arn:aws:s3:::easel-originals"},"object":{"key":"artwork/a+b.jpg","size":3,"eTag":"abc","sequencer":"1"}}}]}"#;
        assert!(matches!(parse_event(real), Delivery::Event(_)));
    }
}
