use leptos::prelude::*;

use super::Layout;

/// `/`: the upload form. A plain multipart form, so it works in any browser;
/// `/static/upload.js` adds a progress bar where scripts run.
#[component]
pub fn UploadPage(max_mb: u64) -> impl IntoView {
    view! {
        <Layout title="Upload artwork".to_string()>
            <h1>"Upload your artwork"</h1>
            <p>"Choose a PNG or JPEG image (.png, .jpg or .jpeg) of up to " {max_mb} " MB, then press Upload."</p>
            <form id="upload-form" method="post" action="/upload" enctype="multipart/form-data">
                <label for="artwork">"Artwork file"</label>
                <input id="artwork" type="file" name="artwork" accept=".png,.jpg,.jpeg,image/png,image/jpeg"/>
                <button type="submit">"Upload"</button>
                <progress id="upload-progress" max="100" value="0" hidden=true></progress>
            </form>
            <p><a href="/gallery">"Open Gallery"</a></p>
            <script src="/static/upload.js" defer=true></script>
        </Layout>
    }
}

pub fn page(max_mb: u64) -> impl Fn() -> AnyView + Clone + Send + Sync + 'static {
    move || view! { <UploadPage max_mb=max_mb/> }.into_any()
}
