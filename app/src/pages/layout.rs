use leptos::prelude::*;

/// The frame of every page: document head, site header, main content.
#[component]
pub fn Layout(
    title: String,
    /// Seconds after which the browser reloads the page by itself; used
    /// while an artwork is processing, so no script is needed.
    #[prop(default = None)]
    refresh: Option<u32>,
    children: Children,
) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                {refresh.map(|s| view! { <meta http-equiv="refresh" content=s.to_string()/> })}
                <title>{format!("{title} · Easel")}</title>
                <link rel="stylesheet" href="/style/easel.css"/>
            </head>
            <body>
                <header class="site">
                    <a class="brand" href="/">"Easel"</a>
                    <nav>
                        <a href="/">"Upload"</a>
                        <a href="/gallery">"Gallery"</a>
                    </nav>
                </header>
                <main>{children()}</main>
            </body>
        </html>
    }
}
