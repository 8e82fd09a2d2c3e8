//! The procedure's operations: each checks the step, changes it with its
//! audit row in one transaction, and queues in it the mail that step calls
//! for (`crate::outbox` sends it).

use anyhow::Context;
use sha2::{Digest, Sha256};
use sqlx::{Postgres, Transaction};
use uuid::Uuid;

use super::{
    Services, archive, destroy,
    mail::{completion_letter, link_letter},
    repo::{self, ArchiveState, Decommission, Plan, Stakeholder},
    stakeholder::{NewStakeholder, StakeholderRole},
    step::{DecommissionStep, StepEvent, TransitionError},
    token::LinkToken,
};
use crate::{
    audit::{self, Actor, AuditAction, NewEvent},
    auth::users,
    outbox::{self, Outgoing},
};

/// Why a link does nothing. Each gets its own plain page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LinkRefused {
    #[error("This link is not valid. Check that you copied the whole link from the e-mail.")]
    Unknown,
    #[error("This link has already been used. Each link works once.")]
    Used,
    #[error("This link has expired. Ask the point of contact to send you a new one.")]
    Expired,
    #[error("This link was replaced by a newer one. Use the link in the most recent e-mail.")]
    Replaced,
    #[error("This step of the decommissioning is over, so this link no longer applies.")]
    StepOver,
}

#[derive(Debug, thiserror::Error)]
pub enum DecommissionError {
    #[error("no such decommission")]
    NotFound,
    #[error("A decommission is already under way (or Easel is already decommissioned).")]
    AlreadyOpen,
    #[error("{0}")]
    Invalid(String),
    #[error("This cannot be done now: the decommission is at “{}”.", .0.from.label())]
    Transition(#[from] TransitionError),
    #[error(transparent)]
    Link(#[from] LinkRefused),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<sqlx::Error> for DecommissionError {
    fn from(e: sqlx::Error) -> Self {
        DecommissionError::Unexpected(anyhow::Error::new(e).context("decommission database work"))
    }
}

type Result<T, E = DecommissionError> = std::result::Result<T, E>;

fn event(actor: &Actor, action: AuditAction, id: Uuid, details: serde_json::Value, addr: &str) -> NewEvent {
    NewEvent {
        actor: actor.clone(),
        action,
        subject: format!("decommission:{id}"),
        details,
        client_addr: addr.to_owned(),
    }
}

async fn locked(tx: &mut Transaction<'_, Postgres>, id: Uuid) -> Result<Decommission> {
    repo::lock(tx, id).await?.ok_or(DecommissionError::NotFound)
}

/// One audit row in its own transaction.
async fn record(
    state: &Services,
    actor: &Actor,
    action: AuditAction,
    id: Uuid,
    details: serde_json::Value,
    addr: &str,
) -> Result<()> {
    audit::record(&state.pool, event(actor, action, id, details, addr)).await?;
    Ok(())
}

/// Step 1: what the admin fills in.
pub struct OpenRequest {
    pub stakeholders: Vec<NewStakeholder>,
    pub point_of_contact: String,
    pub reason: String,
    pub reason_pdf: Option<(String, Vec<u8>)>,
}

/// Step 1 → 2: opens the request and mails every stakeholder their link.
pub async fn open(state: &Services, actor: &Actor, addr: &str, req: OpenRequest) -> Result<Uuid> {
    if req.point_of_contact.trim().is_empty() {
        return Err(DecommissionError::Invalid("Name the point of contact.".into()));
    }
    if req.reason.trim().is_empty() && req.reason_pdf.is_none() {
        return Err(DecommissionError::Invalid(
            "Give the reason: write it, or attach the reason document (PDF).".into(),
        ));
    }
    if let Some((_, bytes)) = &req.reason_pdf
        && !bytes.starts_with(b"%PDF-")
    {
        return Err(DecommissionError::Invalid("The reason document must be a PDF file.".into()));
    }
    let id = Uuid::now_v7();
    let mut tx = state.pool.begin().await?;
    let inserted = repo::insert(
        &mut tx,
        &repo::NewDecommission {
            id,
            opened_by: actor.name(),
            point_of_contact: req.point_of_contact.trim(),
            reason: req.reason.trim(),
            reason_pdf: req.reason_pdf.as_ref().map(|(n, b)| (n.as_str(), b.as_slice())),
        },
    )
    .await;
    match inserted {
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => return Err(DecommissionError::AlreadyOpen),
        other => other?,
    }
    let stakeholders = repo::insert_stakeholders(&mut tx, id, &req.stakeholders).await?;
    let details = serde_json::json!({
        "point_of_contact": req.point_of_contact.trim(),
        "reason": req.reason.trim(),
        "reason_pdf": req.reason_pdf.as_ref().map(|(name, bytes)| serde_json::json!({
            "name": name, "bytes": bytes.len(), "sha256": hex::encode(Sha256::digest(bytes)),
        })),
        "stakeholders": stakeholders.iter().map(|s| serde_json::json!({
            "name": s.name, "email": s.email, "role": s.role.as_str(),
        })).collect::<Vec<_>>(),
    });
    audit::append(&mut tx, event(actor, AuditAction::DecommissionOpened, id, details, addr)).await?;
    queue_links(&mut tx, state, id, req.reason.trim(), DecommissionStep::Approval, &stakeholders).await?;
    tx.commit().await?;
    state.mail_wake.notify_one();
    Ok(id)
}

/// Queues a fresh link for `step` to each of `to`, in `tx`: the links
/// exist, and their mail is on its way, exactly when the change that calls
/// for them commits (`crate::outbox` delivers it).
async fn queue_links(
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
async fn queue_link(
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
    if current.map(DecommissionStep::as_str) != Some(row.step.as_str()) {
        return Err(LinkRefused::StepOver);
    }
    Ok(row)
}

async fn stakeholder(db: impl sqlx::PgExecutor<'_>, d: Uuid, s: Uuid) -> Result<Stakeholder> {
    repo::stakeholders(db, d).await?.into_iter().find(|x| x.id == s).ok_or(DecommissionError::NotFound)
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
async fn claim(tx: &mut Transaction<'_, Postgres>, token: &str) -> Result<(LinkToken, Decommission, Stakeholder)> {
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

/// What a decision led to, for the page that answers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecisionOutcome {
    Recorded,
    Halted,
    AllApproved,
    PlanApproved,
    PlanRejected,
}

/// Steps 2 and 3: a stakeholder approves or rejects through their link.
pub async fn decide(
    state: &Services,
    token: &str,
    approve: bool,
    comment: &str,
    addr: &str,
) -> Result<DecisionOutcome> {
    let comment = comment.trim();
    if !approve && comment.is_empty() {
        return Err(DecommissionError::Invalid("Please say why you reject: the comment is required.".into()));
    }
    let mut tx = state.pool.begin().await?;
    let (_, d, s) = claim(&mut tx, token).await?;
    let actor = Actor::Stakeholder { email: s.email.clone() };
    let who =
        serde_json::json!({ "stakeholder": s.email, "name": s.name, "role": s.role.as_str(), "comment": comment });
    repo::insert_decision(&mut tx, s.id, d.step, approve, comment, addr).await?;
    let outcome = match (d.step, approve) {
        (DecommissionStep::Approval, true) => {
            let all = repo::pending_approvals(&mut tx, d.id, d.step).await? == 0;
            if all {
                let next = d.step.next(StepEvent::AllApproved)?;
                repo::set_step(&mut tx, d.id, next).await?;
            }
            let mut details = who;
            details["all_approved"] = all.into();
            audit::append(&mut tx, event(&actor, AuditAction::DecommissionApproved, d.id, details, addr)).await?;
            if all { DecisionOutcome::AllApproved } else { DecisionOutcome::Recorded }
        }
        (DecommissionStep::Approval, false) => {
            let next = d.step.next(StepEvent::Rejected)?;
            let reason = format!("{} ({}) rejected: {comment}", s.name, s.role);
            repo::set_halted(&mut tx, d.id, next, &reason).await?;
            audit::append(&mut tx, event(&actor, AuditAction::DecommissionRejected, d.id, who, addr)).await?;
            DecisionOutcome::Halted
        }
        (DecommissionStep::PlanApproval, true) => {
            let next = d.step.next(StepEvent::PlanApproved)?;
            repo::set_step(&mut tx, d.id, next).await?;
            repo::set_plan_comment(&mut tx, d.id, comment).await?;
            // The archive step starts here, and with it the upload freeze.
            repo::freeze_uploads(&mut tx, d.id).await?;
            let mut details = who;
            details["uploads_frozen"] = true.into();
            audit::append(&mut tx, event(&actor, AuditAction::DecommissionPlanApproved, d.id, details, addr)).await?;
            DecisionOutcome::PlanApproved
        }
        (DecommissionStep::PlanApproval, false) => {
            let next = d.step.next(StepEvent::PlanRejected)?;
            repo::set_step(&mut tx, d.id, next).await?;
            repo::set_plan_comment(&mut tx, d.id, comment).await?;
            audit::append(&mut tx, event(&actor, AuditAction::DecommissionPlanRejected, d.id, who, addr)).await?;
            DecisionOutcome::PlanRejected
        }
        // A receipt link cannot approve anything.
        _ => return Err(LinkRefused::Unknown.into()),
    };
    tx.commit().await?;
    Ok(outcome)
}

/// Step 3: the admin's plan goes to the representative.
pub async fn submit_plan(state: &Services, id: Uuid, actor: &Actor, addr: &str, plan: Plan) -> Result<()> {
    if [&plan.steps, &plan.timeline, &plan.resources, &plan.contingency].iter().any(|f| f.trim().is_empty()) {
        return Err(DecommissionError::Invalid(
            "Fill in every part of the plan: steps, timeline, resources and contingency.".into(),
        ));
    }
    let mut tx = state.pool.begin().await?;
    let d = locked(&mut tx, id).await?;
    let next = d.step.next(StepEvent::PlanSubmitted)?;
    repo::set_plan(&mut tx, id, next, &plan).await?;
    let details = serde_json::to_value(&plan).context("a plan serialises")?;
    audit::append(&mut tx, event(actor, AuditAction::DecommissionPlanSubmitted, id, details, addr)).await?;
    let to = representative(state, id).await?;
    queue_links(&mut tx, state, id, &d.reason, DecommissionStep::PlanApproval, &to).await?;
    tx.commit().await?;
    state.mail_wake.notify_one();
    Ok(())
}

async fn representative(state: &Services, id: Uuid) -> Result<Vec<Stakeholder>> {
    Ok(repo::stakeholders(&state.pool, id)
        .await?
        .into_iter()
        .filter(|s| s.role == StakeholderRole::Representative)
        .collect())
}

/// Step 4: builds the archive in the background; the console shows progress.
pub async fn start_archive(state: &Services, id: Uuid, actor: &Actor, addr: &str) -> Result<()> {
    let mut tx = state.pool.begin().await?;
    let d = locked(&mut tx, id).await?;
    // Only the archive step may build, and only one build at a time.
    d.step.next(StepEvent::ArchiveVerified)?;
    let running = d.archive_state == ArchiveState::Running && repo::archive_alive(&mut tx, id).await?;
    if running || d.archive_state == ArchiveState::Ready {
        return Err(DecommissionError::Invalid("The archive is already being built.".into()));
    }
    // A restart after a stopped console: its half-written file goes.
    if let Err(e) = archive::remove_partials(&state.decommission.archive_dir, id).await {
        tracing::warn!(error = %e, "a stale partial archive was not removed");
    }
    repo::set_archive_state(&mut *tx, id, ArchiveState::Running, "starting").await?;
    let details = serde_json::json!({ "uploads_frozen": true });
    audit::append(&mut tx, event(actor, AuditAction::DecommissionArchiveStarted, id, details, addr)).await?;
    tx.commit().await?;
    let state = state.clone();
    tokio::spawn(async move {
        if let Err(e) = build_and_hand_over(&state, id).await {
            tracing::error!(error = ?e, decommission = %id, "the decommission archive failed");
            let mut tx = match state.pool.begin().await {
                Ok(tx) => tx,
                Err(e) => return tracing::error!(error = ?e, "cannot record the archive failure"),
            };
            let progress = format!("{e:#}");
            let recorded = async {
                // A build restarted meanwhile may have finished: then this
                // one's failure changes nothing.
                match repo::lock(&mut tx, id).await? {
                    Some(d) if d.step == DecommissionStep::Archive => {}
                    _ => return Ok(()),
                }
                repo::set_archive_state(&mut *tx, id, ArchiveState::Failed, &progress).await?;
                let details = serde_json::json!({ "error": format!("{e:#}") });
                audit::append(&mut tx, event(&Actor::System, AuditAction::DecommissionArchiveFailed, id, details, ""))
                    .await?;
                tx.commit().await
            }
            .await;
            if let Err(e) = recorded {
                tracing::error!(error = ?e, "cannot record the archive failure");
            }
        }
    });
    Ok(())
}

async fn build_and_hand_over(state: &Services, id: Uuid) -> anyhow::Result<()> {
    let pool = state.pool.clone();
    let progress = move |text: String| {
        let pool = pool.clone();
        async move {
            if let Err(e) = repo::set_archive_progress(&pool, id, &text).await {
                tracing::warn!(error = ?e, "archive progress not recorded");
            }
        }
    };
    // Uploads are frozen; those that registered before the freeze finish
    // first, so the archive holds each of them whole (row and original).
    let mut reported = 0;
    crate::artworks::in_flight::wait_until_none(&state.pool, state.deadlines.page, |n| {
        if n != reported {
            reported = n;
            tracing::info!(uploads = n, "the archive waits for uploads under way");
        }
    })
    .await
    .context("waiting for uploads under way")?;
    // Then the resizer, so the archive holds every rendition of every
    // upload accepted before the freeze (or names those it never made).
    let not_rendered = archive::wait_for_renditions(
        &state.pool,
        &state.s3,
        &state.buckets.resized,
        state.decommission.resizer_wait,
        &progress,
    )
    .await
    .context("waiting for the resizer")?;
    if !not_rendered.is_empty() {
        tracing::warn!(uploads = not_rendered.len(), "the archive stopped waiting for the resizer");
    }
    let built = archive::build(
        &state.pool,
        &state.support,
        &state.decommission.archive_dir,
        id,
        state.audit_key.as_ref(),
        not_rendered,
        progress,
    )
    .await
    .context("building the archive")?;
    let mut tx = state.pool.begin().await?;
    let d = repo::lock(&mut tx, id).await?.context("the decommission vanished")?;
    if d.step != DecommissionStep::Archive {
        // Another build (restarted while this one seemed stalled) won.
        drop(tx);
        let _ = tokio::fs::remove_file(&built.path).await;
        return Ok(());
    }
    let file = built.path.to_string_lossy().into_owned();
    let facts = repo::ArchiveFacts {
        file: &file,
        sha256: &built.sha256,
        bytes: built.bytes as i64,
        audit_head: &built.audit_head,
    };
    let summary = format!("verified: {} files, {} bytes", built.files, built.bytes);
    let next = d.step.next(StepEvent::ArchiveVerified)?;
    repo::set_archive_ready(&mut tx, id, next, &facts, &summary).await?;
    let details = serde_json::json!({
        "file": file, "sha256": built.sha256, "bytes": built.bytes, "files": built.files,
        "audit_chain_head": built.audit_head, "verified": true,
    });
    audit::append(&mut tx, event(&Actor::System, AuditAction::DecommissionArchiveBuilt, id, details, "")).await?;
    let to = representative(state, id).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    queue_links(&mut tx, state, id, &d.reason, DecommissionStep::Handover, &to)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    tx.commit().await?;
    state.mail_wake.notify_one();
    Ok(())
}

/// The archive a receipt link may download, and its file name.
pub async fn archive_for_link(state: &Services, token: &str) -> Result<(std::path::PathBuf, String)> {
    let view = view_link(state, token).await?;
    if view.step != DecommissionStep::Handover {
        return Err(LinkRefused::Unknown.into());
    }
    let file = view.decommission.archive_file.context("the archive has no file")?;
    Ok((file.into(), format!("easel-archive-{}.zip", view.decommission.id)))
}

/// The words the representative ticks on the receipt, as stored with it.
pub fn receipt_consent(archive_sha256: &str) -> String {
    format!(
        "I confirm that I received Easel’s data archive with the SHA-256 {archive_sha256}, and I consent to the \
         destruction of Easel’s data."
    )
}

/// Step 4: the representative signs for the archive.
pub async fn sign_receipt(state: &Services, token: &str, full_name: &str, consent: bool, addr: &str) -> Result<()> {
    let full_name = full_name.trim();
    if full_name.chars().count() < 2 || !consent {
        return Err(DecommissionError::Invalid(
            "To sign, type your full name and tick the box confirming you received the archive.".into(),
        ));
    }
    let mut tx = state.pool.begin().await?;
    let (_, d, s) = claim(&mut tx, token).await?;
    if d.step != DecommissionStep::Handover || s.role != StakeholderRole::Representative {
        return Err(LinkRefused::Unknown.into());
    }
    let next = d.step.next(StepEvent::ReceiptSigned)?;
    let sha = d.archive_sha256.clone().context("a handed-over archive has a hash")?;
    let consent = receipt_consent(&sha);
    let receipt = repo::Receipt { full_name, by: &s.email, consent: &consent, addr, sha256: &sha };
    let at = repo::set_receipt(&mut tx, d.id, next, &receipt).await?;
    let details = serde_json::json!({
        "full_name": full_name, "stakeholder": s.email, "archive_sha256": sha, "consent": consent,
        "at": at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
    });
    let actor = Actor::Stakeholder { email: s.email.clone() };
    audit::append(&mut tx, event(&actor, AuditAction::DecommissionReceiptSigned, d.id, details, addr)).await?;
    tx.commit().await?;
    Ok(())
}

/// Step 5: destroys every object and version, removes what Easel set on the
/// buckets, disables support accounts. Refused before the signed receipt.
pub async fn destroy(state: &Services, id: Uuid, actor: &Actor, addr: &str) -> Result<()> {
    // The row stays locked through the whole destruction: a second admin's
    // click waits, then finds the step done. An interrupted run leaves the
    // step at “destroy”; running it again lists what is left and finishes.
    let mut tx = state.pool.begin().await?;
    let d = locked(&mut tx, id).await?;
    let next = d.step.next(StepEvent::Destroyed)?;
    if d.receipt_at.is_none() {
        return Err(DecommissionError::Invalid(
            "Nothing is destroyed before the representative signs the receipt.".into(),
        ));
    }
    // On record before anything is deleted, in its own transaction: a run
    // that fails or stops half-way is then in the audit trail too.
    record(state, actor, AuditAction::DecommissionDestroyStarted, id, serde_json::json!({}), addr).await?;
    // The buckets' contents, then the resizer Easel configured (its logs
    // are in the archive).
    let destroyed: anyhow::Result<_> = async {
        let report = destroy::wipe(&state.s3, &state.buckets).await.context("destroying the buckets' contents")?;
        if let Some(b) = report.iter().find(|b| !b.empty) {
            anyhow::bail!("bucket {} is not empty after deletion", b.bucket);
        }
        let resizer = destroy::remove_resizer(&state.support).await.context("removing the resizer")?;
        Ok((report, resizer))
    }
    .await;
    let (report, resizer) = match destroyed {
        Ok(done) => done,
        Err(e) => {
            let details = serde_json::json!({ "error": format!("{e:#}") });
            if let Err(not_recorded) =
                record(state, actor, AuditAction::DecommissionDestroyFailed, id, details, addr).await
            {
                tracing::error!(error = ?not_recorded, "the destruction's failure was not recorded");
            }
            return Err(e.into());
        }
    };
    // The console's own copy of the archive is a copy of all the data too:
    // the representative has signed for theirs, so this one goes as well.
    let archive_copy_removed = match &d.archive_file {
        Some(file) => match tokio::fs::remove_file(file).await {
            Ok(()) => true,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
            Err(e) => return Err(anyhow::Error::new(e).context(format!("removing the archive copy {file}")).into()),
        },
        None => true,
    };
    let report = serde_json::json!({
        "buckets": serde_json::to_value(&report).context("a report serialises")?,
        "resizer": resizer,
        "archive_copy_removed": archive_copy_removed,
    });
    repo::set_destroyed(&mut tx, id, next, &report).await?;
    repo::close_uploads(&mut tx).await?;
    let support: Vec<(Uuid, String)> =
        sqlx::query_as("SELECT id, email FROM users WHERE role = 'support' AND disabled_at IS NULL")
            .fetch_all(&mut *tx)
            .await?;
    for (uid, email) in &support {
        users::disable(&mut tx, *uid).await?;
        let e = NewEvent {
            actor: actor.clone(),
            action: AuditAction::UserDisabled,
            subject: format!("user:{email}"),
            details: serde_json::json!({ "decommission": id }),
            client_addr: addr.to_owned(),
        };
        audit::append(&mut tx, e).await?;
    }
    let details = serde_json::json!({
        "buckets": report["buckets"], "resizer": report["resizer"], "archive_copy_removed": archive_copy_removed,
        "support_accounts_disabled": support.iter().map(|(_, e)| e).collect::<Vec<_>>(),
    });
    audit::append(&mut tx, event(actor, AuditAction::DecommissionDestroyed, id, details, addr)).await?;
    tx.commit().await?;
    Ok(())
}

/// Step 6: every stakeholder is told. The letters are queued with the step
/// change; the outbox delivers them, and the page shows each one's state.
pub async fn notify_completion(state: &Services, id: Uuid, actor: &Actor, addr: &str) -> Result<()> {
    let mut tx = state.pool.begin().await?;
    let d = locked(&mut tx, id).await?;
    let next = d.step.next(StepEvent::CompletionSent)?;
    let everyone = repo::stakeholders(&mut *tx, id).await?;
    let sha = d.archive_sha256.clone().unwrap_or_default();
    for s in &everyone {
        let letter = completion_letter(&s.name, &sha, &d.point_of_contact);
        let mail = Outgoing {
            decommission: Some(id),
            stakeholder: Some(s.id),
            to_name: &s.name,
            to_addr: &s.email,
            purpose: DecommissionStep::Notify.as_str(),
            subject: &letter.subject,
            body: &letter.body,
        };
        outbox::enqueue(&mut tx, &mail).await?;
    }
    repo::set_step(&mut tx, id, next).await?;
    let details = serde_json::json!({ "to": everyone.iter().map(|s| &s.email).collect::<Vec<_>>() });
    audit::append(&mut tx, event(actor, AuditAction::DecommissionCompletionNotified, id, details, addr)).await?;
    tx.commit().await?;
    state.mail_wake.notify_one();
    Ok(())
}

/// Step 7: the post-decommissioning review closes the request.
pub async fn record_review(state: &Services, id: Uuid, actor: &Actor, addr: &str, review: &str) -> Result<()> {
    let review = review.trim();
    if review.is_empty() {
        return Err(DecommissionError::Invalid("Write the review before closing.".into()));
    }
    let mut tx = state.pool.begin().await?;
    let d = locked(&mut tx, id).await?;
    let next = d.step.next(StepEvent::ReviewRecorded)?;
    repo::set_closed(&mut tx, id, next, review).await?;
    let details = serde_json::json!({ "review": review });
    audit::append(&mut tx, event(actor, AuditAction::DecommissionClosed, id, details, addr)).await?;
    tx.commit().await?;
    Ok(())
}

/// A new link for one stakeholder; the old one stops working.
pub async fn resend(state: &Services, id: Uuid, stakeholder_id: Uuid, actor: &Actor, addr: &str) -> Result<()> {
    let d = repo::find(&state.pool, id).await?.ok_or(DecommissionError::NotFound)?;
    let s = stakeholder(&state.pool, id, stakeholder_id).await?;
    let eligible = match d.step {
        DecommissionStep::Approval => !repo::decisions(&state.pool, id)
            .await?
            .iter()
            .any(|x| x.stakeholder_id == s.id && x.step == d.step.as_str()),
        DecommissionStep::PlanApproval | DecommissionStep::Handover => s.role == StakeholderRole::Representative,
        _ => false,
    };
    if !eligible {
        return Err(DecommissionError::Invalid(format!("{} has no link to resend at this step.", s.email)));
    }
    let mut tx = state.pool.begin().await?;
    let ended = queue_link(&mut tx, state, id, &d.reason, &s, d.step).await?;
    let details = serde_json::json!({ "to": s.email, "step": d.step.as_str(), "links_ended": ended });
    audit::append(&mut tx, event(actor, AuditAction::DecommissionLinkResent, id, details, addr)).await?;
    tx.commit().await?;
    state.mail_wake.notify_one();
    Ok(())
}

/// A message the outbox could not deliver, queued again.
pub async fn send_mail_again(state: &Services, id: Uuid, mail: i64, actor: &Actor, addr: &str) -> Result<()> {
    let mut tx = state.pool.begin().await?;
    let to = outbox::send_again(&mut tx, id, mail).await?.ok_or_else(|| {
        DecommissionError::Invalid("That message is sent or under way; there is nothing to send again.".into())
    })?;
    let details = serde_json::json!({ "mail": mail, "to": to });
    audit::append(&mut tx, event(actor, AuditAction::DecommissionMailRequeued, id, details, addr)).await?;
    tx.commit().await?;
    state.mail_wake.notify_one();
    Ok(())
}

/// The words of the banner every admin page shows while a decommission is
/// under way (or after it closed).
pub fn banner(step: DecommissionStep) -> String {
    match step {
        DecommissionStep::Closed => "Easel has been decommissioned. The console is read-only.".to_string(),
        step if step.read_only() => {
            format!("Decommissioning under way — step {}. Data destroyed; the console is read-only.", step.label())
        }
        step if step.uploads_frozen() => {
            format!("Decommissioning under way — step {}. Uploads are frozen.", step.label())
        }
        step => format!("Decommissioning under way — step {}.", step.label()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(step: &str) -> repo::TokenRow {
        repo::TokenRow {
            decommission_id: Uuid::nil(),
            stakeholder_id: Uuid::nil(),
            step: step.into(),
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
