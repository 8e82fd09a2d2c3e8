//! CPU-bound work (the upload's image check, argon2 at sign-in and on a
//! password change) runs on blocking threads, no more at once than the
//! machine has cores. Unbounded, a burst of uploads or a sign-in flood
//! took every core from the pages and held database connections until
//! their acquire timeout.
//!
//! Work for strangers (a password check for a device that never signed in
//! to the account) runs apart: on at most half the cores' worth of threads
//! of their own, at a lower CPU priority (`nice`). A sign-in flood can
//! always bring such work; when it shared the cores as equals, the pages of
//! signed-in staff waited behind it (p99 up to 43× the unloaded value in
//! `cargo ops bench signin`). Now it gets what the rest leave.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};

/// One permit per core, shared by all CPU-bound work but the strangers',
/// which runs on its own lower-priority threads (so up to one and a half
/// times the cores' worth of threads may be busy; the strangers' share only
/// gets what the rest leave).
#[derive(Clone, Debug)]
pub struct CpuBound {
    cores: Arc<Semaphore>,
    strangers: Strangers,
}

/// The strangers' threads and, so that their queue stays short, one
/// permit per thread.
#[derive(Clone, Debug)]
struct Strangers {
    permits: Arc<Semaphore>,
    jobs: std::sync::mpsc::Sender<Job>,
}

type Job = Box<dyn FnOnce() + Send>;

/// How much lower the strangers' threads run (0–19; 10 gives them about a
/// tenth of a core's time when the rest of the console wants it).
const STRANGER_NICENESS: i32 = 10;

/// The work panicked: a bug of ours, never the input's fault.
#[derive(Debug, thiserror::Error)]
#[error("CPU-bound work panicked: {0}")]
pub struct Panicked(pub String);

impl CpuBound {
    pub fn per_core() -> Self {
        Self::with_permits(std::thread::available_parallelism().map_or(1, |n| n.get()))
    }

    pub fn with_permits(permits: usize) -> Self {
        CpuBound { cores: Arc::new(Semaphore::new(permits)), strangers: Strangers::start((permits / 2).max(1)) }
    }

    /// Permits free now.
    pub fn available(&self) -> usize {
        self.cores.available_permits()
    }

    /// As `run`, for work a stranger asked for: on the strangers' own
    /// threads, at a lower priority, one job per thread at a time.
    pub async fn run_for_stranger<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Panicked> {
        let permit = acquire(&self.strangers.permits).await?;
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move || {
            // Held until the work ends, even if the request has gone.
            let _permit = permit;
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work));
            let _ = tx.send(result.map_err(|p| Panicked(panic_message(&*p))));
        });
        self.strangers.jobs.send(job).map_err(|_| Panicked("the strangers' threads are gone".into()))?;
        rx.await.map_err(|_| Panicked("a stranger's job was dropped".into()))?
    }

    /// Runs `work` on a blocking thread once a permit is free.
    pub async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, Panicked> {
        let core = acquire(&self.cores).await?;
        on_blocking_thread(core, work).await
    }
}

impl Strangers {
    fn start(threads: usize) -> Self {
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        let queue = Arc::new(std::sync::Mutex::new(queue));
        for _ in 0..threads {
            let queue = Arc::clone(&queue);
            let spawned = std::thread::Builder::new().name("easel-strangers".into()).spawn(move || {
                lower_priority();
                loop {
                    // The lock is released before the job runs.
                    let next = queue.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).recv();
                    match next {
                        Ok(job) => job(),
                        Err(_) => break,
                    }
                }
            });
            // Without threads, `run_for_stranger` reports every job as failed.
            if let Err(e) = spawned {
                tracing::error!(error = %e, "could not start a thread for strangers' work");
            }
        }
        Strangers { permits: Arc::new(Semaphore::new(threads)), jobs }
    }
}

/// Lowers the calling thread's CPU priority (on Linux, `nice` is per
/// thread). Raising it back would need privileges, hence threads of their own.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    if let Err(e) = rustix::process::setpriority_process(Some(rustix::thread::gettid()), STRANGER_NICENESS) {
        tracing::warn!(error = %e, "strangers' work runs at normal priority");
    }
}

/// A panic's message, as `panic!` gives it (a `&str` or a `String`).
pub(crate) fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}

async fn acquire(permits: &Arc<Semaphore>) -> Result<OwnedSemaphorePermit, Panicked> {
    // The semaphores are never closed, so acquiring only waits.
    Arc::clone(permits).acquire_owned().await.map_err(|e| Panicked(e.to_string()))
}

/// The thread holds its permits until the work ends, even if the request
/// that wanted it has gone: the core is busy until then.
async fn on_blocking_thread<T: Send + 'static>(
    permit: OwnedSemaphorePermit,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Panicked> {
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        work()
    })
    .await
    .map_err(|e| Panicked(e.to_string()))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn strangers_hold_at_most_half_the_cores() {
        let cpu = CpuBound::with_permits(2);
        let (started, is_started) = std::sync::mpsc::channel();
        let (release, released) = std::sync::mpsc::channel::<()>();
        let first = tokio::spawn({
            let cpu = cpu.clone();
            async move {
                cpu.run_for_stranger(move || {
                    started.send(()).expect("the test waits");
                    released.recv().expect("the test releases");
                })
                .await
            }
        });
        tokio::task::spawn_blocking(move || is_started.recv()).await.expect("joined").expect("started");

        // A second stranger cannot start while the first holds the share…
        let second = tokio::time::timeout(Duration::from_millis(100), cpu.run_for_stranger(|| ())).await;
        assert!(second.is_err(), "a second stranger's work ran beside the first on two cores");
        // …while the other core is free for everyone else.
        assert_eq!(cpu.run(|| 7).await.expect("ran"), 7);

        release.send(()).expect("the first is waiting");
        first.await.expect("joined").expect("ran");
        assert_eq!(cpu.run_for_stranger(|| 8).await.expect("ran"), 8);
        assert_eq!(cpu.available(), 2, "every permit is back");
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn strangers_work_at_a_lower_priority() {
        let cpu = CpuBound::with_permits(2);
        let niceness = || rustix::process::getpriority_process(Some(rustix::thread::gettid())).expect("readable");
        let ours = cpu.run(niceness).await.expect("ran");
        let theirs = cpu.run_for_stranger(niceness).await.expect("ran");
        assert_eq!(theirs, (ours + STRANGER_NICENESS).min(19));
    }

    #[tokio::test]
    async fn a_panic_in_strangers_work_is_an_error_and_the_thread_lives_on() {
        let cpu = CpuBound::with_permits(2);
        let err = cpu.run_for_stranger(|| panic!("a bug")).await.expect_err("panicked");
        assert!(err.0.contains("a bug"), "{err}");
        // One thread for two cores: the next job runs on the same thread.
        assert_eq!(cpu.run_for_stranger(|| 3).await.expect("ran"), 3);
    }

    #[tokio::test]
    async fn one_core_is_shared_by_strangers_and_the_rest() {
        let cpu = CpuBound::with_permits(1);
        assert_eq!(cpu.run_for_stranger(|| 1).await.expect("ran"), 1);
        assert_eq!(cpu.run(|| 2).await.expect("ran"), 2);
    }
}
