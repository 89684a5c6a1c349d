//! Asking a person to approve paying for a plan, and recording their answer.
//!
//! Only the person can approve, through a surface the model cannot operate: the MCP client's
//! prompt (elicitation), Itinera's own approval page at a one-time link, or a one-time code
//! delivered out of band. An auto-approve limit the person set in the configuration approves small
//! totals that show no risk. No tool argument approves by itself.

mod code;
mod page;
mod prompt;
mod secrets;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::Duration;

use crate::domain::approval::{Approval, ApprovalMethod, ApprovalStatus, PlanDigest};
use crate::domain::ids::{ApprovalId, OwnerId};
use crate::domain::money::Money;
use crate::domain::plan::{PlanError, TravelPlan};
use crate::domain::risk::RiskFlag;
use crate::ports::{Clock, Store, StoreError};
use crate::spending::{GuardError, SpendingGuard};

pub use code::{CODE_LOG_TARGET, CodeChannel, CodeNotice, LogChannel};
pub use page::{PageAnswer, PageError, PageView};
pub use prompt::approval_prompt;
pub use secrets::{ApprovalSecrets, Audience, KeyError};

/// The person's standing rules for approvals, from configuration.
#[derive(Debug, Clone)]
pub struct ApprovalSettings {
    /// How long a person's yes stays valid.
    pub ttl: Duration,
    /// Totals up to this amount (same currency) are approved without asking; `None` never.
    pub auto_approve_limit: Option<Money>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApprovalFlowError {
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error(
        "the plan changed while the person was being asked: call confirm_travel_plan again so they see the current plan"
    )]
    Stale,
    #[error("approval {0} is not waiting for an answer any more: call confirm_travel_plan again")]
    NotPending(ApprovalId),
    #[error(
        "there is no approval request waiting for a code: call confirm_travel_plan, then ask the person for the code Itinera gives them"
    )]
    NoCodeExpected,
    #[error(
        "that approval code is not right; {attempts_left} attempt(s) left. Ask the person to read the code again from where Itinera sent it"
    )]
    WrongCode { attempts_left: u32 },
    #[error(
        "too many wrong approval codes, so this approval request was voided: call confirm_travel_plan for a new one"
    )]
    CodeLocked,
    #[error(transparent)]
    Policy(#[from] GuardError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// An approval as asked for, with the risks the person is shown.
#[derive(Debug, Clone)]
pub struct Requested {
    pub approval: Approval,
    pub risks: Vec<RiskFlag>,
}

#[derive(Clone)]
pub struct Approvals {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    settings: ApprovalSettings,
    guard: SpendingGuard,
    secrets: Arc<ApprovalSecrets>,
    /// Where the approval page is served, e.g. `http://127.0.0.1:41234`.
    page_base: String,
    channel: Arc<dyn CodeChannel>,
    /// Codes tried per approval; a few wrong ones void it.
    code_attempts: Arc<Mutex<HashMap<ApprovalId, u32>>>,
}

/// What the approval service is built from.
pub struct ApprovalDeps {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub settings: ApprovalSettings,
    pub guard: SpendingGuard,
    pub secrets: Arc<ApprovalSecrets>,
    pub page_base: String,
    pub channel: Arc<dyn CodeChannel>,
}

impl Approvals {
    pub fn new(deps: ApprovalDeps) -> Self {
        Self {
            store: deps.store,
            clock: deps.clock,
            settings: deps.settings,
            guard: deps.guard,
            secrets: deps.secrets,
            page_base: deps.page_base,
            channel: deps.channel,
            code_attempts: Arc::default(),
        }
    }

    /// Opens an approval for the plan as it is now, or returns the live one for this exact
    /// version if it already covers every risk seen now.
    pub async fn request(&self, plan: &TravelPlan) -> Result<Requested, ApprovalFlowError> {
        let now = self.clock.now();
        plan.validate(now.date_naive())?;
        // A plan the policy refuses is never put in front of the person.
        let risks = self.guard.review(plan).await?;
        let digest = PlanDigest::of(plan)?;
        let total = plan.total()?;
        if let Some(latest) = self.store.latest_approval(&plan.owner, &plan.id).await?
            && latest.digest == digest
            && latest.status != ApprovalStatus::Declined
            && now < latest.expires_at
            && latest.unacknowledged(&risks).is_empty()
        {
            return Ok(Requested {
                approval: latest,
                risks,
            });
        }
        let mut approval = Approval {
            id: ApprovalId::generate(),
            plan_id: plan.id.clone(),
            owner: plan.owner.clone(),
            digest,
            amount_cap: total,
            expires_at: now + self.settings.ttl,
            status: ApprovalStatus::Pending,
            method: None,
            decided_at: None,
            created_at: now,
            risks: risks.iter().map(|risk| risk.kind).collect(),
        };
        // A risk takes the decision back to the person, whatever the limit says.
        if risks.is_empty() && self.within_auto_approve_limit(&total) {
            approval.status = ApprovalStatus::Approved;
            approval.method = Some(ApprovalMethod::AutoApproveLimit);
            approval.decided_at = Some(now);
        }
        self.store.insert_approval(&approval).await?;
        Ok(Requested { approval, risks })
    }

    fn within_auto_approve_limit(&self, total: &Money) -> bool {
        self.settings.auto_approve_limit.is_some_and(|limit| {
            !limit.is_zero() && total.partial_cmp(&limit).is_some_and(|o| o.is_le())
        })
    }

    /// Records the person's answer, if the plan is still what they saw (read now, not when
    /// they were asked: it may have changed while they looked).
    pub async fn decide(
        &self,
        approval: &Approval,
        approve: bool,
        method: ApprovalMethod,
    ) -> Result<Approval, ApprovalFlowError> {
        let current = self
            .store
            .plan(&approval.owner, &approval.plan_id)
            .await?
            .ok_or(ApprovalFlowError::Stale)?;
        if PlanDigest::of(&current)? != approval.digest {
            return Err(ApprovalFlowError::Stale);
        }
        let status = if approve {
            ApprovalStatus::Approved
        } else {
            ApprovalStatus::Declined
        };
        let now = self.clock.now();
        if !self
            .store
            .decide_approval(&approval.id, status, method, now)
            .await?
        {
            return Err(ApprovalFlowError::NotPending(approval.id.clone()));
        }
        Ok(Approval {
            status,
            method: Some(method),
            decided_at: Some(now),
            ..approval.clone()
        })
    }

    /// The latest approval of the plan, if any.
    pub async fn latest(
        &self,
        owner: &OwnerId,
        plan: &TravelPlan,
    ) -> Result<Option<Approval>, ApprovalFlowError> {
        Ok(self.store.latest_approval(owner, &plan.id).await?)
    }

    /// The one-time link to the approval page for this approval, minted for its audience.
    pub fn page_url(&self, approval: &ApprovalId, audience: Audience) -> String {
        format!(
            "{}/approve/{}/{}",
            self.page_base,
            approval,
            self.secrets.link_token(approval, audience)
        )
    }
}
