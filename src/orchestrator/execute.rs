//! Executing an approved plan: hold, book by phase, capture — or roll back.

use std::collections::{BTreeMap, BTreeSet};

use futures::future::join_all;

use crate::domain::approval::{Approval, ApprovalError, PlanDigest};
use crate::domain::dag;
use crate::domain::idempotency::{IdempotencyKey, Operation};
use crate::domain::ids::{ItemId, OrderId, OwnerId, PlanId};
use crate::domain::money::Money;
use crate::domain::offer::Offer;
use crate::domain::order::{ItemStatus, Order, OrderEvent, OrderItem, OrderStatus, PaymentRecord};
use crate::domain::plan::{Priority, TravelPlan};
use crate::ports::ProviderError;
use crate::ports::StoreError;
use crate::ports::booking::{BookingConfirmation, BookingError, BookingRequest};
use crate::ports::payment::{AuthorizeRequest, PaymentState};
use crate::ports::store::{Created, OrderFilter};

use super::{ExecutionError, Orchestrator};

impl Orchestrator {
    /// Executes the plan under its approval. Calling it again returns the same order and books
    /// nothing again; after 3-D Secure it continues the waiting order.
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
            return match order.status {
                OrderStatus::PaymentActionRequired => {
                    self.continue_after_action(order, &plan).await
                }
                _ => Ok(order),
            };
        }
        let now = self.clock.now();
        approval.check_covers(&PlanDigest::of(&plan)?, &plan.total()?, now)?;
        let quotes = self.requote(&plan).await?;
        let order = new_order(&plan, &approval, &quotes, now)?;
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
        match self.store.create_order(&order, &created).await? {
            Created::New(order) => self.pay_and_book(order, &plan).await,
            Created::Existing(order) => Ok(order),
        }
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

    async fn pay_and_book(&self, order: Order, plan: &TravelPlan) -> Result<Order, ExecutionError> {
        let payments = self.providers.payment();
        let message = format!(
            "Placing a hold of {} on {}",
            order.authorized,
            plan.payment_method.as_str()
        );
        let mut order = self
            .transition(order, OrderStatus::PaymentPending, message)
            .await?;
        let key = IdempotencyKey::derive(&order.id, None, Operation::Authorize, "1");
        let request = AuthorizeRequest {
            order_id: &order.id,
            amount: order.authorized,
            payment_method: &plan.payment_method,
            description: &plan.title,
            idempotency_key: &key,
        };
        let handle = match payments.authorize(request).await {
            Ok(handle) => handle,
            Err(error) => {
                order.failure = Some(error.to_string());
                return self
                    .transition(
                        order,
                        OrderStatus::Failed,
                        format!("Payment refused: {error}"),
                    )
                    .await;
            }
        };
        order.payment = Some(PaymentRecord {
            provider: payments.name().to_string(),
            reference: handle.payment_id,
            action_url: None,
        });
        match handle.state {
            PaymentState::Authorized { amount } => {
                let message = format!("Hold of {amount} placed");
                let order = self
                    .transition(order, OrderStatus::PaymentProcessing, message)
                    .await?;
                self.book_all(order, plan).await
            }
            PaymentState::ActionRequired { url } => {
                if let Some(payment) = &mut order.payment {
                    payment.action_url = Some(url.clone());
                }
                let message = format!(
                    "The bank asks the customer to authenticate the payment (3-D Secure) at {url}"
                );
                self.transition(order, OrderStatus::PaymentActionRequired, message)
                    .await
            }
            other => {
                order.failure = Some(format!(
                    "the payment provider answered {other:?} to the hold"
                ));
                self.transition(order, OrderStatus::Failed, "Payment not placed".into())
                    .await
            }
        }
    }

    async fn continue_after_action(
        &self,
        mut order: Order,
        plan: &TravelPlan,
    ) -> Result<Order, ExecutionError> {
        let Some(payment) = order.payment.clone() else {
            return Ok(order);
        };
        let state = self
            .providers
            .payment()
            .status(&payment.reference)
            .await
            .map_err(ExecutionError::PaymentLookup)?;
        match state {
            PaymentState::Authorized { amount } => {
                if let Some(payment) = &mut order.payment {
                    payment.action_url = None;
                }
                let message = format!("The customer completed 3-D Secure; hold of {amount} placed");
                let order_id = order.id.clone();
                match self
                    .transition(order, OrderStatus::PaymentProcessing, message)
                    .await
                {
                    Ok(order) => self.book_all(order, plan).await,
                    // Another call moved the order first and is booking it: report where it stands.
                    Err(ExecutionError::Store(StoreError::Conflict)) => {
                        self.order(&plan.owner, &order_id).await
                    }
                    Err(error) => Err(error),
                }
            }
            PaymentState::ActionRequired { .. } => Ok(order),
            PaymentState::Failed { reason } => {
                order.failure = Some(reason.clone());
                self.transition(
                    order,
                    OrderStatus::Failed,
                    format!("Payment authentication failed: {reason}"),
                )
                .await
            }
            PaymentState::Voided | PaymentState::Captured { .. } => {
                order.failure = Some("the payment is no longer open at the provider".into());
                self.transition(order, OrderStatus::Failed, "Payment no longer open".into())
                    .await
            }
        }
    }

    /// Books phase by phase; items whose prerequisites were not booked are skipped.
    async fn book_all(&self, mut order: Order, plan: &TravelPlan) -> Result<Order, ExecutionError> {
        let dependencies = dag::effective_dependencies(&plan.items);
        let mut booked: Vec<ItemId> = Vec::new();
        for phase in plan.phases()? {
            let runnable = self
                .skip_blocked(&mut order, plan, &phase, &dependencies)
                .await?;
            let results =
                join_all(runnable.iter().map(|id| self.book_item(&order, plan, id))).await;
            for (id, result) in runnable.iter().zip(results) {
                let Some(item) = order.item_mut(id) else {
                    continue;
                };
                let message = match result {
                    Ok(confirmation) => {
                        item.status = ItemStatus::Booked;
                        item.reference = Some(confirmation.reference);
                        item.confirmation = Some(confirmation.confirmation.clone());
                        booked.push(id.clone());
                        format!(
                            "Booked {}: confirmation {}",
                            item.title, confirmation.confirmation
                        )
                    }
                    Err(error) => {
                        item.status = ItemStatus::Failed;
                        item.failure = Some(error.to_string());
                        format!("Could not book {}: {error}", item.title)
                    }
                };
                self.record(&mut order, message).await?;
            }
            if let Some(reason) = must_have_failure(&order) {
                return self.roll_back(order, &booked, reason).await;
            }
        }
        self.capture(order, &booked).await
    }

    /// Marks items whose prerequisites were not booked as skipped; returns the rest of the phase.
    async fn skip_blocked(
        &self,
        order: &mut Order,
        plan: &TravelPlan,
        phase: &[ItemId],
        dependencies: &BTreeMap<ItemId, BTreeSet<ItemId>>,
    ) -> Result<Vec<ItemId>, ExecutionError> {
        let mut runnable = Vec::new();
        for id in phase {
            let blocker = dependencies.get(id).and_then(|deps| {
                deps.iter().find(|dep| {
                    order
                        .item(dep)
                        .is_none_or(|item| item.status != ItemStatus::Booked)
                })
            });
            match blocker {
                None => runnable.push(id.clone()),
                Some(blocker) => {
                    let blocker_title = plan
                        .item(blocker)
                        .map_or_else(|| blocker.to_string(), |i| i.offer.title.clone());
                    let Some(item) = order.item_mut(id) else {
                        continue;
                    };
                    item.status = ItemStatus::Skipped;
                    item.failure = Some(format!(
                        "not booked because '{blocker_title}' was not booked"
                    ));
                    let message =
                        format!("Skipped {}: '{blocker_title}' was not booked", item.title);
                    self.record(order, message).await?;
                }
            }
        }
        Ok(runnable)
    }

    async fn book_item(
        &self,
        order: &Order,
        plan: &TravelPlan,
        id: &ItemId,
    ) -> Result<BookingConfirmation, BookingError> {
        let (Some(plan_item), Some(order_item)) = (plan.item(id), order.item(id)) else {
            return Err(BookingError::Provider(ProviderError::Unavailable {
                provider: "itinera".into(),
                message: format!("item {id} vanished"),
            }));
        };
        let provider = self
            .providers
            .booking(&plan_item.offer.provider)
            .ok_or_else(|| {
                BookingError::Provider(ProviderError::Unavailable {
                    provider: plan_item.offer.provider.clone(),
                    message: "this provider is not configured".into(),
                })
            })?;
        let offer = Offer {
            price: order_item.price,
            ..plan_item.offer.clone()
        };
        let key = IdempotencyKey::derive(&order.id, Some(id), Operation::Book, "1");
        provider
            .book(BookingRequest {
                order_id: &order.id,
                offer: &offer,
                travellers: &plan.travellers,
                idempotency_key: &key,
            })
            .await
    }

    /// Captures what was booked and confirms the order, or rolls back if nothing was.
    async fn capture(&self, mut order: Order, booked: &[ItemId]) -> Result<Order, ExecutionError> {
        if booked.is_empty() {
            return self
                .roll_back(order, booked, "nothing could be booked".into())
                .await;
        }
        let amount = Money::sum(
            order.currency,
            order
                .items
                .iter()
                .filter(|item| booked.contains(&item.item_id))
                .map(|item| &item.price),
        )?;
        let Some(payment) = order.payment.clone() else {
            return self
                .roll_back(order, booked, "the order has no payment to capture".into())
                .await;
        };
        let key = IdempotencyKey::derive(&order.id, None, Operation::Capture, "1");
        match self
            .providers
            .payment()
            .capture(&payment.reference, amount, &key)
            .await
        {
            Ok(captured) => {
                order.captured = captured;
                let released = order.authorized.saturating_sub(&captured)?;
                let all_booked = order
                    .items
                    .iter()
                    .all(|item| item.status == ItemStatus::Booked);
                let (status, message) = if all_booked {
                    (
                        OrderStatus::Confirmed,
                        format!("Captured {captured}; every item is booked"),
                    )
                } else {
                    (
                        OrderStatus::PartiallyConfirmed,
                        format!(
                            "Captured {captured} for the booked items and released {released} of the hold"
                        ),
                    )
                };
                self.transition(order, status, message).await
            }
            Err(error) => {
                self.roll_back(
                    order,
                    booked,
                    format!("capturing the payment failed: {error}"),
                )
                .await
            }
        }
    }

    /// Cancels what was booked, newest first, releases the hold, and fails the order.
    async fn roll_back(
        &self,
        mut order: Order,
        booked: &[ItemId],
        reason: String,
    ) -> Result<Order, ExecutionError> {
        for id in booked.iter().rev() {
            let Some(item) = order.item(id).cloned() else {
                continue;
            };
            let outcome = self
                .cancel_with_provider(&order.id, &item, "rollback")
                .await;
            let Some(item) = order.item_mut(id) else {
                continue;
            };
            let message = match outcome {
                Ok(_) => {
                    item.status = ItemStatus::Cancelled;
                    format!("Rolled back {}: cancelled with the provider", item.title)
                }
                Err(error) => {
                    item.status = ItemStatus::CancellationFailed;
                    item.failure = Some(format!("rollback could not cancel it: {error}"));
                    format!(
                        "Could not cancel {} during rollback: {error}. It needs a person to contact the provider",
                        item.title
                    )
                }
            };
            self.record(&mut order, message).await?;
        }
        for item in order
            .items
            .iter_mut()
            .filter(|item| item.status == ItemStatus::Pending)
        {
            item.status = ItemStatus::Skipped;
            item.failure = Some("not attempted: the order was rolled back".into());
        }
        let mut failure = reason;
        if let Some(payment) = order.payment.clone() {
            let key = IdempotencyKey::derive(&order.id, None, Operation::Void, "1");
            match self
                .providers
                .payment()
                .void(&payment.reference, &key)
                .await
            {
                Ok(()) => {
                    failure.push_str("; the payment hold was released and nothing was charged")
                }
                Err(error) => failure.push_str(&format!(
                    "; releasing the payment hold failed ({error}) and needs attention"
                )),
            }
        }
        order.failure = Some(failure.clone());
        self.transition(
            order,
            OrderStatus::Failed,
            format!("Order failed: {failure}"),
        )
        .await
    }

    pub(super) async fn cancel_with_provider(
        &self,
        order: &OrderId,
        item: &OrderItem,
        group: &str,
    ) -> Result<crate::ports::booking::CancellationReceipt, BookingError> {
        let provider = self.providers.booking(&item.provider).ok_or_else(|| {
            BookingError::Provider(ProviderError::Unavailable {
                provider: item.provider.clone(),
                message: "this provider is not configured".into(),
            })
        })?;
        let reference = item.reference.as_deref().ok_or_else(|| {
            BookingError::Provider(ProviderError::Rejected {
                provider: item.provider.clone(),
                code: "no_reference".into(),
                message: format!("{} has no booking reference", item.title),
            })
        })?;
        let key = IdempotencyKey::derive(order, Some(&item.item_id), Operation::Cancel, group);
        provider.cancel(reference, &key).await
    }
}

/// Why the order must roll back: a must-have item that failed or was skipped.
fn must_have_failure(order: &Order) -> Option<String> {
    let failed: Vec<String> = order
        .items
        .iter()
        .filter(|item| item.priority == Priority::MustHave)
        .filter(|item| matches!(item.status, ItemStatus::Failed | ItemStatus::Skipped))
        .map(|item| {
            format!(
                "must-have '{}' failed ({})",
                item.title,
                item.failure.as_deref().unwrap_or("no reason given")
            )
        })
        .collect();
    (!failed.is_empty()).then(|| failed.join("; "))
}

fn new_order(
    plan: &TravelPlan,
    approval: &Approval,
    quotes: &[Offer],
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Order, ExecutionError> {
    let items: Vec<OrderItem> = plan
        .items
        .iter()
        .zip(quotes)
        .map(|(item, quote)| OrderItem {
            item_id: item.id.clone(),
            kind: item.offer.kind,
            title: item.offer.title.clone(),
            provider: item.offer.provider.clone(),
            offer_id: item.offer.id.clone(),
            priority: item.priority,
            // Never more than approved: a lower quote is passed on, a higher one stopped earlier.
            price: quote
                .price
                .min(&item.offer.price)
                .unwrap_or(item.offer.price),
            cancellation: quote.cancellation.clone(),
            status: ItemStatus::Pending,
            reference: None,
            confirmation: None,
            failure: None,
            refunded: None,
        })
        .collect();
    let total = Money::sum(plan.currency, items.iter().map(|item| &item.price))?;
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
        payment: None,
        items,
        failure: None,
        created_at: now,
        updated_at: now,
    })
}
