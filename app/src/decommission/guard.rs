//! What the rest of the console sees of a decommission: the banner on every
//! admin page, and a read-only console once the data is destroyed.

use axum::{
    extract::{Request, State},
    middleware::Next,
    response::Response,
};
use http::{Method, StatusCode};

use super::{procedure, repo};
use crate::{auth::Session, error::PageError, pages, state::AppState};

/// Changes still allowed on a read-only console: the procedure's own last
/// steps, signing out, and changing one's own password.
fn allowed_when_read_only(path: &str) -> bool {
    path == "/admin/logout"
        || path == "/admin/sign-out-everywhere"
        || path == "/admin/password"
        || path.starts_with("/admin/decommission/")
}

/// Changes to the data the archive holds (re-made renditions, restored
/// backups, repairs to the buckets): refused from the archive step on, like
/// uploads, so that what is archived is what is destroyed.
fn changes_archived_data(path: &str) -> bool {
    ["/admin/uploads", "/admin/backups", "/admin/doctor/fix"]
        .iter()
        .any(|p| path == *p || path.strip_prefix(p).is_some_and(|rest| rest.starts_with('/')))
}

/// Runs inside `require_staff`, on every signed-in route.
pub async fn decommission_guard(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    // One read of the current decommission serves the banner and both checks.
    let step = match repo::current(&state.pool).await {
        Ok(current) => current.map(|d| d.step),
        Err(e) => return PageError::from(e).into_page(&path).await,
    };
    if let Some(step) = step
        && !matches!(*req.method(), Method::GET | Method::HEAD)
        && !allowed_when_read_only(&path)
    {
        if step.read_only() {
            let msg = "Easel has been decommissioned: its data is destroyed and the console is read-only.";
            let page = pages::admin::notice::page("Read-only", msg.to_string());
            return pages::render(&path, StatusCode::FORBIDDEN, page).await;
        }
        if step.uploads_frozen() && changes_archived_data(&path) {
            let msg = "Easel’s data is frozen while it is archived and handed over for decommissioning: \
                       nothing may change it now.";
            let page = pages::admin::notice::page("Data frozen", msg.to_string());
            return pages::render(&path, StatusCode::FORBIDDEN, page).await;
        }
    }
    let banner = step.map(procedure::banner);
    if let Some(session) = req.extensions_mut().get_mut::<Session>() {
        session.decommission_banner = banner;
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::{allowed_when_read_only, changes_archived_data};

    #[test]
    fn repairs_and_restores_wait_while_the_data_is_archived() {
        for p in ["/admin/uploads/resize", "/admin/uploads/x/resize", "/admin/backups/restore", "/admin/doctor/fix/x"] {
            assert!(changes_archived_data(p), "{p}");
        }
        for p in ["/admin/users", "/admin/password", "/admin/decommission/x/archive", "/admin/uploadsx"] {
            assert!(!changes_archived_data(p), "{p}");
        }
    }

    #[test]
    fn a_read_only_console_still_finishes_the_procedure() {
        assert!(allowed_when_read_only("/admin/decommission/x/review"));
        assert!(allowed_when_read_only("/admin/logout"));
        for p in ["/admin/users", "/admin/users/x/reset", "/admin/decommission"] {
            assert!(!allowed_when_read_only(p), "{p}");
        }
    }
}
