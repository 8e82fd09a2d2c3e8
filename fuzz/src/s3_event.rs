//! S3 event records as the resizer reads them, and their form-encoded keys.

use aws_lambda_events::s3::S3Event;
use easel_resizer::event::{KeyError, ParsedRecord, decode_key, parse_record};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// What S3 leaves as it is in an event's key: letters, digits, `-._*` and
/// the `/` between segments. Spaces become `+`, everything else `%XX`.
const KEPT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'*').remove(b'/');

/// A key as S3 writes it into an event notification.
pub fn encode_key(key: &str) -> String {
    // A literal "%20" in the key is itself encoded ("%2520"), so only spaces
    // become "+".
    utf8_percent_encode(key, KEPT).to_string().replace("%20", "+")
}

/// The input as a raw key, and as an event document: decoding never panics,
/// any key survives S3's encoding and our decoding unchanged, and each
/// record's verdict agrees with its event name and key.
pub fn s3_event(data: &[u8]) {
    check_key(&String::from_utf8_lossy(data));
    let Ok(event) = serde_json::from_slice::<S3Event>(data) else { return };
    for record in &event.records {
        let raw = record.s3.object.key.clone().unwrap_or_default();
        check_key(&raw);
        let name = record.event_name.clone().unwrap_or_default();
        let created = name.strip_prefix("s3:").unwrap_or(&name).starts_with("ObjectCreated:");
        let bucket_name = record.s3.bucket.name.clone().unwrap_or_default();
        match parse_record(record) {
            ParsedRecord::Created { bucket, key } => {
                assert!(created, "`{name}` read as a creation");
                assert_eq!(bucket, bucket_name);
                assert_eq!(Ok(key), decode_key(&raw), "the key of `{raw}`");
            }
            ParsedRecord::BadKey { bucket, raw_key, error } => {
                assert!(created, "`{name}` read as a creation");
                assert_eq!(bucket, bucket_name);
                assert_eq!(raw_key, raw);
                if raw.is_empty() {
                    assert_eq!(error, KeyError::Missing);
                } else {
                    assert_eq!(Err(error), decode_key(&raw), "the key error of `{raw}`");
                }
            }
            ParsedRecord::NotCreated { bucket, key, event_name } => {
                assert!(!created, "`{name}` not read as a creation");
                assert_eq!(bucket, bucket_name);
                assert_eq!(event_name, name);
                assert_eq!(key, decode_key(&raw).unwrap_or(raw));
            }
        }
    }
}

fn check_key(raw: &str) {
    match decode_key(raw) {
        // What we decode, S3 would have sent encoded; that decodes the same.
        Ok(key) => assert_eq!(decode_key(&encode_key(&key)).as_deref(), Ok(key.as_str()), "`{raw}` decoded"),
        Err(KeyError::InvalidUtf8 { raw: r }) => assert_eq!(r, raw, "the error names the raw key"),
        Err(KeyError::Missing) => panic!("decode_key(`{raw}`) said Missing; only records lack keys"),
    }
    // Any key a merchant's upload could have comes back unchanged.
    assert_eq!(decode_key(&encode_key(raw)).as_deref(), Ok(raw), "`{raw}` as S3 encodes it: `{}`", encode_key(raw));
}
