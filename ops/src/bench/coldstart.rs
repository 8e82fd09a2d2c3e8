//! The `bootstrap` binary's cold start: from starting the process to the
//! Runtime API receiving the response to its first event, the way Lambda
//! would run it. The event is an S3 record the resizer skips without
//! touching S3 (an object removal), so the figure is start-up plus one
//! round trip through the handler, with no network beyond loopback.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::process::Command;
use tokio::sync::mpsc;

const EVENT: &str = r#"{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"eu-west-1","eventTime":"2026-11-25T10:15:30.123Z","eventName":"ObjectRemoved:Delete","userIdentity":{"principalId":"AWS:BENCH"},"requestParameters":{"sourceIPAddress":"127.0.0.1"},"responseElements":{"x-amz-request-id":"BENCH","x-amz-id-2":"BENCH"},"s3":{"s3SchemaVersion":"1.0","configurationId":"easel-resize","bucket":{"name":"easel-originals","ownerIdentity":{"principalId":"BENCH"},"arn":"arn:aws:s3:::easel-originals"},"object":{"key":"artwork/bench.jpg","size":1,"eTag":"0123456789abcdef0123456789abcdef","sequencer":"0055AED6DCD90281E5"}}}]}"#;

enum Reply {
    Response,
    Failed(String),
}

/// One request off a keep-alive connection: method, path and body.
async fn read_request(reader: &mut BufReader<TcpStream>) -> anyhow::Result<Option<(String, String, Vec<u8>)>> {
    let mut line = String::new();
    if reader.read_line(&mut line).await? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or("").to_owned(), parts.next().unwrap_or("").to_owned());
    let mut length = 0usize;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).await? == 0 || header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.trim().eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).await?;
    Ok(Some((method, path, body)))
}

async fn serve(
    stream: TcpStream,
    replies: mpsc::UnboundedSender<Reply>,
    handed_out: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> anyhow::Result<()> {
    let mut reader = BufReader::new(stream);
    while let Some((method, path, body)) = read_request(&mut reader).await? {
        if method == "GET" && path.ends_with("/invocation/next") {
            if handed_out.swap(true, std::sync::atomic::Ordering::SeqCst) {
                // Like the real API, `next` blocks until there is work; there
                // will be none, and the process is stopped.
                std::future::pending::<()>().await;
            }
            let deadline = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis() + 300_000;
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nLambda-Runtime-Aws-Request-Id: bench-1\r\n\
                 Lambda-Runtime-Deadline-Ms: {deadline}\r\n\
                 Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:eu-west-1:123456789012:function:easel-resizer\r\n\
                 Lambda-Runtime-Trace-Id: Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700\r\nContent-Length: {}\r\n\r\n",
                EVENT.len()
            );
            reader.get_mut().write_all(head.as_bytes()).await?;
            reader.get_mut().write_all(EVENT.as_bytes()).await?;
        } else {
            reader.get_mut().write_all(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n").await?;
            let reply = if path.ends_with("/response") {
                Reply::Response
            } else {
                Reply::Failed(String::from_utf8_lossy(&body).into_owned())
            };
            let _ = replies.send(reply);
        }
    }
    Ok(())
}

/// Time from spawning `bootstrap` (pinned to core 0) to its first response.
pub async fn once(bootstrap: &Path) -> anyhow::Result<Duration> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let handed_out = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let server = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(serve(stream, tx.clone(), handed_out.clone()));
        }
    });
    let started = Instant::now();
    let mut child = Command::new("taskset")
        .args(["-c", "0"])
        .arg(bootstrap)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "easel-resizer")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_REGION", "eu-west-1")
        // Never reached (the event needs no S3), but it keeps the SDK off
        // the real credential chain.
        .env("EASEL_AWS_ENDPOINT", "http://127.0.0.1:9")
        .env("EASEL_ORIGINALS_BUCKET", "easel-originals")
        .env("EASEL_RESIZED_BUCKET", "easel-resized")
        .env("EASEL_BACKUP_BUCKET", "easel-backup")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {}", bootstrap.display()))?;
    let reply = tokio::time::timeout(Duration::from_secs(30), rx.recv()).await;
    let elapsed = started.elapsed();
    let _ = child.start_kill();
    let status = child.wait().await;
    server.abort();
    match reply {
        Ok(Some(Reply::Response)) => Ok(elapsed),
        Ok(Some(Reply::Failed(body))) => bail!("bootstrap reported an error: {body}"),
        _ => {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = e.read_to_string(&mut err).await;
            }
            bail!("bootstrap answered nothing within 30 s ({status:?}): {err}")
        }
    }
}
