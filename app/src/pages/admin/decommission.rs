//! `/admin/decommission`: the procedure, step by step, for admins.

use leptos::prelude::*;

use crate::pages::layout::Scrolls;
use time::format_description::well_known::Rfc3339;

use super::{AdminLayout, ButtonForm, CsrfField, StaffView};
use crate::decommission::{
    DecommissionStep,
    repo::{ArchiveState, Decision, Decommission, MailRow, Stakeholder},
};
use crate::outbox::MailState;

#[derive(Debug, Clone)]
pub struct DecommissionModel {
    pub staff: StaffView,
    pub current: Option<Decommission>,
    pub stakeholders: Vec<Stakeholder>,
    pub decisions: Vec<Decision>,
    pub mails: Vec<MailRow>,
    pub history: Vec<Decommission>,
    pub error: Option<String>,
}

fn when(t: time::OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

const SOP: [(&str, &[DecommissionStep]); 7] = [
    ("1. Request: the reason for decommissioning", &[]),
    ("2. Notify stakeholders and approve", &[DecommissionStep::Approval]),
    ("3. Planning of the decommissioning process", &[DecommissionStep::Plan, DecommissionStep::PlanApproval]),
    ("4. Backup and archive data", &[DecommissionStep::Archive, DecommissionStep::Handover]),
    ("5. Destroy and remove (data destruction)", &[DecommissionStep::Destroy]),
    ("6. Notify stakeholders of completion", &[DecommissionStep::Notify]),
    ("7. Conduct post-decommissioning review", &[DecommissionStep::Review]),
];

pub fn page(m: DecommissionModel) -> impl Fn() -> AnyView + Clone + Send + Sync + 'static {
    move || {
        let m = m.clone();
        let refresh = m.current.as_ref().is_some_and(|d| d.archive_state == ArchiveState::Running);
        let body = match m.current.clone() {
            None => request_form(&m).into_any(),
            Some(d) => current_view(&m, d).into_any(),
        };
        let halted: Vec<_> = m.history.iter().filter(|d| d.step == DecommissionStep::Halted).cloned().collect();
        let any_halted = !halted.is_empty();
        let history = halted
            .iter()
            .map(|d| {
                view! {
                    <li>{format!("{} opened by {}: halted — {}", when(d.opened_at), d.opened_by, d.halted_reason.clone().unwrap_or_default())}</li>
                }
            })
            .collect_view();
        view! {
            <AdminLayout title="Decommission".to_string() staff=m.staff.clone()>
                {refresh.then(|| view! { <meta http-equiv="refresh" content="2"/> })}
                <h1>"Decommission Easel"</h1>
                {m.error.clone().map(|e| view! { <p class="reason" role="alert">{e}</p> })}
                {body}
                {any_halted.then(|| view! { <h2>"Halted requests"</h2> })}
                <ul class="history">{history}</ul>
            </AdminLayout>
        }
        .into_any()
    }
}

fn request_form(m: &DecommissionModel) -> impl IntoView + use<> {
    let csrf = m.staff.csrf.clone();
    view! {
        <p>"Open a decommission request. Every stakeholder is e-mailed a link to approve or reject it; any rejection halts it."</p>
        <form class="panel" method="post" action="/admin/decommission" enctype="multipart/form-data">
            <CsrfField token=csrf/>
            <label for="stakeholders">"Stakeholders, one per line: name, e-mail, role (representative, management or user; exactly one representative)"</label>
            <textarea id="stakeholders" name="stakeholders" rows="5" required=true placeholder="Ada Lovelace, ada@client.example, representative"></textarea>
            <label for="point_of_contact">"Point of contact"</label>
            <input id="point_of_contact" name="point_of_contact" type="text" required=true/>
            <label for="reason">"Reason for decommissioning"</label>
            <textarea id="reason" name="reason" rows="5"></textarea>
            <label for="reason_pdf">"Reason document (PDF, optional)"</label>
            <input id="reason_pdf" name="reason_pdf" type="file" accept="application/pdf,.pdf"/>
            <button type="submit">"Open the request and e-mail the stakeholders"</button>
        </form>
    }
}

fn current_view(m: &DecommissionModel, d: Decommission) -> impl IntoView + use<> {
    let csrf = m.staff.csrf.clone();
    let base = format!("/admin/decommission/{}", d.id);
    let steps = SOP
        .iter()
        .map(|(name, states)| {
            let here = states.contains(&d.step);
            view! { <li class=if here { "current" } else { "" }>{*name}{here.then_some(" ← now")}</li> }
        })
        .collect_view();
    let rows = m
        .stakeholders
        .iter()
        .map(|s| {
            let decision = m
                .decisions
                .iter()
                .rev()
                .find(|x| x.stakeholder_id == s.id)
                .map(|x| format!("{} at {} ({}): {}", x.decision, x.step, when(x.at), x.comment))
                .unwrap_or_else(|| "—".into());
            let sent = m
                .mails
                .iter()
                .rev()
                .find(|x| x.stakeholder_id == Some(s.id) && x.step == d.step)
                .map(|x| mail_state(&x.state))
                .unwrap_or_else(|| "—".into());
            // Only where the server would resend: a stakeholder still to
            // decide on the request, or the representative at their steps.
            let decided = m.decisions.iter().any(|x| x.stakeholder_id == s.id && x.step == d.step);
            let eligible = match d.step {
                DecommissionStep::Approval => !decided,
                DecommissionStep::PlanApproval | DecommissionStep::Handover => {
                    s.role == crate::decommission::StakeholderRole::Representative
                }
                _ => false,
            };
            let resend = eligible.then(|| {
                let action = format!("{base}/stakeholders/{}/resend", s.id);
                view! { <ButtonForm action=action csrf=csrf.clone() label="Resend link"/> }
            });
            view! {
                <tr>
                    <td>{s.name.clone()}</td><td>{s.email.clone()}</td><td>{s.role.to_string()}</td>
                    <td>{decision}</td><td>{sent}</td><td class="actions">{resend}</td>
                </tr>
            }
        })
        .collect_view();
    let mails = m
        .mails
        .iter()
        .map(|x| {
            let again = matches!(x.state, MailState::Failing { .. } | MailState::GivenUp { .. }).then(|| {
                let action = format!("{base}/mail/{}/send-again", x.id);
                view! { <ButtonForm action=action csrf=csrf.clone() label="Send again now"/> }
            });
            view! {
                <tr class="mail">
                    <td>{when(x.queued_at)}</td><td>{x.to_addr.clone()}</td><td>{x.step.as_str()}</td>
                    <td>{x.subject.clone()}</td><td class="mail-state">{mail_state(&x.state)}</td>
                    <td><code>{x.message_id.clone()}</code></td><td class="actions">{again}</td>
                </tr>
            }
        })
        .collect_view();
    let action = step_action(&d, &base, &csrf);
    view! {
        <p class="step" id="step">{format!("Current step: {}", d.step.label())}</p>
        <ul class="sop">{steps}</ul>
        <dl>
            <dt>"Opened"</dt><dd>{format!("{} by {}", when(d.opened_at), d.opened_by)}</dd>
            <dt>"Point of contact"</dt><dd>{d.point_of_contact.clone()}</dd>
            <dt>"Reason"</dt><dd class="prewrap">{d.reason.clone()}</dd>
            {d.reason_pdf_name.clone().map(|n| view! { <dt>"Reason document"</dt><dd><a href=format!("{base}/reason.pdf")>{n}</a></dd> })}
        </dl>
        <h2>"Stakeholders"</h2>
        <Scrolls label="Stakeholders">
            <table id="stakeholder-list">
                <thead><tr><th>"Name"</th><th>"E-mail"</th><th>"Role"</th><th>"Decision"</th><th>"Link this step"</th><th></th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </Scrolls>
        {action}
        <h2>"Mail"</h2>
        <Scrolls label="Mail">
            <table id="mail-list">
                <thead><tr><th>"Queued"</th><th>"To"</th><th>"Step"</th><th>"Subject"</th><th>"State"</th><th>"Message-ID"</th><th></th></tr></thead>
                <tbody>{mails}</tbody>
            </table>
        </Scrolls>
    }
}

/// A message's state in words.
fn mail_state(state: &MailState) -> String {
    match state {
        MailState::Queued => "queued".into(),
        MailState::Sent { at: Some(at) } => format!("sent {}", when(*at)),
        MailState::Sent { at: None } => "sent".into(),
        MailState::Failing { attempts, error, next_attempt } => {
            format!("failing: {attempts} attempt(s), last error: {error}; next try {}", when(*next_attempt))
        }
        MailState::GivenUp { attempts, error } => format!("given up after {attempts} attempts; last error: {error}"),
    }
}

fn step_action(d: &Decommission, base: &str, csrf: &str) -> AnyView {
    let csrf = csrf.to_owned();
    let plan = d.plan.clone().unwrap_or_default();
    match d.step {
        DecommissionStep::Approval => view! { <p>"Waiting for every stakeholder to approve."</p> }.into_any(),
        DecommissionStep::Plan => view! {
            <h2>"Plan"</h2>
            {d.plan_comment.clone().filter(|c| !c.is_empty()).map(|c| view! { <p class="reason">{format!("The representative rejected the last plan: {c}")}</p> })}
            <form class="panel" method="post" action=format!("{base}/plan")>
                <CsrfField token=csrf/>
                <label for="plan_steps">"Steps"</label>
                <textarea id="plan_steps" name="steps" rows="5" required=true>{plan.steps}</textarea>
                <label for="plan_timeline">"Timeline"</label>
                <textarea id="plan_timeline" name="timeline" rows="3" required=true>{plan.timeline}</textarea>
                <label for="plan_resources">"Resources"</label>
                <textarea id="plan_resources" name="resources" rows="3" required=true>{plan.resources}</textarea>
                <label for="plan_contingency">"Contingency"</label>
                <textarea id="plan_contingency" name="contingency" rows="3" required=true>{plan.contingency}</textarea>
                <button type="submit">"Send the plan to the representative"</button>
            </form>
        }
        .into_any(),
        DecommissionStep::PlanApproval => {
            view! { <p>"The plan was sent to the representative, who approves it by link."</p> }.into_any()
        }
        DecommissionStep::Archive => {
            let label = if d.archive_state == ArchiveState::Running {
                "Start the build again (only if it stopped making progress)"
            } else {
                "Build and verify the archive"
            };
            view! {
                <h2>"Backup and archive data"</h2>
                <p>"Uploads are frozen."</p>
                <p id="archive-progress">{format!("Archive: {} — {}", d.archive_state.as_str(), d.archive_progress)}</p>
                <form class="panel" method="post" action=format!("{base}/archive")>
                    <CsrfField token=csrf.clone()/>
                    <button type="submit">{label}</button>
                </form>
            }
            .into_any()
        }
        DecommissionStep::Handover => view! {
            <h2>"Archive handed over"</h2>
            <p id="archive-progress">{format!("Archive {}: {} bytes, SHA-256 {}", d.archive_progress, d.archive_bytes.unwrap_or(0), d.archive_sha256.clone().unwrap_or_default())}</p>
            <p>"Waiting for the representative to download it and sign the receipt. Nothing can be destroyed before that."</p>
        }
        .into_any(),
        DecommissionStep::Destroy => view! {
            <h2>"Destroy and remove: data destruction"</h2>
            <p>{format!("Receipt signed by {} at {} from {} for archive {}.", d.receipt_name.clone().unwrap_or_default(), d.receipt_at.map(when).unwrap_or_default(), d.receipt_addr.clone().unwrap_or_default(), d.receipt_sha256.clone().unwrap_or_default())}</p>
            <p>"This deletes every object and object version in every bucket, removes the bucket policies and event notifications Easel set, and disables every support account. It cannot be undone."</p>
            <form class="panel" method="post" action=format!("{base}/destroy")>
                <CsrfField token=csrf/>
                <button type="submit" class="danger">"Destroy all data"</button>
            </form>
        }
        .into_any(),
        DecommissionStep::Notify => {
            let report = d.destroy_report.as_ref().map(|r| serde_json::to_string_pretty(r).unwrap_or_default());
            view! {
            <h2>"Notify stakeholders of completion"</h2>
            <Scrolls label="Destruction report"><pre class="report">{report}</pre></Scrolls>
            <form class="panel" method="post" action=format!("{base}/notify")>
                <CsrfField token=csrf/>
                <button type="submit">"E-mail every stakeholder that decommissioning is complete"</button>
            </form>
        }
        .into_any()
        }
        DecommissionStep::Review => view! {
            <h2>"Conduct post-decommissioning review"</h2>
            <form class="panel" method="post" action=format!("{base}/review")>
                <CsrfField token=csrf/>
                <label for="review">"Review: what went well, what to improve"</label>
                <textarea id="review" name="review" rows="6" required=true></textarea>
                <button type="submit">"Record the review and close"</button>
            </form>
        }
        .into_any(),
        DecommissionStep::Closed | DecommissionStep::Halted => view! {
            <h2>"Closed"</h2>
            <p class="prewrap">{d.review.clone().unwrap_or_default()}</p>
        }
        .into_any(),
    }
}
