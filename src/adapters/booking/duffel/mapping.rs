//! Duffel's offers as Itinera's, and Itinera's travellers as Duffel's passengers.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};

use super::wire::{self, Condition, OrderPassenger};
use crate::domain::ids::OfferId;
use crate::domain::money::Money;
use crate::domain::offer::{CancellationPolicy, ItemKind, Offer, OfferDetails};
use crate::domain::personal::e164;
use crate::domain::places::City;
use crate::domain::plan::{Traveller, TravellerKind};

/// Why a Duffel offer could not be read as ours.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Duffel offer {offer}: {problem}")]
pub struct UnreadableOffer {
    offer: String,
    problem: String,
}

/// A passenger detail Duffel requires that the plan's traveller lacks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PassengerError {
    #[error(
        "traveller {number} has no {missing}: Duffel requires it to book a flight; add it to the plan's travellers with update_travel_plan"
    )]
    Missing {
        number: usize,
        missing: &'static str,
    },
    #[error(
        "the offer is for {offered} passenger(s) but the plan has {travellers} traveller(s): search again for {travellers}"
    )]
    Count { offered: usize, travellers: usize },
    #[error(
        "the airline requires passports with issuing country and expiry date, which Itinera does not collect yet: pick another offer"
    )]
    IdentityDocuments,
    #[error(
        "traveller {number} is a child, and flights are searched and booked for adults only here: book the child's flight directly with the airline, or leave the flight out of the plan"
    )]
    Child { number: usize },
}

/// The latest a departure given in local time can be in UTC is 14 hours earlier (UTC+14), so a
/// deadline taken 14 hours before the local time never falls after the real departure.
const MAX_UTC_OFFSET_HOURS: i64 = 14;

/// Reads a Duffel offer. `city` is where the flight lands, as Itinera's table knows it.
pub fn offer(wire: &wire::Offer, city: City) -> Result<Offer, UnreadableOffer> {
    let problem = |problem: String| UnreadableOffer {
        offer: wire.id.clone(),
        problem,
    };
    let segments: Vec<&wire::Segment> = wire
        .slices
        .first()
        .map(|slice| slice.segments.iter().collect())
        .unwrap_or_default();
    let (Some(first), Some(last)) = (segments.first(), segments.last()) else {
        return Err(problem("no segments".into()));
    };
    let price = Money::parse(&wire.total_amount, &wire.total_currency)
        .map_err(|e| problem(format!("total: {e}")))?;
    let departs_at = local_time(&first.departing_at).map_err(problem)?;
    let arrives_at = local_time(&last.arriving_at).map_err(problem)?;
    let expires_at = DateTime::parse_from_rfc3339(&wire.expires_at)
        .map_err(|e| problem(format!("expires_at: {e}")))?
        .with_timezone(&Utc);
    let carrier = first
        .marketing_carrier
        .iata_code
        .clone()
        .unwrap_or_default();
    let flight_number = format!("{carrier}{}", first.marketing_carrier_flight_number);
    let stops = u8::try_from(segments.len() - 1).unwrap_or(u8::MAX);
    let cabin = first
        .passengers
        .first()
        .and_then(|passenger| passenger.cabin_class.clone())
        .unwrap_or_else(|| "economy".into());
    let stops_text = match stops {
        0 => "nonstop".to_string(),
        1 => "1 stop".to_string(),
        n => format!("{n} stops"),
    };
    Ok(Offer {
        id: OfferId::parse(&wire.id).map_err(|e| problem(e.to_string()))?,
        provider: super::NAME.into(),
        kind: ItemKind::Flight,
        title: format!(
            "{flight_number} {}→{} {} {}→{}, {stops_text}, {cabin} ({})",
            first.origin.iata_code,
            last.destination.iata_code,
            departs_at.date(),
            departs_at.format("%H:%M"),
            arrives_at.format("%H:%M"),
            wire.owner.name,
        ),
        cancellation: policy(
            wire.conditions.refund_before_departure.as_ref(),
            &price,
            departs_at,
        ),
        price,
        city,
        starts_on: departs_at.date(),
        ends_on: arrives_at.date(),
        expires_at,
        details: OfferDetails::Flight {
            carrier,
            carrier_name: first.marketing_carrier.name.clone(),
            flight_number,
            origin: first.origin.iata_code.clone(),
            destination: last.destination.iata_code.clone(),
            departs_at,
            arrives_at,
            stops,
            cabin,
            passengers: u8::try_from(wire.passengers.len()).unwrap_or(u8::MAX),
        },
        accepted_payments: Vec::new(),
    })
}

/// Duffel's datetimes of flights are local, `2026-12-10T08:05:00` (seconds optional).
fn local_time(text: &str) -> Result<NaiveDateTime, String> {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M"))
        .map_err(|e| format!("time '{text}': {e}"))
}

/// `refund_before_departure` as our policy, which is only Itinera's estimate: what a
/// cancellation gives back is Duffel's quote. Silence, a refusal, an unknown penalty or one in
/// another currency count as non-refundable, so nothing more is promised than the airline gives.
/// A refund without penalty is free until departure; one with a penalty keeps it; both end at
/// departure.
fn policy(
    refund: Option<&Condition>,
    price: &Money,
    departs_at: NaiveDateTime,
) -> CancellationPolicy {
    let Some(Condition {
        allowed: true,
        penalty_amount: Some(amount),
        penalty_currency: Some(currency),
    }) = refund
    else {
        return CancellationPolicy::NonRefundable;
    };
    let Ok(penalty) = Money::parse(amount, currency) else {
        return CancellationPolicy::NonRefundable;
    };
    if penalty.currency() != price.currency() {
        return CancellationPolicy::NonRefundable;
    }
    let departure = departs_at.and_utc() - Duration::hours(MAX_UTC_OFFSET_HOURS);
    if penalty.is_zero() {
        CancellationPolicy::Refundable {
            free_until: departure,
            penalty: *price,
        }
    } else {
        CancellationPolicy::RefundableUntil {
            deadline: departure,
            penalty,
        }
    }
}

/// The plan's travellers as the offer's passengers, in order. Everything Duffel requires that
/// a traveller may lack is checked here, before any call, so the person is told what to add.
pub fn passengers(
    offer: &wire::Offer,
    travellers: &[Traveller],
) -> Result<Vec<OrderPassenger>, PassengerError> {
    if offer.passengers.len() != travellers.len() {
        return Err(PassengerError::Count {
            offered: offer.passengers.len(),
            travellers: travellers.len(),
        });
    }
    if offer.passenger_identity_documents_required {
        return Err(PassengerError::IdentityDocuments);
    }
    offer
        .passengers
        .iter()
        .zip(travellers)
        .enumerate()
        .map(|(index, (passenger, traveller))| {
            // Counted from 1 as the person reads the plan; no name: the message is logged.
            let number = index + 1;
            if traveller.kind == TravellerKind::Child {
                // The search asked for adults: a child in an adult's seat is the wrong fare.
                return Err(PassengerError::Child { number });
            }
            let missing = |missing| PassengerError::Missing { number, missing };
            Ok(OrderPassenger {
                id: passenger.id.clone(),
                title: traveller.title.ok_or_else(|| missing("title"))?,
                gender: traveller.gender.ok_or_else(|| missing("gender"))?,
                given_name: traveller.given_name.clone(),
                family_name: traveller.family_name.clone(),
                born_on: traveller
                    .date_of_birth
                    .ok_or_else(|| missing("date_of_birth"))?
                    .format("%Y-%m-%d")
                    .to_string(),
                email: traveller.email.clone().ok_or_else(|| missing("email"))?,
                phone_number: e164(traveller.phone.as_deref().ok_or_else(|| missing("phone"))?),
            })
        })
        .collect()
}

/// Itinera keeps phones as typed (`+33 6 12-34`); Duffel wants E.164 (`+33612…`).
#[cfg(test)]
mod tests {
    use super::*;

    fn eur(amount: &str) -> Money {
        Money::parse(amount, "EUR").unwrap()
    }

    fn condition(allowed: bool, penalty: Option<(&str, &str)>) -> Condition {
        Condition {
            allowed,
            penalty_amount: penalty.map(|(amount, _)| amount.to_string()),
            penalty_currency: penalty.map(|(_, currency)| currency.to_string()),
        }
    }

    #[test]
    fn refunds_are_promised_only_as_far_as_the_airline_states_them() {
        let now = DateTime::parse_from_rfc3339("2026-11-26T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let departs =
            NaiveDateTime::parse_from_str("2026-12-10T08:00:00", "%Y-%m-%dT%H:%M:%S").unwrap();
        let price = eur("200");
        let free = policy(
            Some(&condition(true, Some(("0.00", "EUR")))),
            &price,
            departs,
        );
        assert_eq!(
            free.refund_for(&price, now).unwrap(),
            price,
            "no penalty: all back"
        );
        let after_departure = departs.and_utc();
        assert!(free.refund_for(&price, after_departure).unwrap().is_zero());
        let fee = policy(
            Some(&condition(true, Some(("50.00", "EUR")))),
            &price,
            departs,
        );
        assert_eq!(fee.refund_for(&price, now).unwrap(), eur("150"));
        for silent in [
            None,
            Some(condition(false, None)),
            Some(condition(true, None)),
            Some(condition(true, Some(("40.00", "GBP")))),
        ] {
            assert_eq!(
                policy(silent.as_ref(), &price, departs),
                CancellationPolicy::NonRefundable
            );
        }
    }

    #[test]
    fn phones_are_sent_in_e164() {
        assert_eq!(e164("+33 6 12-34 56 78"), "+33612345678");
    }
}
