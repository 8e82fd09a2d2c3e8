use leptos::prelude::*;

use super::Layout;
use crate::artworks::{Artwork, Progress, media_path};

/// Seconds between automatic reloads while the resizer works.
const REFRESH_SECONDS: u32 = 2;

/// `/artworks/<id>`: one artwork, its facts, and where it stands.
#[component]
pub fn ArtworkPage(artwork: Artwork, progress: Progress) -> impl IntoView {
    let name = artwork.original_filename.clone();
    let processing = progress == Progress::Processing;
    let body = match progress {
        Progress::Processing => view! {
            <p class="status processing" role="status">
                "Processing: we are preparing this artwork for the gallery. This page updates by itself."
            </p>
        }
        .into_any(),
        Progress::Failed => view! {
            <p class="status failed" role="status">
                "We could not prepare this artwork for the gallery. Please upload it again; \
                 if that fails too, the file may be damaged."
            </p>
        }
        .into_any(),
        Progress::Ready(renditions) => {
            let sizes = renditions.by_width();
            let srcset = sizes
                .iter()
                .map(|r| format!("{} {}w", media_path(artwork.id, &r.name), r.width))
                .collect::<Vec<_>>()
                .join(", ");
            let shown = renditions.get("display").or(sizes.last().copied()).cloned();
            shown
                .map(|r| {
                    view! {
                        <img class="artwork-full" src=media_path(artwork.id, &r.name) srcset=srcset
                            sizes="(max-width: 1000px) 100vw, 1000px" width=r.width height=r.height alt=name.clone()/>
                    }
                })
                .into_any()
        }
    };
    view! {
        <Layout title=name.clone() refresh=processing.then_some(REFRESH_SECONDS)>
            <p class="back"><a href="/gallery">"← Gallery"</a></p>
            <h1 class="filename">{name.clone()}</h1>
            {body}
            <dl class="facts">
                <dt>"Original"</dt>
                <dd>{original(&artwork)}</dd>
                <dt>"Uploaded"</dt>
                <dd><time datetime=iso(artwork.uploaded_at)>{uploaded(artwork.uploaded_at)}</time></dd>
            </dl>
            <p class="actions"><a class="button" href="/">"Upload Another Artwork"</a></p>
        </Layout>
    }
}

/// "3000 × 2000 pixels, PNG, 4.2 MB".
fn original(a: &Artwork) -> String {
    let format = match a.format {
        easel_resizer::image::ImageFormat::Png => "PNG",
        easel_resizer::image::ImageFormat::Jpeg => "JPEG",
    };
    format!("{} × {} pixels, {format}, {}", a.width, a.height, size(a.bytes))
}

fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1024 * 1024 => format!("{:.1} MB", b as f64 / (1024.0 * 1024.0)),
        b if b >= 1024 => format!("{} KB", b / 1024),
        b => format!("{b} bytes"),
    }
}

fn iso(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

/// "4 December 2026, 22:37 UTC": a merchant reads this, not a log.
fn uploaded(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    t.format(time::macros::format_description!("[day padding:none] [month repr:long] [year], [hour]:[minute] UTC"))
        .unwrap_or_default()
}

pub fn page(artwork: Artwork, progress: Progress) -> impl Fn() -> AnyView + Clone + Send + Sync + 'static {
    move || view! { <ArtworkPage artwork=artwork.clone() progress=progress.clone()/> }.into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_read_as_words() {
        assert_eq!(size(4_404_019), "4.2 MB");
        assert_eq!(size(2048), "2 KB");
        assert_eq!(size(10), "10 bytes");
        let t = time::macros::datetime!(2026-12-04 22:37:05 UTC);
        assert_eq!(uploaded(t), "4 December 2026, 22:37 UTC");
    }
}
