use leptos::prelude::*;

use crate::pages::Layout;

/// A short page that explains a refusal (403, 400) in plain words.
pub fn page(title: &'static str, message: String) -> impl Fn() -> AnyView + Clone + Send + Sync + 'static {
    move || {
        let message = message.clone();
        view! {
            <Layout title=title.to_string()>
                <h1>{title}</h1>
                <p class="reason" role="alert">{message}</p>
                <p><a href="/admin">"Back to the dashboard"</a></p>
            </Layout>
        }
        .into_any()
    }
}
