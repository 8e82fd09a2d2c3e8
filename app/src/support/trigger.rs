//! What the originals bucket's ObjectCreated events reach: the resizer
//! Lambda in AWS, or locally the SQS queue that `cargo ops`'s invoker drains.
//! The doctor checks the bucket notifies it; "resize again" sends it a
//! genuine S3 event record.

use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::aws::{AwsError, Service};
use crate::storage::{
    live::{NotificationTarget, TargetKind},
    spec::StackSpec,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResizerTrigger {
    /// AWS: S3 invokes the function.
    Lambda { function_name: String, function_arn: String },
    /// The local stack: S3 notifies a queue; the invoker runs the handler.
    LocalQueue { queue_name: String, queue_arn: String },
}

impl ResizerTrigger {
    /// The trigger of the stack `spec` describes: a local emulator (`local`)
    /// has no working Lambda invoke, so its stand-in queue.
    pub fn for_spec(spec: &StackSpec, local: bool) -> Self {
        if local {
            let queue_name = spec.event_queue_name();
            let queue_arn = format!("arn:aws:sqs:{}:{}:{queue_name}", spec.region, spec.account_id);
            ResizerTrigger::LocalQueue { queue_name, queue_arn }
        } else {
            ResizerTrigger::Lambda {
                function_name: spec.resizer.function_name.clone(),
                function_arn: spec.function_arn(),
            }
        }
    }

    pub fn arn(&self) -> &str {
        match self {
            ResizerTrigger::Lambda { function_arn, .. } => function_arn,
            ResizerTrigger::LocalQueue { queue_arn, .. } => queue_arn,
        }
    }

    pub fn describe(&self) -> String {
        match self {
            ResizerTrigger::Lambda { function_arn, .. } => format!("the resizer function {function_arn}"),
            ResizerTrigger::LocalQueue { queue_arn, .. } => {
                format!("the local invoker's queue {queue_arn} (the stand-in for the resizer function)")
            }
        }
    }

    fn kind(&self) -> TargetKind {
        match self {
            ResizerTrigger::Lambda { .. } => TargetKind::Lambda,
            ResizerTrigger::LocalQueue { .. } => TargetKind::Queue,
        }
    }

    /// Whether a notification reaches the resizer.
    pub fn is_target(&self, t: &NotificationTarget) -> bool {
        t.kind == self.kind() && t.arn == self.arn()
    }

    /// Whether `t` names the resizer's function (or queue) in any region or
    /// account: the notification that really invokes it, wherever it lives.
    pub fn names_resizer(&self, t: &NotificationTarget) -> bool {
        let parts = |arn: &str| -> Vec<String> {
            arn.split(':').enumerate().filter(|(i, _)| ![3, 4].contains(i)).take(5).map(|(_, p)| p.to_owned()).collect()
        };
        t.kind == self.kind() && parts(&t.arn) == parts(self.arn())
    }

    /// The notification provisioning sets on the originals bucket.
    pub fn notification(&self) -> NotificationTarget {
        NotificationTarget {
            id: Some("easel-resizer".into()),
            kind: self.kind(),
            arn: self.arn().to_owned(),
            events: vec!["s3:ObjectCreated:*".into()],
            filter: vec![],
        }
    }
}

/// An object as S3 describes it in an event.
#[derive(Debug, Clone)]
pub struct CreatedObject {
    pub bucket: String,
    pub key: String,
    pub size: i64,
    pub etag: String,
}

/// The S3 event S3 itself sends for a newly created object: keys are
/// URL-encoded with `+` for spaces, as S3 does.
pub fn s3_event(region: &str, objects: &[CreatedObject]) -> Value {
    let now = OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
    let records: Vec<Value> = objects
        .iter()
        .map(|o| {
            json!({
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": region,
                "eventTime": now,
                "eventName": "ObjectCreated:Put",
                "userIdentity": { "principalId": "easel-console" },
                "requestParameters": { "sourceIPAddress": "127.0.0.1" },
                "responseElements": {},
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": "easel-resize-again",
                    "bucket": { "name": o.bucket, "arn": format!("arn:aws:s3:::{}", o.bucket), "ownerIdentity": { "principalId": "easel" } },
                    "object": { "key": encode_key(&o.key), "size": o.size, "eTag": o.etag, "sequencer": format!("{:016X}", OffsetDateTime::now_utc().unix_timestamp_nanos() as u64) }
                }
            })
        })
        .collect();
    json!({ "Records": records })
}

/// S3's event-key encoding: form-URL-encoding (space as `+`), `/` kept.
pub fn encode_key(key: &str) -> String {
    percent_encode_key(key, "+")
}

/// Percent-encodes a key for a URL path or event, keeping `/` and writing
/// a space as `space` (`%20` in a CopySource, `+` in an event).
pub fn percent_encode_key(key: &str, space: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for b in key.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => out.push(b as char),
            b' ' => out.push_str(space),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[derive(Debug, thiserror::Error)]
#[error("re-delivering the S3 event to {target} failed: {failure}")]
pub struct RedeliveryError {
    pub target: String,
    pub failure: AwsError,
}

/// Sends `event` to the resizer the way S3 would.
pub async fn redeliver(
    trigger: &ResizerTrigger,
    sqs: &aws_sdk_sqs::Client,
    lambda: &aws_sdk_lambda::Client,
    event: &Value,
) -> Result<(), RedeliveryError> {
    let fail = |failure| RedeliveryError { target: trigger.describe(), failure };
    match trigger {
        ResizerTrigger::LocalQueue { queue_name, .. } => {
            let url = sqs
                .get_queue_url()
                .queue_name(queue_name)
                .send()
                .await
                .map_err(|e| fail(AwsError::new(Service::Sqs, "GetQueueUrl", e)))?
                .queue_url()
                .map(str::to_owned)
                .ok_or_else(|| {
                    fail(AwsError {
                        service: Service::Sqs,
                        op: "GetQueueUrl",
                        answer: "the queue has no URL".into(),
                        detail: "the queue has no URL".into(),
                        unavailable: false,
                    })
                })?;
            sqs.send_message()
                .queue_url(url)
                .message_body(event.to_string())
                .send()
                .await
                .map_err(|e| fail(AwsError::new(Service::Sqs, "SendMessage", e)))?;
        }
        ResizerTrigger::Lambda { function_name, .. } => {
            lambda
                .invoke()
                .function_name(function_name)
                .invocation_type(aws_sdk_lambda::types::InvocationType::Event)
                .payload(aws_sdk_lambda::primitives::Blob::new(event.to_string()))
                .send()
                .await
                .map_err(|e| fail(AwsError::new(Service::Lambda, "Invoke", e)))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::BucketNames;

    #[test]
    fn keys_are_encoded_as_s3_encodes_them_and_the_event_parses_as_the_resizer_reads_it() {
        assert_eq!(encode_key("artwork/my café photo.jpg"), "artwork/my+caf%C3%A9+photo.jpg");
        let ev = s3_event(
            "eu-west-1",
            &[CreatedObject { bucket: "b".into(), key: "artwork/a b.png".into(), size: 3, etag: "x".into() }],
        );
        let parsed: aws_lambda_events::s3::S3Event = serde_json::from_value(ev).unwrap();
        assert_eq!(parsed.records[0].s3.object.key.as_deref(), Some("artwork/a+b.png"));
    }

    #[test]
    fn locally_the_trigger_is_the_event_queue() {
        let spec = StackSpec::local("eu-west-1", BucketNames::with_prefix("easel"));
        let t = ResizerTrigger::for_spec(&spec, true);
        assert_eq!(t.arn(), "arn:aws:sqs:eu-west-1:123456789012:easel-originals-events");
        assert!(t.is_target(&t.notification()));
        let aws = ResizerTrigger::for_spec(&spec, false);
        assert!(!aws.is_target(&t.notification()));
    }
}
