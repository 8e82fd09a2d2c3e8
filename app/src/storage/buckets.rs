use std::fmt;

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
    pub originals: String,
    pub resized: String,
    pub backup: String,
}

impl BucketNames {
    /// The prefix of the production names: `easel-originals` and so on.
    pub const DEFAULT_PREFIX: &'static str = "easel";

    /// Names for an isolated copy of the stack (tests, the browser run):
    /// `<prefix>-originals` and so on.
    pub fn with_prefix(prefix: &str) -> Self {
        Self {
            originals: format!("{prefix}-originals"),
            resized: format!("{prefix}-resized"),
            backup: format!("{prefix}-backup"),
        }
    }

    pub fn get(&self, role: BucketRole) -> &str {
        match role {
            BucketRole::Originals => &self.originals,
            BucketRole::Resized => &self.resized,
            BucketRole::Backup => &self.backup,
        }
    }
}
