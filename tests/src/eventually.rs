//! The one way a test waits for what the system finishes in the background:
//! ask again until the answer is yes or the time is up.

use std::{future::Future, time::Duration};

use tokio::time::Instant;

/// The first pause between two asks; each pause doubles up to `LONGEST_PAUSE`,
/// so a quick answer is seen quickly and a slow one is not asked for in a
/// tight loop (some checks list a bucket, the logs or the mail sink).
const FIRST_PAUSE: Duration = Duration::from_millis(50);
const LONGEST_PAUSE: Duration = Duration::from_millis(200);

/// An answer `eventually` can tell yes from not yet: `true`, `Some(found)`,
/// or `Ok(found)` (with `Err` carrying what was seen instead, for the
/// failure's message).
pub trait Outcome {
    fn is_yes(&self) -> bool;
}

impl Outcome for bool {
    fn is_yes(&self) -> bool {
        *self
    }
}

impl<T> Outcome for Option<T> {
    fn is_yes(&self) -> bool {
        self.is_some()
    }
}

impl<T, E> Outcome for Result<T, E> {
    fn is_yes(&self) -> bool {
        self.is_ok()
    }
}

/// Asks `check` until it answers yes or `limit` has passed, and returns its
/// last answer: the yes, or the not-yet it gave when time was up.
pub async fn eventually<F, Fut>(limit: Duration, mut check: F) -> Fut::Output
where
    F: FnMut() -> Fut,
    Fut: Future,
    Fut::Output: Outcome,
{
    let until = Instant::now() + limit;
    let mut pause = FIRST_PAUSE;
    loop {
        let answer = check().await;
        if answer.is_yes() || Instant::now() >= until {
            return answer;
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(LONGEST_PAUSE);
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    #[tokio::test]
    async fn returns_the_first_yes() {
        let asked = Cell::new(0);
        let found = eventually(Duration::from_secs(5), || async {
            asked.set(asked.get() + 1);
            (asked.get() == 3).then_some(asked.get())
        })
        .await;
        assert_eq!(found, Some(3));
    }

    #[tokio::test]
    async fn returns_the_last_not_yet_once_time_is_up() {
        let limit = Duration::from_millis(300);
        let started = Instant::now();
        let asked = Cell::new(0);
        let last: Result<(), u32> = eventually(limit, || async {
            asked.set(asked.get() + 1);
            Err(asked.get())
        })
        .await;
        assert_eq!(last, Err(asked.get()));
        assert!(asked.get() > 1, "asked again before giving up");
        assert!(started.elapsed() >= limit);
    }
}
