use easel_resizer::keys::ArtworkId;
use leptos::prelude::*;

use super::{Layout, NextSteps};
use crate::artworks::artwork_path;

/// One file of a submission: its page, or why it was refused.
#[derive(Debug, Clone)]
pub struct FileOutcome {
    pub filename: String,
    pub result: Result<ArtworkId, String>,
}

#[derive(Debug, Clone)]
pub struct UploadsModel {
    pub files: Vec<FileOutcome>,
    /// Why the files after the last one listed were not uploaded.
    pub cut_short: Option<String>,
}

/// The answer to a submission of several files (without JavaScript): every
/// file's outcome, in the words of the confirmation and try-again pages.
#[component]
pub fn UploadsPage(model: UploadsModel) -> impl IntoView {
    let accepted = model.files.iter().filter(|f| f.result.is_ok()).count();
    let heading = match accepted {
        0 => "Please try again".to_string(),
        n if n == model.files.len() && model.cut_short.is_none() => {
            "Thank you! Your artworks were uploaded.".to_string()
        }
        n => format!("{n} of your artworks were uploaded."),
    };
    view! {
        <Layout title="Your uploads".to_string()>
            <h1>{heading}</h1>
            <ul class="outcomes">
                {model.files.into_iter().map(|f| match f.result {
                    Ok(id) => view! {
                        <li class="accepted">
                            <span class="filename">{f.filename}</span>
                            " — Uploaded. "
                            <a href=artwork_path(id)>"See its page"</a>
                        </li>
                    }.into_any(),
                    Err(reason) => view! {
                        <li class="refused">
                            <span class="filename">{f.filename}</span>
                            " — Please try again: " {reason}
                        </li>
                    }.into_any(),
                }).collect_view()}
            </ul>
            {model.cut_short.map(|why| view! {
                <p class="reason" role="alert">"The files after these were not uploaded. " {why}</p>
            })}
            <p>"Easel accepts PNG and JPEG images (.png, .jpg, .jpeg)."</p>
            <NextSteps/>
        </Layout>
    }
}

pub fn page(model: UploadsModel) -> impl Fn() -> AnyView + Clone + Send + Sync + 'static {
    move || view! { <UploadsPage model=model.clone()/> }.into_any()
}
