//! The booking system's business metrics (the design document's list), computed from what the
//! store records: orders, their saga logs and the approvals behind them. A rate is a fraction
//! from 0 to 1, and `None` when nothing it counts happened in the window.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use schemars::JsonSchema;
use serde::Serialize;

use super::idempotency::Operation;
use super::money::{Currency, Money};
use super::order::OrderStatus;
use super::saga::StepState;

/// One order, as far as the metrics need it.
#[derive(Debug, Clone)]
pub struct OrderFact {
    pub status: OrderStatus,
    pub currency: Currency,
    pub captured: Money,
    pub refunded: Money,
    pub created_at: DateTime<Utc>,
    /// When it was first confirmed (fully or partly), if ever.
    pub confirmed_at: Option<DateTime<Utc>>,
}

/// One outbound call of an order's saga.
#[derive(Debug, Clone)]
pub struct StepFact {
    /// The provider called: the item's for a booking call, the order's payment provider else.
    pub provider: String,
    pub operation: String,
    pub state: StepState,
    /// How many times it was sent.
    pub attempts: u32,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// One plan the person approved (once or, after changes, several times).
#[derive(Debug, Clone)]
pub struct ApprovalFact {
    /// When its latest approval expires.
    pub expires_at: DateTime<Utc>,
    /// Whether an order was made for the plan.
    pub executed: bool,
}

/// What the store holds of one window.
#[derive(Debug, Clone, Default)]
pub struct MetricFacts {
    pub orders: Vec<OrderFact>,
    pub steps: Vec<StepFact>,
    pub approvals: Vec<ApprovalFact>,
}

/// Calls to one provider.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ProviderMetrics {
    pub provider: String,
    pub calls: u64,
    /// Calls refused, or left without an answer (to be reconciled).
    pub errors: u64,
    /// Mean time from sending a call to recording its answer.
    pub average_latency_ms: Option<f64>,
    pub max_latency_ms: Option<f64>,
}

/// The metrics of orders created in one window.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct BookingMetrics {
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
    /// Orders created (volume).
    pub orders: u64,
    /// Of them, orders whose saga has settled (the rest are under way).
    pub settled_orders: u64,
    /// Booking calls that booked, of those answered.
    pub booking_success_rate: Option<f64>,
    /// Payment holds and captures that went through, of those answered.
    pub payment_success_rate: Option<f64>,
    /// Settled orders that were confirmed (fully or partly), whatever happened after.
    pub end_to_end_success_rate: Option<f64>,
    /// Mean time from an order's creation to its confirmation.
    pub average_booking_seconds: Option<f64>,
    /// Mean time of a payment hold or capture, from sending to the provider's answer.
    pub average_payment_seconds: Option<f64>,
    /// Plans the person approved whose approval expired unused.
    pub abandoned_plans: u64,
    /// Of the plans approved and since executed or abandoned, the share abandoned.
    pub abandonment_rate: Option<f64>,
    /// Outbound calls that had to be sent more than once.
    pub retry_rate: Option<f64>,
    /// Captured less refunded, per currency.
    pub revenue: Vec<Money>,
    /// Revenue per order that was charged (refunded ones included), per currency.
    pub average_order_value: Vec<Money>,
    pub providers: Vec<ProviderMetrics>,
}

fn ratio(part: usize, whole: usize) -> Option<f64> {
    (whole > 0).then(|| round(part as f64 / whole as f64))
}

fn round(value: f64) -> f64 {
    (value * 10_000.0).round() / 10_000.0
}

fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| round(values.iter().sum::<f64>() / values.len() as f64))
}

fn seconds(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    (to - from).num_microseconds().unwrap_or(i64::MAX) as f64 / 1e6
}

/// The share of answered calls of `operations` that succeeded.
fn success(steps: &[StepFact], operations: &[Operation]) -> Option<f64> {
    let answered: Vec<&StepFact> = steps
        .iter()
        .filter(|step| operations.iter().any(|op| op.as_str() == step.operation))
        .filter(|step| matches!(step.state, StepState::Succeeded | StepState::Failed))
        .collect();
    let succeeded = answered
        .iter()
        .filter(|step| step.state == StepState::Succeeded)
        .count();
    ratio(succeeded, answered.len())
}

impl BookingMetrics {
    pub fn compute(
        facts: &MetricFacts,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> BookingMetrics {
        let orders = &facts.orders;
        let settled: Vec<&OrderFact> = orders.iter().filter(|o| o.status.is_settled()).collect();
        let confirmed = settled.iter().filter(|o| o.confirmed_at.is_some()).count();
        let booking_times: Vec<f64> = orders
            .iter()
            .filter_map(|o| o.confirmed_at.map(|at| seconds(o.created_at, at)))
            .collect();
        let payment_times: Vec<f64> = facts
            .steps
            .iter()
            .filter(|s| {
                s.state == StepState::Succeeded
                    && [Operation::Authorize, Operation::Capture]
                        .iter()
                        .any(|op| op.as_str() == s.operation)
            })
            .filter_map(|s| s.finished_at.map(|at| seconds(s.started_at, at)))
            .collect();
        let abandoned = facts
            .approvals
            .iter()
            .filter(|a| !a.executed && a.expires_at < until)
            .count();
        let executed = facts.approvals.iter().filter(|a| a.executed).count();
        let retried = facts.steps.iter().filter(|s| s.attempts > 1).count();
        let (revenue, average_order_value) = revenue(orders);
        BookingMetrics {
            since,
            until,
            orders: orders.len() as u64,
            settled_orders: settled.len() as u64,
            booking_success_rate: success(&facts.steps, &[Operation::Book]),
            payment_success_rate: success(
                &facts.steps,
                &[Operation::Authorize, Operation::Capture],
            ),
            end_to_end_success_rate: ratio(confirmed, settled.len()),
            average_booking_seconds: mean(&booking_times),
            average_payment_seconds: mean(&payment_times),
            abandoned_plans: abandoned as u64,
            abandonment_rate: ratio(abandoned, abandoned + executed),
            retry_rate: ratio(retried, facts.steps.len()),
            revenue,
            average_order_value,
            providers: providers(&facts.steps),
        }
    }
}

/// Revenue and average order value, per currency, in currency order.
fn revenue(orders: &[OrderFact]) -> (Vec<Money>, Vec<Money>) {
    let mut per_currency: BTreeMap<&str, (Currency, Decimal, u32)> = BTreeMap::new();
    for order in orders {
        let entry =
            per_currency
                .entry(order.currency.code())
                .or_insert((order.currency, Decimal::ZERO, 0));
        entry.1 += order.captured.amount() - order.refunded.amount();
        if !order.captured.is_zero() {
            entry.2 += 1;
        }
    }
    let mut revenue = Vec::new();
    let mut average = Vec::new();
    for (currency, total, charged) in per_currency.into_values() {
        // Refunds never exceed captures; a negative sum would be a corrupt record, shown as 0.
        let total = total.max(Decimal::ZERO);
        if let Ok(money) = Money::new(total, currency) {
            revenue.push(money);
        }
        if charged > 0 {
            let mean = (total / Decimal::from(charged)).round_dp(currency.exponent());
            if let Ok(money) = Money::new(mean, currency) {
                average.push(money);
            }
        }
    }
    (revenue, average)
}

fn providers(steps: &[StepFact]) -> Vec<ProviderMetrics> {
    let mut by_provider: BTreeMap<&str, Vec<&StepFact>> = BTreeMap::new();
    for step in steps {
        by_provider.entry(&step.provider).or_default().push(step);
    }
    by_provider
        .into_iter()
        .map(|(provider, calls)| {
            let latencies: Vec<f64> = calls
                .iter()
                .filter_map(|s| s.finished_at.map(|at| seconds(s.started_at, at) * 1000.0))
                .collect();
            ProviderMetrics {
                provider: provider.to_string(),
                calls: calls.len() as u64,
                errors: calls
                    .iter()
                    .filter(|s| {
                        matches!(
                            s.state,
                            StepState::Failed | StepState::PendingReconciliation
                        )
                    })
                    .count() as u64,
                average_latency_ms: mean(&latencies),
                max_latency_ms: latencies.iter().copied().reduce(f64::max).map(round),
            }
        })
        .collect()
}

impl BookingMetrics {
    /// A rate as a percentage for people, "-" when there is none.
    pub fn percent(rate: Option<f64>) -> String {
        rate.map_or_else(|| "-".to_string(), |rate| format!("{:.1} %", rate * 100.0))
    }

    /// The revenue of `currency` as a number (Prometheus wants plain numbers).
    pub fn number(money: &Money) -> f64 {
        money.amount().to_f64().unwrap_or(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(seconds: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_800_000_000 + seconds, 0).unwrap()
    }

    fn eur(amount: &str) -> Money {
        Money::parse(amount, "EUR").unwrap()
    }

    fn order(
        status: OrderStatus,
        captured: &str,
        refunded: &str,
        confirmed: Option<i64>,
    ) -> OrderFact {
        OrderFact {
            status,
            currency: Currency::parse("EUR").unwrap(),
            captured: eur(captured),
            refunded: eur(refunded),
            created_at: at(0),
            confirmed_at: confirmed.map(at),
        }
    }

    fn step(operation: Operation, state: StepState, attempts: u32, took: i64) -> StepFact {
        StepFact {
            provider: if operation == Operation::Book {
                "duffel"
            } else {
                "stripe"
            }
            .into(),
            operation: operation.as_str().into(),
            state,
            attempts,
            started_at: at(0),
            finished_at: (state != StepState::Intent).then(|| at(took)),
        }
    }

    #[test]
    fn metrics_of_a_known_set_of_orders() {
        use OrderStatus::*;
        let facts = MetricFacts {
            orders: vec![
                order(Confirmed, "100.00", "0", Some(10)),
                order(Refunded, "50.00", "50.00", Some(20)),
                order(Failed, "0", "0", None),
                order(PaymentProcessing, "0", "0", None),
            ],
            steps: vec![
                step(Operation::Book, StepState::Succeeded, 1, 2),
                step(Operation::Book, StepState::Succeeded, 2, 4),
                step(Operation::Book, StepState::Failed, 1, 6),
                step(Operation::Book, StepState::Intent, 1, 0),
                step(Operation::Authorize, StepState::Succeeded, 1, 1),
                step(Operation::Capture, StepState::Succeeded, 1, 3),
                step(Operation::Authorize, StepState::Failed, 1, 1),
            ],
            approvals: vec![
                ApprovalFact {
                    expires_at: at(100),
                    executed: true,
                },
                ApprovalFact {
                    expires_at: at(100),
                    executed: false,
                },
                ApprovalFact {
                    expires_at: at(10_000),
                    executed: false,
                },
            ],
        };
        let metrics = BookingMetrics::compute(&facts, at(-100), at(1_000));
        assert_eq!(metrics.orders, 4);
        assert_eq!(metrics.settled_orders, 3);
        assert_eq!(metrics.booking_success_rate, Some(0.6667));
        assert_eq!(metrics.payment_success_rate, Some(0.6667));
        assert_eq!(metrics.end_to_end_success_rate, Some(0.6667));
        assert_eq!(metrics.average_booking_seconds, Some(15.0));
        assert_eq!(metrics.average_payment_seconds, Some(2.0));
        assert_eq!(
            metrics.abandoned_plans, 1,
            "the approval still valid is not abandoned yet"
        );
        assert_eq!(metrics.abandonment_rate, Some(0.5));
        assert_eq!(metrics.retry_rate, Some(0.1429));
        assert_eq!(metrics.revenue, vec![eur("100.00")]);
        assert_eq!(metrics.average_order_value, vec![eur("50.00")]);
        let duffel = &metrics.providers[0];
        assert_eq!(
            (duffel.provider.as_str(), duffel.calls, duffel.errors),
            ("duffel", 4, 1)
        );
        assert_eq!(duffel.average_latency_ms, Some(4000.0));
        assert_eq!(duffel.max_latency_ms, Some(6000.0));
    }

    #[test]
    fn an_empty_window_has_no_rates_rather_than_zero_ones() {
        let metrics = BookingMetrics::compute(&MetricFacts::default(), at(0), at(1));
        assert_eq!(metrics.orders, 0);
        assert_eq!(metrics.booking_success_rate, None);
        assert_eq!(metrics.end_to_end_success_rate, None);
        assert!(metrics.revenue.is_empty() && metrics.providers.is_empty());
        assert_eq!(BookingMetrics::percent(None), "-");
        assert_eq!(BookingMetrics::percent(Some(0.6667)), "66.7 %");
    }
}
