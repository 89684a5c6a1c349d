//! The business metrics, read from the store and shown three ways: the `get_booking_metrics`
//! tool (the caller's own orders), Prometheus text at `/metrics` and `itinera report` (every
//! person's, for the operator).

use std::fmt::Write;
use std::sync::Arc;

use chrono::Duration;

use crate::domain::ids::OwnerId;
use crate::domain::metrics::BookingMetrics;
use crate::ports::{Clock, Store, StoreError};

/// The window `/metrics` reports on.
pub const PROMETHEUS_WINDOW_DAYS: u32 = 30;
/// The longest window asked for.
pub const MAX_WINDOW_DAYS: u32 = 366;

#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    #[error("days must be 1 to {MAX_WINDOW_DAYS}, not {0}")]
    Window(u32),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Reads the metrics from the store.
#[derive(Clone)]
pub struct Metrics {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
}

impl Metrics {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Metrics {
        Metrics { store, clock }
    }

    /// The metrics of the orders created in the last `days` days: `owner`'s, or everyone's.
    pub async fn of(
        &self,
        owner: Option<&OwnerId>,
        days: u32,
    ) -> Result<BookingMetrics, MetricsError> {
        if !(1..=MAX_WINDOW_DAYS).contains(&days) {
            return Err(MetricsError::Window(days));
        }
        let now = self.clock.now();
        let since = now - Duration::days(i64::from(days));
        let facts = self.store.metric_facts(owner, since).await?;
        Ok(BookingMetrics::compute(&facts, since, now))
    }
}

/// Prometheus text exposition (version 0.0.4): every figure a gauge over the window.
pub fn prometheus(metrics: &BookingMetrics) -> String {
    let mut out = String::new();
    let mut gauge = |name: &str, help: &str, samples: &[(String, Option<f64>)]| {
        let _ = writeln!(out, "# HELP itinera_{name} {help}");
        let _ = writeln!(out, "# TYPE itinera_{name} gauge");
        for (labels, value) in samples {
            if let Some(value) = value {
                let _ = writeln!(out, "itinera_{name}{labels} {value}");
            }
        }
    };
    let plain = |value: Option<f64>| vec![(String::new(), value)];
    let window = format!(" (orders created in the last {PROMETHEUS_WINDOW_DAYS} days)");
    gauge(
        "orders",
        &format!("Orders created{window}."),
        &plain(Some(metrics.orders as f64)),
    );
    gauge(
        "booking_success_ratio",
        &format!("Booking calls that booked, of those answered{window}."),
        &plain(metrics.booking_success_rate),
    );
    gauge(
        "payment_success_ratio",
        &format!("Payment holds and captures that went through, of those answered{window}."),
        &plain(metrics.payment_success_rate),
    );
    gauge(
        "end_to_end_success_ratio",
        &format!("Settled orders that were confirmed{window}."),
        &plain(metrics.end_to_end_success_rate),
    );
    gauge(
        "booking_seconds_average",
        &format!("Mean time from an order's creation to its confirmation{window}."),
        &plain(metrics.average_booking_seconds),
    );
    gauge(
        "payment_seconds_average",
        &format!("Mean time of a payment hold or capture{window}."),
        &plain(metrics.average_payment_seconds),
    );
    gauge(
        "abandoned_plans",
        &format!("Approved plans whose approval expired unused{window}."),
        &plain(Some(metrics.abandoned_plans as f64)),
    );
    gauge(
        "abandonment_ratio",
        &format!("Approved plans abandoned, of those executed or abandoned{window}."),
        &plain(metrics.abandonment_rate),
    );
    gauge(
        "retry_ratio",
        &format!("Provider calls sent more than once{window}."),
        &plain(metrics.retry_rate),
    );
    let per_currency = |amounts: &[crate::domain::money::Money]| {
        amounts
            .iter()
            .map(|m| {
                (
                    format!("{{currency=\"{}\"}}", m.currency().code()),
                    Some(BookingMetrics::number(m)),
                )
            })
            .collect::<Vec<_>>()
    };
    gauge(
        "revenue",
        &format!("Captured less refunded, per currency{window}."),
        &per_currency(&metrics.revenue),
    );
    gauge(
        "average_order_value",
        &format!("Revenue per charged order, per currency{window}."),
        &per_currency(&metrics.average_order_value),
    );
    let per_provider = |value: &dyn Fn(&crate::domain::metrics::ProviderMetrics) -> Option<f64>| {
        metrics
            .providers
            .iter()
            .map(|p| (format!("{{provider=\"{}\"}}", label(&p.provider)), value(p)))
            .collect::<Vec<_>>()
    };
    gauge(
        "provider_calls",
        &format!("Calls to each provider{window}."),
        &per_provider(&|p| Some(p.calls as f64)),
    );
    gauge(
        "provider_errors",
        &format!("Calls each provider refused or left unanswered{window}."),
        &per_provider(&|p| Some(p.errors as f64)),
    );
    gauge(
        "provider_latency_seconds_average",
        &format!("Mean time each provider took to answer{window}."),
        &per_provider(&|p| p.average_latency_ms.map(|ms| ms / 1000.0)),
    );
    out
}

/// A label value with `\`, `"` and newlines escaped, as the text format requires.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// A table for a terminal.
pub fn table(metrics: &BookingMetrics) -> String {
    let money = |amounts: &[crate::domain::money::Money]| {
        if amounts.is_empty() {
            "-".to_string()
        } else {
            amounts
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    let seconds =
        |value: Option<f64>| value.map_or_else(|| "-".to_string(), |s| format!("{s:.2} s"));
    let pct = BookingMetrics::percent;
    let mut out = format!(
        "Orders created {} to {}\n",
        metrics.since.format("%Y-%m-%d %H:%M UTC"),
        metrics.until.format("%Y-%m-%d %H:%M UTC")
    );
    let rows = [
        ("Orders (volume)", metrics.orders.to_string()),
        ("Settled", metrics.settled_orders.to_string()),
        ("Booking success", pct(metrics.booking_success_rate)),
        ("Payment success", pct(metrics.payment_success_rate)),
        ("End-to-end success", pct(metrics.end_to_end_success_rate)),
        (
            "Average booking time",
            seconds(metrics.average_booking_seconds),
        ),
        (
            "Average payment time",
            seconds(metrics.average_payment_seconds),
        ),
        (
            "Abandoned plans",
            format!(
                "{} ({})",
                metrics.abandoned_plans,
                pct(metrics.abandonment_rate)
            ),
        ),
        ("Retry rate", pct(metrics.retry_rate)),
        ("Revenue", money(&metrics.revenue)),
        ("Average order value", money(&metrics.average_order_value)),
    ];
    for (name, value) in rows {
        let _ = writeln!(out, "  {name:<22} {value}");
    }
    if !metrics.providers.is_empty() {
        let _ = writeln!(
            out,
            "\n  {:<24} {:>7} {:>7} {:>12}",
            "Provider", "calls", "errors", "avg latency"
        );
        for p in &metrics.providers {
            let latency = p
                .average_latency_ms
                .map_or_else(|| "-".to_string(), |ms| format!("{ms:.1} ms"));
            let _ = writeln!(
                out,
                "  {:<24} {:>7} {:>7} {:>12}",
                p.provider, p.calls, p.errors, latency
            );
        }
    }
    out
}
