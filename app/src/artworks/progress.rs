//! Where an artwork stands, as its merchant sees it: being prepared, ready,
//! or failed. The resizer is bounded in work, so an original still without
//! renditions past the stuck window (`EASEL_STUCK_AFTER_SECONDS`, the same
//! one support's stuck list uses) will not get them by waiting.

use std::time::Duration;

use time::OffsetDateTime;

use super::{Artwork, ArtworkStatus, Renditions};

#[derive(Debug, Clone, PartialEq)]
pub enum Progress {
    Processing,
    Ready(Renditions),
    Failed,
}

impl Artwork {
    pub fn progress(&self, now: OffsetDateTime, stuck_after: Duration) -> Progress {
        match &self.status {
            ArtworkStatus::Ready { renditions, .. } => Progress::Ready(renditions.clone()),
            ArtworkStatus::Processing if now - self.uploaded_at > stuck_after => Progress::Failed,
            ArtworkStatus::Processing => Progress::Processing,
        }
    }
}

/// Where an artwork's own page is.
pub fn artwork_path(id: easel_resizer::keys::ArtworkId) -> String {
    format!("/artworks/{id}")
}

#[cfg(test)]
mod tests {
    use easel_resizer::{image::ImageFormat, keys::ArtworkId};

    use super::*;

    fn artwork(age: Duration, status: ArtworkStatus) -> Artwork {
        Artwork {
            id: ArtworkId::new(),
            original_key: "k".into(),
            original_filename: "a.png".into(),
            format: ImageFormat::Png,
            width: 1,
            height: 1,
            bytes: 1,
            uploaded_at: OffsetDateTime::now_utc() - age,
            status,
        }
    }

    #[test]
    fn processing_turns_failed_only_past_the_stuck_window() {
        let window = Duration::from_secs(300);
        let now = OffsetDateTime::now_utc();
        assert_eq!(
            artwork(Duration::from_secs(10), ArtworkStatus::Processing).progress(now, window),
            Progress::Processing
        );
        assert_eq!(
            artwork(Duration::from_secs(301), ArtworkStatus::Processing).progress(now, window),
            Progress::Failed
        );
        let ready = ArtworkStatus::Ready { resized_at: now, renditions: Renditions(vec![]) };
        assert_eq!(
            artwork(Duration::from_secs(9999), ready).progress(now, window),
            Progress::Ready(Renditions(vec![]))
        );
    }
}
