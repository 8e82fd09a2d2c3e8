use leptos::prelude::*;

use super::Layout;
use crate::gate::UploadGate;

/// What merchants see instead of the upload form once a decommission has
/// frozen uploads (archiving) or closed Easel (data destroyed).
#[component]
pub fn ClosurePage(closed: bool) -> impl IntoView {
    let (title, text) = if closed {
        (
            "Easel is closed",
            "Easel has been decommissioned. Uploads are closed and the artworks it held have been archived for the client and then deleted.",
        )
    } else {
        (
            "Uploads are paused",
            "Easel is being decommissioned. Uploads are closed while all artworks are archived; no new artwork can be accepted.",
        )
    };
    view! {
        <Layout title=title.to_string()>
            <h1>{title}</h1>
            <p class="reason closure-notice" role="alert">{text}</p>
        </Layout>
    }
}

pub fn page(gate: UploadGate) -> impl Fn() -> AnyView + Clone + Send + Sync + 'static {
    move || view! { <ClosurePage closed=gate == UploadGate::Closed/> }.into_any()
}
