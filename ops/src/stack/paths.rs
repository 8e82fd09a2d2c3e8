use std::path::{Path, PathBuf};

/// The checkout `cargo ops` runs in: the nearest directory at or above the
/// working directory that holds Easel's workspace (`EASEL_WORKSPACE` names
/// it outright). Found at run time, not baked in when easel-ops was built,
/// so a build shared between two checkouts (one `CARGO_TARGET_DIR`) runs
/// the stack of the checkout it is run in, not of the one that built it.
pub fn workspace_root() -> PathBuf {
    static ROOT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    ROOT.get_or_init(|| {
        if let Some(dir) = std::env::var_os("EASEL_WORKSPACE").filter(|d| !d.is_empty()) {
            return PathBuf::from(dir);
        }
        let here = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        find_workspace(&here).unwrap_or_else(|| {
            eprintln!(
                "error: {} is not inside an Easel checkout; run `cargo ops` from the checkout (or set EASEL_WORKSPACE)",
                here.display()
            );
            std::process::exit(2)
        })
    })
    .clone()
}

/// The nearest of `from` and its parents that is Easel's workspace root:
/// a `Cargo.toml` beside `ops/` and `lambda/` with theirs.
fn find_workspace(from: &Path) -> Option<PathBuf> {
    from.ancestors()
        .find(|d| ["Cargo.toml", "ops/Cargo.toml", "lambda/Cargo.toml"].iter().all(|f| d.join(f).is_file()))
        .map(Path::to_path_buf)
}

/// Where one local stack keeps its state: `.easel/` for `cargo ops up`,
/// `.easel/test/<pid>/` for the throw-away stack of each `cargo ops test`
/// run, so two runs (two terminals, two worktrees' agents) never share a
/// cluster.
#[derive(Debug, Clone)]
pub struct StackDir {
    pub root: PathBuf,
}

impl StackDir {
    pub fn up() -> Self {
        Self { root: workspace_root().join(".easel") }
    }

    /// This process's test stack.
    pub fn test() -> Self {
        Self { root: Self::tests_root().join(std::process::id().to_string()) }
    }

    /// Test stacks of runs whose process is gone (killed, crashed).
    pub fn abandoned_tests() -> Vec<Self> {
        let Ok(entries) = std::fs::read_dir(Self::tests_root()) else { return Vec::new() };
        entries
            .filter_map(|e| e.ok())
            .filter(|e| {
                // Older checkouts kept one stack directly in .easel/test; its
                // subdirectories are not numbers and are left alone.
                e.file_name()
                    .to_str()
                    .and_then(|n| n.parse::<u32>().ok())
                    .is_some_and(|pid| pid != std::process::id() && !Path::new("/proc").join(pid.to_string()).exists())
            })
            .map(|e| Self { root: e.path() })
            .collect()
    }

    fn tests_root() -> PathBuf {
        workspace_root().join(".easel").join("test")
    }

    pub fn create(&self) -> std::io::Result<()> {
        for dir in [self.run(), self.logs()] {
            std::fs::create_dir_all(dir)?;
        }
        Ok(())
    }

    pub fn run(&self) -> PathBuf {
        self.root.join("run")
    }
    pub fn logs(&self) -> PathBuf {
        self.root.join("logs")
    }
    pub fn log(&self, name: &str) -> PathBuf {
        self.logs().join(format!("{name}.log"))
    }
    pub fn pid_file(&self, name: &str) -> PathBuf {
        self.run().join(format!("{name}.pid"))
    }
    pub fn mail(&self) -> PathBuf {
        self.root.join("mail")
    }
    pub fn stack_env(&self) -> PathBuf {
        self.root.join("stack.env")
    }
}

/// Shared by both stacks: installing moto once is enough.
pub fn venv() -> PathBuf {
    workspace_root().join(".easel").join("venv")
}

#[cfg(test)]
mod workspace_tests {
    use super::*;

    #[test]
    fn the_workspace_is_found_from_anywhere_inside_it_and_nowhere_else() {
        let root = std::env::temp_dir().join(format!("easel-ws-{}", std::process::id()));
        for f in ["Cargo.toml", "ops/Cargo.toml", "lambda/Cargo.toml"] {
            let path = root.join(f);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "").unwrap();
        }
        std::fs::create_dir_all(root.join("ops/src/deep")).unwrap();
        assert_eq!(find_workspace(&root.join("ops/src/deep")), Some(root.clone()));
        assert_eq!(find_workspace(&root), Some(root.clone()));
        // ops/ alone (a Cargo.toml, but no ops/ and lambda/ inside it) is not the root.
        assert_eq!(find_workspace(&root.join("ops")), Some(root.clone()));
        assert_eq!(find_workspace(Path::new("/")), None);
        std::fs::remove_dir_all(&root).unwrap();
    }
}
