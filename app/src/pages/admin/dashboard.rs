use leptos::prelude::*;

use crate::pages::layout::Scrolls;

use super::when::when;

use super::{AdminLayout, StaffView};
use crate::{
    audit::ChainVerdict,
    support::dashboard::{DayFigures, Health, RecentError, Totals},
};

#[derive(Debug, Clone)]
pub struct DashboardModel {
    pub staff: StaffView,
    pub notice: Option<String>,
    pub artworks: i64,
    pub processing: i64,
    pub chain: ChainVerdict,
    pub days: Vec<DayFigures>,
    pub last_day: Totals,
    pub week: Totals,
    /// The chart, drawn on the server.
    pub chart_svg: String,
    pub health: Vec<Health>,
    /// The latest resizer errors, or why they could not be read.
    pub errors: Result<Vec<RecentError>, String>,
}

pub fn page(m: DashboardModel) -> impl Fn() -> AnyView + Clone + Send + Sync + 'static {
    move || {
        let m = m.clone();
        let health = m
            .health
            .iter()
            .map(|h| {
                view! {
                    <tr class=if h.ok { "health ok" } else { "health down" }>
                        <td>{h.name}</td>
                        <td><code>{h.target.clone()}</code></td>
                        <td><span class=if h.ok { "badge pass" } else { "badge fail" }>{if h.ok { "UP" } else { "DOWN" }}</span></td>
                        <td>{format!("{:.1} ms", h.latency.as_secs_f64() * 1000.0)}</td>
                        <td>{h.detail.clone()}</td>
                    </tr>
                }
            })
            .collect_view();
        let table = m
            .days
            .iter()
            .map(|d| view! { <tr><td>{d.day.to_string()}</td><td>{d.uploads}</td><td>{d.resized}</td><td>{d.failed}</td></tr> })
            .collect_view();
        let errors = match m.errors.clone() {
            Ok(list) if list.is_empty() => view! { <p>"No resizer errors in the last 24 hours."</p> }.into_any(),
            Ok(list) => view! {
                <ul class="errors">
                    {list.into_iter().map(|e| view! {
                        <li><time>{when(e.at)}</time>" "{e.request_id.map(|r| format!("RequestId {r} ")).unwrap_or_default()}<code>{e.message}</code></li>
                    }).collect_view()}
                </ul>
                <p><a href="/admin/logs?errors=on">"All errors in the logs"</a></p>
            }
            .into_any(),
            Err(why) => view! { <p class="reason">{format!("The logs could not be read: {why}")}</p> }.into_any(),
        };
        view! {
            <AdminLayout title="Dashboard".to_string() staff=m.staff>
                <h1>"Dashboard"</h1>
                {m.notice.map(|n| view! { <p class="notice" role="status">{n}</p> })}
                <ul class="figures" id="figures">
                    <li><strong>{m.last_day.uploads}</strong>" uploaded, "<strong>{m.last_day.resized}</strong>" resized, "
                        <strong>{m.last_day.failed}</strong>" failed in the last 24 hours"</li>
                    <li><strong>{m.week.uploads}</strong>" uploaded, "<strong>{m.week.resized}</strong>" resized, "
                        <strong>{m.week.failed}</strong>" failed in the last 7 days"</li>
                    <li><strong>{m.artworks}</strong>" artworks in all, "<strong>{m.processing}</strong>" still processing"</li>
                    <li><a href="/admin/audit">{super::audit::verdict_text(&m.chain)}</a></li>
                </ul>
                <Scrolls label="Uploads per day"><figure class="chart" inner_html=m.chart_svg.clone()></figure></Scrolls>
                <details>
                    <summary>"The chart's figures"</summary>
                    <Scrolls label="The chart's figures">
                        <table>
                            <thead><tr><th>"Day (UTC)"</th><th>"Uploaded"</th><th>"Resized"</th><th>"Failed"</th></tr></thead>
                            <tbody>{table}</tbody>
                        </table>
                    </Scrolls>
                </details>
                <h2>"Dependencies"</h2>
                <Scrolls label="Health of each dependency">
                    <table id="health">
                        <thead><tr><th>"Service"</th><th>"Checked"</th><th>"State"</th><th>"Latency"</th><th>"Detail"</th></tr></thead>
                        <tbody>{health}</tbody>
                    </table>
                </Scrolls>
                <h2>"Latest resizer errors"</h2>
                {errors}
                <h2>"Troubleshooting"</h2>
                <ul class="links">
                    <li><a href="/admin/doctor">"Bucket doctor"</a>": buckets, policies, regions, encryption and the trigger, checked against the spec"</li>
                    <li><a href="/admin/uploads">"Stuck and failed uploads"</a>": with the reason from the logs, and resize again"</li>
                    <li><a href="/admin/logs">"Resizer logs"</a>": invocations, errors, durations and memory"</li>
                    <li><a href="/admin/backups">"Backups"</a>": verify resized against backup, and restore"</li>
                </ul>
            </AdminLayout>
        }
        .into_any()
    }
}
