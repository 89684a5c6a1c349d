//! Recovery: resuming every order whose saga had not settled when the process stopped, or that
//! was left waiting for a provider's answer or for the customer's 3-D Secure (once the customer
//! has authenticated, the booking goes on even if the assistant never calls again). Each order is
//! driven from its stored state, re-sending unanswered calls under their original keys, so it
//! converges: every must-have booked and the amount captured, or nothing booked, nothing captured
//! and the hold released.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::background::Background;
use crate::domain::order::{Order, OrderStatus};
use crate::leases::LeaseError;
use crate::ports::StoreError;

use super::{ExecutionError, Orchestrator};

/// How many orders recovery claims at a time: few, since the claimed ones wait while the page is
/// driven one by one, and a person asking about one of them would wait for it.
const RECOVERY_BATCH: u32 = 10;

/// What one recovery pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RecoveryReport {
    /// Unsettled orders found.
    pub examined: usize,
    /// Orders that reached a settled status in this pass.
    pub settled: usize,
    /// Orders still waiting (for a provider's answer) after this pass.
    pub waiting: usize,
    /// Orders that could not be driven, and why.
    pub errors: Vec<String>,
}

impl Orchestrator {
    /// One pass over the unsettled orders of every owner that no other process is working on
    /// (each claimed with a lease first).
    pub async fn recover(&self) -> Result<RecoveryReport, ExecutionError> {
        self.recover_until(&CancellationToken::new()).await
    }

    /// A recovery pass that stops between two orders once `stop` is cancelled (the server is
    /// stopping): the order under way is finished, the rest left for the next start.
    async fn recover_until(
        &self,
        stop: &CancellationToken,
    ) -> Result<RecoveryReport, ExecutionError> {
        self.leases.release_dead_neighbours().await?;
        let mut report = RecoveryReport::default();
        let mut after = None;
        loop {
            let orders = self
                .store
                .claim_unsettled_orders(
                    self.leases.holder(),
                    self.leases.until(),
                    chrono::Utc::now(),
                    after.as_ref(),
                    RECOVERY_BATCH,
                )
                .await?;
            let Some(last) = orders.last().cloned() else {
                return Ok(report);
            };
            report.examined += orders.len();
            for order in orders {
                if stop.is_cancelled() {
                    return Ok(report);
                }
                self.recover_one(order, &mut report).await?;
            }
            after = Some(last);
        }
    }

    async fn recover_one(
        &self,
        order: Order,
        report: &mut RecoveryReport,
    ) -> Result<(), ExecutionError> {
        let id = order.id.clone();
        let Some(plan) = self.store.plan(&order.owner, &order.plan_id).await? else {
            report
                .errors
                .push(format!("order {id}: its plan {} is missing", order.plan_id));
            return Ok(());
        };
        // Claimed above; if its lease ran out while earlier orders were driven and another
        // process took it, that process drives it.
        match self.drive_exclusive(order, &plan, Duration::ZERO).await {
            Ok(order) if order.status.is_settled() => report.settled += 1,
            Ok(_) => report.waiting += 1,
            Err(ExecutionError::Lease(LeaseError::Busy(_))) => report.examined -= 1,
            Err(error) => report.errors.push(format!("order {id}: {error}")),
        }
        Ok(())
    }

    /// Continues the order a provider event is about, if it is waiting for the customer (3-D
    /// Secure done, payer approved, payment failed): the driver asks the provider where the
    /// payment stands and moves on from there. `None` when no order is paid by this payment.
    pub async fn resume_payment(
        &self,
        provider: &str,
        reference: &str,
    ) -> Result<Option<Order>, ExecutionError> {
        let Some(order) = self.store.order_for_payment(provider, reference).await? else {
            return Ok(None);
        };
        // Only the customer's step is the event's to advance: everything else is driven by the
        // server that started it (another process may be cancelling or refunding right now).
        if order.status != OrderStatus::PaymentActionRequired {
            return Ok(Some(order));
        }
        let plan = self
            .store
            .plan(&order.owner, &order.plan_id)
            .await?
            .ok_or_else(|| ExecutionError::PlanNotFound(order.plan_id.clone()))?;
        self.drive_exclusive(order, &plan, crate::leases::PATIENCE)
            .await
            .map(Some)
    }

    /// Recovers now, then again every `interval`, until stopped.
    pub fn spawn_recovery(&self, interval: Duration) -> Background {
        let orchestrator = self.clone();
        Background::every(
            "recovery",
            interval,
            move |stopping| {
                let orchestrator = orchestrator.clone();
                async move {
                    match orchestrator.recover_until(&stopping).await {
                        Ok(report) if report.examined > 0 => {
                            tracing::info!(?report, "recovery pass")
                        }
                        Ok(_) => {}
                        Err(error) => tracing::error!(%error, "recovery pass failed"),
                    }
                }
            },
            None,
        )
    }

    /// Lets go of every lease this process still has (it is stopping, its work is done).
    pub async fn release_leases(&self) -> Result<u64, StoreError> {
        self.leases.release_all().await
    }
}
