//! Reading S3 event records: which bucket, which key, which kind of event.

use aws_lambda_events::s3::S3EventRecord;
use percent_encoding::percent_decode_str;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("the record has no object key")]
    Missing,
    #[error("the object key `{raw}` is not valid UTF-8 once decoded")]
    InvalidUtf8 { raw: String },
}

/// S3 event keys are form-encoded: `+` is a space and everything else
/// non-trivial is a percent escape of UTF-8. A literal `+` arrives as `%2B`,
/// which is why `+` must be replaced before decoding and not after.
pub fn decode_key(raw: &str) -> Result<String, KeyError> {
    let spaced = raw.replace('+', " ");
    percent_decode_str(&spaced)
        .decode_utf8()
        .map(|k| k.into_owned())
        .map_err(|_| KeyError::InvalidUtf8 { raw: raw.to_owned() })
}

/// One event record, reduced to what the resizer decides on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParsedRecord {
    /// An object was created: the only kind of event that causes work.
    Created { bucket: String, key: String },
    /// Any other event; `key` is decoded where possible, raw otherwise.
    NotCreated { bucket: String, key: String, event_name: String },
    /// A creation whose key cannot be read.
    BadKey { bucket: String, raw_key: String, error: KeyError },
}

pub fn parse_record(record: &S3EventRecord) -> ParsedRecord {
    let bucket = record.s3.bucket.name.clone().unwrap_or_default();
    let raw_key = record.s3.object.key.clone().unwrap_or_default();
    let event_name = record.event_name.clone().unwrap_or_default();
    // Notification configurations say `s3:ObjectCreated:*`, the records
    // themselves say `ObjectCreated:Put`; accept either spelling.
    let created = event_name.strip_prefix("s3:").unwrap_or(&event_name).starts_with("ObjectCreated:");
    let decoded = if raw_key.is_empty() { Err(KeyError::Missing) } else { decode_key(&raw_key) };
    match (created, decoded) {
        (true, Ok(key)) => ParsedRecord::Created { bucket, key },
        (true, Err(error)) => ParsedRecord::BadKey { bucket, raw_key, error },
        (false, decoded) => ParsedRecord::NotCreated { bucket, key: decoded.unwrap_or(raw_key), event_name },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lambda_events::s3::S3Event;

    #[test]
    fn plus_is_a_space() {
        assert_eq!(decode_key("my+photo.jpg").unwrap(), "my photo.jpg");
    }

    #[test]
    fn percent_twenty_is_a_space() {
        assert_eq!(decode_key("Happy%20Face.jpg").unwrap(), "Happy Face.jpg");
    }

    #[test]
    fn encoded_plus_stays_a_plus() {
        assert_eq!(decode_key("a%2Bb+c.png").unwrap(), "a+b c.png");
    }

    #[test]
    fn utf8_escapes_decode() {
        assert_eq!(decode_key("artwork/my+caf%C3%A9+photo.jpg").unwrap(), "artwork/my café photo.jpg");
        assert_eq!(decode_key("%E6%97%A5%E6%9C%AC.png").unwrap(), "日本.png");
        assert_eq!(decode_key("plain/key.png").unwrap(), "plain/key.png");
    }

    #[test]
    fn invalid_utf8_is_an_error_not_a_panic() {
        assert_eq!(decode_key("bad%C3.jpg"), Err(KeyError::InvalidUtf8 { raw: "bad%C3.jpg".into() }));
        assert!(decode_key("%FF%FE").is_err());
        // A stray `%` without hex digits is kept literally, as S3 would never
        // send it but a person might.
        assert_eq!(decode_key("100%.png").unwrap(), "100%.png");
    }

    fn event(event_name: &str, bucket: &str, key: &str) -> S3Event {
        serde_json::from_value(serde_json::json!({
            "Records": [{
                "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "eu-west-1",
                "eventTime": "2026-11-25T10:00:00.000Z", "eventName": event_name,
                "userIdentity": {"principalId": "AWS:EXAMPLE"},
                "requestParameters": {"sourceIPAddress": "127.0.0.1"},
                "responseElements": {"x-amz-request-id": "1", "x-amz-id-2": "2"},
                "s3": {
                    "s3SchemaVersion": "1.0", "configurationId": "resize",
                    "bucket": {"name": bucket, "ownerIdentity": {"principalId": "EXAMPLE"}, "arn": format!("arn:aws:s3:::{bucket}")},
                    "object": {"key": key, "size": 1024, "eTag": "d41d8cd98f00b204e9800998ecf8427e", "sequencer": "0A1B2C3D4E5F678901"}
                }
            }]
        }))
        .unwrap()
    }

    #[test]
    fn created_records_are_decoded() {
        let e = event("ObjectCreated:Put", "originals", "artwork/my+caf%C3%A9+photo.jpg");
        assert_eq!(
            parse_record(&e.records[0]),
            ParsedRecord::Created { bucket: "originals".into(), key: "artwork/my café photo.jpg".into() }
        );
        let e = event("s3:ObjectCreated:CompleteMultipartUpload", "originals", "a.png");
        assert!(matches!(parse_record(&e.records[0]), ParsedRecord::Created { .. }));
    }

    #[test]
    fn other_events_are_not_creations() {
        let e = event("ObjectRemoved:Delete", "originals", "a%20b.png");
        assert_eq!(
            parse_record(&e.records[0]),
            ParsedRecord::NotCreated {
                bucket: "originals".into(),
                key: "a b.png".into(),
                event_name: "ObjectRemoved:Delete".into()
            }
        );
    }

    #[test]
    fn undecodable_keys_are_reported() {
        let e = event("ObjectCreated:Put", "originals", "bad%C3.jpg");
        assert!(matches!(
            parse_record(&e.records[0]),
            ParsedRecord::BadKey { error: KeyError::InvalidUtf8 { .. }, .. }
        ));
        let e = event("ObjectCreated:Put", "originals", "");
        assert!(matches!(parse_record(&e.records[0]), ParsedRecord::BadKey { error: KeyError::Missing, .. }));
    }
}
