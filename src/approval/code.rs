//! The out-of-band code: for clients that cannot show the person a prompt, Itinera gives the
//! person a one-time code through their own channel (the server's log for a local user), never in
//! tool output. The person passes it to the assistant (`execute_travel_plan`'s `approval_code`),
//! or types it on the approval page reached through a link the assistant handed over.

use crate::domain::approval::{Approval, ApprovalMethod, ApprovalStatus};
use crate::domain::ids::{ApprovalId, OwnerId, PlanId};
use crate::domain::money::Money;
use crate::domain::plan::TravelPlan;
use crate::domain::risk::RiskFlag;

use super::{ApprovalFlowError, Approvals, Audience};

/// Code attempts allowed per approval request; the next voids it.
const MAX_CODE_ATTEMPTS: u32 = 5;

/// What the person receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeNotice {
    pub owner: OwnerId,
    pub approval: ApprovalId,
    pub plan_title: String,
    pub total: Money,
    /// What the person should weigh before passing the code on.
    pub risks: Vec<String>,
    pub code: String,
    /// A link straight to the page, which approves with a click.
    pub page_url: String,
}

impl CodeNotice {
    /// The message as a person reads it, on one line (log lines are read one at a time).
    pub fn message(&self) -> String {
        let mut message = format!(
            "Itinera approval for {:?} ({}): code {}. Give it to your assistant only if you approve paying this.",
            self.plan_title, self.total, self.code
        );
        for risk in &self.risks {
            message.push_str(&format!(" Please check: {risk}."));
        }
        message.push_str(&format!(
            " Review the whole plan and answer on {}",
            self.page_url
        ));
        message
    }
}

/// Where codes go. Channels the person configured; the model never reads them.
pub trait CodeChannel: Send + Sync + std::fmt::Debug {
    fn deliver(&self, notice: &CodeNotice);
}

/// The server's log on stderr: what a local user of a desktop MCP client sees. It is written
/// whatever the log level (see `main`'s filter).
#[derive(Debug, Default)]
pub struct LogChannel;

/// The log target of approval codes, always let through.
pub const CODE_LOG_TARGET: &str = "itinera::approval_code";

impl CodeChannel for LogChannel {
    fn deliver(&self, notice: &CodeNotice) {
        tracing::info!(target: CODE_LOG_TARGET, "{}", notice.message());
    }
}

impl Approvals {
    /// Sends the person the code for a pending approval, with the risks they should weigh.
    pub fn send_code(&self, plan: &TravelPlan, approval: &Approval, risks: &[RiskFlag]) {
        self.channel.deliver(&CodeNotice {
            owner: plan.owner.clone(),
            approval: approval.id.clone(),
            plan_title: plan.title.clone(),
            total: approval.amount_cap,
            risks: risks.iter().map(|risk| risk.reason.clone()).collect(),
            code: self.secrets.code(&approval.id),
            page_url: self.page_url(&approval.id, Audience::Person),
        });
    }

    /// Approves the plan's pending approval with the code the person passed on. Already
    /// approved: nothing to do.
    pub async fn approve_with_code(
        &self,
        owner: &OwnerId,
        plan_id: &PlanId,
        typed: &str,
    ) -> Result<(), ApprovalFlowError> {
        let Some(approval) = self.store.latest_approval(owner, plan_id).await? else {
            return Err(ApprovalFlowError::NoCodeExpected);
        };
        match approval.status {
            ApprovalStatus::Approved => return Ok(()),
            ApprovalStatus::Declined => return Err(ApprovalFlowError::NoCodeExpected),
            ApprovalStatus::Pending => {}
        }
        if self.clock.now() >= approval.expires_at {
            return Err(ApprovalFlowError::NotPending(approval.id));
        }
        self.redeem_code(&approval, typed).await?;
        match self
            .decide(&approval, true, ApprovalMethod::OutOfBandCode)
            .await
        {
            Ok(_) => Ok(()),
            // Answered on the page at the same moment: fine if that answer was yes.
            Err(ApprovalFlowError::NotPending(id)) => {
                match self.store.approval(&id).await?.map(|a| a.status) {
                    Some(ApprovalStatus::Approved) => Ok(()),
                    _ => Err(ApprovalFlowError::NotPending(id)),
                }
            }
            Err(other) => Err(other),
        }
    }

    /// Checks a typed code against the approval's. Every attempt counts, right or wrong, before
    /// the check, so parallel guesses cannot exceed the limit; the attempt past it voids the
    /// request.
    pub(super) async fn redeem_code(
        &self,
        approval: &Approval,
        typed: &str,
    ) -> Result<(), ApprovalFlowError> {
        let attempt = {
            let mut attempts = self
                .code_attempts
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let count = attempts.entry(approval.id.clone()).or_insert(0);
            *count += 1;
            *count
        };
        if attempt > MAX_CODE_ATTEMPTS {
            return Err(ApprovalFlowError::CodeLocked);
        }
        if self.secrets.verify_code(&approval.id, typed) {
            return Ok(());
        }
        self.store
            .record_audit(
                &approval.owner,
                "approval.wrong_code",
                approval.id.as_str(),
                &format!(
                    "wrong approval code for plan {} (attempt {attempt} of {MAX_CODE_ATTEMPTS})",
                    approval.plan_id
                ),
            )
            .await?;
        if attempt < MAX_CODE_ATTEMPTS {
            return Err(ApprovalFlowError::WrongCode {
                attempts_left: MAX_CODE_ATTEMPTS - attempt,
            });
        }
        self.store
            .record_audit(
                &approval.owner,
                "approval.voided",
                approval.id.as_str(),
                &format!(
                    "approval of plan {} voided after {MAX_CODE_ATTEMPTS} wrong codes",
                    approval.plan_id
                ),
            )
            .await?;
        // Recorded as declined: nothing may be paid under it, and a new request starts afresh.
        match self
            .decide(approval, false, ApprovalMethod::OutOfBandCode)
            .await
        {
            Ok(_) | Err(ApprovalFlowError::NotPending(_) | ApprovalFlowError::Stale) => {}
            Err(other) => return Err(other),
        }
        Err(ApprovalFlowError::CodeLocked)
    }
}
