use leptos::prelude::*;

use crate::pages::layout::Scrolls;

use super::when::when;

use super::{AdminLayout, CsrfField, StaffView};
use crate::{artworks::orphans::MissingOriginal, audit::EventRow, support::stuck::StuckUpload};

#[derive(Debug, Clone)]
pub struct StuckModel {
    pub staff: StaffView,
    pub notice: Option<String>,
    pub stuck_after_secs: u64,
    pub uploads: Vec<StuckUpload>,
    /// Artworks whose original is gone from the originals bucket.
    pub missing: Vec<MissingOriginal>,
    /// What the orphan sweep removed lately (its audit rows).
    pub swept: Vec<EventRow>,
}

pub fn page(m: StuckModel) -> impl Fn() -> AnyView + Clone + Send + Sync + 'static {
    move || {
        let m = m.clone();
        let csrf = m.staff.csrf.clone();
        let count = m.uploads.len();
        let rows = m
            .uploads
            .into_iter()
            .map(|u| {
                let csrf = csrf.clone();
                let logs_link = format!("/admin/logs?q={}", u.original_key);
                view! {
                    <tr class=format!("stuck {}", u.diagnosis.kind()) id=format!("stuck-{}", u.id)>
                        <td><input type="checkbox" form="bulk-resize" name="ids" value=u.id.to_string()/></td>
                        <td><a href=format!("/uploaded/{}", u.id)>{u.original_filename.clone()}</a><div><code>{u.original_key.clone()}</code></div></td>
                        <td><time>{when(u.uploaded_at)}</time></td>
                        <td class="diagnosis">
                            <p>{u.diagnosis.summary()}</p>
                            {u.diagnosis.at().map(|t| view! { <p class="hint">{format!("Logged at {}. ", when(t))}<a href=logs_link.clone()>"Read the logs"</a></p> })}
                        </td>
                        <td>
                            <form method="post" action=format!("/admin/uploads/{}/resize", u.id)>
                                <CsrfField token=csrf/>
                                <button type="submit">"Resize again"</button>
                            </form>
                        </td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <AdminLayout title="Stuck uploads".to_string() staff=m.staff>
                <h1>"Stuck and failed uploads"</h1>
                {m.notice.map(|n| view! { <p class="notice" role="status">{n}</p> })}
                <p id="stuck-summary">{format!(
                    "{count} original(s) without renditions {} s or more after upload. The reason comes from the resizer's logs for each key.",
                    m.stuck_after_secs
                )}</p>
                {(count > 0).then(|| view! {
                    <form id="bulk-resize" method="post" action="/admin/uploads/resize">
                        <CsrfField token=csrf.clone()/>
                        <button type="submit">"Resize the selected again"</button>
                    </form>
                })}
                <Scrolls label="Uploads still processing">
                    <table>
                        <thead><tr><th></th><th>"Original"</th><th>"Uploaded"</th><th>"Reason"</th><th></th></tr></thead>
                        <tbody>{rows}</tbody>
                    </table>
                </Scrolls>
                <h2 id="left-behind">"Left behind by faults"</h2>
                <p>"The orphan sweep removes originals no artwork names (an upload cut off between storing its file and recording it) and renditions of neither, and marks artworks whose original is gone."</p>
                <h3>"Artworks whose original is gone"</h3>
                {if m.missing.is_empty() {
                    view! { <p id="missing-originals">"None."</p> }.into_any()
                } else {
                    let rows = m.missing.iter().map(|a| view! {
                        <tr><td><a href=format!("/uploaded/{}", a.id)>{a.original_filename.clone()}</a><div><code>{a.original_key.clone()}</code></div></td>
                        <td><time>{when(a.original_missing_since)}</time></td></tr>
                    }).collect_view();
                    view! { <Scrolls label="Originals missing"><table id="missing-originals"><thead><tr><th>"Artwork"</th><th>"Missing since"</th></tr></thead><tbody>{rows}</tbody></table></Scrolls> }.into_any()
                }}
                <h3>"Removed lately"</h3>
                {if m.swept.is_empty() {
                    view! { <p id="swept">"Nothing."</p> }.into_any()
                } else {
                    let rows = m.swept.iter().map(|e| view! {
                        <tr><td><time>{when(e.at)}</time></td><td>{e.action.clone()}</td><td><code>{e.subject.clone()}</code></td></tr>
                    }).collect_view();
                    view! { <Scrolls label="Objects swept"><table id="swept"><thead><tr><th>"When"</th><th>"What"</th><th>"Object"</th></tr></thead><tbody>{rows}</tbody></table></Scrolls> }.into_any()
                }}
            </AdminLayout>
        }
        .into_any()
    }
}
