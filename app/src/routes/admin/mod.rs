//! `/admin`: sign-in, the dashboard, accounts and the audit trail. Every
//! route but the sign-in page sits behind `guards::staff`.

pub mod audit;
pub mod backups;
pub mod dashboard;
pub mod decommission;
pub mod doctor;
pub mod login;
pub mod logout;
pub mod logs;
pub mod password;
pub mod uploads;
pub mod users;

use axum::{Form, extract::rejection::FormRejection};

use crate::{auth::Session, error::PageError};

/// A submitted admin form, after its CSRF token was checked against the
/// session. Every signed-in POST goes through this, so none can forget it.
pub fn checked_form<T: HasCsrf>(session: &Session, form: Result<Form<T>, FormRejection>) -> Result<T, PageError> {
    let Ok(Form(form)) = form else {
        // An unreadable body has no valid token either.
        return Err(PageError::CsrfRejected);
    };
    if !session.csrf_matches(form.csrf()) {
        return Err(PageError::CsrfRejected);
    }
    Ok(form)
}

pub trait HasCsrf {
    fn csrf(&self) -> Option<&str>;
}

/// A form that carries nothing but its CSRF token (sign out, disable, reset).
#[derive(serde::Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    pub csrf: Option<String>,
}

impl HasCsrf for CsrfOnly {
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }
}
