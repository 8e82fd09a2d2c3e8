//! The stakeholders' links: made and mailed (through the outbox, in the
//! transaction of the change that calls for them), looked up for their
//! confirm page, and claimed, once, by the decision they carry. A link is
//! refused in a fixed order: unknown, used, replaced, expired, step over.

use sqlx::{Postgres, Transaction};
use uuid::Uuid;

use super::{LinkRefused, Result, locked, stakeholder};
use crate::decommission::{
    Services,
    mail::link_letter,
    repo::{self, Decommission, Stakeholder},
    step::DecommissionStep,
    token::LinkToken,
};
use crate::outbox::{self, Outgoing};

/// Queues a fresh link for `step` to each of `to`, in `tx`: the links
/// exist, and their mail is on its way, exactly when the change that calls
/// for them commits (`crate::outbox` delivers it).
pub(super) async fn queue_links(
    tx: &mut Transaction<'_, Postgres>,
    state: &Services,
    id: Uuid,
    reason: &str,
    step: DecommissionStep,
    to: &[Stakeholder],
) -> Result<()> {
    for s in to {
        queue_link(tx, state, id, reason, s, step).await?;
    }
    Ok(())
}

/// Ends the stakeholder's live links for `step`, makes a new one and queues
/// its mail. Returns how many links it ended.
pub(super) async fn queue_link(
    tx: &mut Transaction<'_, Postgres>,
    state: &Services,
    id: Uuid,
    reason: &str,
    to: &Stakeholder,
    step: DecommissionStep,
) -> Result<u64> {
    let cfg = &state.decommission;
    let token = LinkToken::generate();
    let ended = repo::end_tokens(tx, to.id, step).await?;
    repo::insert_token(tx, &token.hash(), id, to.id, step, cfg.link_days).await?;
    let letter = link_letter(step, &to.name, &cfg.link(&token), reason, cfg.link_days);
    outbox::enqueue(
        tx,
        &Outgoing {
            decommission: Some(id),
            stakeholder: Some(to.id),
            to_name: &to.name,
            to_addr: &to.email,
            purpose: step.as_str(),
            subject: &letter.subject,
            body: &letter.body,
        },
    )
    .await?;
    Ok(ended)
}

/// What a link opens: checked, but nothing changed (`GET`).
#[derive(Debug, Clone)]
pub struct LinkView {
    pub decommission: Decommission,
    pub stakeholder: Stakeholder,
    pub step: DecommissionStep,
}

fn check(row: Option<repo::TokenRow>, current: Option<DecommissionStep>) -> Result<repo::TokenRow, LinkRefused> {
    let row = row.ok_or(LinkRefused::Unknown)?;
    if row.used_at.is_some() {
        return Err(LinkRefused::Used);
    }
    if row.ended_at.is_some() {
        return Err(LinkRefused::Replaced);
    }
    if row.expired {
        return Err(LinkRefused::Expired);
    }
    if current != Some(row.step) {
        return Err(LinkRefused::StepOver);
    }
    Ok(row)
}

/// Looks a link up for its confirm page. Changes nothing.
pub async fn view_link(state: &Services, token: &str) -> Result<LinkView> {
    let token = LinkToken::parse(token).map_err(|_| LinkRefused::Unknown)?;
    let row = repo::find_token(&state.pool, &token.hash()).await?;
    let d = match &row {
        Some(r) => repo::find(&state.pool, r.decommission_id).await?,
        None => None,
    };
    let row = check(row, d.as_ref().map(|d| d.step))?;
    let d = d.ok_or(LinkRefused::Unknown)?;
    let s = stakeholder(&state.pool, d.id, row.stakeholder_id).await?;
    Ok(LinkView { step: d.step, decommission: d, stakeholder: s })
}

/// Locks the token and its decommission for a decision.
pub(super) async fn claim(
    tx: &mut Transaction<'_, Postgres>,
    token: &str,
) -> Result<(LinkToken, Decommission, Stakeholder)> {
    let token = LinkToken::parse(token).map_err(|_| LinkRefused::Unknown)?;
    let row = repo::lock_token(tx, &token.hash()).await?;
    let d = match &row {
        Some(r) => Some(locked(tx, r.decommission_id).await?),
        None => None,
    };
    let row = check(row, d.as_ref().map(|d| d.step))?;
    let d = d.ok_or(LinkRefused::Unknown)?;
    let s = stakeholder(&mut **tx, d.id, row.stakeholder_id).await?;
    repo::use_token(tx, &token.hash()).await?;
    Ok((token, d, s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(step: &str) -> repo::TokenRow {
        repo::TokenRow {
            decommission_id: Uuid::nil(),
            stakeholder_id: Uuid::nil(),
            step: DecommissionStep::parse(step).unwrap(),
            expired: false,
            used_at: None,
            ended_at: None,
        }
    }

    #[test]
    fn link_checks_refuse_in_a_fixed_order() {
        let now = time::OffsetDateTime::now_utc();
        let a = Some(DecommissionStep::Approval);
        assert_eq!(check(None, a).unwrap_err(), LinkRefused::Unknown);
        assert_eq!(
            check(Some(repo::TokenRow { used_at: Some(now), ..row("approval") }), a).unwrap_err(),
            LinkRefused::Used
        );
        assert_eq!(
            check(Some(repo::TokenRow { ended_at: Some(now), ..row("approval") }), a).unwrap_err(),
            LinkRefused::Replaced
        );
        assert_eq!(
            check(Some(repo::TokenRow { expired: true, ..row("approval") }), a).unwrap_err(),
            LinkRefused::Expired
        );
        assert_eq!(check(Some(row("approval")), Some(DecommissionStep::Halted)).unwrap_err(), LinkRefused::StepOver);
        assert!(check(Some(row("approval")), a).is_ok());
    }
}
