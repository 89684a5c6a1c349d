//! The providers part of `itinera doctor`: what is configured, and whether each booking
//! provider answers and takes Itinera's credentials, so a wrong key or address shows before a
//! person's search or booking runs into it.

use std::time::{Duration, Instant};

use futures::future::join_all;

use crate::domain::offer::ItemKind;
use crate::providers::Providers;

/// How long one provider may take to answer the check.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// One booking provider's check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderCheck {
    pub name: String,
    /// What searches ask it for; empty for one kept only to settle its earlier bookings.
    pub kinds: Vec<ItemKind>,
    /// How long it took to answer, or why it did not.
    pub outcome: Result<Duration, String>,
}

/// Every booking provider checked at once, and the payment providers in their order.
pub struct ProvidersReport {
    pub booking: Vec<ProviderCheck>,
    pub payments: Vec<String>,
}

impl ProvidersReport {
    pub fn all_answer(&self) -> bool {
        self.booking.iter().all(|check| check.outcome.is_ok())
    }
}

pub async fn check(providers: &Providers) -> ProvidersReport {
    let booking = join_all(providers.booking_all().iter().map(|provider| async move {
        let started = Instant::now();
        let outcome = match tokio::time::timeout(PROBE_TIMEOUT, provider.probe()).await {
            Ok(Ok(())) => Ok(started.elapsed()),
            Ok(Err(error)) => Err(error.to_string()),
            Err(_) => Err(format!("no answer within {} s", PROBE_TIMEOUT.as_secs())),
        };
        ProviderCheck {
            name: provider.name().to_string(),
            kinds: provider.kinds().to_vec(),
            outcome,
        }
    }))
    .await;
    ProvidersReport {
        booking,
        payments: providers
            .payments()
            .iter()
            .map(|payment| payment.name().to_string())
            .collect(),
    }
}

/// The report as text for a terminal.
pub fn render(report: &ProvidersReport) -> String {
    let mut text = String::from("Booking providers:\n");
    for check in &report.booking {
        let sells = if check.kinds.is_empty() {
            "settles its earlier bookings only".to_string()
        } else {
            check
                .kinds
                .iter()
                .map(ItemKind::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        };
        let outcome = match &check.outcome {
            Ok(took) => format!("answers ({} ms)", took.as_millis()),
            Err(why) => format!("DOES NOT ANSWER: {why}"),
        };
        text.push_str(&format!("  {} ({sells}): {outcome}\n", check.name));
    }
    text.push_str(&format!(
        "Payment providers, in order of preference: {} (checked when a payment goes through them)\n\n",
        report.payments.join(", ")
    ));
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_provider_that_does_not_answer_stands_out_with_why() {
        let report = ProvidersReport {
            booking: vec![
                ProviderCheck {
                    name: "duffel".into(),
                    kinds: vec![ItemKind::Flight],
                    outcome: Ok(Duration::from_millis(42)),
                },
                ProviderCheck {
                    name: "sandbox".into(),
                    kinds: vec![],
                    outcome: Err("HTTP 503".into()),
                },
            ],
            payments: vec!["stripe".into(), "sandbox".into()],
        };
        assert!(!report.all_answer());
        assert_eq!(
            render(&report),
            "Booking providers:\n  duffel (flight): answers (42 ms)\n  sandbox (settles its earlier bookings only): DOES NOT ANSWER: HTTP 503\nPayment providers, in order of preference: stripe, sandbox (checked when a payment goes through them)\n\n"
        );
    }
}
