//! Applying the person's spending policy to a plan, with what they have already committed.

use std::sync::Arc;

use chrono::Duration;

use crate::domain::money::Money;
use crate::domain::order::OrderStatus;
use crate::domain::plan::TravelPlan;
use crate::domain::policy::{Committed, PolicyRefusal, SpendingPolicy};
use crate::ports::{Clock, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum GuardError {
    #[error(transparent)]
    Refused(#[from] Box<PolicyRefusal>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Checks plans against the policy on confirmation and again on execution.
#[derive(Clone)]
pub struct SpendingGuard {
    policy: Arc<SpendingPolicy>,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
}

impl SpendingGuard {
    pub fn new(policy: SpendingPolicy, store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self {
            policy: Arc::new(policy),
            store,
            clock,
        }
    }

    pub async fn check(&self, plan: &TravelPlan) -> Result<(), GuardError> {
        if self.policy.is_empty() {
            return Ok(());
        }
        let now = self.clock.now();
        let committed = Committed {
            last_day: self.committed_since(plan, now - Duration::days(1)).await?,
            last_30_days: self.committed_since(plan, now - Duration::days(30)).await?,
        };
        Ok(self.policy.check(plan, &committed)?)
    }

    /// Money the person has committed since `since` in the plan's currency: what is held on
    /// orders still under way, and what was charged and not refunded on the others.
    async fn committed_since(
        &self,
        plan: &TravelPlan,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Money, GuardError> {
        let mut committed = Money::zero(plan.currency);
        for order in self.store.orders_since(&plan.owner, since).await? {
            if order.currency != plan.currency {
                continue;
            }
            let amount = match order.status {
                OrderStatus::Draft
                | OrderStatus::PaymentPending
                | OrderStatus::PaymentActionRequired
                | OrderStatus::PaymentProcessing => order.authorized,
                OrderStatus::Failed => Money::zero(order.currency),
                OrderStatus::Confirmed
                | OrderStatus::PartiallyConfirmed
                | OrderStatus::RefundRequested
                | OrderStatus::Cancelled
                | OrderStatus::Refunded => order
                    .captured
                    .saturating_sub(&order.refunded)
                    .unwrap_or(order.captured),
            };
            committed = committed.checked_add(&amount).unwrap_or(committed);
        }
        Ok(committed)
    }
}
