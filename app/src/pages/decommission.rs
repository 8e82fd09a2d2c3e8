//! The pages a stakeholder reaches from a mailed link. `GET` shows one of
//! these and changes nothing; only the form's `POST` decides.

use leptos::prelude::*;

use super::Layout;
use crate::decommission::{DecommissionStep, procedure::LinkView};

fn plan_view(v: &LinkView) -> impl IntoView + use<> {
    let plan = v.decommission.plan.clone().unwrap_or_default();
    view! {
        <dl class="plan">
            <dt>"Steps"</dt><dd class="prewrap">{plan.steps}</dd>
            <dt>"Timeline"</dt><dd class="prewrap">{plan.timeline}</dd>
            <dt>"Resources"</dt><dd class="prewrap">{plan.resources}</dd>
            <dt>"Contingency"</dt><dd class="prewrap">{plan.contingency}</dd>
        </dl>
    }
}

/// The confirm page of a link.
pub fn link_page(v: LinkView, token: String) -> impl Fn() -> AnyView + Clone + Send + Sync + 'static {
    move || {
        let v = v.clone();
        let action = format!("/decommission/{token}");
        let greeting = format!("{} ({})", v.stakeholder.name, v.stakeholder.role);
        let contact = format!("Point of contact: {}", v.decommission.point_of_contact);
        match v.step {
            DecommissionStep::Handover => {
                let d = &v.decommission;
                let sha = d.archive_sha256.clone().unwrap_or_default();
                let size = d.archive_bytes.unwrap_or(0);
                view! {
                    <Layout title="Receive the archive".to_string()>
                        <h1>"Easel’s data archive"</h1>
                        <p>{greeting}</p>
                        <p>"This archive holds every stored file of Easel, a database export with the whole audit trail, and a manifest listing each file’s SHA-256."</p>
                        <p><a class="button" id="download" href=format!("{action}/archive")>"Download the archive"</a></p>
                        <p>{format!("Size: {size} bytes. SHA-256: ")}<code>{sha.clone()}</code></p>
                        <h2>"Receipt"</h2>
                        <form class="panel" method="post" action=action.clone()>
                            <label for="full_name">"Your full name"</label>
                            <input id="full_name" name="full_name" type="text" required=true autocomplete="name"/>
                            <label class="check">
                                <input id="consent" name="consent" type="checkbox" value="yes" required=true/>
                                " "{crate::decommission::procedure::receipt_consent(&sha)}
                            </label>
                            <button type="submit" name="decision" value="receipt">"Sign the receipt"</button>
                        </form>
                        <p>{contact}</p>
                    </Layout>
                }
                .into_any()
            }
            step => {
                let is_plan = step == DecommissionStep::PlanApproval;
                let (title, ask) = if is_plan {
                    (
                        "Approve the decommissioning plan",
                        "Please approve or reject this plan for decommissioning Easel.",
                    )
                } else {
                    ("Approve the decommissioning", "Please approve or reject the request to decommission Easel.")
                };
                view! {
                    <Layout title=title.to_string()>
                        <h1>{title}</h1>
                        <p>{greeting}</p>
                        <p>{ask}</p>
                        <h2>"Reason"</h2>
                        <p class="prewrap">{v.decommission.reason.clone()}</p>
                        {v.decommission.reason_pdf_name.clone().map(|n| view! {
                            <p><a id="reason-document" href=format!("{action}/reason.pdf")>{format!("Reason document: {n}")}</a></p>
                        })}
                        {is_plan.then(|| view! { <h2>"Plan"</h2> {plan_view(&v)} })}
                        <form class="panel" method="post" action=action.clone()>
                            <label for="comment">"Comment (required to reject)"</label>
                            <textarea id="comment" name="comment" rows="4"></textarea>
                            <button type="submit" name="decision" value="approve">"Approve"</button>
                            <button type="submit" name="decision" value="reject" class="danger">"Reject"</button>
                        </form>
                        <p>{contact}</p>
                    </Layout>
                }
                .into_any()
            }
        }
    }
}

/// After a decision: what was recorded.
pub fn done_page(title: &'static str, message: String) -> impl Fn() -> AnyView + Clone + Send + Sync + 'static {
    move || {
        let message = message.clone();
        view! {
            <Layout title=title.to_string()>
                <h1>{title}</h1>
                <p class="done" role="status">{message}</p>
            </Layout>
        }
        .into_any()
    }
}

/// A link that does nothing, and why.
pub fn refused_page(message: String) -> impl Fn() -> AnyView + Clone + Send + Sync + 'static {
    move || {
        let message = message.clone();
        view! {
            <Layout title="Link not valid".to_string()>
                <h1>"This link cannot be used"</h1>
                <p class="reason" role="alert">{message}</p>
                <p>"Nothing was changed."</p>
            </Layout>
        }
        .into_any()
    }
}
