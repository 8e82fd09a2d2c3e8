use axum::{
    Form,
    extract::{Path, State, rejection::FormRejection},
    response::Response,
};
use http::StatusCode;

use crate::client_addr::ClientAddr;
use crate::{
    decommission::{
        DecommissionError,
        procedure::{self, DecisionOutcome},
    },
    error::PageError,
    pages,
    state::AppState,
};

#[derive(serde::Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    comment: String,
    #[serde(default)]
    full_name: String,
    #[serde(default)]
    consent: Option<String>,
}

pub async fn decide(
    State(state): State<AppState>,
    client: ClientAddr,
    Path(token): Path<String>,
    form: Result<Form<DecisionForm>, FormRejection>,
) -> Result<Response, PageError> {
    let Ok(Form(form)) = form else {
        let msg = "The form did not arrive complete; go back to the page and send it again.".to_string();
        return Err(PageError::BadRequest(msg));
    };
    let addr = client.0;
    let done = match form.decision.as_str() {
        "receipt" => {
            procedure::sign_receipt(&state.decommissioning(), &token, &form.full_name, form.consent.is_some(), addr)
                .await
                .map(|()| ("Receipt signed", "Thank you. Your receipt for the archive is recorded."))
        }
        d @ ("approve" | "reject") => {
            procedure::decide(&state.decommissioning(), &token, d == "approve", &form.comment, addr).await.map(|o| {
                match o {
                    DecisionOutcome::Recorded | DecisionOutcome::AllApproved => {
                        ("Approval recorded", "Thank you. Your approval is recorded.")
                    }
                    DecisionOutcome::Halted => {
                        ("Rejection recorded", "Your rejection is recorded; the decommissioning is halted.")
                    }
                    DecisionOutcome::PlanApproved => {
                        ("Plan approved", "Thank you. Your approval of the plan is recorded.")
                    }
                    DecisionOutcome::PlanRejected => {
                        ("Plan rejected", "Your rejection of the plan is recorded; the admin will revise it.")
                    }
                }
            })
        }
        _ => Err(DecommissionError::Invalid("Choose approve or reject.".into())),
    };
    let (title, message) = done.map_err(PageError::from_link)?;
    let page = pages::decommission::done_page(title, message.to_string());
    Ok(pages::render("/decommission/link", StatusCode::OK, page).await)
}
