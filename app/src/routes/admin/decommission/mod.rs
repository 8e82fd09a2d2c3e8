//! `/admin/decommission`: the admin's side of the procedure. Each action is
//! one file; each answers with a redirect back to the page, or the page again
//! with what stopped it.

mod act;
mod get;
mod open;
mod plan;
mod reason;
mod resend;
mod review;
mod step;

pub use get::decommission_page;
pub use open::MAX_FORM_BYTES;
pub use open::open_request;
pub use plan::submit_plan;
pub use reason::{pdf_response, reason_pdf};
pub use resend::{resend_link, send_mail_again};
pub use review::record_review;
pub use step::take_step;

/// The page every action answers with, or redirects back to.
const PAGE: &str = "/admin/decommission";
