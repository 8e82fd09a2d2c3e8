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
    PrimitiveDateTime::parse(s.trim(), short)
        .or_else(|_| PrimitiveDateTime::parse(s.trim(), long))
        .map(|t| Some(t.assume_utc()))
        .map_err(|_| PageError::BadRequest(format!("{name} must be a date and time such as 2026-11-26T09:30.")))
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
) -> Response {
    let result: Result<LogsModel, PageError> = async {
        // Whole seconds, so the "next" link can carry the range exactly.
        let now = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap_or_else(|_| OffsetDateTime::now_utc());
        let to = parse_time(&q.to, "To")?.unwrap_or(now);
        let from = parse_time(&q.from, "From")?.unwrap_or(to - time::Duration::hours(1));
        if from >= to {
            return Err(PageError::BadRequest("From must be before To.".into()));
        }
        let stream = Some(q.stream.trim()).filter(|s| !s.is_empty());
        let limit = q.limit.unwrap_or(1000).clamp(1, 10_000);
        let page =
            logs::fetch_page(&state.support, from, to, stream, q.token.as_deref(), limit).await.map_err(|e| {
                if e.bad_token {
                    PageError::BadRequest(
                        "That page link is no longer valid (CloudWatch refused its token). Start again from the first page."
                            .into(),
                    )
                } else {
                    PageError::Upstream(e.to_string())
                }
            })?;
        let scanned = page.events.len();
        let grouped = logs::group(page.events);
        let stats = logs::stats(&grouped, 3600);
        let text = q.q.trim().to_owned();
        let invocations = grouped
            .into_iter()
            .filter(|i| text.is_empty() || i.mentions(&text))
            .filter(|i| q.errors.is_none() || i.is_error())
            .collect();
        let streams = logs::streams(&state.support, 10).await.map_err(|e| PageError::Upstream(e.to_string()))?;
        Ok(LogsModel {
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
        })
    }
    .await;
    match result {
        Ok(m) => pages::render("/admin/logs", StatusCode::OK, pages::admin::logs::page(m)).await,
        Err(e) => e.into_page("/admin/logs").await,
    }
}
