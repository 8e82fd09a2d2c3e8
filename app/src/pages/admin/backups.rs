use leptos::prelude::*;

use crate::pages::layout::Scrolls;

use super::when::when;

use super::{AdminLayout, CsrfField, StaffView};
use crate::support::backups::{Comparison, ObjectInfo, RestoreRun, RunState};

#[derive(Debug, Clone)]
pub struct BackupsModel {
    pub staff: StaffView,
    pub resized: String,
    pub backup: String,
    pub comparison: Comparison,
    pub runs: Vec<(RestoreRun, RunState)>,
}

fn state_text(s: RunState) -> &'static str {
    match s {
        RunState::Running => "running",
        RunState::Interrupted => "interrupted",
        RunState::Finished => "finished",
    }
}

const SHOWN: usize = 200;

fn key_list(items: Vec<(String, String)>) -> impl IntoView {
    let more = items.len().saturating_sub(SHOWN);
    view! {
        <ul class="keys">
            {items.into_iter().take(SHOWN).map(|(k, note)| view! { <li><code>{k}</code>" "{note}</li> }).collect_view()}
        </ul>
        {(more > 0).then(|| view! { <p>{format!("… and {more} more.")}</p> })}
    }
}

fn size(o: &ObjectInfo) -> String {
    format!("({} bytes)", o.size)
}

pub fn page(m: BackupsModel) -> impl Fn() -> AnyView + Clone + Send + Sync + 'static {
    move || {
        let m = m.clone();
        let c = m.comparison.clone();
        let plan = c.restore_plan();
        let verdict = if !c.backup_exists {
            format!("The backup bucket {} does not exist: there is nothing to restore from.", m.backup)
        } else if !c.resized_exists {
            format!(
                "The resized bucket {} does not exist. A restore creates it as the spec says and copies all {} objects back; \
                 creating the bucket is an admin's job, so only an admin may run this restore.",
                m.resized,
                c.missing.len()
            )
        } else if c.in_step() {
            format!("{} and {} agree: {} objects, same sizes and checksums.", m.resized, m.backup, c.matching)
        } else {
            format!(
                "{} missing from {}, {} differing, {} only in {}; {} match.",
                c.missing.len(),
                m.resized,
                c.differing.len(),
                c.extra.len(),
                m.resized,
                c.matching
            )
        };
        let runs = m
            .runs
            .into_iter()
            .map(|(r, s)| {
                view! {
                    <tr>
                        <td><a href=format!("/admin/backups/restore/{}", r.id)>{when(r.started_at)}</a></td>
                        <td>{r.started_by.clone()}</td>
                        <td>{state_text(s)}</td>
                        <td>{format!("{} of {} copied, {} failed", r.copied, r.planned, r.failed)}</td>
                    </tr>
                }
            })
            .collect_view();
        let csrf = m.staff.csrf.clone();
        view! {
            <AdminLayout title="Backups".to_string() staff=m.staff>
                <h1>"Backups"</h1>
                <p class=if c.in_step() && c.resized_exists { "notice" } else { "reason" } id="verify-verdict">{verdict}</p>
                <p><a href="/admin/backups">"Verify again"</a></p>
                {(!c.missing.is_empty()).then(|| view! {
                    <h2>{format!("Missing from {} ({})", m.resized, c.missing.len())}</h2>
                    {key_list(c.missing.iter().map(|o| (o.key.clone(), size(o))).collect())}
                })}
                {(!c.differing.is_empty()).then(|| view! {
                    <h2>{format!("Differing ({})", c.differing.len())}</h2>
                    {key_list(c.differing.iter().map(|(b, r)| (b.key.clone(), format!("backup {} bytes {}, resized {} bytes {}", b.size, b.etag, r.size, r.etag))).collect())}
                })}
                {(!c.extra.is_empty()).then(|| view! {
                    <h2>{format!("Only in {} ({})", m.resized, c.extra.len())}</h2>
                    <p>"A restore leaves these alone; it never deletes."</p>
                    {key_list(c.extra.iter().map(|o| (o.key.clone(), size(o))).collect())}
                })}
                {(!plan.is_empty() && c.backup_exists).then(|| view! {
                    <h2>"Restore"</h2>
                    <p id="dry-run">{format!(
                        "Dry run: a restore would copy {} object(s), {} bytes, from {} into {} (listed above). Nothing has been changed yet.",
                        plan.len(), plan.iter().map(|(o, _)| o.size).sum::<i64>(), m.backup, m.resized
                    )}</p>
                    <form method="post" action="/admin/backups/restore">
                        <CsrfField token=csrf.clone()/>
                        <button type="submit">{format!("Restore {} object(s) from backup", plan.len())}</button>
                    </form>
                })}
                <h2>"Restores"</h2>
                <Scrolls label="Restores">
                    <table>
                        <thead><tr><th>"Started"</th><th>"By"</th><th>"State"</th><th>"Progress"</th></tr></thead>
                        <tbody>{runs}</tbody>
                    </table>
                </Scrolls>
            </AdminLayout>
        }
        .into_any()
    }
}

#[derive(Debug, Clone)]
pub struct RestoreModel {
    pub staff: StaffView,
    pub run: RestoreRun,
    pub state: RunState,
    pub failures: Vec<(String, String)>,
}

pub fn restore_page(m: RestoreModel) -> impl Fn() -> AnyView + Clone + Send + Sync + 'static {
    move || {
        let m = m.clone();
        let r = m.run.clone();
        let running = m.state == RunState::Running;
        let resumable = m.state == RunState::Interrupted || (m.state == RunState::Finished && r.failed > 0);
        let percent = if r.planned == 0 { 100 } else { r.copied * 100 / i64::from(r.planned) };
        let csrf = m.staff.csrf.clone();
        view! {
            <AdminLayout title="Restore".to_string() staff=m.staff>
                {running.then(|| view! { <meta http-equiv="refresh" content="2"/> })}
                <h1>"Restore from backup"</h1>
                <p id="restore-state" class=format!("state {}", state_text(m.state))>
                    {format!("{}: {} of {} copied ({percent}%), {} failed.", state_text(m.state), r.copied, r.planned, r.failed)}
                </p>
                <progress max=r.planned.to_string() value=r.copied.to_string()>{format!("{percent}%")}</progress>
                <p>{format!("Started {} by {}.", when(r.started_at), r.started_by)}
                   {r.finished_at.map(|f| format!(" Finished {}.", when(f)))}</p>
                {running.then(|| view! { <p>"This page refreshes itself every 2 seconds while the restore runs."</p> })}
                {(!m.failures.is_empty()).then(|| view! {
                    <h2>"Failed"</h2>
                    <ul>{m.failures.iter().map(|(k, e)| view! { <li><code>{k.clone()}</code>": "{e.clone()}</li> }).collect_view()}</ul>
                })}
                {resumable.then(|| view! {
                    <form method="post" action=format!("/admin/backups/restore/{}/resume", r.id)>
                        <CsrfField token=csrf.clone()/>
                        <button type="submit">{format!("Resume: copy the remaining {}", r.remaining())}</button>
                    </form>
                })}
                <p><a href="/admin/backups">"Back to backups"</a></p>
            </AdminLayout>
        }
        .into_any()
    }
}
