use leptos::prelude::*;

use super::Layout;

/// `/`: the upload form. A plain multipart form taking several files, so it
/// works in any browser (several files answer with a summary page);
/// `/static/upload.js` adds progress, dropping files anywhere on the page,
/// and a row per file that updates in place.
#[component]
pub fn UploadPage(max_mb: u64, max_files: usize) -> impl IntoView {
    view! {
        <Layout title="Upload artwork".to_string()>
            <h1>"Upload your artwork"</h1>
            <p>
                "Choose PNG or JPEG images (.png, .jpg or .jpeg) of up to " {max_mb} " MB each, up to "
                {max_files} " at a time, then press Upload. You can also drop files anywhere on this page."
            </p>
            <form id="upload-form" method="post" action="/upload" enctype="multipart/form-data">
                <label for="artwork">"Artwork files"</label>
                <input id="artwork" type="file" name="artwork" multiple=true
                    accept=".png,.jpg,.jpeg,image/png,image/jpeg"/>
                <button type="submit">"Upload"</button>
                <progress id="upload-progress" max="100" value="0" hidden=true></progress>
            </form>
            <ul id="upload-rows" class="outcomes" aria-live="polite"></ul>
            <p><a href="/gallery">"Open Gallery"</a></p>
            <script src="/static/upload.js" defer=true></script>
        </Layout>
    }
}

pub fn page(max_mb: u64, max_files: usize) -> impl Fn() -> AnyView + Clone + Send + Sync + 'static {
    move || view! { <UploadPage max_mb=max_mb max_files=max_files/> }.into_any()
}
