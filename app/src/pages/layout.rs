use leptos::prelude::*;

/// The HTML document every page shares: head, stylesheet, body.
#[component]
pub fn Document(
    title: String,
    /// Seconds after which the browser reloads the page by itself; used
    /// while an artwork is processing, so no script is needed.
    #[prop(default = None)]
    refresh: Option<u32>,
    /// `admin` for the signed-in console (also keeps it out of search engines).
    #[prop(default = None)]
    body_class: Option<&'static str>,
    children: Children,
) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                {body_class.map(|_| view! { <meta name="robots" content="noindex"/> })}
                {refresh.map(|s| view! { <meta http-equiv="refresh" content=s.to_string()/> })}
                <title>{title}</title>
                <link rel="stylesheet" href="/style/easel.css"/>
            </head>
            <body class=body_class>{children()}</body>
        </html>
    }
}

/// A box that scrolls sideways on its own when what it holds (a wide
/// table, a diff, a chart) is wider than the screen, so the page itself
/// never is on a phone. Focusable and named, so a keyboard can scroll it
/// too (WCAG 2.1.1; axe-core's `scrollable-region-focusable`).
#[component]
pub fn Scrolls(#[prop(into)] label: String, children: Children) -> impl IntoView {
    view! { <div class="scrolls" role="region" tabindex="0" aria-label=label>{children()}</div> }
}

/// The frame of every merchant page: site header, main content.
#[component]
pub fn Layout(title: String, #[prop(default = None)] refresh: Option<u32>, children: Children) -> impl IntoView {
    view! {
        <Document title=format!("{title} · Easel") refresh=refresh>
            <header class="site">
                <a class="brand" href="/">"Easel"</a>
                <nav>
                    <a href="/">"Upload"</a>
                    <a href="/gallery">"Gallery"</a>
                </nav>
            </header>
            <main>{children()}</main>
        </Document>
    }
}

/// The way on from an upload's answer, in the closure document's words.
#[component]
pub fn NextSteps() -> impl IntoView {
    view! {
        <p class="actions">
            <a class="button" href="/">"Upload Another Artwork"</a>
            " "
            <a class="button" href="/gallery">"Open Gallery"</a>
        </p>
    }
}
