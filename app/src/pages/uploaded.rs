use leptos::prelude::*;

use super::{Layout, NextSteps};
use crate::artworks::{Artwork, ArtworkStatus, artwork_path, media_path};

/// Seconds between automatic reloads while the resizer works.
const REFRESH_SECONDS: u32 = 2;

/// `/uploaded/<id>`: the confirmation, with the finished thumbnail once the
/// resizer is done.
#[component]
pub fn UploadedPage(artwork: Artwork) -> impl IntoView {
    let processing = matches!(artwork.status, ArtworkStatus::Processing);
    let body = match &artwork.status {
        ArtworkStatus::Processing => view! {
            <p class="status processing" role="status">
                "Processing: we are preparing your artwork for the gallery. This page updates by itself."
            </p>
        }
        .into_any(),
        ArtworkStatus::Ready { renditions, .. } => {
            let thumb = renditions.get("thumb").cloned();
            view! {
                <p class="status ready" role="status">"Ready: your artwork is in the gallery."</p>
                {thumb.map(|t| view! {
                    <a href=artwork_path(artwork.id)>
                        <img class="artwork" src=media_path(artwork.id, &t.name) width=t.width height=t.height
                            alt=artwork.original_filename.clone()/>
                    </a>
                })}
            }
            .into_any()
        }
    };
    view! {
        <Layout title="Artwork uploaded".to_string() refresh=processing.then_some(REFRESH_SECONDS)>
            <h1>"Thank you! Your artwork was uploaded."</h1>
            <p class="filename">{artwork.original_filename.clone()}</p>
            {body}
            <p><a href=artwork_path(artwork.id)>"Your artwork’s page"</a></p>
            <NextSteps/>
        </Layout>
    }
}

pub fn page(artwork: Artwork) -> impl Fn() -> AnyView + Clone + Send + Sync + 'static {
    move || view! { <UploadedPage artwork=artwork.clone()/> }.into_any()
}
