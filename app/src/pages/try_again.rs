use leptos::prelude::*;

use super::Layout;

/// The page merchants know from the original system: what went wrong, in
/// plain words, and the way back to the form.
#[component]
pub fn TryAgainPage(reason: String) -> impl IntoView {
    view! {
        <Layout title="Please try again".to_string()>
            <h1>"Please try again"</h1>
            <p class="reason" role="alert">{reason}</p>
            <p>"Easel accepts PNG and JPEG images (.png, .jpg, .jpeg)."</p>
            <p><a class="button" href="/">"Upload Artwork Again"</a></p>
        </Layout>
    }
}

pub fn page(reason: String) -> impl Fn() -> AnyView + Clone + Send + Sync + 'static {
    move || view! { <TryAgainPage reason=reason.clone()/> }.into_any()
}
