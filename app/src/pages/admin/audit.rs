use leptos::prelude::*;

use crate::pages::layout::Scrolls;

use super::{AdminLayout, StaffView};
use crate::audit::{ChainVerdict, EventRow};

pub fn verdict_text(v: &ChainVerdict) -> String {
    match v {
        ChainVerdict::Intact { rows, head: Some(head) } => {
            format!("Audit chain intact: {rows} events, head {}…", &head[..16])
        }
        ChainVerdict::Intact { .. } => "Audit chain intact: no events yet".into(),
        ChainVerdict::Broken { id, reason, .. } => format!("Audit chain BROKEN at event {id}: {reason}"),
    }
}

/// The filter as the form and the links carry it.
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
pub struct AuditQuery {
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub actor: String,
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub subject: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct AuditModel {
    pub staff: StaffView,
    pub verdict: ChainVerdict,
    pub query: AuditQuery,
    pub rows: Vec<EventRow>,
    pub older: Option<String>,
    pub export_query: String,
}

pub fn page(m: AuditModel) -> impl Fn() -> AnyView + Clone + Send + Sync + 'static {
    move || {
        let m = m.clone();
        let broken = matches!(m.verdict, ChainVerdict::Broken { .. });
        let q = m.query.clone();
        let rows = m
            .rows
            .into_iter()
            .map(|r| {
                let at = r.at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
                view! {
                    <tr>
                        <td>{r.id}</td>
                        <td><time>{at}</time></td>
                        <td>{r.actor}</td>
                        <td>{r.role}</td>
                        <td>{r.action}</td>
                        <td>{r.subject}</td>
                        <td><code>{r.details.0.to_string()}</code></td>
                        <td>{r.client_addr}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <AdminLayout title="Audit trail".to_string() staff=m.staff>
                <h1>"Audit trail"</h1>
                <p class=if broken { "reason" } else { "notice" } role="status">{verdict_text(&m.verdict)}</p>
                <form class="filters" method="get" action="/admin/audit">
                    <label>"From " <input type="date" name="from" value=q.from/></label>
                    <label>"To " <input type="date" name="to" value=q.to/></label>
                    <label>"Actor " <input name="actor" value=q.actor/></label>
                    <label>"Action " <input name="action" value=q.action/></label>
                    <label>"Subject " <input name="subject" value=q.subject/></label>
                    <button type="submit">"Filter"</button>
                </form>
                <p>
                    "Export: " <a href=format!("/admin/audit/export.csv?{}", m.export_query)>"CSV"</a>
                    " · " <a href=format!("/admin/audit/export.jsonl?{}", m.export_query)>"JSON Lines"</a>
                </p>
                <Scrolls label="Audit events">
                    <table class="audit">
                        <thead><tr><th>"#"</th><th>"Time (UTC)"</th><th>"Actor"</th><th>"Role"</th><th>"Action"</th><th>"Subject"</th><th>"Details"</th><th>"Address"</th></tr></thead>
                        <tbody>{rows}</tbody>
                    </table>
                </Scrolls>
                <nav class="pager">
                    {m.older.map(|href| view! { <a rel="next" href=href>"Older →"</a> })}
                </nav>
            </AdminLayout>
        }
        .into_any()
    }
}
