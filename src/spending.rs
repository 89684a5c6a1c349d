//! Applying the person's spending policy and risk rules to a plan, with what they have already
//! committed and what they usually do.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use crate::domain::money::Money;
use crate::domain::order::{OrderStatus, OrderTotals};
use crate::domain::plan::TravelPlan;
use crate::domain::policy::{Committed, PolicyRefusal, SpendingPolicy};
use crate::domain::risk::{History, RiskFlag, RiskRules};
use crate::ports::{Clock, Store, StoreError};

/// How far back the person's history counts for the risk rules.
const HISTORY: i64 = 365;

#[derive(Debug, thiserror::Error)]
pub enum GuardError {
    #[error(transparent)]
    Refused(#[from] Box<PolicyRefusal>),
    #[error(transparent)]
    Plan(#[from] crate::domain::plan::PlanError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Checks plans against the policy and the risk rules on confirmation and again on execution.
#[derive(Clone)]
pub struct SpendingGuard {
    policy: Arc<SpendingPolicy>,
    risk: Arc<RiskRules>,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
}

impl SpendingGuard {
    pub fn new(
        policy: SpendingPolicy,
        risk: RiskRules,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            policy: Arc::new(policy),
            risk: Arc::new(risk),
            store,
            clock,
        }
    }

    /// The policy check and the risks together, reading the person's orders once: what
    /// confirming and executing a plan both need.
    pub async fn review(&self, plan: &TravelPlan) -> Result<Vec<RiskFlag>, GuardError> {
        let orders = self.history(plan).await?;
        self.refuse_against_policy(plan, &orders).await?;
        self.risks_given(plan, &orders).await
    }

    /// The risks paying for the plan now would carry (the page shows them again).
    pub async fn risks(&self, plan: &TravelPlan) -> Result<Vec<RiskFlag>, GuardError> {
        let orders = self.history(plan).await?;
        self.risks_given(plan, &orders).await
    }

    /// The person's orders as far back as any rule looks, and none when no rule looks back
    /// (the read grows with the person's orders).
    async fn history(&self, plan: &TravelPlan) -> Result<Vec<OrderTotals>, GuardError> {
        let Some(back) = self
            .policy
            .looks_back()
            .max(self.risk.looks_back(Duration::days(HISTORY)))
        else {
            return Ok(Vec::new());
        };
        let since = self.clock.now() - back;
        Ok(self.store.order_totals_since(&plan.owner, since).await?)
    }

    /// Refuses a plan the policy does not allow; the refusal is written to the audit log.
    async fn refuse_against_policy(
        &self,
        plan: &TravelPlan,
        orders: &[OrderTotals],
    ) -> Result<(), GuardError> {
        if self.policy.is_empty() {
            return Ok(());
        }
        let now = self.clock.now();
        let committed = Committed {
            last_day: committed_since(plan, orders, now - Duration::days(1)),
            last_30_days: committed_since(plan, orders, now - Duration::days(30)),
        };
        if let Err(refusal) = self.policy.check(plan, &committed) {
            self.store
                .record_audit(
                    &plan.owner,
                    "policy.refused",
                    plan.id.as_str(),
                    &refusal.to_string(),
                )
                .await?;
            return Err(refusal.into());
        }
        Ok(())
    }

    async fn risks_given(
        &self,
        plan: &TravelPlan,
        orders: &[OrderTotals],
    ) -> Result<Vec<RiskFlag>, GuardError> {
        let total = plan.total()?;
        let window_start = self.clock.now() - self.risk.velocity_window;
        let paid: Vec<&OrderTotals> = orders
            .iter()
            .filter(|order| !order.captured.is_zero())
            .collect();
        let in_currency = || paid.iter().filter(|o| o.currency == plan.currency);
        let history = History {
            recent_orders: u32::try_from(
                orders
                    .iter()
                    .filter(|order| order.created_at >= window_start)
                    .count(),
            )
            .unwrap_or(u32::MAX),
            paid_orders: in_currency().count(),
            largest_paid: in_currency()
                .map(|order| order.captured)
                .max_by(|a, b| a.amount().cmp(&b.amount())),
            // Earlier plans are only opened when the answer can change the outcome.
            method_used_before: !self.risk.new_method_matters(&total)
                || self.method_paid_before(plan, &paid).await?,
        };
        Ok(self.risk.assess(&total, &history))
    }

    async fn method_paid_before(
        &self,
        plan: &TravelPlan,
        paid: &[&OrderTotals],
    ) -> Result<bool, GuardError> {
        for order in paid {
            if let Some(earlier) = self.store.plan(&plan.owner, &order.plan_id).await?
                && earlier.payment_method == plan.payment_method
            {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

/// Money the person has committed since `since` in the plan's currency: what is held on orders
/// still under way, and what was charged and not refunded on the others.
fn committed_since(plan: &TravelPlan, orders: &[OrderTotals], since: DateTime<Utc>) -> Money {
    let mut committed = Money::zero(plan.currency);
    for order in orders
        .iter()
        .filter(|order| order.created_at >= since && order.currency == plan.currency)
    {
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
    committed
}
