//! Extractors for what handlers would otherwise unpick by hand: a form whose
//! CSRF token was checked, and path ids that must name something. Their
//! rejections are `PageError`s, so a handler sees only good input and
//! `error.rs` still decides what a person sees.

use axum::{
    Form,
    extract::{FromRequest, FromRequestParts, Path, Request},
};
use http::request::Parts;
use serde::de::DeserializeOwned;

use crate::{auth::Session, error::PageError};

/// A form that says which CSRF token it carries.
pub trait HasCsrf {
    fn csrf(&self) -> Option<&str>;
}

/// A submitted admin form, after its CSRF token was checked against the
/// session. Every signed-in form POST takes this, so none can forget it.
/// An unreadable body has no valid token either.
pub struct CsrfForm<T>(pub T);

impl<T, S> FromRequest<S> for CsrfForm<T>
where
    T: DeserializeOwned + HasCsrf,
    S: Send + Sync,
{
    type Rejection = PageError;

    async fn from_request(req: Request, state: &S) -> Result<Self, PageError> {
        let session = signed_in(req.extensions())?;
        let Ok(Form(form)) = Form::<T>::from_request(req, state).await else {
            return Err(PageError::CsrfRejected);
        };
        if !session.csrf_matches(form.csrf()) {
            return Err(PageError::CsrfRejected);
        }
        Ok(CsrfForm(form))
    }
}

/// The session `guards::staff` put on the request. Missing only if a route
/// was mounted outside the guard: our bug, not the visitor's.
fn signed_in(extensions: &http::Extensions) -> Result<Session, PageError> {
    extensions
        .get::<Session>()
        .cloned()
        .ok_or_else(|| PageError::Unexpected(anyhow::anyhow!("a CSRF-checked form on a route without a session")))
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

/// Path parameters that name things (`Path<(DecommissionId, i64)>`): a
/// segment that does not parse names nothing, so it is a 404 like any id we
/// do not have, not a 400.
pub struct PathOr404<T>(pub T);

impl<T, S> FromRequestParts<S> for PathOr404<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, PageError> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(t)) => Ok(PathOr404(t)),
            Err(_) => Err(PageError::NotFound),
        }
    }
}
