//! Runs the real `bootstrap` binary against a Lambda Runtime API served by
//! this test and against a real moto S3 server, the way Lambda would.

use std::collections::VecDeque;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use easel_resizer::image::ImageFormat;
use easel_resizer::keys::{manifest_key, rendition_key};
use easel_resizer::manifest::Manifest;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::{Notify, mpsc};

const REGION: &str = "eu-west-1";
const WAIT: Duration = Duration::from_secs(120);

fn endpoint() -> String {
    match std::env::var("EASEL_AWS_ENDPOINT") {
        Ok(e) if !e.trim().is_empty() => e.trim().to_owned(),
        _ => panic!(
            "this test needs a real S3 emulator: run through `cargo ops test`, \
             or set EASEL_AWS_ENDPOINT to a running moto server"
        ),
    }
}

// ---------------------------------------------------------------------------
// A Lambda Runtime API: hands out queued events, collects what comes back.

#[derive(Debug)]
enum Reply {
    Response(Value),
    Error(String),
    InitError(String),
}

#[derive(Clone)]
struct RuntimeApi {
    queue: Arc<Mutex<VecDeque<(String, Value)>>>,
    queued: Arc<Notify>,
    replies: mpsc::UnboundedSender<(String, Reply)>,
}

async fn next(State(api): State<RuntimeApi>) -> impl IntoResponse {
    // Like the real API, `next` blocks until there is an invocation.
    loop {
        let notified = api.queued.notified();
        if let Some((id, event)) = api.queue.lock().unwrap().pop_front() {
            let deadline = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() + 300_000;
            let mut headers = HeaderMap::new();
            headers.insert("Lambda-Runtime-Aws-Request-Id", HeaderValue::from_str(&id).unwrap());
            headers.insert("Lambda-Runtime-Deadline-Ms", HeaderValue::from_str(&deadline.to_string()).unwrap());
            headers.insert(
                "Lambda-Runtime-Invoked-Function-Arn",
                HeaderValue::from_static("arn:aws:lambda:eu-west-1:123456789012:function:easel-resizer"),
            );
            headers.insert(
                "Lambda-Runtime-Trace-Id",
                HeaderValue::from_static("Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700"),
            );
            headers.insert("Content-Type", HeaderValue::from_static("application/json"));
            return (StatusCode::OK, headers, event.to_string());
        }
        notified.await;
    }
}

async fn response(State(api): State<RuntimeApi>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    let value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let _ = api.replies.send((id, Reply::Response(value)));
    StatusCode::ACCEPTED
}

async fn error(State(api): State<RuntimeApi>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    let _ = api.replies.send((id, Reply::Error(String::from_utf8_lossy(&body).into_owned())));
    StatusCode::ACCEPTED
}

async fn init_error(State(api): State<RuntimeApi>, body: Bytes) -> StatusCode {
    let _ = api.replies.send((String::new(), Reply::InitError(String::from_utf8_lossy(&body).into_owned())));
    StatusCode::ACCEPTED
}

/// The runtime API, the `bootstrap` process it serves and that process's
/// stdout lines.
struct Lambda {
    api: RuntimeApi,
    replies: mpsc::UnboundedReceiver<(String, Reply)>,
    lines: mpsc::UnboundedReceiver<String>,
    child: Child,
    invocations: u32,
}

impl Lambda {
    async fn start(buckets: &Buckets, backup_bucket: &str) -> Lambda {
        let (tx, replies) = mpsc::unbounded_channel();
        let api = RuntimeApi { queue: Default::default(), queued: Default::default(), replies: tx };
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route("/2018-06-01/runtime/invocation/{id}/response", post(response))
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(api.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });

        let mut child = Command::new(env!("CARGO_BIN_EXE_bootstrap"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", "easel-resizer")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/easel-resizer")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "2026/11/25/[$LATEST]test")
            .env("AWS_REGION", REGION)
            .env("EASEL_AWS_ENDPOINT", endpoint())
            .env("EASEL_ORIGINALS_BUCKET", &buckets.originals)
            .env("EASEL_RESIZED_BUCKET", &buckets.resized)
            .env("EASEL_BACKUP_BUCKET", backup_bucket)
            .env("EASEL_RENDITIONS", "thumb=400,display=1600")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("start the bootstrap binary");
        let stdout = child.stdout.take().unwrap();
        let (line_tx, lines) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut reader = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = reader.next_line().await {
                let _ = line_tx.send(line);
            }
        });
        Lambda { api, replies, lines, child, invocations: 0 }
    }

    /// Delivers one event and returns the runtime's reply plus the log line
    /// the function printed for each record.
    async fn invoke(&mut self, event: &Value) -> (Reply, Vec<Value>) {
        self.invocations += 1;
        let id = format!("req-{}", self.invocations);
        self.api.queue.lock().unwrap().push_back((id.clone(), event.clone()));
        self.api.queued.notify_waiters();
        let (reply_id, reply) = tokio::time::timeout(WAIT, self.replies.recv())
            .await
            .expect("the function answered in time")
            .expect("runtime API alive");
        if let Reply::InitError(e) = &reply {
            panic!("bootstrap failed to start: {e}");
        }
        assert_eq!(reply_id, id);
        let records = event["Records"].as_array().map_or(0, Vec::len);
        let mut logged = Vec::new();
        while logged.len() < records {
            let line =
                tokio::time::timeout(WAIT, self.lines.recv()).await.expect("log line in time").expect("stdout open");
            let value: Value =
                serde_json::from_str(&line).unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {line}"));
            logged.push(value);
        }
        assert!(self.child.try_wait().unwrap().is_none(), "bootstrap must keep running after every invocation");
        (reply, logged)
    }
}

// ---------------------------------------------------------------------------
// S3 side.

struct Buckets {
    originals: String,
    resized: String,
    backup: String,
}

async fn s3() -> Client {
    let endpoint = endpoint();
    let cfg = easel_resizer::aws::sdk_config(Some(&endpoint), REGION).await;
    easel_resizer::aws::s3_client(&cfg, true)
}

async fn make_buckets(s3: &Client) -> Buckets {
    let run = uuid::Uuid::new_v4().simple().to_string();
    let buckets = Buckets {
        originals: format!("easel-it-{}-originals", &run[..12]),
        resized: format!("easel-it-{}-resized", &run[..12]),
        backup: format!("easel-it-{}-backup", &run[..12]),
    };
    for name in [&buckets.originals, &buckets.resized, &buckets.backup] {
        s3.create_bucket()
            .bucket(name)
            .create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(REGION))
                    .build(),
            )
            .send()
            .await
            .unwrap_or_else(|e| {
                panic!("create bucket {name} at {}: {}", endpoint(), aws_sdk_s3::error::DisplayErrorContext(&e))
            });
    }
    buckets
}

async fn upload(s3: &Client, bucket: &str, key: &str, bytes: Vec<u8>) -> String {
    let out = s3.put_object().bucket(bucket).key(key).body(ByteStream::from(bytes)).send().await.unwrap();
    out.e_tag().unwrap().trim_matches('"').to_owned()
}

async fn get_object(s3: &Client, bucket: &str, key: &str) -> aws_sdk_s3::operation::get_object::GetObjectOutput {
    s3.get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap_or_else(|e| panic!("get s3://{bucket}/{key}: {}", aws_sdk_s3::error::DisplayErrorContext(&e)))
}

/// Keys in S3 event notifications are form-encoded: space as `+`, other
/// reserved and non-ASCII bytes as `%XX`, `/` left alone.
fn s3_event_key(key: &str) -> String {
    const KEEP: &AsciiSet = &NON_ALPHANUMERIC.remove(b'/').remove(b'-').remove(b'_').remove(b'.').remove(b'*');
    utf8_percent_encode(key, KEEP).to_string().replace("%20", "+")
}

fn record(event_name: &str, bucket: &str, key: &str, size: usize) -> Value {
    json!({
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": REGION,
        "eventTime": "2026-11-25T10:15:30.123Z",
        "eventName": event_name,
        "userIdentity": {"principalId": "AWS:AIDAEXAMPLEEXAMPLE"},
        "requestParameters": {"sourceIPAddress": "203.0.113.7"},
        "responseElements": {"x-amz-request-id": "C3D13FE58DE4C810", "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "easel-resize",
            "bucket": {"name": bucket, "ownerIdentity": {"principalId": "A3NL1KOZZKExample"}, "arn": format!("arn:aws:s3:::{bucket}")},
            "object": {"key": s3_event_key(key), "size": size, "eTag": "0123456789abcdef0123456789abcdef", "sequencer": "0055AED6DCD90281E5"}
        }
    })
}

// ---------------------------------------------------------------------------
// Images.

/// A 2000×1000 photo-like JPEG whose EXIF says "rotate 90° clockwise", so it
/// displays as 1000×2000.
fn rotated_photo() -> Vec<u8> {
    let (w, h) = (2000u16, 1000u16);
    let data: Vec<u8> = (0..u32::from(w) * u32::from(h))
        .flat_map(|i| {
            let (x, y) = (i % u32::from(w), i / u32::from(w));
            [(x * 255 / 2000) as u8, (y * 255 / 1000) as u8, ((x + y) % 256) as u8]
        })
        .collect();
    // TIFF, big-endian, one IFD entry: Orientation = 6.
    let exif =
        [b"MM\0\x2A\0\0\0\x08".as_slice(), &[0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0], &[0, 0, 0, 0]].concat();
    let mut out = Vec::new();
    let mut enc = jpeg_encoder::Encoder::new(&mut out, 90);
    enc.add_exif_metadata(&exif).unwrap();
    enc.encode(&data, w, h, jpeg_encoder::ColorType::Rgb).unwrap();
    out
}

/// 500×300 RGBA with a transparent band.
fn transparent_logo() -> Vec<u8> {
    let (w, h) = (500u32, 300u32);
    let data: Vec<u8> = (0..w * h).flat_map(|i| [200, 30, 90, if i % w < 100 { 0 } else { 255 }]).collect();
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgba);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header().unwrap();
        writer.write_image_data(&data).unwrap();
        writer.finish().unwrap();
    }
    out
}

struct Expected {
    key: &'static str,
    etag: String,
    format: ImageFormat,
    thumb: (u32, u32),
    display: (u32, u32),
}

async fn assert_renditions(s3: &Client, buckets: &Buckets, e: &Expected) {
    for bucket in [&buckets.resized, &buckets.backup] {
        let out = get_object(s3, bucket, &manifest_key(e.key)).await;
        assert_eq!(out.content_type(), Some("application/json"));
        let manifest = Manifest::from_json(&out.body.collect().await.unwrap().into_bytes()).unwrap();
        assert_eq!(manifest.source_key, e.key);
        assert_eq!(manifest.source_etag, e.etag);
        assert_eq!(manifest.renditions.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), ["thumb", "display"]);
        for (entry, dims) in manifest.renditions.iter().zip([e.thumb, e.display]) {
            assert_eq!(entry.key, rendition_key(e.key, &entry.name, e.format));
            assert_eq!((entry.width, entry.height), dims, "{} in {bucket}", entry.key);
            assert_eq!(entry.content_type, e.format.content_type());
            let obj = get_object(s3, bucket, &entry.key).await;
            assert_eq!(obj.content_type(), Some(e.format.content_type()));
            assert_eq!(obj.cache_control(), Some("public, max-age=31536000, immutable"));
            assert_eq!(obj.metadata().and_then(|m| m.get("source-etag")).map(String::as_str), Some(e.etag.as_str()));
            let bytes = obj.body.collect().await.unwrap().into_bytes();
            assert_eq!(bytes.len() as u64, entry.bytes);
            assert_eq!(ImageFormat::sniff(&bytes), Some(e.format));
            let img = image::load_from_memory(&bytes).unwrap();
            assert_eq!((img.width(), img.height()), dims);
        }
    }
}

fn events(logged: &[Value]) -> Vec<(&str, &str)> {
    logged.iter().map(|v| (v["event"].as_str().unwrap(), v["key"].as_str().unwrap())).collect()
}

// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resizes_uploads_into_both_buckets_and_redelivery_is_a_no_op() {
    let s3 = s3().await;
    let buckets = make_buckets(&s3).await;

    let photo_key = "artwork/my café photo.jpg";
    let logo_key = "artwork/logo+mark (final).png";
    let broken_key = "artwork/broken upload.jpg";
    let photo = rotated_photo();
    let logo = transparent_logo();
    let broken = photo[..photo.len() / 2].to_vec();
    let sizes = (photo.len(), logo.len(), broken.len());
    let photo_etag = upload(&s3, &buckets.originals, photo_key, photo).await;
    let logo_etag = upload(&s3, &buckets.originals, logo_key, logo).await;
    upload(&s3, &buckets.originals, broken_key, broken).await;

    let event = json!({"Records": [
        record("ObjectCreated:Put", &buckets.originals, photo_key, sizes.0),
        record("ObjectCreated:Put", &buckets.originals, broken_key, sizes.2),
        record("ObjectCreated:CompleteMultipartUpload", &buckets.originals, logo_key, sizes.1),
        // Our own output arriving as a trigger must never be processed.
        record("ObjectCreated:Put", &buckets.resized, "artwork/my café photo/thumb.jpg", 10),
        record("ObjectRemoved:Delete", &buckets.originals, photo_key, 0),
    ]});
    assert!(event["Records"][0]["s3"]["object"]["key"].as_str().unwrap().contains("my+caf%C3%A9+photo.jpg"));
    assert!(event["Records"][2]["s3"]["object"]["key"].as_str().unwrap().contains("logo%2Bmark+%28final%29.png"));

    let mut lambda = Lambda::start(&buckets, &buckets.backup).await;
    let (reply, logged) = lambda.invoke(&event).await;

    // A corrupt image is not worth a retry, so the invocation succeeds.
    let Reply::Response(body) = reply else { panic!("expected a response, got {reply:?}") };
    assert_eq!(body["records"].as_array().unwrap().len(), 5);
    assert_eq!(
        events(&logged),
        [
            ("resized", photo_key),
            ("failed", broken_key),
            ("resized", logo_key),
            ("skipped", "artwork/my café photo/thumb.jpg"),
            ("skipped", photo_key)
        ]
    );
    assert_eq!(logged[0]["level"], "INFO");
    assert_eq!(logged[1]["level"], "ERROR");
    assert_eq!(logged[1]["retryable"], false);
    assert_eq!(
        logged[1]["reason"].as_str().unwrap().split(" (").next(),
        Some("The image file is damaged or incomplete.")
    );
    assert_eq!(logged[3]["level"], "WARN");
    assert_eq!(logged[3]["bucket"], buckets.resized.as_str());

    let photo = Expected {
        key: photo_key,
        etag: photo_etag,
        format: ImageFormat::Jpeg,
        thumb: (200, 400),
        display: (800, 1600),
    };
    let logo =
        Expected { key: logo_key, etag: logo_etag, format: ImageFormat::Png, thumb: (400, 240), display: (500, 300) };
    assert_renditions(&s3, &buckets, &photo).await;
    assert_renditions(&s3, &buckets, &logo).await;
    let listed = s3.list_objects_v2().bucket(&buckets.resized).send().await.unwrap();
    assert_eq!(
        listed.key_count(),
        Some(6),
        "two renditions and a manifest per good original, nothing for the broken one"
    );

    // Replace one rendition with a marker: if the re-delivery wrote
    // anything, the marker would be gone.
    let thumb_key = rendition_key(photo_key, "thumb", ImageFormat::Jpeg);
    upload(&s3, &buckets.resized, &thumb_key, b"marker".to_vec()).await;

    let (reply, logged) = lambda.invoke(&event).await;
    assert!(matches!(reply, Reply::Response(_)), "{reply:?}");
    assert_eq!(events(&logged)[..3], [("already_done", photo_key), ("failed", broken_key), ("already_done", logo_key)]);
    let marker = get_object(&s3, &buckets.resized, &thumb_key).await.body.collect().await.unwrap().into_bytes();
    assert_eq!(&marker[..], b"marker", "a re-delivered event must not write anything");

    // An original replaced in place has a new ETag, so it is resized again;
    // this time it is transparent, so the renditions become PNGs.
    let new_etag = upload(&s3, &buckets.originals, photo_key, transparent_logo()).await;
    let replaced =
        Expected { etag: new_etag, format: ImageFormat::Png, thumb: (400, 240), display: (500, 300), ..photo };
    let (_, logged) =
        lambda.invoke(&json!({"Records": [record("ObjectCreated:Put", &buckets.originals, photo_key, 1)]})).await;
    assert_eq!(events(&logged), [("resized", photo_key)]);
    assert_renditions(&s3, &buckets, &replaced).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_failure_makes_the_invocation_fail_so_lambda_retries() {
    let s3 = s3().await;
    let buckets = make_buckets(&s3).await;
    let key = "artwork/retry me.png";
    let size = transparent_logo().len();
    upload(&s3, &buckets.originals, key, transparent_logo()).await;
    // The backup bucket named in the configuration does not exist.
    let missing_backup = format!("{}-missing", buckets.backup);
    let mut lambda = Lambda::start(&buckets, &missing_backup).await;

    let event = json!({"Records": [record("ObjectCreated:Put", &buckets.originals, key, size)]});
    let (reply, logged) = lambda.invoke(&event).await;
    let Reply::Error(body) = reply else { panic!("expected an invocation error, got {reply:?}") };
    assert!(body.contains("retry"), "{body}");
    assert_eq!(events(&logged), [("failed", key)]);
    assert_eq!(logged[0]["level"], "ERROR");
    assert_eq!(logged[0]["retryable"], true);
    assert!(logged[0]["reason"].as_str().unwrap().contains(&missing_backup), "{}", logged[0]);
    // Nothing claims completion while the backup copy is missing.
    let manifest = s3.get_object().bucket(&buckets.resized).key(manifest_key(key)).send().await;
    assert!(manifest.is_err(), "no manifest may exist after a failed run");

    // The function survived the failed invocation and serves the next one:
    // an original that vanished is a permanent failure, not a retry.
    let gone = json!({"Records": [record("ObjectCreated:Put", &buckets.originals, "artwork/never uploaded.jpg", 10)]});
    let (reply, logged) = lambda.invoke(&gone).await;
    assert!(matches!(reply, Reply::Response(_)), "{reply:?}");
    assert_eq!(logged[0]["event"], "failed");
    assert_eq!(logged[0]["retryable"], false);
    assert_eq!(logged[0]["reason"], "the original no longer exists");
}

#[tokio::test]
async fn missing_configuration_stops_start_up_naming_the_variable() {
    let out = Command::new(env!("CARGO_BIN_EXE_bootstrap"))
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:1")
        .env("AWS_LAMBDA_FUNCTION_NAME", "easel-resizer")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("EASEL_ORIGINALS_BUCKET", "originals")
        .env("EASEL_RESIZED_BUCKET", "resized")
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("EASEL_BACKUP_BUCKET is not set"), "{stderr}");
}
