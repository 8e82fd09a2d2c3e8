//! The SOP as a state machine: each step a state, each move an event, and
//! one function that says which moves are allowed. Pure, so it is tested
//! without a database.

use std::fmt;

/// Where a decommission stands. Stored as `as_str` spells it: the
/// `sqlx::Type` derive reads and writes those same words (a test holds
/// them together), and a word it does not know is a decode error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum DecommissionStep {
    /// 1–2: opened; every stakeholder has a link to approve or reject.
    Approval,
    /// A stakeholder rejected the request. Final; a new request may follow.
    Halted,
    /// 3: all approved; the admin writes the plan.
    Plan,
    /// 3: the representative approves the plan by link.
    PlanApproval,
    /// 4: uploads frozen; the archive is being built and verified.
    Archive,
    /// 4: the representative downloads the archive and signs the receipt.
    Handover,
    /// 5: receipt signed; destruction may run.
    Destroy,
    /// 6: data destroyed, console read-only; stakeholders get the completion mail.
    Notify,
    /// 7: the admin records the post-decommissioning review.
    Review,
    /// Done. Final.
    Closed,
}

/// What moves a decommission on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepEvent {
    AllApproved,
    Rejected,
    PlanSubmitted,
    PlanApproved,
    PlanRejected,
    ArchiveVerified,
    ReceiptSigned,
    Destroyed,
    CompletionSent,
    ReviewRecorded,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a decommission at step “{}” cannot take “{event:?}”", from.label())]
pub struct TransitionError {
    pub from: DecommissionStep,
    pub event: StepEvent,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown decommission step {0:?}")]
pub struct UnknownStep(pub String);

impl DecommissionStep {
    pub const ALL: [DecommissionStep; 10] = [
        DecommissionStep::Approval,
        DecommissionStep::Halted,
        DecommissionStep::Plan,
        DecommissionStep::PlanApproval,
        DecommissionStep::Archive,
        DecommissionStep::Handover,
        DecommissionStep::Destroy,
        DecommissionStep::Notify,
        DecommissionStep::Review,
        DecommissionStep::Closed,
    ];

    /// The one place the procedure's order is written down.
    pub fn next(self, event: StepEvent) -> Result<DecommissionStep, TransitionError> {
        use DecommissionStep as S;
        use StepEvent as E;
        match (self, event) {
            (S::Approval, E::AllApproved) => Ok(S::Plan),
            (S::Approval, E::Rejected) => Ok(S::Halted),
            (S::Plan, E::PlanSubmitted) => Ok(S::PlanApproval),
            (S::PlanApproval, E::PlanApproved) => Ok(S::Archive),
            (S::PlanApproval, E::PlanRejected) => Ok(S::Plan),
            (S::Archive, E::ArchiveVerified) => Ok(S::Handover),
            (S::Handover, E::ReceiptSigned) => Ok(S::Destroy),
            (S::Destroy, E::Destroyed) => Ok(S::Notify),
            (S::Notify, E::CompletionSent) => Ok(S::Review),
            (S::Review, E::ReviewRecorded) => Ok(S::Closed),
            (from, event) => Err(TransitionError { from, event }),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DecommissionStep::Approval => "approval",
            DecommissionStep::Halted => "halted",
            DecommissionStep::Plan => "plan",
            DecommissionStep::PlanApproval => "plan_approval",
            DecommissionStep::Archive => "archive",
            DecommissionStep::Handover => "handover",
            DecommissionStep::Destroy => "destroy",
            DecommissionStep::Notify => "notify",
            DecommissionStep::Review => "review",
            DecommissionStep::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Result<Self, UnknownStep> {
        Self::ALL.into_iter().find(|step| step.as_str() == s).ok_or_else(|| UnknownStep(s.to_owned()))
    }

    /// In people's words, with the SOP's step number.
    pub fn label(self) -> &'static str {
        match self {
            DecommissionStep::Approval => "2 · notify stakeholders: the stakeholders approve",
            DecommissionStep::Halted => "halted (rejected)",
            DecommissionStep::Plan => "3 · planning of the decommissioning process: write the plan",
            DecommissionStep::PlanApproval => {
                "3 · planning of the decommissioning process: the representative approves the plan"
            }
            DecommissionStep::Archive => "4 · backup and archive data",
            DecommissionStep::Handover => {
                "4 · backup and archive data: the representative signs for the backed-up data"
            }
            DecommissionStep::Destroy => "5 · destroy and remove: data destruction",
            DecommissionStep::Notify => "6 · notify stakeholders of completion",
            DecommissionStep::Review => "7 · conduct post-decommissioning review",
            DecommissionStep::Closed => "closed",
        }
    }

    /// Uploads stop at the start of the archive step, so the archive is complete.
    pub fn uploads_frozen(self) -> bool {
        matches!(
            self,
            DecommissionStep::Archive
                | DecommissionStep::Handover
                | DecommissionStep::Destroy
                | DecommissionStep::Notify
                | DecommissionStep::Review
                | DecommissionStep::Closed
        )
    }

    /// The data is gone: the console changes nothing but the procedure itself.
    pub fn read_only(self) -> bool {
        matches!(self, DecommissionStep::Notify | DecommissionStep::Review | DecommissionStep::Closed)
    }

    /// Neither halted nor finished.
    pub fn under_way(self) -> bool {
        !matches!(self, DecommissionStep::Halted | DecommissionStep::Closed)
    }

    /// Steps whose links go to stakeholders.
    pub fn has_links(self) -> bool {
        matches!(self, DecommissionStep::Approval | DecommissionStep::PlanApproval | DecommissionStep::Handover)
    }
}

impl fmt::Display for DecommissionStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::{DecommissionStep as S, StepEvent as E};

    #[test]
    fn the_happy_path_visits_every_step_in_order() {
        let path = [
            (E::AllApproved, S::Plan),
            (E::PlanSubmitted, S::PlanApproval),
            (E::PlanRejected, S::Plan),
            (E::PlanSubmitted, S::PlanApproval),
            (E::PlanApproved, S::Archive),
            (E::ArchiveVerified, S::Handover),
            (E::ReceiptSigned, S::Destroy),
            (E::Destroyed, S::Notify),
            (E::CompletionSent, S::Review),
            (E::ReviewRecorded, S::Closed),
        ];
        let mut at = S::Approval;
        for (event, expected) in path {
            at = at.next(event).unwrap();
            assert_eq!(at, expected);
        }
    }

    #[test]
    fn a_rejection_halts_only_the_approval_step() {
        assert_eq!(S::Approval.next(E::Rejected), Ok(S::Halted));
        for step in S::ALL.into_iter().filter(|s| *s != S::Approval) {
            assert!(step.next(E::Rejected).is_err(), "{step}");
        }
    }

    #[test]
    fn destruction_needs_the_signed_receipt() {
        for step in S::ALL.into_iter().filter(|s| *s != S::Destroy) {
            assert!(step.next(E::Destroyed).is_err(), "{step} allowed destruction");
        }
        assert!(S::Handover.next(E::Destroyed).is_err());
    }

    #[test]
    fn final_steps_take_no_event() {
        let all = [
            E::AllApproved,
            E::Rejected,
            E::PlanSubmitted,
            E::PlanApproved,
            E::PlanRejected,
            E::ArchiveVerified,
            E::ReceiptSigned,
            E::Destroyed,
            E::CompletionSent,
            E::ReviewRecorded,
        ];
        for step in [S::Halted, S::Closed] {
            for e in all {
                assert!(step.next(e).is_err(), "{step} took {e:?}");
            }
        }
    }

    #[test]
    fn names_round_trip() {
        for step in S::ALL {
            assert_eq!(S::parse(step.as_str()), Ok(step));
        }
        assert!(S::parse("archived").is_err());
    }

    #[test]
    fn the_database_spells_each_step_as_as_str() {
        for step in S::ALL {
            assert_eq!(crate::test_support::stored_as(&step), step.as_str());
        }
    }

    #[test]
    fn uploads_freeze_from_the_archive_step_and_the_console_locks_after_destruction() {
        assert!(!S::PlanApproval.uploads_frozen());
        assert!(S::Archive.uploads_frozen());
        assert!(!S::Destroy.read_only());
        assert!(S::Notify.read_only() && S::Closed.read_only());
    }
}
