//! The resizer's CloudWatch Logs: events fetched page by page (`nextToken`),
//! grouped per invocation (START … END/REPORT, by RequestId), errors marked,
//! and per-period figures parsed from the `REPORT` lines. Text search and the
//! error filter run here, on our side: the emulator treats most filter
//! patterns as "match everything", so relying on them would make tests lie.

use std::collections::HashMap;

use serde::Deserialize;
use time::OffsetDateTime;

use super::Support;
use crate::aws::{AwsError, Service};

#[derive(Debug, Clone, PartialEq)]
pub struct LogEvent {
    pub stream: String,
    /// Milliseconds since the epoch.
    pub timestamp: i64,
    pub message: String,
}

impl LogEvent {
    pub fn at(&self) -> OffsetDateTime {
        at_millis(self.timestamp)
    }

    pub fn is_error(&self) -> bool {
        match classify(&self.message) {
            Line::Resizer(l) => l.level == "ERROR",
            Line::Other => {
                let m = &self.message;
                m.contains("ERROR")
                    || m.contains("Task timed out")
                    || m.contains("Runtime exited")
                    || m.contains("panicked")
            }
            _ => false,
        }
    }
}

pub fn at_millis(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// One JSON line the resizer writes per S3 record.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ResizerLine {
    pub level: String,
    pub event: String,
    pub key: String,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub retryable: Option<bool>,
}

/// Lambda's `REPORT` line.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub request_id: String,
    pub duration_ms: f64,
    pub memory_size_mb: Option<u64>,
    pub max_memory_mb: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Line {
    Start { request_id: String },
    End { request_id: String },
    Report(Report),
    Resizer(ResizerLine),
    Other,
}

fn request_id(rest: &str) -> Option<String> {
    let rest = rest.strip_prefix("RequestId:")?.trim_start();
    rest.split_whitespace().next().map(str::to_owned)
}

pub fn classify(message: &str) -> Line {
    let m = message.trim_end();
    if let Some(rest) = m.strip_prefix("START ") {
        return request_id(rest).map_or(Line::Other, |request_id| Line::Start { request_id });
    }
    if let Some(rest) = m.strip_prefix("END ") {
        return request_id(rest).map_or(Line::Other, |request_id| Line::End { request_id });
    }
    if let Some(rest) = m.strip_prefix("REPORT ") {
        let Some(request_id) = request_id(rest) else { return Line::Other };
        let field = |name: &str| -> Option<&str> {
            rest.split('\t').find_map(|f| f.trim().strip_prefix(name)).map(|v| v.trim_start_matches(':').trim())
        };
        let number =
            |name: &str| field(name).and_then(|v| v.split_whitespace().next()).and_then(|v| v.parse::<f64>().ok());
        let Some(duration_ms) = number("Duration") else { return Line::Other };
        return Line::Report(Report {
            request_id,
            duration_ms,
            memory_size_mb: number("Memory Size").map(|v| v as u64),
            max_memory_mb: number("Max Memory Used").map(|v| v as u64),
        });
    }
    if m.starts_with('{')
        && let Ok(line) = serde_json::from_str::<ResizerLine>(m)
    {
        return Line::Resizer(line);
    }
    Line::Other
}

/// The lines of one invocation (or a stray line outside any).
#[derive(Debug, Clone, PartialEq)]
pub struct Invocation {
    pub request_id: Option<String>,
    pub stream: String,
    pub events: Vec<LogEvent>,
    pub report: Option<Report>,
}

impl Invocation {
    pub fn started(&self) -> OffsetDateTime {
        self.events.first().map(LogEvent::at).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    pub fn is_error(&self) -> bool {
        self.events.iter().any(LogEvent::is_error)
    }

    pub fn resizer_lines(&self) -> impl Iterator<Item = ResizerLine> + '_ {
        self.events.iter().filter_map(|e| match classify(&e.message) {
            Line::Resizer(l) => Some(l),
            _ => None,
        })
    }

    pub fn mentions(&self, text: &str) -> bool {
        let needle = text.to_lowercase();
        self.events.iter().any(|e| e.message.to_lowercase().contains(&needle))
    }
}

/// Groups events per invocation: per stream, in time order, a START opens
/// one and its REPORT (or END) closes it.
pub fn group(mut events: Vec<LogEvent>) -> Vec<Invocation> {
    events.sort_by(|a, b| (&a.stream, a.timestamp).cmp(&(&b.stream, b.timestamp)));
    let mut out: Vec<Invocation> = Vec::new();
    let mut open: HashMap<String, usize> = HashMap::new();
    for e in events {
        match classify(&e.message) {
            Line::Start { request_id } => {
                out.push(Invocation {
                    request_id: Some(request_id),
                    stream: e.stream.clone(),
                    events: vec![e.clone()],
                    report: None,
                });
                open.insert(e.stream.clone(), out.len() - 1);
            }
            line => {
                let target = open.get(&e.stream).copied().filter(|&i| match &line {
                    Line::End { request_id } => out[i].request_id.as_ref() == Some(request_id),
                    Line::Report(r) => out[i].request_id.as_ref() == Some(&r.request_id),
                    _ => true,
                });
                let i = match target {
                    Some(i) => i,
                    None => {
                        let request_id = match &line {
                            Line::End { request_id } => Some(request_id.clone()),
                            Line::Report(r) => Some(r.request_id.clone()),
                            _ => None,
                        };
                        out.push(Invocation { request_id, stream: e.stream.clone(), events: vec![], report: None });
                        out.len() - 1
                    }
                };
                out[i].events.push(e.clone());
                if let Line::Report(r) = line {
                    out[i].report = Some(r);
                    open.remove(&e.stream);
                }
            }
        }
    }
    out.sort_by_key(|inv| std::cmp::Reverse(inv.started()));
    out
}

/// Figures for one period, from the REPORT lines of its invocations.
#[derive(Debug, Clone, PartialEq)]
pub struct PeriodStats {
    pub start: OffsetDateTime,
    pub invocations: usize,
    pub errors: usize,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub max_memory_mb: Option<u64>,
}

/// Nearest-rank percentile of sorted values.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// Per-period figures, newest period first. `period` in seconds.
pub fn stats(invocations: &[Invocation], period: i64) -> Vec<PeriodStats> {
    let mut by: std::collections::BTreeMap<i64, Vec<&Invocation>> = Default::default();
    for inv in invocations.iter().filter(|i| i.report.is_some()) {
        let t = inv.started().unix_timestamp();
        by.entry(t - t.rem_euclid(period)).or_default().push(inv);
    }
    by.into_iter()
        .rev()
        .map(|(start, invs)| {
            let mut durations: Vec<f64> =
                invs.iter().filter_map(|i| i.report.as_ref().map(|r| r.duration_ms)).collect();
            durations.sort_by(|a, b| a.total_cmp(b));
            PeriodStats {
                start: OffsetDateTime::from_unix_timestamp(start).unwrap_or(OffsetDateTime::UNIX_EPOCH),
                invocations: invs.len(),
                errors: invs.iter().filter(|i| i.is_error()).count(),
                p50_ms: percentile(&durations, 50.0),
                p95_ms: percentile(&durations, 95.0),
                max_memory_mb: invs.iter().filter_map(|i| i.report.as_ref().and_then(|r| r.max_memory_mb)).max(),
            }
        })
        .collect()
}

/// One page of raw events from the log group.
#[derive(Debug, Clone, Default)]
pub struct EventPage {
    pub events: Vec<LogEvent>,
    pub next_token: Option<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("reading the log group {group} failed: {failure}")]
pub struct LogsError {
    pub group: String,
    pub failure: AwsError,
    /// CloudWatch refused the page token (stale, or not one of its own).
    pub bad_token: bool,
}

impl LogsError {
    /// What a page says: AWS's short answer, not the SDK's chain.
    pub fn page_text(&self) -> String {
        format!("reading the log group {} failed: {}", self.group, self.failure.page_text())
    }
}

/// One `FilterLogEvents` page between `from` and `to` (no filter pattern:
/// every filter is ours).
pub async fn fetch_page(
    support: &Support,
    from: OffsetDateTime,
    to: OffsetDateTime,
    stream: Option<&str>,
    token: Option<&str>,
    limit: i32,
) -> Result<EventPage, LogsError> {
    let group = support.log_group();
    let millis = |t: OffsetDateTime| (t.unix_timestamp_nanos() / 1_000_000) as i64;
    let mut req = support
        .logs
        .filter_log_events()
        .log_group_name(&group)
        .start_time(millis(from))
        .end_time(millis(to))
        .limit(limit);
    if let Some(s) = stream {
        req = req.log_stream_names(s);
    }
    if let Some(t) = token {
        req = req.next_token(t);
    }
    let out = match req.send().await {
        Ok(out) => out,
        Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_not_found_exception()) => {
            return Ok(EventPage::default());
        }
        Err(e) => {
            let bad_token = token.is_some() && e.as_service_error().is_some_and(|s| s.is_invalid_parameter_exception());
            let failure = AwsError::new(Service::CloudWatchLogs, "FilterLogEvents", e);
            return Err(LogsError { group, failure, bad_token });
        }
    };
    let events = out
        .events()
        .iter()
        .map(|e| LogEvent {
            stream: e.log_stream_name().unwrap_or_default().to_owned(),
            timestamp: e.timestamp().unwrap_or(0),
            message: e.message().unwrap_or_default().to_owned(),
        })
        .collect();
    let next_token = out.next_token().filter(|t| !t.is_empty()).map(str::to_owned);
    Ok(EventPage { events, next_token })
}

/// At most this many pages are read for one answer, so a long range costs
/// a bounded number of calls.
const MAX_PAGES: usize = 50;

/// Every event between `from` and `to`, up to `cap` of them (newest kept)
/// and `MAX_PAGES` pages read.
pub async fn fetch_all(
    support: &Support,
    from: OffsetDateTime,
    to: OffsetDateTime,
    cap: usize,
) -> Result<Vec<LogEvent>, LogsError> {
    let mut all = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let page = fetch_page(support, from, to, None, token.as_deref(), 1000).await?;
        let got = page.events.len();
        all.extend(page.events);
        if all.len() > cap {
            all.drain(..all.len() - cap);
        }
        match page.next_token {
            // Some servers hand back a token with an empty last page.
            Some(t) if got > 0 && Some(&t) != token.as_ref() => token = Some(t),
            _ => break,
        }
    }
    Ok(all)
}

#[derive(Debug, Clone)]
pub struct StreamInfo {
    pub name: String,
    pub last_event: Option<OffsetDateTime>,
}

/// The newest streams first.
pub async fn streams(support: &Support, n: usize) -> Result<Vec<StreamInfo>, LogsError> {
    let group = support.log_group();
    // Ordered by the server: a group has more streams than one page holds,
    // and the newest are the ones wanted.
    let out = match support
        .logs
        .describe_log_streams()
        .log_group_name(&group)
        .order_by(aws_sdk_cloudwatchlogs::types::OrderBy::LastEventTime)
        .descending(true)
        .limit(n.clamp(1, 50) as i32)
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_not_found_exception()) => return Ok(vec![]),
        Err(e) => {
            let failure = AwsError::new(Service::CloudWatchLogs, "DescribeLogStreams", e);
            return Err(LogsError { group, failure, bad_token: false });
        }
    };
    let mut streams: Vec<StreamInfo> = out
        .log_streams()
        .iter()
        .map(|s| StreamInfo {
            name: s.log_stream_name().unwrap_or_default().to_owned(),
            last_event: s.last_event_timestamp().or(s.creation_time()).map(at_millis),
        })
        .collect();
    streams.sort_by_key(|s| std::cmp::Reverse(s.last_event));
    streams.truncate(n);
    Ok(streams)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(stream: &str, t: i64, m: &str) -> LogEvent {
        LogEvent { stream: stream.into(), timestamp: t, message: m.into() }
    }

    #[test]
    fn lambda_lines_and_resizer_lines_are_recognised() {
        assert_eq!(classify("START RequestId: abc Version: $LATEST"), Line::Start { request_id: "abc".into() });
        assert_eq!(classify("END RequestId: abc"), Line::End { request_id: "abc".into() });
        let r = classify(
            "REPORT RequestId: abc\tDuration: 12.50 ms\tBilled Duration: 13 ms\tMemory Size: 1024 MB\tMax Memory Used: 87 MB\t",
        );
        assert_eq!(
            r,
            Line::Report(Report {
                request_id: "abc".into(),
                duration_ms: 12.5,
                memory_size_mb: Some(1024),
                max_memory_mb: Some(87)
            })
        );
        let Line::Resizer(l) =
            classify(r#"{"level":"ERROR","event":"failed","key":"artwork/a.png","reason":"bad","retryable":false}"#)
        else {
            panic!()
        };
        assert_eq!((l.level.as_str(), l.reason.as_deref(), l.retryable), ("ERROR", Some("bad"), Some(false)));
        assert_eq!(classify("hello"), Line::Other);
        assert!(ev("s", 0, "2026-11-26T00:00:00Z ERROR something broke").is_error());
        assert!(!ev("s", 0, r#"{"level":"INFO","event":"resized","key":"k"}"#).is_error());
    }

    #[test]
    fn events_group_per_invocation_even_when_streams_interleave() {
        let events = vec![
            ev("a", 1, "START RequestId: r1 Version: $LATEST"),
            ev("b", 2, "START RequestId: r2 Version: $LATEST"),
            ev("a", 3, r#"{"level":"INFO","event":"resized","key":"k1"}"#),
            ev("b", 4, r#"{"level":"ERROR","event":"failed","key":"k2","reason":"x"}"#),
            ev("a", 5, "END RequestId: r1"),
            ev("a", 6, "REPORT RequestId: r1\tDuration: 10.00 ms\tMax Memory Used: 50 MB"),
            ev("b", 7, "END RequestId: r2"),
            ev("b", 8, "REPORT RequestId: r2\tDuration: 30.00 ms\tMax Memory Used: 70 MB"),
            ev("a", 9, "a stray line"),
        ];
        let g = group(events);
        assert_eq!(g.len(), 3);
        assert_eq!(g[0].request_id, None, "newest first: the stray line");
        assert_eq!(g[1].request_id.as_deref(), Some("r2"));
        assert!(g[1].is_error() && !g[2].is_error());
        assert_eq!(g[2].events.len(), 4);
        assert_eq!(g[1].resizer_lines().next().unwrap().key, "k2");
        assert!(g[1].mentions("K2") && !g[2].mentions("k2"));
        let s = stats(&g, 3600);
        assert_eq!(s.len(), 1);
        assert_eq!((s[0].invocations, s[0].errors), (2, 1));
        assert_eq!((s[0].p50_ms, s[0].p95_ms, s[0].max_memory_mb), (Some(10.0), Some(30.0), Some(70)));
    }

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let v: Vec<f64> = (1..=20).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), Some(10.0));
        assert_eq!(percentile(&v, 95.0), Some(19.0));
        assert_eq!(percentile(&[], 50.0), None);
        assert_eq!(percentile(&[7.0], 95.0), Some(7.0));
    }
}
