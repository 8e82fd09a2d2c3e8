use leptos::prelude::*;

use super::Layout;
use crate::artworks::{Artwork, ArtworkStatus, GalleryPage as Page, artwork_path, media_path};

#[derive(Clone)]
pub struct GalleryModel {
    pub items: Vec<Artwork>,
    pub newer: Option<String>,
    pub older: Option<String>,
}

impl From<Page> for GalleryModel {
    fn from(p: Page) -> Self {
        let newer = p.has_newer.then(|| p.items.first().map(|a| format!("/gallery?after={}", a.id))).flatten();
        let older = p.has_older.then(|| p.items.last().map(|a| format!("/gallery?before={}", a.id))).flatten();
        // An empty page past the end still links back to the start.
        let newer = newer.or_else(|| (p.items.is_empty() && p.has_newer).then(|| "/gallery".to_string()));
        let older = older.or_else(|| (p.items.is_empty() && p.has_older).then(|| "/gallery".to_string()));
        GalleryModel { items: p.items, newer, older }
    }
}

#[component]
fn Tile(artwork: Artwork) -> impl IntoView {
    let ArtworkStatus::Ready { renditions, .. } = &artwork.status else {
        return ().into_any();
    };
    let sizes = renditions.by_width();
    let Some(thumb) = renditions.get("thumb").or(sizes.first().copied()) else {
        return ().into_any();
    };
    let srcset = sizes
        .iter()
        .map(|r| format!("{} {}w", media_path(artwork.id, &r.name), r.width))
        .collect::<Vec<_>>()
        .join(", ");
    view! {
        <figure class="tile">
            <a href=artwork_path(artwork.id)>
                <img src=media_path(artwork.id, &thumb.name) srcset=srcset sizes="(max-width: 480px) 100vw, 400px"
                    width=thumb.width height=thumb.height loading="lazy" alt=artwork.original_filename.clone()/>
            </a>
            <figcaption>{artwork.original_filename.clone()}</figcaption>
        </figure>
    }
    .into_any()
}

/// `/gallery`: finished artworks, newest first, a page at a time.
#[component]
pub fn GalleryPage(model: GalleryModel) -> impl IntoView {
    let empty = model.items.is_empty();
    view! {
        <Layout title="Gallery".to_string()>
            <h1>"Gallery"</h1>
            {empty.then(|| view! {
                <p class="empty">"No artwork here yet. " <a href="/">"Upload Artwork"</a></p>
            })}
            <div class="grid">
                {model.items.into_iter().map(|a| view! { <Tile artwork=a/> }).collect_view()}
            </div>
            <nav class="pager">
                {model.newer.map(|href| view! { <a rel="prev" href=href>"← Newer"</a> })}
                {model.older.map(|href| view! { <a rel="next" href=href>"Older →"</a> })}
            </nav>
            <p><a class="button" href="/">"Upload Another Artwork"</a></p>
        </Layout>
    }
}

pub fn page(model: GalleryModel) -> impl Fn() -> AnyView + Clone + Send + Sync + 'static {
    move || view! { <GalleryPage model=model.clone()/> }.into_any()
}
