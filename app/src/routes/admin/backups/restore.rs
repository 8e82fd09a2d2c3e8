use axum::{
    Extension,
    extract::State,
    response::{IntoResponse, Redirect, Response},
};
use http::StatusCode;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::client_addr::ClientAddr;
use crate::{
    auth::{Role, Session},
    error::{Denied, PageError},
    extract::{CsrfForm, CsrfOnly, PathOr404},
    pages::{self, admin::backups::RestoreModel},
    state::AppState,
    support::backups::{self, ClaimError, RunState},
};

/// A restore into a deleted resized bucket makes the bucket again, which is
/// the doctor's `resized.location` fix: admins only, as every fix.
const NEEDS_ADMIN: Denied = Denied {
    title: "An admin must recreate the bucket",
    why: "The resized bucket does not exist, and a restore would create it again first. \
     Creating a bucket is one of the doctor's fixes, which only admins apply: ask an admin to run this restore \
     (or to recreate the bucket from /admin/doctor), then restore as usual.",
};

/// Starts a restore of what the dry run lists now (verified again here).
pub async fn start_restore(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    client: ClientAddr,
    CsrfForm(_): CsrfForm<CsrfOnly>,
) -> Result<Response, PageError> {
    let comparison = backups::verify(&state.support).await.map_err(PageError::from_aws_work)?;
    if !comparison.resized_exists && session.user.role != Role::Admin {
        return Err(PageError::Forbidden(NEEDS_ADMIN));
    }
    if !comparison.backup_exists {
        return Err(PageError::BadRequest(
            "The backup bucket does not exist: there is nothing to restore from.".into(),
        ));
    }
    let plan = comparison.restore_plan();
    if plan.is_empty() {
        return Err(PageError::BadRequest(
            "Nothing to restore: the resized bucket has everything the backup has.".into(),
        ));
    }
    let id = backups::start(&state.pool, &plan, &session.actor(), client.0.into()).await?;
    backups::spawn(state.support.clone(), state.pool.clone(), id);
    Ok(Redirect::to(&format!("/admin/backups/restore/{id}")).into_response())
}

pub async fn restore_progress(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    PathOr404(id): PathOr404<Uuid>,
) -> Result<Response, PageError> {
    let run = backups::find_run(&state.pool, id).await?.ok_or(PageError::NotFound)?;
    let failures = backups::failures(&state.pool, run.id).await?;
    let m = RestoreModel { staff: (&session).into(), state: run.state(OffsetDateTime::now_utc()), run, failures };
    Ok(pages::render(&format!("/admin/backups/restore/{id}"), StatusCode::OK, pages::admin::backups::restore_page(m))
        .await)
}

/// Continues an interrupted restore (or retries its failures) from where
/// it stopped: only items not yet copied are copied.
pub async fn resume_restore(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    client: ClientAddr,
    PathOr404(id): PathOr404<Uuid>,
    CsrfForm(_): CsrfForm<CsrfOnly>,
) -> Result<Response, PageError> {
    let path = format!("/admin/backups/restore/{id}");
    let run = backups::find_run(&state.pool, id).await?.ok_or(PageError::NotFound)?;
    match run.state(OffsetDateTime::now_utc()) {
        RunState::Running => return Err(ClaimError::Running.into()),
        RunState::Finished if run.failed == 0 => return Err(ClaimError::Done.into()),
        _ => {}
    }
    let support = &state.support;
    let exists =
        backups::bucket_exists(&support.s3, &support.buckets.resized).await.map_err(PageError::from_aws_work)?;
    if !exists && session.user.role != Role::Admin {
        return Err(PageError::Forbidden(NEEDS_ADMIN));
    }
    // Only the request whose claim succeeds spawns a copier.
    backups::record_resume(&state.pool, &run, &session.actor(), client.0.into()).await?;
    backups::spawn(state.support.clone(), state.pool.clone(), run.id);
    Ok(Redirect::to(&path).into_response())
}
