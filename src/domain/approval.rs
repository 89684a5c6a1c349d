//! Approvals: a person's yes to paying for one exact version of a plan.
//!
//! An approval is bound to the plan's digest (items, prices, currency, total, travellers, payment
//! method), to an amount cap and to an expiry. Any edit changes the digest and so voids it: the
//! person approved what they saw, nothing else.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::ids::{ApprovalId, ItemId, OfferId, OwnerId, PlanId};
use super::money::{Currency, Money};
use super::offer::CancellationPolicy;
use super::plan::{PaymentPreference, PlanError, Priority, SplitPart, TravelPlan, Traveller};
use super::risk::{RiskFlag, RiskKind};

/// The SHA-256 of a plan's canonical form, in hex.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub struct PlanDigest(pub String);

/// What the digest covers, in a fixed field order.
#[derive(Serialize)]
struct CanonicalPlan<'a> {
    plan: &'a PlanId,
    currency: Currency,
    total: Money,
    payment_method: &'a str,
    /// Left out when empty, so plans without one keep the digest they always had.
    #[serde(skip_serializing_if = "PaymentPreference::is_empty")]
    payment_preference: &'a PaymentPreference,
    /// Left out when empty, like the preference: the split is part of what the person approves.
    #[serde(skip_serializing_if = "<[SplitPart]>::is_empty")]
    payment_split: &'a [SplitPart],
    travellers: &'a [Traveller],
    items: Vec<CanonicalItem<'a>>,
}

#[derive(Serialize)]
struct CanonicalItem<'a> {
    id: &'a ItemId,
    provider: &'a str,
    offer: &'a OfferId,
    price: Money,
    /// What the person saw of the terms: the dates and what cancelling gives back.
    starts_on: chrono::NaiveDate,
    ends_on: chrono::NaiveDate,
    cancellation: &'a CancellationPolicy,
    priority: Priority,
    depends_on: &'a [ItemId],
}

impl PlanDigest {
    pub fn of(plan: &TravelPlan) -> Result<PlanDigest, PlanError> {
        let canonical = CanonicalPlan {
            plan: &plan.id,
            currency: plan.currency,
            total: plan.total()?,
            payment_method: plan.payment_method.as_str(),
            payment_preference: &plan.payment_preference,
            payment_split: &plan.payment_split,
            travellers: &plan.travellers,
            items: plan
                .items
                .iter()
                .map(|item| CanonicalItem {
                    id: &item.id,
                    provider: &item.offer.provider,
                    offer: &item.offer.id,
                    price: item.offer.price,
                    starts_on: item.offer.starts_on,
                    ends_on: item.offer.ends_on,
                    cancellation: &item.offer.cancellation,
                    priority: item.priority,
                    depends_on: &item.depends_on,
                })
                .collect(),
        };
        let bytes = serde_json::to_vec(&canonical).map_err(|e| PlanError::Digest(e.to_string()))?;
        Ok(PlanDigest(hex::encode(Sha256::digest(bytes))))
    }

    /// The first characters, enough for a person to compare two digests.
    pub fn short(&self) -> &str {
        &self.0[..self.0.len().min(12)]
    }
}

/// Where an approval stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalStatus {
    /// Waiting for the person.
    Pending,
    Approved,
    Declined,
}

impl ApprovalStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalStatus::Pending => "pending",
            ApprovalStatus::Approved => "approved",
            ApprovalStatus::Declined => "declined",
        }
    }

    pub fn parse(value: &str) -> Option<ApprovalStatus> {
        [
            ApprovalStatus::Pending,
            ApprovalStatus::Approved,
            ApprovalStatus::Declined,
        ]
        .into_iter()
        .find(|status| status.as_str() == value)
    }
}

/// Who or what said yes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalMethod {
    /// The person answered the MCP client's approval prompt.
    Elicitation,
    /// The total was within the auto-approve limit the person configured.
    AutoApproveLimit,
    /// The person pressed Approve or Decline on Itinera's approval page.
    ApprovalPage,
    /// The person passed on the one-time code Itinera gave them out of band.
    OutOfBandCode,
}

impl ApprovalMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalMethod::Elicitation => "elicitation",
            ApprovalMethod::AutoApproveLimit => "auto_approve_limit",
            ApprovalMethod::ApprovalPage => "approval_page",
            ApprovalMethod::OutOfBandCode => "out_of_band_code",
        }
    }

    pub fn parse(value: &str) -> Option<ApprovalMethod> {
        [
            ApprovalMethod::Elicitation,
            ApprovalMethod::AutoApproveLimit,
            ApprovalMethod::ApprovalPage,
            ApprovalMethod::OutOfBandCode,
        ]
        .into_iter()
        .find(|method| method.as_str() == value)
    }
}

/// A request for, or the record of, a person's approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    pub id: ApprovalId,
    pub plan_id: PlanId,
    pub owner: OwnerId,
    pub digest: PlanDigest,
    /// The most that may be charged under this approval.
    pub amount_cap: Money,
    pub expires_at: DateTime<Utc>,
    pub status: ApprovalStatus,
    pub method: Option<ApprovalMethod>,
    pub decided_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// The risks the person was shown when asked; approving acknowledges them.
    pub risks: Vec<RiskKind>,
}

/// Why an approval does not allow paying for the plan as it stands now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApprovalError {
    #[error(
        "the plan has not been approved yet: call confirm_travel_plan and let the person approve it"
    )]
    Missing,
    #[error(
        "the person has not answered the approval request yet: ask them to approve it, then call execute_travel_plan again"
    )]
    Pending,
    #[error(
        "the person declined this plan: change it as they ask, then call confirm_travel_plan again"
    )]
    Declined,
    #[error(
        "the approval expired at {expires_at}: call confirm_travel_plan to ask the person again"
    )]
    Expired { expires_at: DateTime<Utc> },
    #[error(
        "the plan changed after it was approved (approved version {approved}, current {current}): call confirm_travel_plan so the person approves the plan as it is now"
    )]
    PlanChanged { approved: String, current: String },
    #[error(
        "the plan total {total} is above the approved amount {cap}: call confirm_travel_plan to ask the person again"
    )]
    OverCap { total: Money, cap: Money },
}

impl Approval {
    /// The risks seen now that the person did not see when they approved.
    pub fn unacknowledged<'a>(&self, flags: &'a [RiskFlag]) -> Vec<&'a RiskFlag> {
        flags
            .iter()
            .filter(|flag| !self.risks.contains(&flag.kind))
            .collect()
    }

    /// Checks the approval still covers the plan with this digest and total, at `now`.
    pub fn check_covers(
        &self,
        digest: &PlanDigest,
        total: &Money,
        now: DateTime<Utc>,
    ) -> Result<(), ApprovalError> {
        match self.status {
            ApprovalStatus::Pending => return Err(ApprovalError::Pending),
            ApprovalStatus::Declined => return Err(ApprovalError::Declined),
            ApprovalStatus::Approved => {}
        }
        if &self.digest != digest {
            return Err(ApprovalError::PlanChanged {
                approved: self.digest.short().to_string(),
                current: digest.short().to_string(),
            });
        }
        if now >= self.expires_at {
            return Err(ApprovalError::Expired {
                expires_at: self.expires_at,
            });
        }
        if total > &self.amount_cap || total.currency() != self.amount_cap.currency() {
            return Err(ApprovalError::OverCap {
                total: *total,
                cap: self.amount_cap,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fixtures::paris_plan as plan;
    use crate::domain::ids::PaymentMethodToken;
    use chrono::Duration;

    fn approved(plan: &TravelPlan, now: DateTime<Utc>) -> Approval {
        Approval {
            id: ApprovalId::generate(),
            plan_id: plan.id.clone(),
            owner: plan.owner.clone(),
            digest: PlanDigest::of(plan).unwrap(),
            amount_cap: plan.total().unwrap(),
            expires_at: now + Duration::minutes(30),
            status: ApprovalStatus::Approved,
            method: Some(ApprovalMethod::Elicitation),
            decided_at: Some(now),
            created_at: now,
            risks: Vec::new(),
        }
    }

    #[test]
    fn the_digest_changes_with_any_paid_for_detail() {
        let base = plan();
        let digest = PlanDigest::of(&base).unwrap();
        assert_eq!(digest, PlanDigest::of(&base.clone()).unwrap());

        let mut other_card = base.clone();
        other_card.payment_method = PaymentMethodToken::parse("pm_sandbox_3ds").unwrap();
        let mut fewer_items = base.clone();
        fewer_items.items.pop();
        let mut renamed = base.clone();
        renamed.travellers[0].family_name = "Byron".into();
        let mut lower_priority = base.clone();
        lower_priority.items[1].priority = Priority::Optional;
        let mut harsher_terms = base.clone();
        harsher_terms.items[0].offer.cancellation = CancellationPolicy::NonRefundable;
        let mut other_dates = base.clone();
        other_dates.items[0].offer.ends_on += chrono::Duration::days(1);
        let mut split = base.clone();
        split.payment_split = vec![SplitPart {
            method: PaymentMethodToken::parse("pm_sandbox_3ds").unwrap(),
            amount: Money::parse("10.00", base.currency.code()).unwrap(),
        }];
        for changed in [
            split,
            other_card,
            fewer_items,
            renamed,
            lower_priority,
            harsher_terms,
            other_dates,
        ] {
            assert_ne!(PlanDigest::of(&changed).unwrap(), digest);
        }
    }

    #[test]
    fn an_approval_covers_only_the_plan_it_was_given_for() {
        let now = Utc::now();
        let base = plan();
        let approval = approved(&base, now);
        let total = base.total().unwrap();
        let digest = PlanDigest::of(&base).unwrap();
        assert_eq!(approval.check_covers(&digest, &total, now), Ok(()));

        let mut edited = base.clone();
        edited.items.pop();
        let edited_digest = PlanDigest::of(&edited).unwrap();
        assert!(matches!(
            approval.check_covers(&edited_digest, &edited.total().unwrap(), now),
            Err(ApprovalError::PlanChanged { .. })
        ));
        assert!(matches!(
            approval.check_covers(&digest, &total, now + Duration::hours(1)),
            Err(ApprovalError::Expired { .. })
        ));
        let more = total
            .checked_add(&Money::parse("1", "EUR").unwrap())
            .unwrap();
        assert!(matches!(
            approval.check_covers(&digest, &more, now),
            Err(ApprovalError::OverCap { .. })
        ));
    }
}
