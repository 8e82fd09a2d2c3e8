//! Child processes of the local stack: starting them with logs in
//! `.easel/`, remembering their PIDs so a later run can clean up after a
//! crash, and stopping them politely.

use std::{
    net::{SocketAddr, TcpListener},
    path::{Path, PathBuf},
    process::Stdio,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use nix::{
    sys::signal::{Signal, kill},
    unistd::Pid,
};
use tokio::process::{Child, Command};

pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// A port the OS says is free right now, on loopback.
pub fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Fails with the fix when `port` is taken by some other program.
pub fn ensure_port_free(port: u16, what: &str, env_var: &str) -> anyhow::Result<()> {
    if TcpListener::bind(("127.0.0.1", port)).is_err() {
        bail!(
            "port {port} (for {what}) is already in use by another program. \
             Stop that program, or choose another port with {env_var}=<port>."
        );
    }
    Ok(())
}

/// Waits until something accepts connections on `port`, or the child dies.
pub async fn wait_for_port(
    port: u16,
    what: &str,
    child: Option<&mut Child>,
    log: &Path,
    timeout: Duration,
) -> anyhow::Result<()> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let start = Instant::now();
    let mut child = child;
    loop {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            return Ok(());
        }
        if let Some(c) = child.as_deref_mut()
            && let Some(status) = c.try_wait()?
        {
            bail!("{what} exited ({status}) before it was ready; its log is {}:\n{}", log.display(), tail(log, 15));
        }
        if start.elapsed() > timeout {
            bail!(
                "{what} did not start listening on port {port} within {timeout:?}; its log is {}:\n{}",
                log.display(),
                tail(log, 15)
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The last lines of a log file, for error messages.
pub fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// A running child process we started and must stop.
pub struct Service {
    pub name: &'static str,
    child: Child,
    pid_file: PathBuf,
}

impl Service {
    /// Spawns `cmd` with stdout and stderr going to `log`, in its own process
    /// group so a Ctrl-C in the terminal reaches us first and we stop it in
    /// order.
    pub fn spawn(name: &'static str, mut cmd: Command, log: &Path, pid_file: PathBuf) -> anyhow::Result<Self> {
        let out = std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
        let err = out.try_clone()?;
        cmd.stdin(Stdio::null()).stdout(out).stderr(err).process_group(0).kill_on_drop(true);
        let child = cmd.spawn().with_context(|| format!("starting {name}"))?;
        if let Some(pid) = child.id() {
            std::fs::write(&pid_file, pid.to_string())?;
        }
        Ok(Self { name, child, pid_file })
    }

    pub fn child_mut(&mut self) -> &mut Child {
        &mut self.child
    }

    /// SIGTERM, then SIGKILL if it has not gone after a few seconds.
    pub async fn stop(mut self) {
        if let Some(pid) = self.child.id() {
            let _ = kill(Pid::from_raw(pid as i32), Signal::SIGTERM);
            if tokio::time::timeout(Duration::from_secs(5), self.child.wait()).await.is_err() {
                let _ = self.child.kill().await;
            }
        }
        let _ = std::fs::remove_file(&self.pid_file);
    }
}

/// Stops a process left behind by an earlier run that did not shut down
/// (killed terminal, crash), if the PID file names a live process whose
/// command line still looks like ours. Returns what it did, for the user.
pub fn stop_stale(pid_file: &Path, looks_like: &str) -> anyhow::Result<Option<String>> {
    let Ok(text) = std::fs::read_to_string(pid_file) else {
        return Ok(None);
    };
    let _ = std::fs::remove_file(pid_file);
    let Ok(pid) = text.trim().parse::<i32>() else {
        return Ok(None);
    };
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
    if !cmdline.contains(looks_like) {
        // The PID is stale or was reused by an unrelated program: leave it be.
        return Ok(None);
    }
    let pid = Pid::from_raw(pid);
    let _ = kill(pid, Signal::SIGTERM);
    for _ in 0..50 {
        if kill(pid, None).is_err() {
            return Ok(Some(format!("stopped a leftover {looks_like} (pid {pid}) from an earlier run")));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = kill(pid, Signal::SIGKILL);
    Ok(Some(format!("killed a leftover {looks_like} (pid {pid}) that ignored SIGTERM")))
}
