use std::fmt;

use easel_resizer::BucketName;

/// What a bucket is for. Names are configuration; roles are fixed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BucketRole {
    /// Merchants' uploads, exactly as sent. Its ObjectCreated events drive the resizer.
    Originals,
    /// Web renditions the gallery serves.
    Resized,
    /// A second copy of every rendition, versioned, for restores.
    Backup,
}

impl BucketRole {
    pub const ALL: [BucketRole; 3] = [BucketRole::Originals, BucketRole::Resized, BucketRole::Backup];

    pub fn as_str(self) -> &'static str {
        match self {
            BucketRole::Originals => "originals",
            BucketRole::Resized => "resized",
            BucketRole::Backup => "backup",
        }
    }
}

impl fmt::Display for BucketRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketNames {
    pub originals: BucketName,
    pub resized: BucketName,
    pub backup: BucketName,
}

impl BucketNames {
    /// The prefix of the production names: `easel-originals` and so on.
    pub const DEFAULT_PREFIX: &'static str = "easel";

    /// Names for an isolated copy of the stack (tests, the browser run):
    /// `<prefix>-originals` and so on.
    /// `prefix` is ours (a constant, a test's id), so a name it cannot make
    /// is a bug.
    pub fn with_prefix(prefix: &str) -> Self {
        let name = |role: &str| {
            BucketName::parse(format!("{prefix}-{role}")).expect("a bucket prefix of lowercase letters and digits")
        };
        Self { originals: name("originals"), resized: name("resized"), backup: name("backup") }
    }

    pub fn get(&self, role: BucketRole) -> &BucketName {
        match role {
            BucketRole::Originals => &self.originals,
            BucketRole::Resized => &self.resized,
            BucketRole::Backup => &self.backup,
        }
    }
}
