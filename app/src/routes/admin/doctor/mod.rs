//! `/admin/doctor`: the bucket doctor. Staff run the checks; admins review
//! a fix as a diff and apply it.

mod fix;
mod get;

pub use fix::{apply_fix, review_fix};
pub use get::doctor;

use crate::{error::PageError, support::doctor::DoctorError};

impl From<DoctorError> for PageError {
    fn from(e: DoctorError) -> Self {
        match e {
            DoctorError::NoFix(reason) => PageError::BadRequest(reason),
            DoctorError::NotOffered(_) => PageError::NotFound,
            DoctorError::Config(e) => e.into(),
            DoctorError::Refused(r) => r.into(),
            // Asking STS for the account (the only other failure) is AWS too.
            DoctorError::Unexpected(e) => PageError::from_aws_work(e),
        }
    }
}
