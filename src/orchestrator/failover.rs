//! Failing over to the next payment provider of the route when one is down before any money
//! moved: the hold was refused outright (an outage, an open circuit), never sent-and-unanswered,
//! so nothing can be held at the provider given up on.

use crate::domain::order::{Order, OrderStatus};
use crate::domain::plan::TravelPlan;

use super::drive::Next;
use super::{ExecutionError, Orchestrator};

impl Orchestrator {
    /// Moves the order's payment to the next provider of the route; with none left, the order
    /// fails with `why`, nothing having been held.
    pub(super) async fn fail_over(
        &self,
        mut order: Order,
        plan: &TravelPlan,
        why: String,
    ) -> Result<Next, ExecutionError> {
        let route = self.payment_route(plan);
        let tried: Vec<&str> = order
            .payment_failed_over
            .iter()
            .map(String::as_str)
            .chain([order.payment_via.as_str()])
            .collect();
        // A split is paid through the providers the person approved for each part, or not at all.
        let next = if order.payment_parts.is_empty() {
            route.next_after(&tried).cloned()
        } else {
            None
        };
        let Some(next) = next else {
            order.failure = Some(why.clone());
            let message = format!("Payment refused: {why}; no other payment provider can take it");
            return Ok(Next::Wait(
                self.transition(order, OrderStatus::Failed, message).await?,
            ));
        };
        let message = format!(
            "{} is down ({why}); nothing was held there, so the payment goes through {} with {} instead",
            order.payment_via, next.provider, next.method_shown
        );
        let given_up = std::mem::replace(&mut order.payment_via, next.provider);
        order.payment_failed_over.push(given_up);
        order.payment_method = Some(next.method);
        self.record(&mut order, message).await?;
        Ok(Next::Continue(order))
    }
}
