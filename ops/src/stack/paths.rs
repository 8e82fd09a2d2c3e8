use std::path::{Path, PathBuf};

/// The checkout `cargo ops` runs in.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("ops/ sits inside the workspace").to_path_buf()
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
