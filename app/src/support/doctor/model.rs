//! What a diagnosis is made of: a check with its status, evidence and
//! remedy, the fix it may offer (one aspect of one bucket), the live stack
//! it is made from, and the doctor's errors.

use std::fmt;

use crate::storage::{
    BucketRole,
    live::{ConfigError, LiveBucket},
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    Pass,
    Warn,
    Fail,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
        }
    }
}

/// One aspect of one bucket that a fix sets to the spec's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aspect {
    /// The bucket exists in the right region (created, or re-created when empty).
    Location,
    Policy,
    Encryption,
    PublicAccess,
    Versioning,
    Notifications,
}

impl Aspect {
    pub(super) const ALL: [Aspect; 6] = [
        Aspect::Location,
        Aspect::Policy,
        Aspect::Encryption,
        Aspect::PublicAccess,
        Aspect::Versioning,
        Aspect::Notifications,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Aspect::Location => "location",
            Aspect::Policy => "policy",
            Aspect::Encryption => "encryption",
            Aspect::PublicAccess => "public-access",
            Aspect::Versioning => "versioning",
            Aspect::Notifications => "notifications",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fix {
    pub role: BucketRole,
    pub aspect: Aspect,
}

impl Fix {
    /// `originals.policy` and so on: the fix's address in URLs and the CLI.
    pub fn parse(s: &str) -> Option<Fix> {
        let (role, aspect) = s.split_once('.')?;
        let role = BucketRole::ALL.into_iter().find(|r| r.as_str() == role)?;
        let aspect = Aspect::ALL.into_iter().find(|a| a.as_str() == aspect)?;
        Some(Fix { role, aspect })
    }
}

impl fmt::Display for Fix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.role, self.aspect.as_str())
    }
}

#[derive(Debug, Clone)]
pub struct Check {
    /// `backup.versioning`, `function.region`, …
    pub id: String,
    pub title: String,
    pub status: Status,
    /// What was actually found: statements, regions, settings.
    pub evidence: Vec<String>,
    /// What to do about it, in plain words.
    pub remedy: String,
    pub fix: Option<Fix>,
}

/// What the resizer function looks like, as found.
#[derive(Debug, Clone, PartialEq)]
pub enum FunctionState {
    Found { arn: String, region: String },
    Missing,
    Unreadable(String),
}

/// Everything `diagnose` looks at.
#[derive(Debug, Clone)]
pub struct LiveStack {
    pub buckets: Vec<(BucketRole, LiveBucket)>,
    pub function: FunctionState,
}

impl LiveStack {
    pub fn bucket(&self, role: BucketRole) -> &LiveBucket {
        &self.buckets.iter().find(|(r, _)| *r == role).expect("every role is read").1
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DoctorError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("{0}")]
    NoFix(String),
    /// No currently failing check offers this fix: nothing to repair, or
    /// not a change the doctor makes.
    #[error("no failing check offers the fix {0}")]
    NotOffered(Fix),
    #[error(transparent)]
    Refused(crate::gate::Refused),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// A check whose setting could not be read: a warning with the error, and
/// no fix (writing blind could undo a setting that is fine).
pub(super) fn unreadable(id: String, title: String, error: &str) -> Check {
    Check {
        id,
        title,
        status: Status::Warn,
        evidence: vec![format!("could not read the setting: {error}")],
        remedy: "The doctor cannot tell whether this is as the spec says. Check that the console's credentials may \
                 read the bucket's configuration, then run the checks again."
            .into(),
        fix: None,
    }
}
