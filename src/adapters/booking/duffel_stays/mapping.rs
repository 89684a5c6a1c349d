//! Duffel Stays' rates as Itinera's offers, and their cancellation timelines as our policies.

use chrono::{DateTime, NaiveDate, Utc};

use super::wire::{Accommodation, PaymentType, Rate, Room, TimelineStep};
use crate::domain::ids::OfferId;
use crate::domain::money::{Currency, Money, MoneyError};
use crate::domain::offer::{CancellationPolicy, ItemKind, Offer, OfferDetails};
use crate::domain::places::City;

/// Why a rate could not be read as ours.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Duffel Stays rate {rate}: {problem}")]
pub struct UnreadableRate {
    rate: String,
    problem: String,
}

/// The stay a search or quote was for.
#[derive(Debug, Clone, Copy)]
pub struct Stay {
    pub city: City,
    pub check_in: NaiveDate,
    pub check_out: NaiveDate,
    pub guests: u8,
}

/// Whether Itinera can sell the rate: paid in full to Duffel now, from the balance. A rate
/// the hotel charges at the stay (`guarantee`, `deposit`) would charge the traveller twice.
pub fn sellable(rate: &Rate) -> bool {
    rate.payment_type == PaymentType::PayNow
        && rate
            .available_payment_methods
            .iter()
            .any(|method| method == "balance")
}

/// The cheapest sellable rate of the accommodation, with its room.
pub fn cheapest(accommodation: &Accommodation) -> Option<(&Room, &Rate)> {
    accommodation
        .rooms
        .iter()
        .flat_map(|room| room.rates.iter().map(move |rate| (room, rate)))
        .filter(|(_, rate)| sellable(rate))
        .filter_map(|(room, rate)| {
            let total: rust_decimal::Decimal = rate.total_amount.parse().ok()?;
            Some((total, room, rate))
        })
        .min_by_key(|(total, _, _)| *total)
        .map(|(_, room, rate)| (room, rate))
}

/// Reads one rate of one room as an offer, priced at `total` (the rate's, or a quote's).
pub fn offer(
    accommodation: &Accommodation,
    room: &Room,
    rate: &Rate,
    total: (&str, &str),
    stay: Stay,
) -> Result<Offer, UnreadableRate> {
    let problem = |problem: String| UnreadableRate {
        rate: rate.id.clone(),
        problem,
    };
    let price = Money::parse(total.0, total.1).map_err(|e| problem(format!("total: {e}")))?;
    let expires_at = DateTime::parse_from_rfc3339(&rate.expires_at)
        .map_err(|e| problem(format!("expires_at: {e}")))?
        .with_timezone(&Utc);
    let cancellation = policy(&rate.cancellation_timeline, &price).map_err(problem)?;
    let board = rate
        .board_type
        .as_deref()
        .unwrap_or("room_only")
        .replace('_', " ");
    let at_hotel = match (
        &rate.due_at_accommodation_amount,
        &rate.due_at_accommodation_currency,
    ) {
        (Some(amount), Some(currency)) => Money::parse(amount, currency)
            .ok()
            .filter(|due| !due.is_zero())
            .map(|due| format!(", plus {due} paid at the hotel"))
            .unwrap_or_default(),
        _ => String::new(),
    };
    Ok(Offer {
        id: OfferId::parse(&rate.id).map_err(|e| problem(e.to_string()))?,
        provider: super::NAME.into(),
        kind: ItemKind::Hotel,
        title: format!(
            "{}, {}, {board}, {} to {}{at_hotel}",
            accommodation.name, room.name, stay.check_in, stay.check_out
        ),
        price,
        city: stay.city,
        starts_on: stay.check_in,
        ends_on: stay.check_out,
        cancellation,
        expires_at,
        details: OfferDetails::Hotel {
            hotel_name: accommodation.name.clone(),
            room_type: room.name.clone(),
            board,
            stars: accommodation.rating.unwrap_or(0),
            check_in: stay.check_in,
            check_out: stay.check_out,
            guests: stay.guests,
        },
        accepted_payments: Vec::new(),
    })
}

/// The timeline as a policy. An empty timeline is non-refundable. Refunds only shrink over
/// time, and a policy has one step, so the last step is taken for the whole time before it:
/// Itinera promises at any moment no more than Duffel gives back.
fn policy(timeline: &[TimelineStep], price: &Money) -> Result<CancellationPolicy, String> {
    let Some(last) = timeline.last() else {
        return Ok(CancellationPolicy::NonRefundable);
    };
    let deadline = DateTime::parse_from_rfc3339(&last.before)
        .map_err(|e| format!("cancellation step {}: {e}", last.before))?
        .with_timezone(&Utc);
    let refund = step_refund(last).map_err(|e| e.to_string())?;
    if refund >= *price {
        return Ok(CancellationPolicy::Refundable {
            free_until: deadline,
            penalty: *price,
        });
    }
    Ok(CancellationPolicy::RefundableUntil {
        deadline,
        penalty: price.saturating_sub(&refund).map_err(|e| e.to_string())?,
    })
}

fn step_refund(step: &TimelineStep) -> Result<Money, MoneyError> {
    Money::parse(&step.refund_amount, &step.currency)
}

/// What cancelling at `at` gives back: the first step still ahead, or nothing.
pub fn refund_at(rate: &Rate, at: DateTime<Utc>) -> Result<Money, String> {
    for step in &rate.cancellation_timeline {
        let before = DateTime::parse_from_rfc3339(&step.before)
            .map_err(|e| format!("cancellation step {}: {e}", step.before))?;
        if at < before {
            return step_refund(step).map_err(|e| e.to_string());
        }
    }
    let currency = Currency::parse(&rate.total_currency).map_err(|e| e.to_string())?;
    Ok(Money::zero(currency))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(before: &str, refund: &str) -> TimelineStep {
        TimelineStep {
            before: before.into(),
            refund_amount: refund.into(),
            currency: "EUR".into(),
        }
    }

    fn eur(amount: &str) -> Money {
        Money::parse(amount, "EUR").unwrap()
    }

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn a_timeline_becomes_a_policy_that_never_promises_more_than_duffel_gives() {
        let price = eur("300.00");
        assert_eq!(policy(&[], &price), Ok(CancellationPolicy::NonRefundable));
        assert_eq!(
            policy(&[step("2026-12-10T12:00:00Z", "300.00")], &price),
            Ok(CancellationPolicy::Refundable {
                free_until: at("2026-12-10T12:00:00Z"),
                penalty: price
            })
        );
        assert_eq!(
            policy(
                &[
                    step("2026-12-01T12:00:00Z", "300.00"),
                    step("2026-12-10T12:00:00Z", "150.00")
                ],
                &price
            ),
            Ok(CancellationPolicy::RefundableUntil {
                deadline: at("2026-12-10T12:00:00Z"),
                penalty: eur("150.00")
            })
        );
    }

    #[test]
    fn the_refund_is_the_first_step_still_ahead() {
        let rate: Rate = serde_json::from_value(serde_json::json!({
            "id": "rat_1", "total_amount": "300.00", "total_currency": "EUR",
            "payment_type": "pay_now", "expires_at": "2026-12-01T00:00:00Z",
            "cancellation_timeline": [
                {"before": "2026-12-01T12:00:00Z", "refund_amount": "300.00", "currency": "EUR"},
                {"before": "2026-12-10T12:00:00Z", "refund_amount": "150.00", "currency": "EUR"},
            ],
        }))
        .unwrap();
        assert_eq!(
            refund_at(&rate, at("2026-11-30T00:00:00Z")),
            Ok(eur("300.00"))
        );
        assert_eq!(
            refund_at(&rate, at("2026-12-05T00:00:00Z")),
            Ok(eur("150.00"))
        );
        assert!(
            refund_at(&rate, at("2026-12-10T12:00:00Z"))
                .unwrap()
                .is_zero()
        );
    }
}
