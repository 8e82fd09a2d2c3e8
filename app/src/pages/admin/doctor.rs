use leptos::prelude::*;

use crate::pages::layout::Scrolls;

use super::{AdminLayout, CsrfField, StaffView};
use crate::{
    auth::Role,
    support::doctor::{Check, DiffLine, Proposal, Status},
};

#[derive(Debug, Clone)]
pub struct DoctorModel {
    pub staff: StaffView,
    pub notice: Option<String>,
    pub checks: Vec<Check>,
}

pub fn status_badge(s: Status) -> impl IntoView {
    view! { <span class=format!("badge {}", s.as_str())>{s.as_str().to_uppercase()}</span> }
}

/// One sentence on a check, for its line: what a failing or warning check
/// asks (its remedy's first sentence), or that a passing one holds.
fn verdict(c: &Check) -> String {
    if c.status == Status::Pass || c.remedy.is_empty() {
        return "As the spec says.".into();
    }
    match c.remedy.find(". ") {
        Some(end) => c.remedy[..=end].to_string(),
        None => c.remedy.clone(),
    }
}

/// `/admin/doctor`: one line per check, failures and warnings first (the
/// order `doctor::run` gives, which the CLI prints too). Evidence and remedy
/// fold away, open for failures, so a healthy stack fits on one screen.
pub fn page(m: DoctorModel) -> impl Fn() -> AnyView + Clone + Send + Sync + 'static {
    move || {
        let m = m.clone();
        let is_admin = m.staff.role == Role::Admin;
        let failing = m.checks.iter().filter(|c| c.status == Status::Fail).count();
        let warning = m.checks.iter().filter(|c| c.status == Status::Warn).count();
        let summary = if failing == 0 {
            format!("All {} checks pass ({warning} with a warning).", m.checks.len())
        } else {
            format!("{failing} of {} checks fail, {warning} warn.", m.checks.len())
        };
        let rows = m
            .checks
            .into_iter()
            .map(|c| {
                let fix = c.fix.filter(|_| c.status != Status::Pass);
                let verdict = verdict(&c);
                let open = c.status == Status::Fail;
                view! {
                    <li>
                        <details class=format!("check {}", c.status.as_str()) id=c.id.clone()
                            open=open>
                            <summary>
                                {status_badge(c.status)} " " <strong>{c.title}</strong>
                                " " <span class="verdict">{verdict}</span>
                            </summary>
                            <div class="check-body">
                                <div class="check-id"><code>{c.id.clone()}</code></div>
                                <ul class="evidence">
                                    {c.evidence.into_iter().map(|e| view! { <li><code>{e}</code></li> }).collect_view()}
                                </ul>
                                {(!c.remedy.is_empty()).then(|| view! { <p>{c.remedy.clone()}</p> })}
                                {fix.map(|f| if is_admin {
                                    view! { <a class="button" href=format!("/admin/doctor/fix/{f}")>"Review the fix"</a> }.into_any()
                                } else {
                                    view! { <p class="hint">"An admin can apply the recommended fix."</p> }.into_any()
                                })}
                            </div>
                        </details>
                    </li>
                }
            })
            .collect_view();
        view! {
            <AdminLayout title="Bucket doctor".to_string() staff=m.staff>
                <h1>"Bucket doctor"</h1>
                {m.notice.map(|n| view! { <p class="notice" role="status">{n}</p> })}
                <p class=if failing == 0 { "notice" } else { "reason" } id="doctor-summary">{summary}
                    " " <a href="/admin/doctor">"Run the checks again"</a></p>
                <ol class="checks">{rows}</ol>
                <p class="hint">"Each check compares the live configuration with the spec provisioning applies; \
                   open one for its evidence and remedy."</p>
            </AdminLayout>
        }
        .into_any()
    }
}

/// The change a fix would make, before it is made.
pub fn fix_page(staff: StaffView, p: Proposal) -> impl Fn() -> AnyView + Clone + Send + Sync + 'static {
    move || {
        let p = p.clone();
        let staff = staff.clone();
        let lines = p
            .diff()
            .into_iter()
            .map(|l| match l {
                DiffLine::Same(t) => view! { <span class="same">{format!("  {t}\n")}</span> }.into_any(),
                DiffLine::Removed(t) => view! { <del>{format!("- {t}\n")}</del> }.into_any(),
                DiffLine::Added(t) => view! { <ins>{format!("+ {t}\n")}</ins> }.into_any(),
            })
            .collect_view();
        let changes = p.changes_something();
        view! {
            <AdminLayout title="Review a fix".to_string() staff=staff.clone()>
                <h1>{format!("Fix {} of {}", p.fix.aspect.as_str(), p.bucket)}</h1>
                {if changes {
                    view! { <p>"This is what the fix writes, compared with what is there now. It is recorded in the audit trail."</p> }.into_any()
                } else {
                    view! { <p class="notice">"Already as the spec says: applying it changes nothing."</p> }.into_any()
                }}
                <Scrolls label="The fix as a diff"><pre class="diff">{lines}</pre></Scrolls>
                <form method="post" action=format!("/admin/doctor/fix/{}", p.fix)>
                    <CsrfField token=staff.csrf.clone()/>
                    <button type="submit">"Apply this fix"</button>
                    " "<a href="/admin/doctor">"Cancel"</a>
                </form>
            </AdminLayout>
        }
        .into_any()
    }
}
