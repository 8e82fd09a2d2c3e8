//! `POST /admin/decommission`: step 1, a multipart form (the reason may come
//! as a PDF).

use axum::{
    Extension,
    extract::{Multipart, State, multipart::MultipartRejection},
    response::Response,
};

use super::act::answer;
use crate::client_addr::ClientAddr;
use crate::{
    auth::Session,
    decommission::{DecommissionError, procedure, stakeholder},
    error::PageError,
    state::AppState,
};

/// The largest reason document accepted.
pub const MAX_PDF_BYTES: usize = 10 * 1024 * 1024;
/// The whole request form: the document and some text.
pub const MAX_FORM_BYTES: usize = MAX_PDF_BYTES + 1024 * 1024;

#[derive(Default)]
struct Fields {
    csrf: Option<String>,
    stakeholders: String,
    point_of_contact: String,
    reason: String,
    pdf: Option<(String, Vec<u8>)>,
}

async fn read(mut multipart: Multipart) -> Result<Fields, DecommissionError> {
    let bad = |_| DecommissionError::Invalid("The form did not arrive complete; please send it again.".into());
    let mut f = Fields::default();
    while let Some(field) = multipart.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "reason_pdf" {
            // Only ever shown (escaped); still, no paths or control characters.
            let file = crate::routes::upload::sanitize_filename(field.file_name().unwrap_or_default())
                .unwrap_or_else(|| "reason.pdf".into());
            let bytes = field.bytes().await.map_err(bad)?;
            if bytes.len() > MAX_PDF_BYTES {
                return Err(DecommissionError::Invalid("The reason document is larger than 10 MB.".into()));
            }
            if !bytes.is_empty() {
                f.pdf = Some((file, bytes.to_vec()));
            }
            continue;
        }
        let text = field.text().await.map_err(bad)?;
        match name.as_str() {
            "csrf" => f.csrf = Some(text),
            "stakeholders" => f.stakeholders = text,
            "point_of_contact" => f.point_of_contact = text,
            "reason" => f.reason = text,
            _ => {}
        }
    }
    Ok(f)
}

pub async fn open_request(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    client: ClientAddr,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, PageError> {
    // An unreadable body has no valid token either.
    let multipart = multipart.map_err(|_| PageError::CsrfRejected)?;
    let fields = match read(multipart).await {
        Ok(f) => f,
        Err(e) => return answer(&state, &session, Err(e)).await,
    };
    if !session.csrf_matches(fields.csrf.as_deref()) {
        return Err(PageError::CsrfRejected);
    }
    let result = async {
        let stakeholders = stakeholder::parse_list(&fields.stakeholders)
            .map_err(|e| DecommissionError::Invalid(format!("Stakeholders: {e}")))?;
        let req = procedure::OpenRequest {
            stakeholders,
            point_of_contact: fields.point_of_contact,
            reason: fields.reason,
            reason_pdf: fields.pdf,
        };
        procedure::open(&state.decommissioning(), &session.actor(), client.0, req).await.map(|_| ())
    }
    .await;
    answer(&state, &session, result).await
}
