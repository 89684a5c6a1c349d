//! The out-of-band code: for clients that cannot show the person a prompt, Itinera gives the
//! person a one-time code through a channel they configured (the server's log for a local user),
//! never in tool output. The person passes it on; `execute_travel_plan` takes it.

use crate::domain::approval::{ApprovalMethod, ApprovalStatus, PlanDigest};
use crate::domain::ids::{ApprovalId, OwnerId, PlanId};
use crate::domain::money::Money;
use crate::domain::plan::TravelPlan;

use super::{ApprovalFlowError, Approvals};

/// Wrong codes allowed before the approval request is voided.
const MAX_WRONG_CODES: u32 = 5;

/// What the person receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeNotice {
    pub owner: OwnerId,
    pub approval: ApprovalId,
    pub plan_title: String,
    pub total: Money,
    pub code: String,
    pub page_url: String,
}

impl CodeNotice {
    /// The message as a person reads it.
    pub fn message(&self) -> String {
        format!(
            "Itinera approval for \"{}\" ({}): code {} — give it to your assistant only if you approve paying \
             this. Or review and answer on {}",
            self.plan_title, self.total, self.code, self.page_url
        )
    }
}

/// Where codes go. Channels the person configured; the model never reads them.
pub trait CodeChannel: Send + Sync + std::fmt::Debug {
    fn deliver(&self, notice: &CodeNotice);
}

/// The server's log on stderr: what a local user of a desktop MCP client sees.
#[derive(Debug, Default)]
pub struct LogChannel;

impl CodeChannel for LogChannel {
    fn deliver(&self, notice: &CodeNotice) {
        tracing::warn!(target: "itinera::approval", "{}", notice.message());
    }
}

impl Approvals {
    /// Sends the person the code for a pending approval.
    pub fn send_code(&self, plan: &TravelPlan, approval_id: &ApprovalId, total: Money) {
        self.channel.deliver(&CodeNotice {
            owner: plan.owner.clone(),
            approval: approval_id.clone(),
            plan_title: plan.title.clone(),
            total,
            code: self.secrets.code(approval_id),
            page_url: self.page_url(approval_id),
        });
    }

    /// Approves the plan's pending approval with the code the person passed on. Already
    /// approved: nothing to do. Too many wrong codes void the request.
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
        let plan = self
            .store
            .plan(owner, plan_id)
            .await?
            .ok_or(ApprovalFlowError::NoCodeExpected)?;
        if PlanDigest::of(&plan)? != approval.digest {
            return Err(ApprovalFlowError::Stale);
        }
        if self.secrets.verify_code(&approval.id, typed) {
            self.decide(&plan, &approval, true, ApprovalMethod::OutOfBandCode)
                .await?;
            return Ok(());
        }
        let failures = {
            let mut failures = self
                .code_failures
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let count = failures.entry(approval.id.clone()).or_insert(0);
            *count += 1;
            *count
        };
        self.store
            .record_audit(
                owner,
                "approval.wrong_code",
                approval.id.as_str(),
                &format!(
                    "wrong approval code for plan {plan_id} ({failures} of {MAX_WRONG_CODES})"
                ),
            )
            .await?;
        if failures >= MAX_WRONG_CODES {
            self.decide(&plan, &approval, false, ApprovalMethod::OutOfBandCode)
                .await?;
            return Err(ApprovalFlowError::CodeLocked);
        }
        Err(ApprovalFlowError::WrongCode {
            attempts_left: MAX_WRONG_CODES - failures,
        })
    }
}
