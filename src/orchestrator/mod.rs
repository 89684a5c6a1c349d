//! Turning an approved plan into bookings and a payment, and undoing them.
//!
//! The saga: re-quote every item → hold the approved total → book phase by phase, items of a phase
//! together → capture what was booked. A failed must-have cancels what was booked, newest first,
//! and releases the hold. Every change of the order is saved with its timeline event before the
//! next outbound call.

mod cancel;
mod charge;
mod drive;
mod execute;
mod failover;
mod payment_calls;
mod quote;
mod recovery;
mod refund;
mod retry;
mod rollback;
mod steps;

use std::sync::Arc;
use std::time::Duration;

use crate::leases::{LeaseError, Leases, OnLoss};

use crate::domain::approval::ApprovalError;
use crate::domain::ids::{OrderId, OwnerId, PlanId};
use crate::domain::money::{Money, MoneyError};
use crate::domain::order::{Order, OrderEvent, OrderStatus, TransitionError};
use crate::domain::plan::{PlanError, TravelPlan};
use crate::keyed_lock::KeyedLocks;
use crate::payment_router::{self, PaymentRoute};
use crate::payment_split::{SplitLeg, SplitPayment};
use crate::ports::payment::{PaymentState, Settlement};
use crate::ports::store::OrderFilter;
use crate::ports::{Clock, PaymentError, PaymentProvider, Store, StoreError};
use crate::providers::Providers;
use crate::saved_methods::OwnershipError;
use crate::spending::{GuardError, SpendingGuard};
pub use charge::payment_window;
pub use recovery::RecoveryReport;
use retry::CircuitBreakers;
pub use retry::RetryPolicy;
pub use steps::StepPause;

/// Why an execution or a cancellation did not go ahead.
#[derive(Debug, thiserror::Error)]
pub enum ExecutionError {
    #[error("there is no travel plan {0}: check the id, or create one with create_travel_plan")]
    PlanNotFound(PlanId),
    #[error("there is no order {0}: list_bookings shows your orders")]
    OrderNotFound(OrderId),
    #[error(transparent)]
    Approval(#[from] ApprovalError),
    #[error(transparent)]
    Policy(#[from] GuardError),
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error(
        "nothing was charged: this payment needs the person's fresh approval because {reasons}. Call \
         confirm_travel_plan: the person will see why and can approve again"
    )]
    FreshApprovalNeeded { reasons: String },
    #[error(
        "prices rose since the person approved the plan, so nothing was charged: {changes}. The plan now carries the \
         new prices (total {new_total}); call confirm_travel_plan so the person can approve them"
    )]
    PriceRose { changes: String, new_total: Money },
    #[error(
        "some offers can no longer be booked, so nothing was charged: {problems}. Search again, replace these items \
         with update_travel_plan, then call confirm_travel_plan"
    )]
    OffersGone { problems: String },
    #[error("{0}")]
    NotCancellable(String),
    #[error("{0}")]
    NotRefundable(String),
    #[error("could not check the payment with the provider: {0}. Try again in a moment")]
    PaymentLookup(PaymentError),
    #[error(
        "order {order} pays through '{provider}', which is not configured now: add '{provider}' to ITINERA_PAYMENT_PROVIDER (with its credentials) so Itinera can reach it, then try again"
    )]
    PaymentProviderMissing { order: OrderId, provider: String },
    #[error(
        "nothing was charged: no configured payment provider can take this payment now ({0}). Change the plan's payment method with update_travel_plan, or try again later"
    )]
    NoPaymentRoute(String),
    #[error("nothing was charged: {0}")]
    NotYourMethod(#[from] OwnershipError),
    #[error(transparent)]
    Transition(#[from] TransitionError),
    #[error(transparent)]
    Money(#[from] MoneyError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Lease(#[from] LeaseError),
}

/// Runs executions and cancellations against the providers, recording every step.
#[derive(Clone)]
pub struct Orchestrator {
    store: Arc<dyn Store>,
    providers: Arc<Providers>,
    clock: Arc<dyn Clock>,
    /// One driver per order at a time within this process...
    order_locks: Arc<KeyedLocks<OrderId>>,
    /// ...and across the processes sharing the store.
    leases: Leases,
    /// Where payment providers send the customer back (Itinera's page), for new orders.
    return_url: Arc<str>,
    /// One admission per person at a time: the policy and risk checks count the person's orders,
    /// so two executions checked side by side would each miss the other.
    admissions: Arc<KeyedLocks<OwnerId>>,
    pause: Arc<StepPause>,
    retry: RetryPolicy,
    breakers: Arc<CircuitBreakers>,
    guard: SpendingGuard,
}

impl Orchestrator {
    /// An orchestrator over the store `leases` live in, holding orders with this process's
    /// leases (shared with the rest of the process).
    pub fn new(
        leases: Leases,
        providers: Arc<Providers>,
        clock: Arc<dyn Clock>,
        pause: StepPause,
        retry: RetryPolicy,
        guard: SpendingGuard,
        return_url: String,
    ) -> Self {
        Self {
            store: Arc::clone(leases.store()),
            leases,
            return_url: Arc::from(return_url),
            providers,
            clock,
            order_locks: Arc::default(),
            admissions: Arc::default(),
            pause: Arc::new(pause),
            retry,
            breakers: Arc::default(),
            guard,
        }
    }

    /// Runs `work` holding the order's lock and its lease: an execute call, a cancellation and
    /// recovery, in this process or another, never work on the same order at once (two refunds
    /// computed from two views would pay twice). Waits up to `patience` for another process.
    async fn exclusively<T, Fut>(
        &self,
        order: &OrderId,
        patience: Duration,
        work: impl FnOnce() -> Fut,
    ) -> Result<T, ExecutionError>
    where
        Fut: std::future::Future<Output = Result<T, ExecutionError>>,
    {
        let key = format!("order:{order}");
        self.order_locks
            .run(
                order,
                self.leases.hold(&key, patience, OnLoss::Stop, work()),
            )
            .await
    }

    /// Who may take the plan's payment, best first, taking the providers' health into account.
    pub fn payment_route(&self, plan: &TravelPlan) -> PaymentRoute {
        payment_router::route(self.providers.payments(), plan, |name| {
            self.breakers.open_for(name)
        })
    }

    /// The configured payment providers in the operator's order, each with how long its calls
    /// are paused after repeated failures, if they are.
    pub fn payment_providers(&self) -> Vec<(Arc<dyn PaymentProvider>, Option<Duration>)> {
        self.providers
            .payments()
            .iter()
            .map(|provider| {
                (
                    Arc::clone(provider),
                    self.breakers.open_for(provider.name()),
                )
            })
            .collect()
    }

    /// The payment provider the order pays through: with a split payment, one made of its
    /// parts' providers.
    fn payments_of(&self, order: &Order) -> Result<Arc<dyn PaymentProvider>, ExecutionError> {
        if order.payment_parts.is_empty() {
            return self.payment_provider(order, &order.payment_via);
        }
        let legs = order
            .payment_parts
            .iter()
            .map(|part| {
                Ok(SplitLeg {
                    provider: self.payment_provider(order, &part.provider)?,
                    part: part.clone(),
                })
            })
            .collect::<Result<Vec<_>, ExecutionError>>()?;
        Ok(Arc::new(SplitPayment::of(order, legs)))
    }

    fn payment_provider(
        &self,
        order: &Order,
        name: &str,
    ) -> Result<Arc<dyn PaymentProvider>, ExecutionError> {
        self.providers.payment_named(name).cloned().ok_or_else(|| {
            ExecutionError::PaymentProviderMissing {
                order: order.id.clone(),
                provider: name.to_string(),
            }
        })
    }

    pub async fn order(&self, owner: &OwnerId, id: &OrderId) -> Result<Order, ExecutionError> {
        self.store
            .order(owner, id)
            .await?
            .ok_or_else(|| ExecutionError::OrderNotFound(id.clone()))
    }

    pub async fn timeline(
        &self,
        owner: &OwnerId,
        id: &OrderId,
    ) -> Result<Vec<OrderEvent>, ExecutionError> {
        Ok(self.store.timeline(owner, id).await?)
    }

    pub async fn orders(
        &self,
        owner: &OwnerId,
        filter: &OrderFilter,
    ) -> Result<Vec<Order>, ExecutionError> {
        Ok(self.store.list_orders(owner, filter).await?)
    }

    /// Moves the order to `to` (if the state machine allows it) and saves it with the event.
    async fn transition(
        &self,
        mut order: Order,
        to: OrderStatus,
        message: String,
    ) -> Result<Order, ExecutionError> {
        let from = order.status;
        order.status = from.transition(to)?;
        self.save(&mut order, from, message).await?;
        Ok(order)
    }

    /// Saves a change that keeps the order's status, with its event.
    async fn record(&self, order: &mut Order, message: String) -> Result<(), ExecutionError> {
        let status = order.status;
        self.save(order, status, message).await
    }

    async fn save(
        &self,
        order: &mut Order,
        expected: OrderStatus,
        message: String,
    ) -> Result<(), ExecutionError> {
        let now = self.clock.now();
        order.updated_at = now;
        tracing::info!(order = %order.id, status = %order.status, "{message}");
        let event = OrderEvent {
            at: now,
            status: order.status,
            message,
        };
        self.store.save_order(order, expected, &event).await?;
        Ok(())
    }
}

/// An order's payment as Itinera recorded it and as the provider reports it now.
#[derive(Debug, Clone)]
pub struct PaymentCheck {
    pub order: Order,
    /// `None` when the order has no payment yet.
    pub at_provider: Option<PaymentState>,
    /// Whether the order's provider holds money before taking it, or charges after booking
    /// (then nothing is ever held).
    pub settlement: Settlement,
}

impl Orchestrator {
    /// Asks the payment provider where the order's payment stands, to set beside the record.
    pub async fn payment_check(
        &self,
        owner: &OwnerId,
        id: &OrderId,
    ) -> Result<PaymentCheck, ExecutionError> {
        let order = self.order(owner, id).await?;
        let at_provider = match &order.payment {
            None => None,
            Some(payment) => Some(
                self.provider_status(&order, &payment.reference)
                    .await?
                    .map_err(ExecutionError::PaymentLookup)?,
            ),
        };
        let settlement = self.payments_of(&order)?.settlement();
        Ok(PaymentCheck {
            order,
            at_provider,
            settlement,
        })
    }
}
