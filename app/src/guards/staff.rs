//! Guards for `/admin`. They run before any handler, so an anonymous or
//! under-privileged request never reaches page code, whatever it asks for.

use axum::{
    Extension,
    extract::{Request, State},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};

use crate::{
    auth::{
        Role,
        sessions::{self, COOKIE, Session},
    },
    error::{Denied, PageError},
    state::AppState,
};

/// Where a password change must happen before anything else.
pub const PASSWORD_PATH: &str = "/admin/password";

pub async fn require_staff(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    let token = sessions::read_cookie(req.headers(), COOKIE).map(str::to_owned);
    let session = match token {
        Some(t) => sessions::lookup(&state.pool, &t, &state.auth.sessions).await,
        None => Ok(None),
    };
    match session {
        Err(e) => PageError::from(e).into_response(),
        Ok(None) => {
            let to = login_redirect(&req);
            let clear = sessions::set_cookie(COOKIE, None, "/", state.auth.sessions.secure_cookie);
            ([(http::header::SET_COOKIE, clear)], Redirect::to(&to)).into_response()
        }
        Ok(Some(s)) if s.user.must_change_password && path != PASSWORD_PATH && path != "/admin/logout" => {
            Redirect::to(PASSWORD_PATH).into_response()
        }
        Ok(Some(s)) => {
            req.extensions_mut().insert(s);
            next.run(req).await
        }
    }
}

pub async fn require_admin(Extension(session): Extension<Session>, req: Request, next: Next) -> Response {
    if session.user.role != Role::Admin {
        return PageError::Forbidden(Denied::ADMINS_ONLY).into_response();
    }
    next.run(req).await
}

/// `/admin/login?next=<this page>` for a page worth coming back to.
fn login_redirect(req: &Request) -> String {
    if req.method() == http::Method::GET {
        let here = req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/admin");
        format!("/admin/login?next={}", percent_encode(here))
    } else {
        "/admin/login".into()
    }
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Only our own admin pages are valid places to return to after signing in,
/// so a crafted link cannot send a freshly signed-in user elsewhere. It
/// becomes a `Location` header, so it must also be one: printable ASCII (as
/// `login_redirect` encodes it), of a length a browser sends.
pub fn safe_next(next: Option<&str>) -> &str {
    const MAX_LEN: usize = 2048;
    match next {
        Some(n)
            if n.starts_with("/admin")
                && !n.starts_with("//")
                && !n.contains('\\')
                && !n.starts_with("/admin/login")
                && n.len() <= MAX_LEN
                && n.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            n
        }
        _ => "/admin",
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_admin_paths_are_followed_after_sign_in() {
        assert_eq!(safe_next(Some("/admin/audit?actor=x")), "/admin/audit?actor=x");
        for bad in ["https://evil.example/admin", "//evil.example", "/gallery", "/admin/login?next=/x", "/admin\\@evil"]
        {
            assert_eq!(safe_next(Some(bad)), "/admin", "{bad}");
        }
        // Nothing that cannot be a `Location` header (axum would answer a bare 500).
        for bad in ["/admin\n", "/admin\r\nSet-Cookie: x=1", "/admin/\u{0}", "/admin/é", "/admin/a b", "/admin\u{7f}"]
        {
            assert_eq!(safe_next(Some(bad)), "/admin", "{bad:?}");
        }
        assert_eq!(safe_next(Some(&format!("/admin/audit?actor={}", "a".repeat(5000)))), "/admin");
        assert_eq!(safe_next(Some("/admin/audit?actor=%C3%A9")), "/admin/audit?actor=%C3%A9");
        assert_eq!(safe_next(None), "/admin");
    }
}
