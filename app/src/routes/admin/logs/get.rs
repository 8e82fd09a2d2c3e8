use axum::{
    Extension,
    extract::{Query, State},
    response::Response,
};
use http::StatusCode;
use time::{OffsetDateTime, PrimitiveDateTime, macros::format_description};

use crate::{
    auth::Session,
    error::PageError,
    pages::{
        self,
        admin::logs::{LogsModel, LogsQuery},
    },
    state::AppState,
    support::logs,
};

/// `YYYY-MM-DDTHH:MM` (what `datetime-local` sends), read as UTC.
fn parse_time(s: &str, name: &str) -> Result<Option<OffsetDateTime>, PageError> {
    if s.trim().is_empty() {
        return Ok(None);
    }
    let short = format_description!("[year]-[month]-[day]T[hour]:[minute]");
    let long = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    let t = PrimitiveDateTime::parse(s.trim(), short)
        .or_else(|_| PrimitiveDateTime::parse(s.trim(), long))
        .map(|t| t.assume_utc())
        .map_err(|_| PageError::BadRequest(format!("{name} must be a date and time such as 2026-11-26T09:30.")))?;
    // CloudWatch counts milliseconds from 1970 and refuses earlier times.
    if t < OffsetDateTime::UNIX_EPOCH || t.year() > 9999 {
        return Err(PageError::BadRequest(format!("{name} must be between 1970-01-01T00:00 and 9999-12-31T23:59.")));
    }
    Ok(Some(t))
}

/// The range the form asks for: an empty To is `now`, an empty From an hour
/// before To (never before 1970).
fn range(from: &str, to: &str, now: OffsetDateTime) -> Result<(OffsetDateTime, OffsetDateTime), PageError> {
    let to = parse_time(to, "To")?.unwrap_or(now);
    let an_hour_before = to
        .checked_sub(time::Duration::hours(1))
        .map_or(OffsetDateTime::UNIX_EPOCH, |t| t.max(OffsetDateTime::UNIX_EPOCH));
    let from = parse_time(from, "From")?.unwrap_or(an_hour_before);
    if from >= to {
        return Err(PageError::BadRequest("From must be before To.".into()));
    }
    Ok((from, to))
}

/// A log stream name as CloudWatch allows it (1 to 512 characters, no `:`
/// or `*`; ours are dates and ids), or none. Anything else is refused here
/// rather than sent on, where it would come back as an AWS failure.
fn stream_name(s: &str) -> Result<Option<&str>, PageError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    if s.chars().count() > 512 || s.chars().any(|c| c == ':' || c == '*' || c.is_control()) {
        return Err(PageError::BadRequest("That is not the name of a log stream.".into()));
    }
    Ok(Some(s))
}

const STALE_TOKEN: &str =
    "That page link is no longer valid (CloudWatch refused its token). Start again from the first page.";

/// A page token as CloudWatch makes them: printable ASCII, at most 4 KiB.
fn page_token(t: Option<&str>) -> Result<Option<&str>, PageError> {
    match t {
        None | Some("") => Ok(None),
        Some(t) if t.len() <= 4096 && t.bytes().all(|b| b.is_ascii_graphic()) => Ok(Some(t)),
        Some(_) => Err(PageError::BadRequest(STALE_TOKEN.into())),
    }
}

/// The form a "next" link carries: `parse_time` reads it back unchanged.
fn exact(t: OffsetDateTime) -> String {
    let f = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    t.format(f).unwrap_or_default()
}

fn shown(t: OffsetDateTime) -> String {
    let f = format_description!("[year]-[month]-[day] [hour]:[minute]");
    t.format(f).unwrap_or_default()
}

pub async fn logs(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Query(q): Query<LogsQuery>,
) -> Result<Response, PageError> {
    // Whole seconds, so the "next" link can carry the range exactly.
    let now = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap_or_else(|_| OffsetDateTime::now_utc());
    let (from, to) = range(&q.from, &q.to, now)?;
    let stream = stream_name(&q.stream)?;
    let token = page_token(q.token.as_deref())?;
    let limit = q.limit.unwrap_or(1000).clamp(1, 10_000);
    let page = logs::fetch_page(&state.support, from, to, stream, token, limit)
        .await
        .map_err(|e| if e.bad_token { PageError::BadRequest(STALE_TOKEN.into()) } else { e.failure.into() })?;
    let scanned = page.events.len();
    let grouped = logs::group(page.events);
    let stats = logs::stats(&grouped, 3600);
    let text = q.q.trim().to_owned();
    let invocations = grouped
        .into_iter()
        .filter(|i| text.is_empty() || i.mentions(&text))
        .filter(|i| q.errors.is_none() || i.is_error())
        .collect();
    let streams = logs::streams(&state.support, 10).await.map_err(|e| PageError::from(e.failure))?;
    let m = LogsModel {
        staff: (&session).into(),
        group: state.support.log_group(),
        range: (shown(from), shown(to)),
        resolved: (exact(from), exact(to)),
        next: page.next_token,
        query: q,
        streams,
        stats,
        invocations,
        scanned,
    };
    Ok(pages::render("/admin/logs", StatusCode::OK, pages::admin::logs::page(m)).await)
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    fn refused<T: std::fmt::Debug>(r: Result<T, PageError>) -> bool {
        matches!(r, Err(PageError::BadRequest(_)))
    }

    #[test]
    fn ranges_default_and_stay_inside_what_cloudwatch_takes() {
        let now = datetime!(2026-11-26 09:30 UTC);
        assert_eq!(range("", "", now).unwrap(), (datetime!(2026-11-26 08:30 UTC), now));
        assert_eq!(
            range("2026-11-26T08:00", "2026-11-26T09:00:30", now).unwrap(),
            (datetime!(2026-11-26 08:00 UTC), datetime!(2026-11-26 09:00:30 UTC))
        );
        // An empty From an hour before To, but never before 1970.
        let early = datetime!(1970-01-01 00:20 UTC);
        assert_eq!(range("", "1970-01-01T00:20", now).unwrap(), (OffsetDateTime::UNIX_EPOCH, early));
        assert!(refused(range("", "1970-01-01T00:00", now)), "From would equal To");
        assert!(range("9999-12-31T00:00", "9999-12-31T23:59:59", now).is_ok());
        for bad in [
            "1969-12-31T23:59",
            "0001-01-01T00:00",
            "-9999-01-01T00:00",
            "+10000-01-01T00:00",
            "10000-01-01T00:00",
            "2026-13-01T25:61",
            "2026-11-26",
            "\u{0}",
        ] {
            assert!(refused(range(bad, "", now)), "From {bad}");
            assert!(refused(range("", bad, now)), "To {bad}");
        }
        assert!(refused(range("2026-11-26T10:00", "2026-11-26T09:00", now)));
    }

    #[test]
    fn streams_and_tokens_are_checked_before_they_reach_cloudwatch() {
        assert_eq!(stream_name("  ").unwrap(), None);
        assert_eq!(stream_name(" 2026/11/26/[$LATEST]abc ").unwrap(), Some("2026/11/26/[$LATEST]abc"));
        for bad in ["a:b", "*", "a\nb", "\u{0}"] {
            assert!(refused(stream_name(bad)), "{bad:?}");
        }
        assert!(refused(stream_name(&"s".repeat(513))));
        assert_eq!(page_token(None).unwrap(), None);
        assert_eq!(page_token(Some("")).unwrap(), None);
        assert_eq!(page_token(Some("f/3849/s=")).unwrap(), Some("f/3849/s="));
        for bad in ["a b", "\u{fffd}", "a\n", &"t".repeat(4097)] {
            assert!(refused(page_token(Some(bad))), "{bad:?}");
        }
    }
}
