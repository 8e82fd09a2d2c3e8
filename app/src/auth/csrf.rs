//! CSRF protection. Signed-in forms carry the session's token; the sign-in
//! form, before any session exists, uses a double-submit cookie.

use subtle::ConstantTimeEq;

pub const FIELD: &str = "csrf";
pub const LOGIN_COOKIE: &str = "easel_login_csrf";

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}
