//! Asking a person to approve paying for a plan, and recording their answer.
//!
//! Only two things can approve: the person's answer to the approval prompt (MCP elicitation, which
//! the client shows to the person, not to the model), or an auto-approve limit the person set in
//! the configuration. No tool argument approves.

use std::sync::Arc;

use chrono::Duration;

use crate::domain::approval::{Approval, ApprovalMethod, ApprovalStatus, PlanDigest};
use crate::domain::ids::{ApprovalId, OwnerId};
use crate::domain::money::Money;
use crate::domain::personal;
use crate::domain::plan::{PlanError, TravelPlan, Traveller};
use crate::ports::{Clock, Store, StoreError};
use crate::spending::{GuardError, SpendingGuard};

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
    #[error(transparent)]
    Policy(#[from] GuardError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Clone)]
pub struct Approvals {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    settings: ApprovalSettings,
    guard: SpendingGuard,
}

impl Approvals {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        settings: ApprovalSettings,
        guard: SpendingGuard,
    ) -> Self {
        Self {
            store,
            clock,
            settings,
            guard,
        }
    }

    /// Opens an approval for the plan as it is now, or returns the live one for this exact version.
    pub async fn request(&self, plan: &TravelPlan) -> Result<Approval, ApprovalFlowError> {
        let now = self.clock.now();
        plan.validate(now.date_naive())?;
        // A plan the policy refuses is never put in front of the person.
        self.guard.check(plan).await?;
        let digest = PlanDigest::of(plan)?;
        let total = plan.total()?;
        if let Some(latest) = self.store.latest_approval(&plan.owner, &plan.id).await?
            && latest.digest == digest
            && latest.status != ApprovalStatus::Declined
            && now < latest.expires_at
        {
            return Ok(latest);
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
        };
        if self.within_auto_approve_limit(&total) {
            approval.status = ApprovalStatus::Approved;
            approval.method = Some(ApprovalMethod::AutoApproveLimit);
            approval.decided_at = Some(now);
        }
        self.store.insert_approval(&approval).await?;
        Ok(approval)
    }

    fn within_auto_approve_limit(&self, total: &Money) -> bool {
        self.settings.auto_approve_limit.is_some_and(|limit| {
            !limit.is_zero() && total.partial_cmp(&limit).is_some_and(|o| o.is_le())
        })
    }

    /// Records the person's answer to the approval prompt, if the plan is still what they saw.
    pub async fn decide(
        &self,
        plan: &TravelPlan,
        approval: &Approval,
        approve: bool,
    ) -> Result<Approval, ApprovalFlowError> {
        if PlanDigest::of(plan)? != approval.digest {
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
            .decide_approval(&approval.id, status, ApprovalMethod::Elicitation, now)
            .await?
        {
            return Err(ApprovalFlowError::NotPending(approval.id.clone()));
        }
        Ok(Approval {
            status,
            method: Some(ApprovalMethod::Elicitation),
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
}

/// What the person is asked: every item with its price and terms, the total and the card.
pub fn approval_prompt(plan: &TravelPlan, approval: &Approval) -> String {
    let mut lines = vec![
        format!("Approve paying for \"{}\"?", plan.title),
        String::new(),
    ];
    for item in &plan.items {
        lines.push(format!(
            "• {} — {} ({})",
            item.offer.title,
            item.offer.price,
            item.offer.cancellation.describe()
        ));
    }
    let travellers: Vec<String> = plan.travellers.iter().map(traveller_line).collect();
    lines.push(String::new());
    lines.push(format!("Travellers: {}", travellers.join(", ")));
    lines.push(format!("Total: {}", approval.amount_cap));
    lines.push(format!("Payment method: {}", plan.payment_method.as_str()));
    lines.push(format!(
        "This approval is for exactly this plan (version {}) and expires at {} UTC.",
        approval.digest.short(),
        approval.expires_at.format("%Y-%m-%d %H:%M")
    ));
    lines.join("\n")
}

/// "Ada Lovelace (passport •••••5678, born 1990-••-••)": the name in full, details masked.
fn traveller_line(traveller: &Traveller) -> String {
    let details: Vec<String> = [
        traveller
            .passport_number
            .as_deref()
            .map(|number| format!("passport {}", personal::mask_passport(number))),
        traveller
            .date_of_birth
            .map(|born| format!("born {}", personal::mask_date_of_birth(born))),
        traveller
            .phone
            .as_deref()
            .map(|phone| format!("phone {}", personal::mask_phone(phone))),
        traveller
            .email
            .as_deref()
            .map(|email| format!("e-mail {}", personal::mask_email(email))),
    ]
    .into_iter()
    .flatten()
    .collect();
    let name = format!("{} {}", traveller.given_name, traveller.family_name);
    if details.is_empty() {
        name
    } else {
        format!("{name} ({})", details.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fixtures::paris_plan;

    #[test]
    fn a_traveller_is_named_in_full_with_details_masked() {
        let mut plan = paris_plan();
        let mut second = plan.travellers[0].clone();
        plan.travellers[0].passport_number = Some("X12345678".into());
        plan.travellers[0].date_of_birth = chrono::NaiveDate::from_ymd_opt(1990, 5, 17);
        plan.travellers[0].phone = Some("+33 6 12 34 56 78".into());
        plan.travellers[0].email = Some("ada@example.com".into());
        second.given_name = "Charles".into();
        second.family_name = "Babbage".into();
        plan.travellers.push(second);
        assert_eq!(
            traveller_line(&plan.travellers[0]),
            "Ada Lovelace (passport •••••5678, born 1990-••-••, phone +33 ••••••78, e-mail a•••@example.com)"
        );
        assert_eq!(traveller_line(&plan.travellers[1]), "Charles Babbage");
    }
}
