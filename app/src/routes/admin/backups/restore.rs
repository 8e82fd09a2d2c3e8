use axum::{
    Extension, Form,
    extract::{Path, State, rejection::FormRejection},
    response::{IntoResponse, Redirect, Response},
};
use http::StatusCode;
use time::OffsetDateTime;

use crate::client_addr::ClientAddr;
use crate::{
    auth::{Role, Session},
    error::PageError,
    pages::{self, admin::backups::RestoreModel},
    routes::admin::{CsrfOnly, checked_form},
    state::AppState,
    support::backups::{self, ClaimError, RunState},
};

impl From<ClaimError> for PageError {
    fn from(e: ClaimError) -> Self {
        match e {
            ClaimError::Db(e) => e.into(),
            ClaimError::Refused(r) => r.into(),
            other => PageError::BadRequest(other.to_string()),
        }
    }
}

/// A restore into a deleted resized bucket makes the bucket again, which is
/// the doctor's `resized.location` fix: admins only, as every fix.
const NEEDS_ADMIN: &str = "The resized bucket does not exist, and a restore would create it again first. \
     Creating a bucket is one of the doctor's fixes, which only admins apply: ask an admin to run this restore \
     (or to recreate the bucket from /admin/doctor), then restore as usual.";

async fn needs_admin(path: &str) -> Response {
    let page = pages::admin::notice::page("An admin must recreate the bucket", NEEDS_ADMIN.to_string());
    pages::render(path, StatusCode::FORBIDDEN, page).await
}

/// Starts a restore of what the dry run lists now (verified again here).
pub async fn start_restore(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    client: ClientAddr,
    form: Result<Form<CsrfOnly>, FormRejection>,
) -> Response {
    let result: Result<Option<uuid::Uuid>, PageError> = async {
        checked_form(&session, form)?;
        let comparison = backups::verify(&state.support).await.map_err(PageError::from_aws_work)?;
        if !comparison.resized_exists && session.user.role != Role::Admin {
            return Ok(None);
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
        let id = backups::start(&state.pool, &plan, &session.actor(), &client.to_string()).await?;
        backups::spawn(state.support.clone(), state.pool.clone(), id);
        Ok(Some(id))
    }
    .await;
    match result {
        Ok(Some(id)) => Redirect::to(&format!("/admin/backups/restore/{id}")).into_response(),
        Ok(None) => needs_admin("/admin/backups").await,
        Err(e) => e.into_page("/admin/backups").await,
    }
}

fn run_id(id: &str) -> Result<uuid::Uuid, PageError> {
    uuid::Uuid::parse_str(id).map_err(|_| PageError::NotFound)
}

pub async fn restore_progress(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(id): Path<String>,
) -> Response {
    let path = format!("/admin/backups/restore/{id}");
    let result: Result<RestoreModel, PageError> = async {
        let run = backups::find_run(&state.pool, run_id(&id)?).await?.ok_or(PageError::NotFound)?;
        let failures = backups::failures(&state.pool, run.id).await?;
        Ok(RestoreModel { staff: (&session).into(), state: run.state(OffsetDateTime::now_utc()), run, failures })
    }
    .await;
    match result {
        Ok(m) => pages::render(&path, StatusCode::OK, pages::admin::backups::restore_page(m)).await,
        Err(e) => e.into_page(&path).await,
    }
}

/// Continues an interrupted restore (or retries its failures) from where
/// it stopped: only items not yet copied are copied.
pub async fn resume_restore(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    client: ClientAddr,
    Path(id): Path<String>,
    form: Result<Form<CsrfOnly>, FormRejection>,
) -> Response {
    let path = format!("/admin/backups/restore/{id}");
    let result: Result<bool, PageError> = async {
        checked_form(&session, form)?;
        let run = backups::find_run(&state.pool, run_id(&id)?).await?.ok_or(PageError::NotFound)?;
        match run.state(OffsetDateTime::now_utc()) {
            RunState::Running => return Err(ClaimError::Running.into()),
            RunState::Finished if run.failed == 0 => return Err(ClaimError::Done.into()),
            _ => {}
        }
        let support = &state.support;
        let exists =
            backups::bucket_exists(&support.s3, &support.buckets.resized).await.map_err(PageError::from_aws_work)?;
        if !exists && session.user.role != Role::Admin {
            return Ok(false);
        }
        // Only the request whose claim succeeds spawns a copier.
        backups::record_resume(&state.pool, &run, &session.actor(), &client.to_string()).await?;
        backups::spawn(state.support.clone(), state.pool.clone(), run.id);
        Ok(true)
    }
    .await;
    match result {
        Ok(true) => Redirect::to(&path).into_response(),
        Ok(false) => needs_admin(&path).await,
        Err(e) => e.into_page(&path).await,
    }
}
