//! Amadeus's hotel offers as Itinera's, and Itinera's travellers as Amadeus's guests.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rust_decimal::Decimal;

use super::wire::{self, CancellationRule, Guest};
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
    let cancellation = policy(&wire.policies.cancellations, &price).map_err(problem)?;
    Ok(Offer {
        id: OfferId::parse(&wire.id).map_err(|e| problem(e.to_string()))?,
        provider: super::NAME.into(),
        kind: ItemKind::Hotel,
        title: format!(
            "{}, {room_type}, {board}, {check_in} to {check_out} (cancellation through the hotel only)",
            hotel.name
        ),
        cancellation,
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

/// The hotel's terms as ours. Amadeus gives the penalty that applies after a deadline; where
/// the rules say nothing that can be read as money (several rules, none at all, a penalty in
/// nights), the offer is taken as non-refundable: promising less back than the hotel gives is
/// an error in the traveller's favour, promising more is not.
fn policy(rules: &[CancellationRule], price: &Money) -> Result<CancellationPolicy, String> {
    let [rule] = rules else {
        return Ok(CancellationPolicy::NonRefundable);
    };
    let Some(deadline) = &rule.deadline else {
        return Ok(CancellationPolicy::NonRefundable);
    };
    let free_until = DateTime::parse_from_rfc3339(deadline)
        .map_err(|e| format!("cancellation deadline {deadline}: {e}"))?
        .with_timezone(&Utc);
    let penalty = match (&rule.amount, &rule.percentage, rule.kind.as_deref()) {
        (Some(amount), _, _) => Money::parse(amount, price.currency().code())
            .map_err(|e| format!("cancellation amount: {e}"))?,
        (None, Some(percentage), _) => {
            let share: Decimal = percentage
                .parse()
                .map_err(|_| format!("cancellation percentage {percentage}"))?;
            let amount =
                (price.amount() * share / Decimal::from(100)).round_dp(price.currency().exponent());
            Money::new(amount, price.currency()).map_err(|e| e.to_string())?
        }
        (None, None, Some("FULL_STAY")) => *price,
        (None, None, _) => return Ok(CancellationPolicy::NonRefundable),
    };
    Ok(CancellationPolicy::Refundable {
        free_until,
        // A penalty above the price keeps it all, no more.
        penalty: if penalty > *price { *price } else { penalty },
    })
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
                .map(|phone| phone.chars().filter(|c| !c.is_whitespace()).collect()),
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

    fn eur(amount: &str) -> Money {
        Money::parse(amount, "EUR").unwrap()
    }

    fn rule(
        amount: Option<&str>,
        percentage: Option<&str>,
        kind: Option<&str>,
    ) -> CancellationRule {
        CancellationRule {
            kind: kind.map(str::to_string),
            amount: amount.map(str::to_string),
            percentage: percentage.map(str::to_string),
            deadline: Some("2026-12-01T23:59:00+01:00".into()),
        }
    }

    #[test]
    fn a_penalty_after_a_deadline_is_read_in_the_hotel_s_offset() {
        let price = eur("300.00");
        let free_until = DateTime::parse_from_rfc3339("2026-12-01T22:59:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            policy(&[rule(Some("100.00"), None, None)], &price),
            Ok(CancellationPolicy::Refundable {
                free_until,
                penalty: eur("100.00")
            })
        );
        assert_eq!(
            policy(&[rule(None, Some("25"), None)], &price),
            Ok(CancellationPolicy::Refundable {
                free_until,
                penalty: eur("75.00")
            })
        );
        assert_eq!(
            policy(&[rule(None, None, Some("FULL_STAY"))], &price),
            Ok(CancellationPolicy::Refundable {
                free_until,
                penalty: price
            })
        );
    }

    #[test]
    fn terms_that_cannot_be_read_as_money_promise_nothing_back() {
        let price = eur("300.00");
        assert_eq!(policy(&[], &price), Ok(CancellationPolicy::NonRefundable));
        // A penalty in nights only (`numberOfNights`, not read).
        let nights = rule(None, None, None);
        assert_eq!(
            policy(&[nights], &price),
            Ok(CancellationPolicy::NonRefundable)
        );
        let two = [rule(Some("10"), None, None), rule(Some("20"), None, None)];
        assert_eq!(policy(&two, &price), Ok(CancellationPolicy::NonRefundable));
    }
}
