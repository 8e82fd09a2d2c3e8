//! CPU-bound work (the upload's image check, argon2 at sign-in and on a
//! password change) runs on blocking threads, no more at once than the
//! machine has cores. Unbounded, a burst of uploads or a sign-in flood
//! took every core from the pages and held database connections until
//! their acquire timeout.

use std::sync::Arc;

use tokio::sync::Semaphore;

/// One permit per core, shared by every kind of CPU-bound work: they
/// compete for the same cores.
#[derive(Clone, Debug)]
pub struct CpuBound(Arc<Semaphore>);

/// The work panicked: a bug of ours, never the input's fault.
#[derive(Debug, thiserror::Error)]
#[error("CPU-bound work panicked: {0}")]
pub struct Panicked(pub String);

impl CpuBound {
    pub fn per_core() -> Self {
        Self::with_permits(std::thread::available_parallelism().map_or(1, |n| n.get()))
    }

    pub fn with_permits(permits: usize) -> Self {
        CpuBound(Arc::new(Semaphore::new(permits)))
    }

    /// Permits free now.
    pub fn available(&self) -> usize {
        self.0.available_permits()
    }

    /// Runs `work` on a blocking thread once a permit is free. The thread
    /// holds its permit until the work ends, even if the request that
    /// wanted it has gone: the core is busy until then.
    pub async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, Panicked> {
        // The semaphore is never closed, so acquiring only waits.
        let permit = Arc::clone(&self.0).acquire_owned().await.map_err(|e| Panicked(e.to_string()))?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work()
        })
        .await
        .map_err(|e| Panicked(e.to_string()))
    }
}
