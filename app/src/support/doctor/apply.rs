//! The one place the doctor writes: a reviewed fix, applied to one aspect
//! of one bucket, only while the decommission gate allows data changes.

use super::examine::examine;
use super::model::{Aspect, DoctorError, Fix};
use super::proposal::{Proposal, desired_notifications, review};
use crate::storage::{BucketRole, live};
use crate::support::Support;

/// Applies `fix` if a check that fails now offers it and it changes
/// something. Returns the proposal it applied (`None`: already as the spec
/// says, nothing written); `NotOffered` when no failing check offers it.
pub async fn apply(pool: &sqlx::PgPool, support: &Support, fix: Fix) -> Result<Option<Proposal>, DoctorError> {
    // A repair changes what acts on the data: frozen with it (whoever asks:
    // the console, `cargo ops doctor --fix`, a restore's bucket re-creation).
    crate::gate::check(pool, crate::gate::Change::Data).await.map_err(|e| match e {
        crate::gate::GateError::Refused(r) => DoctorError::Refused(r),
        crate::gate::GateError::Db(e) => DoctorError::Unexpected(e.into()),
    })?;
    let spec = support.spec().await?;
    let trigger = support.trigger(&spec);
    let live = examine(support, &spec).await?;
    let proposal = review(&spec, &trigger, &live, fix)?;
    if !proposal.changes_something() {
        return Ok(None);
    }
    let s3 = &support.s3;
    let b = live.bucket(fix.role);
    let want = spec.bucket(fix.role);
    let name = want.name.as_str();
    match fix.aspect {
        Aspect::Location => {
            if b.exists {
                if !b.empty {
                    return Err(DoctorError::NoFix(format!(
                        "{name} holds objects, so it is not deleted to move it; copy them out first"
                    )));
                }
                live::delete_empty_bucket(s3, name).await?;
            }
            live::create_bucket(s3, name, &spec.region).await?;
            live::put_encryption(s3, name, want.encryption).await?;
            live::block_public_access(s3, name).await?;
            if want.versioned {
                live::enable_versioning(s3, name).await?;
            }
            live::put_policy(s3, name, &want.policy).await?;
            if fix.role == BucketRole::Originals {
                live::put_notifications(s3, name, &[trigger.notification()]).await?;
            }
        }
        Aspect::Policy => live::put_policy(s3, name, &want.policy).await?,
        Aspect::Encryption => live::put_encryption(s3, name, want.encryption).await?,
        Aspect::PublicAccess => live::block_public_access(s3, name).await?,
        Aspect::Versioning => live::enable_versioning(s3, name).await?,
        Aspect::Notifications => live::put_notifications(s3, name, &desired_notifications(fix, &trigger, b)).await?,
    }
    Ok(Some(proposal))
}
