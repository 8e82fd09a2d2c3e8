use leptos::prelude::*;

use super::Layout;

pub fn page() -> impl Fn() -> AnyView + Clone + Send + Sync + 'static {
    || {
        view! {
            <Layout title="Not found".to_string()>
                <h1>"We could not find that page"</h1>
                <p>"The link may be mistyped, or the artwork may have been removed."</p>
                <p><a href="/">"Upload Artwork"</a> " · " <a href="/gallery">"Open Gallery"</a></p>
            </Layout>
        }
        .into_any()
    }
}
