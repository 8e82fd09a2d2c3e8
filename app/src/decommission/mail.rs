//! The words of each message the decommissioning procedure sends; the
//! outbox delivers them through `crate::mail`.

use super::step::DecommissionStep;

/// What a message is for, and its words.
pub struct Letter {
    pub subject: String,
    pub body: String,
}

/// The mail that carries a stakeholder's link for `step`.
pub fn link_letter(step: DecommissionStep, name: &str, link: &str, reason: &str, days: u32) -> Letter {
    let expiry = format!(
        "The link works once and expires in {days} days. Opening it changes nothing by itself; you decide on the page it opens."
    );
    match step {
        DecommissionStep::PlanApproval => Letter {
            subject: "Easel decommissioning: please approve the plan".into(),
            body: format!(
                "Dear {name},\n\nthe plan for decommissioning Easel is ready for your approval as the client's representative.\nRead it and approve or reject it here:\n\n{link}\n\n{expiry}\n"
            ),
        },
        DecommissionStep::Handover => Letter {
            subject: "Easel decommissioning: your data archive is ready".into(),
            body: format!(
                "Dear {name},\n\nthe archive of all of Easel's data is ready. Download it and sign the receipt here:\n\n{link}\n\nNothing is destroyed before you have signed.\n{expiry}\n"
            ),
        },
        _ => Letter {
            subject: "Easel decommissioning: your approval is requested".into(),
            body: format!(
                "Dear {name},\n\nwe request your approval to decommission Easel.\n\nReason:\n{reason}\n\nApprove or reject, with a comment, here:\n\n{link}\n\n{expiry}\n"
            ),
        },
    }
}

/// Step 6: every stakeholder learns that the procedure is complete.
pub fn completion_letter(name: &str, archive_sha256: &str, contact: &str) -> Letter {
    Letter {
        subject: "Easel has been decommissioned".into(),
        body: format!(
            "Dear {name},\n\nEaselʼs decommissioning is complete. All of its data was archived, handed to your representative (archive SHA-256 {archive_sha256}) and then destroyed; its storage configuration was removed and its support accounts were disabled.\n\nFor any further questions, your point of contact is: {contact}\n"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_link_letter_carries_the_link() {
        for step in [DecommissionStep::Approval, DecommissionStep::PlanApproval, DecommissionStep::Handover] {
            let l = link_letter(step, "Ada", "http://x/decommission/abc", "old", 7);
            assert!(l.body.contains("http://x/decommission/abc"), "{step}");
            assert!(l.body.contains("7 days"));
        }
    }
}
