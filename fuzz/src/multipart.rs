//! The upload's multipart receiver, on any body.

use std::{
    convert::Infallible,
    pin::Pin,
    task::{Context, Poll},
};

use bytes::Bytes;
use futures_util::Stream;

use app::{FileRefused, Files, ReceiveError, Received, drain_cap, receive, sanitize_filename};

/// `easel_app::receive`, compiled from its own source file
/// (multer, bytes, memchr and thiserror only), as `policy.rs` does and for
/// the same reasons.
#[path = "../../app/src/receive.rs"]
pub mod app;

/// The boundary every fuzzed body is read with (the seeds and the
/// dictionary use it).
pub const BOUNDARY: &str = "EaselFuzzBoundary";

/// Input: one byte choosing the file limit, one choosing how the network
/// cuts the body, then the body. Properties:
/// - reading never panics and pulls at most the body limit plus one chunk;
/// - a file received is non-empty, within the limit, and named as
///   `sanitize_filename` leaves names;
/// - the outcome does not depend on how the body was cut into chunks;
/// - a well-formed body built around the same bytes as the file gives
///   back exactly those bytes, or the refusal their size calls for.
pub fn multipart(data: &[u8]) {
    let [limit_byte, cut_byte, body @ ..] = data else { return };
    let limit = u64::from(*limit_byte) * 64;
    let cut = 1 + usize::from(*cut_byte);

    let whole = read(body, body.len().max(1), limit);
    let cut_up = read(body, cut, limit);
    for (outcome, chunk) in [(&whole, body.len().max(1)), (&cut_up, cut)] {
        assert!(
            outcome.pulled <= drain_cap(limit) + chunk as u64,
            "pulled {} bytes with a body limit of {}",
            outcome.pulled,
            drain_cap(limit)
        );
        if let Ok(file) = &outcome.result {
            assert!(!file.bytes.is_empty() && file.bytes.len() as u64 <= limit, "{} bytes received", file.bytes.len());
            assert_eq!(sanitize_filename(&file.filename).as_deref(), Some(file.filename.as_str()));
        }
    }
    // Past the body limit, which condition is met first depends on where the
    // chunks end; below it, nothing may.
    if body.len() as u64 <= drain_cap(limit) {
        assert_eq!(summary(&whole.result), summary(&cut_up.result), "one chunk and chunks of {cut} differ");
    }

    // Several files, one at a time: each judged alone, named as stored
    // names are, and the same whatever the chunks.
    let all = every_file(body, body.len().max(1), limit);
    if let Ok(files) = &all {
        for file in files {
            let name: &str = match file {
                Ok(f) => {
                    assert!(!f.bytes.is_empty() && f.bytes.len() as u64 <= limit);
                    &f.filename
                }
                Err(refused) => refused.filename(),
            };
            assert_eq!(sanitize_filename(name).as_deref(), Some(name));
        }
    }
    if body.len() as u64 <= drain_cap(limit) {
        assert_eq!(all, every_file(body, cut, limit), "files: one chunk and chunks of {cut} differ");
    }

    round_trip(body, limit, cut);
}

type EveryFile = Result<Vec<Result<Received, FileRefused>>, std::mem::Discriminant<ReceiveError>>;

fn every_file(body: &[u8], chunk: usize, limit: u64) -> EveryFile {
    let network = Network {
        chunks: body.chunks(chunk).map(Bytes::copy_from_slice).collect::<Vec<_>>().into_iter(),
        pulled: Default::default(),
        waited: false,
    };
    let mut files = Files::new(network, BOUNDARY, limit, drain_cap(limit));
    futures_executor::block_on(async {
        let mut all = Vec::new();
        while let Some(file) = files.next().await.map_err(|e| std::mem::discriminant(&e))? {
            all.push(file);
        }
        Ok(all)
    })
}

fn round_trip(file: &[u8], limit: u64, cut: usize) {
    let closing = format!("\r\n--{BOUNDARY}");
    if memchr::memmem::find(file, closing.as_bytes()).is_some() {
        return;
    }
    let mut body = Vec::new();
    body.extend_from_slice(
        format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n").as_bytes(),
    );
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{}\"; filename=\"art.png\"\r\nContent-Type: image/png\r\n\r\n",
            app::UPLOAD_FIELD
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    let got = read(&body, cut, limit).result;
    match got {
        _ if body.len() as u64 > drain_cap(limit) => {
            assert!(matches!(got, Err(ReceiveError::TooLarge { .. })), "{got:?}")
        }
        Ok(received) => {
            assert_eq!(received.filename, "art.png");
            assert_eq!(&received.bytes[..], file, "the file came back changed");
        }
        Err(ReceiveError::EmptyFile) => assert!(file.is_empty()),
        Err(ReceiveError::TooLarge { .. }) => assert!(file.len() as u64 > limit),
        Err(e) => panic!("a well-formed body of {} bytes was refused: {e}", body.len()),
    }
}

struct Outcome {
    result: Result<Received, ReceiveError>,
    pulled: u64,
}

fn read(body: &[u8], chunk: usize, limit: u64) -> Outcome {
    let counter = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let network = Network {
        chunks: body.chunks(chunk).map(Bytes::copy_from_slice).collect::<Vec<_>>().into_iter(),
        pulled: counter.clone(),
        waited: false,
    };
    let result = futures_executor::block_on(receive(network, BOUNDARY, limit));
    Outcome { result, pulled: counter.load(std::sync::atomic::Ordering::Relaxed) }
}

/// What must not depend on the chunks: the file, or which refusal.
fn summary(result: &Result<Received, ReceiveError>) -> Result<&Received, std::mem::Discriminant<ReceiveError>> {
    result.as_ref().map_err(std::mem::discriminant)
}

/// A body as a network delivers it: in chunks, each one after a wait, so
/// the parser works on partial input between them as it does in the server.
struct Network {
    chunks: std::vec::IntoIter<Bytes>,
    pulled: std::sync::Arc<std::sync::atomic::AtomicU64>,
    waited: bool,
}

impl Stream for Network {
    type Item = Result<Bytes, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if !self.waited {
            self.waited = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        self.waited = false;
        let next = self.chunks.next();
        if let Some(chunk) = &next {
            self.pulled.fetch_add(chunk.len() as u64, std::sync::atomic::Ordering::Relaxed);
        }
        Poll::Ready(next.map(Ok))
    }
}
