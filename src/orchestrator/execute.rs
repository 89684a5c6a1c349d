//! Starting an execution: check the approval, re-quote, create the order once, then drive it.

use crate::domain::approval::{Approval, ApprovalError, PlanDigest};
use crate::domain::ids::{OrderId, OwnerId, PlanId};
use crate::domain::money::Money;
use crate::domain::offer::Offer;
use crate::domain::order::{Order, OrderEvent, OrderItem, OrderStatus, PaymentPart, SPLIT_PAYMENT};
use crate::domain::plan::TravelPlan;
use crate::domain::risk::RiskFlag;
use crate::domain::split;
use crate::payment_router::{PaymentRoute, RouteChoice};
use crate::ports::store::{Created, OrderFilter};
use crate::saved_methods::own_method;

use super::{ExecutionError, Orchestrator};
use crate::leases::{OnLoss, PATIENCE};

impl Orchestrator {
    /// Executes the plan under its approval. One approval gives one order: calling again (even
    /// at the same time) waits for and returns that order, and after 3-D Secure continues it.
    pub async fn execute(
        &self,
        owner: &OwnerId,
        plan_id: &PlanId,
    ) -> Result<Order, ExecutionError> {
        let plan = self
            .store
            .plan(owner, plan_id)
            .await?
            .ok_or_else(|| ExecutionError::PlanNotFound(plan_id.clone()))?;
        let approval = self
            .store
            .latest_approval(owner, plan_id)
            .await?
            .ok_or(ApprovalError::Missing)?;
        if let Some(order) = self.order_for(owner, &approval).await? {
            return self.drive_exclusive(order, &plan, PATIENCE).await;
        }
        let admission = format!("admit:{}", owner.as_str());
        let order = self
            .admissions
            .run(
                owner,
                self.leases.hold(
                    &admission,
                    PATIENCE,
                    OnLoss::Stop,
                    self.admit(&plan, &approval),
                ),
            )
            .await?;
        self.drive_exclusive(order, &plan, PATIENCE).await
    }

    /// Checks the approval, the policy and the risks, re-quotes, and creates the order. Runs one
    /// at a time per person, so each check counts every order admitted before it.
    async fn admit(&self, plan: &TravelPlan, approval: &Approval) -> Result<Order, ExecutionError> {
        if let Some(order) = self.order_for(&plan.owner, approval).await? {
            return Ok(order);
        }
        let now = self.clock.now();
        approval.check_covers(&PlanDigest::of(plan)?, &plan.total()?, now)?;
        // Checked again: the limits may have changed, or other orders filled them, since confirmation.
        let flags = self.guard.review(plan).await?;
        self.check_risks(plan, approval, &flags).await?;
        let route = self.payment_route(plan);
        if !route.is_payable() {
            return Err(ExecutionError::NoPaymentRoute(route.why_none()));
        }
        let quotes = self.requote(plan).await?;
        let mut order = new_order(plan, approval, &quotes, &route, &self.return_url, now)?;
        self.attach_customers(&mut order.payment_parts, &plan.owner)
            .await?;
        let created = OrderEvent {
            at: now,
            status: order.status,
            message: format!(
                "Order created for plan {} ({}), approved by {} for up to {}",
                plan.id,
                plan.title,
                approval
                    .method
                    .map_or("the person", |method| method.as_str()),
                approval.amount_cap
            ),
        };
        // Held from before it exists, so no other instance's recovery takes the new order
        // between its creation and this call driving it (the drive claims it again, as holder).
        self.leases
            .claim_now(&format!("order:{}", order.id))
            .await?;
        Ok(match self.store.create_order(&order, &created).await? {
            Created::New(order) | Created::Existing(order) => order,
        })
    }

    /// Gives each part of a split paid with a saved method the customer it belongs to, and
    /// refuses a part paid with someone else's (planning refused it already; this holds the
    /// line for a method saved after the plan was made).
    async fn attach_customers(
        &self,
        parts: &mut [PaymentPart],
        owner: &OwnerId,
    ) -> Result<(), ExecutionError> {
        for part in parts {
            let saved =
                own_method(self.store.as_ref(), &self.providers, owner, &part.method).await?;
            part.customer = saved.and_then(|saved| saved.customer);
        }
        Ok(())
    }

    /// A risk the person did not see when they approved sends the plan back to them.
    async fn check_risks(
        &self,
        plan: &TravelPlan,
        approval: &Approval,
        flags: &[RiskFlag],
    ) -> Result<(), ExecutionError> {
        let unseen = approval.unacknowledged(flags);
        if unseen.is_empty() {
            return Ok(());
        }
        let reasons = unseen
            .iter()
            .map(|flag| flag.reason.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        self.store
            .record_audit(
                &plan.owner,
                "risk.fresh_approval_required",
                plan.id.as_str(),
                &reasons,
            )
            .await?;
        Err(ExecutionError::FreshApprovalNeeded { reasons })
    }

    async fn order_for(
        &self,
        owner: &OwnerId,
        approval: &Approval,
    ) -> Result<Option<Order>, ExecutionError> {
        let filter = OrderFilter {
            plan: Some(approval.plan_id.clone()),
            limit: 50,
            ..Default::default()
        };
        Ok(self
            .store
            .list_orders(owner, &filter)
            .await?
            .into_iter()
            .find(|order| order.approval_id == approval.id))
    }
}

fn new_order(
    plan: &TravelPlan,
    approval: &Approval,
    quotes: &[Offer],
    route: &PaymentRoute,
    return_url: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Order, ExecutionError> {
    let choice = route
        .choices
        .first()
        .ok_or_else(|| ExecutionError::NoPaymentRoute(route.why_none()))?;
    let items: Vec<OrderItem> = plan
        .items
        .iter()
        .zip(quotes)
        .map(|(item, quote)| {
            // Never more than approved: a lower quote is passed on, a higher one stopped earlier.
            let price = quote
                .price
                .min(&item.offer.price)
                .unwrap_or(item.offer.price);
            OrderItem::pending(item, price, quote.cancellation.clone())
        })
        .collect();
    let total = Money::sum(plan.currency, items.iter().map(|item| &item.price))?;
    let payment_parts = split_parts(route, choice, total)?;
    Ok(Order {
        id: OrderId::generate(),
        owner: plan.owner.clone(),
        plan_id: plan.id.clone(),
        approval_id: approval.id.clone(),
        status: OrderStatus::Draft,
        currency: plan.currency,
        authorized: total,
        captured: Money::zero(plan.currency),
        refunded: Money::zero(plan.currency),
        goodwill_refunded: Money::zero(plan.currency),
        goodwill_pending: None,
        payment_via: if payment_parts.is_empty() {
            choice.provider.clone()
        } else {
            SPLIT_PAYMENT.to_string()
        },
        payment_return_url: Some(return_url.to_string()),
        payment_due_by: None,
        payment_method: Some(choice.method.clone()),
        payment_failed_over: Vec::new(),
        payment_parts,
        payment: None,
        items,
        failure: None,
        created_at: now,
        updated_at: now,
    })
}

/// The parts of a split payment of `total`: the plan's parts in order, then the route's choice
/// for what they leave. A re-quote lower than approved takes its saving off the last parts
/// first; a part left with nothing is dropped. Empty when the plan is not split.
fn split_parts(
    route: &PaymentRoute,
    choice: &RouteChoice,
    total: Money,
) -> Result<Vec<PaymentPart>, ExecutionError> {
    if route.split.is_empty() {
        return Ok(Vec::new());
    }
    let asked: Vec<Money> = route.split.iter().map(|part| part.amount).collect();
    let shares = split::fill_forward(total, &asked)?;
    let rest = total.saturating_sub(&Money::sum(total.currency(), &shares)?)?;
    let parts = route
        .split
        .iter()
        .map(|part| (part.provider.clone(), part.method.clone()))
        .chain([(choice.provider.clone(), choice.method.clone())])
        .zip(shares.into_iter().chain([rest]))
        .filter(|(_, amount)| !amount.is_zero())
        .map(|((provider, method), amount)| PaymentPart {
            provider,
            method,
            amount,
            customer: None,
        })
        .collect();
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::PaymentMethodToken;
    use crate::payment_router::SplitChoice;

    fn eur(amount: &str) -> Money {
        Money::parse(amount, "EUR").unwrap()
    }

    fn route(parts: &[(&str, &str)]) -> (PaymentRoute, RouteChoice) {
        let split = parts
            .iter()
            .map(|(provider, amount)| SplitChoice {
                provider: provider.to_string(),
                method: PaymentMethodToken::parse("pm_card_visa").unwrap(),
                method_shown: "card".into(),
                amount: eur(amount),
                reasons: Vec::new(),
            })
            .collect();
        let choice = RouteChoice {
            provider: "sandbox_payments".into(),
            method: PaymentMethodToken::parse("pm_sandbox_visa").unwrap(),
            method_shown: "sandbox card".into(),
            reasons: Vec::new(),
        };
        let route = PaymentRoute {
            choices: vec![choice.clone()],
            split,
            ..PaymentRoute::default()
        };
        (route, choice)
    }

    fn amounts(parts: &[PaymentPart]) -> Vec<(&str, Money)> {
        parts
            .iter()
            .map(|part| (part.provider.as_str(), part.amount))
            .collect()
    }

    #[test]
    fn the_plan_s_own_method_pays_what_the_parts_leave() {
        let (route, choice) = route(&[("stripe", "200.00")]);
        let parts = split_parts(&route, &choice, eur("500.00")).unwrap();
        assert_eq!(
            amounts(&parts),
            [
                ("stripe", eur("200.00")),
                ("sandbox_payments", eur("300.00"))
            ]
        );
    }

    #[test]
    fn a_lower_requote_comes_off_the_last_parts_first_and_drops_an_empty_one() {
        let (route, choice) = route(&[("stripe", "200.00"), ("paypal", "100.00")]);
        let lower = split_parts(&route, &choice, eur("250.00")).unwrap();
        assert_eq!(
            amounts(&lower),
            [("stripe", eur("200.00")), ("paypal", eur("50.00"))],
            "the rest had nothing left to pay and is dropped"
        );
    }

    #[test]
    fn a_plan_paid_with_one_method_has_no_parts() {
        let (mut route, choice) = route(&[]);
        route.split.clear();
        assert!(
            split_parts(&route, &choice, eur("80.00"))
                .unwrap()
                .is_empty()
        );
    }
}
