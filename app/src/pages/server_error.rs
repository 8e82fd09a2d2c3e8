use leptos::prelude::*;

use super::Layout;

/// Deliberately says nothing about the cause: details go to the log.
pub fn page() -> impl Fn() -> AnyView + Clone + Send + Sync + 'static {
    || {
        view! {
            <Layout title="Something went wrong".to_string()>
                <h1>"Something went wrong on our side"</h1>
                <p>"Please try again in a moment."</p>
                <p><a href="/">"Upload Artwork"</a> " · " <a href="/gallery">"Open Gallery"</a></p>
            </Layout>
        }
        .into_any()
    }
}
