use leptos::prelude::*;

use crate::pages::layout::Scrolls;

use super::when::when;

use super::{AdminLayout, StaffView};
use crate::support::logs::{Invocation, PeriodStats, StreamInfo};

/// The filter as the form and the links carry it.
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
pub struct LogsQuery {
    /// Text to find in any line of an invocation (case-insensitive).
    #[serde(default)]
    pub q: String,
    /// `YYYY-MM-DDTHH:MM` in UTC; empty means an hour before `to`.
    #[serde(default)]
    pub from: String,
    /// Empty means now.
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub errors: Option<String>,
    #[serde(default)]
    pub stream: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i32>,
}

#[derive(Debug, Clone)]
pub struct LogsModel {
    pub staff: StaffView,
    pub group: String,
    pub query: LogsQuery,
    pub range: (String, String),
    /// The range as resolved (an empty To is "now"), for the next page's
    /// link: its token is only good for the same range.
    pub resolved: (String, String),
    pub streams: Vec<StreamInfo>,
    pub stats: Vec<PeriodStats>,
    pub invocations: Vec<Invocation>,
    pub scanned: usize,
    pub next: Option<String>,
}

fn ms(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.1} ms")).unwrap_or_else(|| "–".into())
}

pub fn page(m: LogsModel) -> impl Fn() -> AnyView + Clone + Send + Sync + 'static {
    move || {
        let m = m.clone();
        let q = m.query.clone();
        let shown = m.invocations.len();
        let streams = m
            .streams
            .iter()
            .map(|s| {
                let link = serde_urlencoded::to_string(LogsQuery { stream: s.name.clone(), ..Default::default() })
                    .unwrap_or_default();
                view! {
                    <li><a href=format!("/admin/logs?{link}")><code>{s.name.clone()}</code></a>
                        {s.last_event.map(|t| format!(" last event {}", when(t)))}</li>
                }
            })
            .collect_view();
        let stats = m
            .stats
            .iter()
            .map(|p| {
                view! {
                    <tr>
                        <td>{when(p.start)}</td>
                        <td class="invocations">{p.invocations}</td>
                        <td class="errors">{p.errors}</td>
                        <td>{ms(p.p50_ms)}</td>
                        <td>{ms(p.p95_ms)}</td>
                        <td>{p.max_memory_mb.map(|v| format!("{v} MB")).unwrap_or_else(|| "–".into())}</td>
                    </tr>
                }
            })
            .collect_view();
        let invocations = m
            .invocations
            .into_iter()
            .map(|inv| {
                let error = inv.is_error();
                let lines = inv
                    .events
                    .iter()
                    .map(|e| {
                        let text = format!("{}  {}\n", when(e.at()), e.message.trim_end());
                        if e.is_error() {
                            view! { <mark class="error-line">{text}</mark> }.into_any()
                        } else {
                            view! { <span>{text}</span> }.into_any()
                        }
                    })
                    .collect_view();
                view! {
                    <section class=if error { "invocation error" } else { "invocation" }>
                        <h3>
                            {if error { "ERROR · " } else { "" }}
                            {inv.request_id.clone().map(|r| format!("RequestId {r}")).unwrap_or_else(|| "outside an invocation".into())}
                            " · "{when(inv.started())}
                            {inv.report.as_ref().map(|r| format!(" · {:.1} ms, {} MB", r.duration_ms, r.max_memory_mb.unwrap_or(0)))}
                        </h3>
                        <p class="hint"><code>{inv.stream.clone()}</code></p>
                        <pre>{lines}</pre>
                    </section>
                }
            })
            .collect_view();
        let next = m.next.clone().map(|t| {
            let (from, to) = m.resolved.clone();
            let link =
                serde_urlencoded::to_string(LogsQuery { token: Some(t), from, to, ..q.clone() }).unwrap_or_default();
            view! { <p><a rel="next" id="next-page" href=format!("/admin/logs?{link}")>"Next page (later events) →"</a></p> }
        });
        view! {
            <AdminLayout title="Resizer logs".to_string() staff=m.staff>
                <h1>"Resizer logs"</h1>
                <p>"Log group "<code>{m.group.clone()}</code>{format!(", from {} to {} (UTC).", m.range.0, m.range.1)}</p>
                <form class="panel filters" method="get" action="/admin/logs">
                    <label for="q">"Text"</label>
                    <input id="q" name="q" type="search" value=q.q.clone()/>
                    <label for="from">"From (UTC)"</label>
                    <input id="from" name="from" type="datetime-local" value=q.from.clone()/>
                    <label for="to">"To (UTC)"</label>
                    <input id="to" name="to" type="datetime-local" value=q.to.clone()/>
                    <label for="stream">"Stream"</label>
                    <input id="stream" name="stream" value=q.stream.clone()/>
                    <label><input type="checkbox" name="errors" value="on" checked=q.errors.is_some()/>" Errors only"</label>
                    <button type="submit">"Search"</button>
                </form>
                <h2>"Figures"</h2>
                <p class="hint" id="figures-scope">{format!(
                    "Per hour, from the {} events read for this page only{}: not the whole range.",
                    m.scanned,
                    if m.next.is_some() { " (more follow on the next page)" } else { "" }
                )}</p>
                <Scrolls label="Figures per hour">
                    <table class="figures-table">
                        <thead><tr><th>"Hour"</th><th>"Invocations"</th><th>"Errors"</th><th>"p50"</th><th>"p95"</th><th>"Max memory"</th></tr></thead>
                        <tbody>{stats}</tbody>
                    </table>
                </Scrolls>
                <h2>"Invocations"</h2>
                <p id="logs-summary">{format!("{shown} invocation(s) shown, newest first, from {} events read.", m.scanned)}</p>
                {invocations}
                {next}
                <h2>"Newest streams"</h2>
                <ul>{streams}</ul>
            </AdminLayout>
        }
        .into_any()
    }
}
