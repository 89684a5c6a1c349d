//! Amadeus's hotel offers as Itinera's, and Itinera's travellers as Amadeus's guests.

use chrono::{DateTime, Duration, NaiveDate, Utc};

use super::wire::{self, CancellationRule, Guest, PaymentType};
use crate::adapters::booking::agency_card::{AgencyCard, CardBrand};
use crate::domain::ids::OfferId;
use crate::domain::money::Money;
use crate::domain::offer::{CancellationPolicy, ItemKind, Offer, OfferDetails};
use crate::domain::places::City;
use crate::domain::plan::{Title, Traveller};

/// Amadeus gives no expiry for its offers ("valid for a temporary period only"); Itinera
/// re-prices every offer before booking anyway, so this only says how long a price shown is
/// worth trusting.
const OFFER_TRUSTED_FOR: Duration = Duration::minutes(30);

/// Why an Amadeus offer could not be read as ours.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Amadeus offer {offer}: {problem}")]
pub struct UnreadableOffer {
    offer: String,
    problem: String,
}

/// Whether Itinera can sell the offer: paid in full when booked (`PREPAY`), with the agency's
/// card. A `GUARANTEE`, `DEPOSIT` or `HOLDTIME` offer is paid, or finished paying, at the hotel:
/// charging the traveller too would take the money twice.
pub fn sellable(wire: &wire::HotelOffer) -> bool {
    wire.policies.payment_type == Some(PaymentType::Prepay)
}

/// Reads one offer of one hotel, in `city`, at `now`.
pub fn offer(
    hotel: &wire::Hotel,
    wire: &wire::HotelOffer,
    city: City,
    now: DateTime<Utc>,
) -> Result<Offer, UnreadableOffer> {
    let problem = |problem: String| UnreadableOffer {
        offer: wire.id.clone(),
        problem,
    };
    let price = Money::parse(&wire.price.total, &wire.price.currency)
        .map_err(|e| problem(format!("total: {e}")))?;
    let date = |text: &str| {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|e| problem(format!("{text}: {e}")))
    };
    let check_in = date(&wire.check_in_date)?;
    let check_out = date(&wire.check_out_date)?;
    let room_type = wire
        .room
        .description
        .as_ref()
        .map(|text| first_line(&text.text))
        .or_else(|| wire.room.kind.clone())
        .unwrap_or_else(|| "room".into());
    let board = wire
        .board_type
        .as_deref()
        .map(|board| board.to_ascii_lowercase().replace('_', " "))
        .unwrap_or_else(|| "room only".into());
    let terms = hotel_terms(&wire.policies.cancellations).map_err(problem)?;
    Ok(Offer {
        id: OfferId::parse(&wire.id).map_err(|e| problem(e.to_string()))?,
        provider: super::NAME.into(),
        kind: ItemKind::Hotel,
        title: format!(
            "{}, {room_type}, {board}, {check_in} to {check_out} (no refund through Itinera; cancel with the hotel: {terms})",
            hotel.name
        ),
        // Amadeus cannot cancel, and what the hotel gives back goes to the agency's card: the
        // traveller is promised nothing back through Itinera (the title says what the hotel's
        // own terms are).
        cancellation: CancellationPolicy::NonRefundable,
        price,
        city,
        starts_on: check_in,
        ends_on: check_out,
        expires_at: now + OFFER_TRUSTED_FOR,
        details: OfferDetails::Hotel {
            hotel_name: hotel.name.clone(),
            room_type,
            board,
            // The Hotel List and Hotel Search APIs give no star rating.
            stars: 0,
            check_in,
            check_out,
            guests: wire.guests.as_ref().map_or(1, |guests| guests.adults),
        },
        accepted_payments: Vec::new(),
    })
}

/// A room description's first sentence or line, which names the room.
fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default();
    let name = line.split(['.', ',']).next().unwrap_or(line).trim();
    name.chars().take(80).collect()
}

/// The hotel's cancellation terms in words: the deadline of its one penalty rule, when there is
/// exactly one.
fn hotel_terms(rules: &[CancellationRule]) -> Result<String, String> {
    let [
        CancellationRule {
            deadline: Some(deadline),
        },
    ] = rules
    else {
        return Ok(if rules.is_empty() {
            "non-refundable".to_string()
        } else {
            "under its own terms".to_string()
        });
    };
    let free_until = DateTime::parse_from_rfc3339(deadline)
        .map_err(|e| format!("cancellation deadline {deadline}: {e}"))?
        .with_timezone(&Utc);
    Ok(format!(
        "free until {} UTC, a penalty after",
        free_until.format("%Y-%m-%d %H:%M")
    ))
}

/// The agency's card as Amadeus takes it: its two-letter vendor code (`VI`, `CA` for
/// Mastercard, `AX`) beside the card's details.
pub fn card(card: &AgencyCard) -> wire::PaymentCardInfo {
    wire::PaymentCardInfo {
        vendor_code: match card.brand() {
            CardBrand::Visa => "VI",
            CardBrand::Mastercard => "CA",
            CardBrand::AmericanExpress => "AX",
        },
        card_number: card.number().to_string(),
        expiry_date: card.expiry().to_string(),
        holder_name: card.holder().to_string(),
        security_code: card.security_code().map(str::to_string),
    }
}

/// The plan's travellers as guests, numbered from 1 for the room association.
pub fn guests(travellers: &[Traveller]) -> Vec<Guest> {
    travellers
        .iter()
        .zip(1..)
        .map(|(traveller, tid)| Guest {
            tid,
            title: traveller.title.map(title),
            first_name: traveller.given_name.to_uppercase(),
            last_name: traveller.family_name.to_uppercase(),
            phone: traveller
                .phone
                .as_ref()
                .map(|phone| crate::domain::personal::e164(phone)),
            email: traveller.email.clone(),
        })
        .collect()
}

fn title(title: Title) -> &'static str {
    match title {
        Title::Mr => "MR",
        Title::Ms => "MS",
        Title::Mrs => "MRS",
        Title::Miss => "MISS",
        Title::Dr => "DR",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(deadline: Option<&str>) -> CancellationRule {
        CancellationRule {
            deadline: deadline.map(str::to_string),
        }
    }

    #[test]
    fn the_hotel_s_deadline_is_told_in_utc_and_anything_else_promises_nothing() {
        assert_eq!(
            hotel_terms(&[rule(Some("2026-12-01T23:59:00+01:00"))]),
            Ok("free until 2026-12-01 22:59 UTC, a penalty after".to_string())
        );
        assert_eq!(hotel_terms(&[]), Ok("non-refundable".to_string()));
        assert_eq!(
            hotel_terms(&[rule(Some("2026-12-01T23:59:00Z")), rule(None)]),
            Ok("under its own terms".to_string())
        );
        assert!(hotel_terms(&[rule(Some("tomorrow"))]).is_err());
    }
}
