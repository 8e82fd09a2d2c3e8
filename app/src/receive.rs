//! Reading an upload's `multipart/form-data` body: the one file field, with
//! our own size limit held while it streams, and a body cut off midway an
//! error, never a shorter file.
//!
//! Parsing is multer's. What it does not bound, we do: its buffer grows
//! until it finds the end of a part's headers (or the first boundary), and
//! it searches that buffer from the start again each time more arrives. A
//! stranger who never ends the headers, sending a little at a time, made it
//! hold everything they sent and scan it over and over: memory without
//! limit and quadratic CPU on the async runtime. So the raw bytes are
//! watched on their way in (`Framing`): a part's headers, and the preamble
//! before the first boundary, may be at most `MAX_FRAMING_BYTES` long.
//!
//! Pure logic over multer and bytes, no axum and no database: the fuzz
//! crate compiles this very file (`fuzz/src/multipart.rs`).

use std::{
    pin::Pin,
    task::{Context, Poll},
};

use bytes::{Bytes, BytesMut};
use futures_util::Stream;
use memchr::memmem;

/// The form field that carries the file.
pub const UPLOAD_FIELD: &str = "artwork";

/// The longest a part's headers (and the preamble before the first
/// boundary) may be. A browser's part headers are a `Content-Disposition`
/// with the file's name and a `Content-Type`: well under 1 KB, and under
/// 2 KB with a 200-character name percent-encoded. Browsers send no preamble.
pub const MAX_FRAMING_BYTES: usize = 16 * 1024;

/// Why an upload's body gave no file.
#[derive(Debug, thiserror::Error)]
pub enum ReceiveError {
    #[error("no file was chosen")]
    NoFile,
    #[error("the file is empty")]
    EmptyFile,
    #[error("the file, or the whole body, is over the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    /// A submission of several files, over its cap in all.
    #[error("the whole body is over its limit of {cap} bytes")]
    BodyTooLarge { cap: u64 },
    /// Cut off, not multipart as the standard says, or built to make the
    /// parser work without end.
    #[error("the body is not a complete multipart form: {0}")]
    Malformed(String),
}

/// The one file of an upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub filename: String,
    pub bytes: Bytes,
}

/// How much of a body we read at most (and drop, past the file) so the
/// browser gets the try-again page instead of a reset connection when the
/// file is over `limit`. Past this we stop reading: that is no longer a
/// merchant's photo.
pub fn drain_cap(limit: u64) -> u64 {
    limit.saturating_mul(4)
}

/// One file field of a submission that cannot be taken, while the fields
/// after it still can: each file is judged on its own.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileRefused {
    #[error("the file is empty")]
    Empty { filename: String },
    #[error("the file is over the limit of {limit} bytes")]
    TooLarge { filename: String, limit: u64 },
}

impl FileRefused {
    pub fn filename(&self) -> &str {
        match self {
            FileRefused::Empty { filename } | FileRefused::TooLarge { filename, .. } => filename,
        }
    }
}

/// The file fields of a `multipart/form-data` body, one at a time as they
/// arrive, so memory holds one file (at most `limit` bytes) plus
/// `MAX_FRAMING_BYTES`, however many files the body carries. The whole body
/// may be at most `body_cap` bytes.
pub struct Files {
    multipart: multer::Multipart<'static>,
    limit: u64,
    body_cap: u64,
}

impl Files {
    pub fn new<S, E>(body: S, boundary: &str, limit: u64, body_cap: u64) -> Self
    where
        S: Stream<Item = Result<Bytes, E>> + Send + 'static,
        E: Into<Box<dyn std::error::Error + Send + Sync>> + 'static,
    {
        let framing = Framing::new(Box::pin(body), boundary);
        let constraints = multer::Constraints::new().size_limit(multer::SizeLimit::new().whole_stream(body_cap));
        Files { multipart: multer::Multipart::with_constraints(framing, boundary, constraints), limit, body_cap }
    }

    /// The next file field: received, or refused on its own. `None` at the
    /// body's end; an error when the body itself is broken or over its cap,
    /// after which nothing more can be read. Other fields are read past.
    pub async fn next(&mut self) -> Result<Option<Result<Received, FileRefused>>, ReceiveError> {
        let (limit, body_cap) = (self.limit, self.body_cap);
        let refused = |e: multer::Error| match e {
            multer::Error::StreamSizeExceeded { .. } => ReceiveError::BodyTooLarge { cap: body_cap },
            // multer says only "failed to read stream"; the cause says why.
            e => ReceiveError::Malformed(match std::error::Error::source(&e) {
                Some(cause) => format!("{e}: {cause}"),
                None => e.to_string(),
            }),
        };
        while let Some(mut field) = self.multipart.next_field().await.map_err(refused)? {
            let wanted = field.name() == Some(UPLOAD_FIELD);
            let filename = sanitize_filename(field.file_name().unwrap_or_default());
            let mut buf = BytesMut::new();
            let mut over_limit = false;
            // Every field is read to its end, wanted or not: that is how the
            // parser gets to the next one.
            while let Some(chunk) = field.chunk().await.map_err(refused)? {
                if !wanted || over_limit {
                    continue;
                }
                if buf.len() as u64 + chunk.len() as u64 > limit {
                    over_limit = true;
                    buf = BytesMut::new();
                    continue;
                }
                buf.extend_from_slice(&chunk);
            }
            if !wanted {
                continue;
            }
            // Browsers send an empty, nameless part when no file was chosen.
            if !over_limit && buf.is_empty() && filename.is_none() {
                continue;
            }
            let filename = filename.unwrap_or_else(|| "artwork".into());
            return Ok(Some(match (over_limit, buf.is_empty()) {
                (true, _) => Err(FileRefused::TooLarge { filename, limit }),
                (false, true) => Err(FileRefused::Empty { filename }),
                (false, false) => Ok(Received { filename, bytes: buf.freeze() }),
            }));
        }
        Ok(None)
    }
}

/// Reads the one file of a `multipart/form-data` body whose boundary is
/// `boundary`: the first file field (the rest of the body is still read, so
/// a broken end is an error). The file may be at most `limit` bytes and the
/// body at most `drain_cap(limit)`; memory held is about the file plus
/// `MAX_FRAMING_BYTES`, whatever the body's shape.
pub async fn receive<S, E>(body: S, boundary: &str, limit: u64) -> Result<Received, ReceiveError>
where
    S: Stream<Item = Result<Bytes, E>> + Send + 'static,
    E: Into<Box<dyn std::error::Error + Send + Sync>> + 'static,
{
    let mut files = Files::new(body, boundary, limit, drain_cap(limit));
    let read = async {
        let first = files.next().await?;
        while files.next().await?.is_some() {}
        Ok(first)
    };
    // One file's body may be read past the file (and dropped) up to the
    // drain cap; past that, it is the file that is too large.
    let first = read.await.map_err(|e| match e {
        ReceiveError::BodyTooLarge { .. } => ReceiveError::TooLarge { limit },
        e => e,
    })?;
    match first {
        None => Err(ReceiveError::NoFile),
        Some(Ok(file)) => Ok(file),
        Some(Err(FileRefused::Empty { .. })) => Err(ReceiveError::EmptyFile),
        Some(Err(FileRefused::TooLarge { limit, .. })) => Err(ReceiveError::TooLarge { limit }),
    }
}

/// The name as the merchant knows it, made safe to store: no directories
/// (old browsers send `C:\fakepath\…`), no control characters, bounded
/// length. It is only ever shown, escaped; keys are made by the server.
pub fn sanitize_filename(raw: &str) -> Option<String> {
    const MAX_CHARS: usize = 200;
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base.chars().filter(|c| !c.is_control()).take(MAX_CHARS).collect();
    let cleaned = cleaned.trim();
    (!cleaned.is_empty()).then(|| cleaned.to_owned())
}

/// The body on its way to multer, watched for framing that never ends.
///
/// It follows the body's shape as multer reads it, with searches that look
/// at each byte once: the preamble runs to the first `--boundary`; after a
/// delimiter, `--` closes the body (what follows is ignored) and anything
/// else starts a part's headers, which run to a blank line; a part's data
/// runs to the next `\r\n--boundary`. Preamble or headers longer than
/// `MAX_FRAMING_BYTES` are an error. The bytes before the point where the
/// limit ran out are still passed on, so multer sees them in order whatever
/// the chunks, and the outcome does not depend on how the network cut the
/// body.
struct Framing<S> {
    inner: Pin<Box<S>>,
    /// `--boundary`, which ends the preamble.
    first: Vec<u8>,
    /// `\r\n--boundary`, which ends a part's data.
    delimiter: Vec<u8>,
    state: Shape,
    /// The last bytes searched, fewer than the pattern's length, so a
    /// pattern the network cut in two is still found.
    tail: Vec<u8>,
    /// The limit ran out: the next poll is an error.
    failed: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// Before the first boundary, with this many bytes seen.
    Preamble(usize),
    /// Just after a delimiter, with this many of the two bytes that say
    /// whether it closes the body.
    AfterDelimiter(usize),
    /// In a part's headers, with this many bytes seen.
    Headers(usize),
    /// In a part's data.
    Data,
    /// After the closing delimiter: ignored by multer, bounded only by
    /// the body's limit.
    Epilogue,
}

const HEADERS_END: &[u8] = b"\r\n\r\n";

impl<S> Framing<S> {
    fn new(inner: Pin<Box<S>>, boundary: &str) -> Self {
        Framing {
            inner,
            first: format!("--{boundary}").into_bytes(),
            delimiter: format!("\r\n--{boundary}").into_bytes(),
            state: Shape::Preamble(0),
            tail: Vec::new(),
            failed: false,
        }
    }

    /// Follows `chunk`; returns how many of its bytes may be passed on: all
    /// of them unless the framing limit ran out inside it.
    fn follow(&mut self, chunk: &[u8]) -> usize {
        let mut at = 0;
        while at < chunk.len() {
            let rest = &chunk[at..];
            match self.state {
                Shape::Preamble(seen) | Shape::Headers(seen) => {
                    let room = MAX_FRAMING_BYTES - seen;
                    let needle = if matches!(self.state, Shape::Preamble(_)) { &self.first[..] } else { HEADERS_END };
                    let found = search(&mut self.tail, needle, rest, room);
                    match found {
                        Some(end) => {
                            self.state = if matches!(self.state, Shape::Preamble(_)) {
                                Shape::AfterDelimiter(0)
                            } else {
                                Shape::Data
                            };
                            self.tail.clear();
                            at += end;
                        }
                        None if rest.len() > room => return at + room,
                        None => {
                            self.state = match self.state {
                                Shape::Preamble(_) => Shape::Preamble(seen + rest.len()),
                                _ => Shape::Headers(seen + rest.len()),
                            };
                            at = chunk.len();
                        }
                    }
                }
                Shape::AfterDelimiter(got) => {
                    let take = (2 - got).min(rest.len());
                    self.tail.extend_from_slice(&rest[..take]);
                    at += take;
                    if got + take < 2 {
                        self.state = Shape::AfterDelimiter(got + take);
                    } else if self.tail == b"--" {
                        self.state = Shape::Epilogue;
                    } else {
                        // Those two bytes (usually the line's CRLF) begin
                        // the headers, and may begin their blank line.
                        self.state = Shape::Headers(2);
                    }
                }
                Shape::Data => match search(&mut self.tail, &self.delimiter, rest, usize::MAX) {
                    Some(end) => {
                        self.state = Shape::AfterDelimiter(0);
                        self.tail.clear();
                        at += end;
                    }
                    None => at = chunk.len(),
                },
                Shape::Epilogue => at = chunk.len(),
            }
        }
        chunk.len()
    }
}

/// Where `needle` ends in `rest`, if it ends within its first `room` bytes,
/// counting a start in `kept`, the bytes searched before. When it is not
/// found, `kept` becomes the last bytes, fewer than the needle, for the next
/// chunk.
fn search(kept: &mut Vec<u8>, needle: &[u8], rest: &[u8], room: usize) -> Option<usize> {
    let rest = &rest[..rest.len().min(room)];
    let overlap = needle.len() - 1;
    // A match that starts in the kept bytes (they hold no whole one).
    let mut junction = kept.clone();
    junction.extend_from_slice(&rest[..rest.len().min(overlap)]);
    if let Some(i) = memmem::find(&junction, needle) {
        return Some(i + needle.len() - kept.len());
    }
    if let Some(i) = memmem::find(rest, needle) {
        return Some(i + needle.len());
    }
    let from = junction.len().saturating_sub(overlap);
    *kept = if rest.len() >= overlap { rest[rest.len() - overlap..].to_vec() } else { junction.split_off(from) };
    None
}

#[derive(Debug, thiserror::Error)]
#[error("a part's headers, or the preamble, run past {MAX_FRAMING_BYTES} bytes")]
struct FramingTooLong;

impl<S, E> Stream for Framing<S>
where
    S: Stream<Item = Result<Bytes, E>>,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Item = Result<Bytes, Box<dyn std::error::Error + Send + Sync>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.failed {
            return Poll::Ready(Some(Err(Box::new(FramingTooLong))));
        }
        match this.inner.as_mut().poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                let pass = this.follow(&chunk);
                if pass == chunk.len() {
                    return Poll::Ready(Some(Ok(chunk)));
                }
                this.failed = true;
                if pass == 0 {
                    return Poll::Ready(Some(Err(Box::new(FramingTooLong))));
                }
                Poll::Ready(Some(Ok(chunk.slice(..pass))))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e.into()))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::{
        convert::Infallible,
        sync::{
            Arc,
            atomic::{AtomicU64, Ordering},
        },
    };

    use super::*;

    const B: &str = "TestBoundary";

    fn form(file: &[u8]) -> Vec<u8> {
        let mut body = format!(
            "--{B}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n\
             --{B}\r\nContent-Disposition: form-data; name=\"artwork\"; filename=\"art.jpg\"\r\n\
             Content-Type: image/jpeg\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(file);
        body.extend_from_slice(format!("\r\n--{B}--\r\n").as_bytes());
        body
    }

    /// Reads `body` cut into `chunk`-byte pieces; also says how many bytes
    /// were taken from it.
    async fn read(body: &[u8], chunk: usize, limit: u64) -> (Result<Received, ReceiveError>, u64) {
        let pulled = Arc::new(AtomicU64::new(0));
        let pieces: Vec<Bytes> = body.chunks(chunk).map(Bytes::copy_from_slice).collect();
        let counted = pulled.clone();
        let stream = futures_util::stream::iter(pieces.into_iter().map(move |p| {
            counted.fetch_add(p.len() as u64, Ordering::Relaxed);
            Ok::<_, Infallible>(p)
        }));
        let result = receive(stream, B, limit).await;
        (result, pulled.load(Ordering::Relaxed))
    }

    #[tokio::test]
    async fn a_browser_form_gives_its_file_however_the_network_cuts_it() {
        let file: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
        let body = form(&file);
        // Every cut from one byte up puts a pattern across two chunks somewhere.
        for chunk in (1..=40).chain([511, 4096, body.len()]) {
            let (got, _) = read(&body, chunk, 4000).await;
            let got = got.unwrap_or_else(|e| panic!("chunks of {chunk}: {e}"));
            assert_eq!((got.filename.as_str(), &got.bytes[..]), ("art.jpg", &file[..]), "chunks of {chunk}");
        }
    }

    #[tokio::test]
    async fn each_refusal_has_its_reason() {
        let (got, _) = read(&form(&[7; 100]), 7, 99).await;
        assert!(matches!(got, Err(ReceiveError::TooLarge { limit: 99 })), "{got:?}");
        let (got, _) = read(&form(b""), 7, 99).await;
        assert!(matches!(got, Err(ReceiveError::EmptyFile)), "{got:?}");
        let nothing_chosen =
            format!("--{B}\r\nContent-Disposition: form-data; name=\"artwork\"; filename=\"\"\r\n\r\n\r\n--{B}--\r\n");
        let (got, _) = read(nothing_chosen.as_bytes(), 5, 99).await;
        assert!(matches!(got, Err(ReceiveError::NoFile)), "{got:?}");
        let body = form(&[7; 100]);
        let (got, _) = read(&body[..body.len() - 20], 5, 200).await;
        assert!(matches!(got, Err(ReceiveError::Malformed(_))), "cut off: {got:?}");
        // The whole body is bounded too, not only the file.
        let mut padded = format!("--{B}\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n").into_bytes();
        padded.extend_from_slice(&[b'x'; 5000]);
        padded.extend_from_slice(&form(&[7; 10]));
        let (got, pulled) = read(&padded, 100, 1000).await;
        assert!(matches!(got, Err(ReceiveError::TooLarge { .. })), "{got:?}");
        assert!(pulled <= drain_cap(1000) + 100, "{pulled}");
    }

    #[tokio::test]
    async fn framing_that_never_ends_is_refused_after_the_framing_limit() {
        let endless_headers = [format!("--{B}\r\nX-Pad: ").into_bytes(), vec![b'a'; 1 << 20]].concat();
        let endless_preamble = vec![b'-'; 1 << 20];
        for (what, body) in [("headers", endless_headers), ("preamble", endless_preamble)] {
            for chunk in [1, 100, 4096, 1 << 20] {
                let (got, pulled) = read(&body, chunk, 1 << 20).await;
                assert!(matches!(got, Err(ReceiveError::Malformed(_))), "{what}, chunks of {chunk}: {got:?}");
                assert!(
                    pulled <= (MAX_FRAMING_BYTES + 100 + chunk) as u64,
                    "{what}, chunks of {chunk}: {pulled} bytes taken"
                );
            }
        }
        // Just within the limit is still a form.
        let pad = MAX_FRAMING_BYTES - 200;
        let long = format!(
            "--{B}\r\nContent-Disposition: form-data; name=\"artwork\"; filename=\"a.jpg\"\r\nX-Pad: {}\r\n\r\nabc\r\n--{B}--\r\n",
            "a".repeat(pad)
        );
        let (got, _) = read(long.as_bytes(), 333, 10_000).await;
        assert_eq!(&got.expect("a long but bounded header").bytes[..], b"abc");
    }

    #[tokio::test]
    async fn a_long_epilogue_is_ignored_as_multer_ignores_it() {
        let body = [form(b"abc"), vec![b'e'; 100_000]].concat();
        let (got, _) = read(&body, 1000, 200_000).await;
        assert_eq!(&got.expect("an epilogue is not framing").bytes[..], b"abc");
    }

    #[test]
    fn filenames_lose_paths_and_control_characters() {
        for (raw, want) in [
            ("photo.jpg", Some("photo.jpg")),
            ("C:\\fakepath\\sunset.png", Some("sunset.png")),
            ("../../etc/passwd", Some("passwd")),
            ("bad\u{0}name\n.jpg", Some("badname.jpg")),
            ("<script>alert(1)</script>.png", Some("script>.png")),
            ("  ", None),
            ("", None),
            ("café ☕.jpeg", Some("café ☕.jpeg")),
        ] {
            assert_eq!(sanitize_filename(raw).as_deref(), want, "{raw:?}");
        }
        assert_eq!(sanitize_filename(&"x".repeat(500)).unwrap().chars().count(), 200);
    }
}
