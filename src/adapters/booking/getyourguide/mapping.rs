//! GetYourGuide's time slots as Itinera's offers, the offer id that carries what a booking needs
//! back, the tour's cancellation terms as our policy, and the lead traveller as the buyer.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use rust_decimal::Decimal;

use super::wire::{self, Amount, Billing, Contact, DurationUnit, FeeUnit, TicketCategory};
use crate::domain::idempotency::IdempotencyKey;
use crate::domain::ids::OfferId;
use crate::domain::money::{Currency, Money};
use crate::domain::offer::{CancellationPolicy, ItemKind, Offer, OfferDetails};
use crate::domain::places::City;
use crate::domain::plan::Traveller;

/// Offer ids of GetYourGuide slots start so: the rest is the slot, base64url (no padding).
const ID_PREFIX: &str = "gyg_";
/// `external_reference_id` is at most 255 characters.
const MAX_REFERENCE: usize = 255;
const REFERENCE_PREFIX: &str = "itinera-";
/// GetYourGuide's local date-times: `Y-m-dTH:i:s`.
const LOCAL: &str = "%Y-%m-%dT%H:%M:%S";

/// One bookable time slot: the tour, its option, the local start and the adult category a
/// booking names. The date-time holds `:`, which an offer id may not, so the id is the four
/// joined by newlines, base64url-encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    pub tour_id: i64,
    pub option_id: i64,
    pub date_time: String,
    pub adult_category: i64,
}

/// Why an answer or an offer id could not be read as ours.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("GetYourGuide slot {slot}: {problem}")]
pub struct Unreadable {
    slot: String,
    problem: String,
}

/// A buyer detail GetYourGuide requires that the lead traveller lacks, or a party it cannot
/// book here.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuyerError {
    #[error(
        "the lead traveller has no {what}: GetYourGuide requires the buyer's e-mail and phone; add it to the plan's first traveller with update_travel_plan"
    )]
    Missing { what: &'static str },
    #[error(transparent)]
    Party(#[from] crate::adapters::booking::adult_party::PartyError),
}

impl Slot {
    pub fn offer_id(&self) -> Result<OfferId, Unreadable> {
        let joined = format!(
            "{}\n{}\n{}\n{}",
            self.tour_id, self.option_id, self.date_time, self.adult_category
        );
        OfferId::parse(&format!("{ID_PREFIX}{}", URL_SAFE_NO_PAD.encode(joined))).map_err(|e| {
            Unreadable {
                slot: self.tour_id.to_string(),
                problem: e.to_string(),
            }
        })
    }

    /// The slot an offer id of ours names.
    pub fn from_offer_id(id: &OfferId) -> Result<Slot, Unreadable> {
        let problem = |problem: &str| Unreadable {
            slot: id.to_string(),
            problem: problem.to_string(),
        };
        let bytes = id
            .as_str()
            .strip_prefix(ID_PREFIX)
            .and_then(|encoded| URL_SAFE_NO_PAD.decode(encoded).ok())
            .ok_or_else(|| problem("not an offer id of GetYourGuide's adapter"))?;
        let text = String::from_utf8(bytes).map_err(|_| problem("not text"))?;
        let parts: Vec<&str> = text.split('\n').collect();
        let [tour, option, date_time, category] = parts.as_slice() else {
            return Err(problem("not four parts"));
        };
        let number = |part: &str| part.parse::<i64>().map_err(|_| problem("not a number"));
        let slot = Slot {
            tour_id: number(tour)?,
            option_id: number(option)?,
            date_time: (*date_time).to_string(),
            adult_category: number(category)?,
        };
        slot.start().ok_or_else(|| problem("no start"))?;
        Ok(slot)
    }

    /// The local start.
    pub fn start(&self) -> Option<NaiveDateTime> {
        NaiveDateTime::parse_from_str(&self.date_time, LOCAL).ok()
    }

    pub fn date(&self) -> Option<NaiveDate> {
        self.start().map(|start| start.date())
    }
}

/// What the tours search said of a tour: its name, length and cancellation terms.
#[derive(Debug, Clone)]
pub struct Tour {
    pub id: i64,
    pub title: String,
    pub duration_minutes: u32,
    pub terms: Option<wire::CancellationTerms>,
}

impl Tour {
    pub fn from_wire(tour: &wire::Tour) -> Tour {
        Tour {
            id: tour.tour_id,
            title: tour
                .title
                .clone()
                .unwrap_or_else(|| format!("GetYourGuide tour {}", tour.tour_id)),
            duration_minutes: tour.durations.iter().find_map(minutes).unwrap_or(0),
            terms: tour.cancellation_policy.clone(),
        }
    }
}

fn minutes(duration: &wire::Duration) -> Option<u32> {
    let amount = duration.duration?.0;
    let per_unit = match duration.unit? {
        DurationUnit::Minute => 1,
        DurationUnit::Hour => 60,
        DurationUnit::Day => 24 * 60,
        DurationUnit::Other => return None,
    };
    u32::try_from((amount * Decimal::from(per_unit)).round().mantissa()).ok()
}

/// A JSON price in a currency code as our money.
pub fn money(amount: Amount, currency: &str) -> Result<Money, String> {
    let currency = Currency::parse(currency).map_err(|e| e.to_string())?;
    Money::new(amount.0, currency).map_err(|e| e.to_string())
}

/// The cheapest slot of the day open to `adults`, and its retail price for them: a slot with
/// room (no unavailability, enough vacancies, within its party bounds) priced for exactly that
/// many adults. `tour_id` completes the slot.
pub fn cheapest_slot(tour_id: i64, day: &wire::DayBreakdown, adults: u8) -> Option<(Slot, Money)> {
    day.tour_options
        .iter()
        .flat_map(|option| {
            option
                .time_slots
                .iter()
                .filter_map(move |slot| priced(tour_id, option.option_id, slot, adults))
        })
        .min_by(|(_, a), (_, b)| a.amount().cmp(&b.amount()))
}

/// The slot `wanted` names in the day's breakdown, if it is still open to `adults`, at its price.
pub fn same_slot(wanted: &Slot, day: &wire::DayBreakdown, adults: u8) -> Option<(Slot, Money)> {
    day.tour_options
        .iter()
        .filter(|option| option.option_id == wanted.option_id)
        .flat_map(|option| &option.time_slots)
        .filter(|slot| slot.date_time == wanted.date_time)
        .find_map(|slot| priced(wanted.tour_id, wanted.option_id, slot, adults))
}

fn priced(
    tour_id: i64,
    option_id: i64,
    slot: &wire::TimeSlot,
    adults: u8,
) -> Option<(Slot, Money)> {
    let party = i64::from(adults);
    let open = slot.unavailability_reason.is_none()
        && slot.vacancies >= party
        && slot.min_participants.is_none_or(|min| party >= min)
        && slot.max_participants.is_none_or(|max| party <= max);
    if !open {
        return None;
    }
    let breakdown = slot.price_breakdown.as_ref()?;
    let adult = breakdown
        .individuals
        .iter()
        .find(|i| i.ticket_category == TicketCategory::Adult && i.quantity == party)?;
    let price = money(
        breakdown.price_summary.retail_price,
        &breakdown.price_summary.currency,
    )
    .inspect_err(|problem| tracing::warn!(%problem, tour_id, "GetYourGuide price unreadable"))
    .ok()?;
    Some((
        Slot {
            tour_id,
            option_id,
            date_time: slot.date_time.clone(),
            adult_category: adult.category_id,
        },
        price,
    ))
}

/// The latest a start given in local time can be in UTC is 14 hours earlier (UTC+14), so a
/// deadline taken 14 hours before the local time never falls after the real one (GetYourGuide's
/// slots are local, and Itinera has no time zone table).
const MAX_UTC_OFFSET_HOURS: i64 = 14;

/// The tour's cancellation terms as our policy, never promising more than GetYourGuide gives:
/// cancellable with no fee until `offset` minutes before the start → refundable until then,
/// nothing after; with a fee → refundable less the fee until then; not cancellable, no terms,
/// or terms this adapter cannot read → non-refundable.
pub fn policy(
    terms: Option<&wire::CancellationTerms>,
    slot: &Slot,
    price: Money,
) -> CancellationPolicy {
    let Some(terms) = terms.filter(|terms| terms.cancellable == Some(true)) else {
        return CancellationPolicy::NonRefundable;
    };
    let Some(start) = slot.start() else {
        return CancellationPolicy::NonRefundable;
    };
    let deadline = start.and_utc()
        - chrono::Duration::minutes(terms.cancellation_offset_minutes.unwrap_or(0).max(0))
        - chrono::Duration::hours(MAX_UTC_OFFSET_HOURS);
    match fee(terms, price) {
        Some(fee) if fee.is_zero() => CancellationPolicy::Refundable {
            free_until: deadline,
            penalty: price,
        },
        Some(fee) => CancellationPolicy::RefundableUntil {
            deadline,
            penalty: fee,
        },
        None => CancellationPolicy::NonRefundable,
    }
}

/// The fee cancelling costs on `price`, rounded up to the currency's unit (never promising more
/// back); `None` when the terms cannot be read.
pub fn fee(terms: &wire::CancellationTerms, price: Money) -> Option<Money> {
    let value = terms.cancellation_fee_value.map_or(Decimal::ZERO, |v| v.0);
    if value.is_zero() {
        return Some(Money::zero(price.currency()));
    }
    let amount = match terms.cancellation_fee_unit? {
        FeeUnit::Fixed => value,
        FeeUnit::Percentage => price.amount() * value / Decimal::ONE_HUNDRED,
        FeeUnit::Other => return None,
    };
    let rounded = amount
        .round_dp_with_strategy(
            price.currency().exponent(),
            rust_decimal::RoundingStrategy::AwayFromZero,
        )
        .min(price.amount());
    Money::new(rounded, price.currency()).ok()
}

/// One slot as an offer, under the tour's cancellation policy.
pub fn offer(
    slot: &Slot,
    tour: &Tour,
    price: Money,
    (city, adults, expires_at): (City, u8, DateTime<Utc>),
) -> Result<Offer, Unreadable> {
    let unreadable = |problem: &str| Unreadable {
        slot: slot.date_time.clone(),
        problem: problem.to_string(),
    };
    let start = slot.start().ok_or_else(|| unreadable("no start"))?;
    let date = start.date();
    // Midnight is how GetYourGuide shows a ticket valid during opening hours: no start time.
    let start_time = if start.time() == chrono::NaiveTime::MIN {
        String::new()
    } else {
        start.format("%H:%M").to_string()
    };
    let mut title = format!("{}, {date}", tour.title);
    if !start_time.is_empty() {
        title.push_str(&format!(" {start_time}"));
    }
    Ok(Offer {
        id: slot.offer_id()?,
        provider: super::NAME.into(),
        kind: ItemKind::Activity,
        title,
        price,
        city,
        starts_on: date,
        ends_on: date,
        cancellation: policy(tour.terms.as_ref(), slot, price),
        expires_at,
        details: OfferDetails::Activity {
            name: tour.title.clone(),
            date,
            start_time,
            duration_minutes: tour.duration_minutes,
            participants: adults,
        },
        accepted_payments: Vec::new(),
    })
}

/// Our reference for a booking at GetYourGuide, the same on every send: the saga's key
/// (hashed if longer than GetYourGuide's 255 characters). GetYourGuide keeps it on the booking,
/// for the partner's records; nothing in its API finds a booking by it.
pub fn external_reference(key: &IdempotencyKey) -> String {
    crate::adapters::booking::our_reference::for_key(REFERENCE_PREFIX, key, MAX_REFERENCE)
}

/// The lead traveller as GetYourGuide's buyer (`billing`, in `country`) and traveller: every
/// field the cart requires is checked here, before any call, so the person is told what to add.
pub fn buyer(
    travellers: &[Traveller],
    adults: u8,
    country: &str,
) -> Result<(Billing, Contact), BuyerError> {
    let lead = crate::adapters::booking::adult_party::lead_of(travellers, adults, "GetYourGuide")?;
    let missing = |what| BuyerError::Missing { what };
    let email = lead
        .email
        .as_deref()
        .map(str::trim)
        .filter(|email| email.contains('@'))
        .ok_or_else(|| missing("e-mail"))?;
    let phone = lead
        .phone
        .as_deref()
        .map(international)
        .filter(|phone| phone.len() > 1)
        .ok_or_else(|| missing("phone"))?;
    let contact = Contact {
        first_name: lead.given_name.trim().to_string(),
        last_name: lead.family_name.trim().to_string(),
        email: email.to_string(),
        phone_number: phone,
    };
    Ok((
        Billing {
            contact: contact.clone(),
            country_code: country.to_string(),
        },
        contact,
    ))
}

/// ITU E.123 international form: `+` and the digits.
fn international(phone: &str) -> String {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    format!("+{digits}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(
        cancellable: bool,
        unit: Option<FeeUnit>,
        value: Option<&str>,
        offset: Option<i64>,
    ) -> wire::CancellationTerms {
        wire::CancellationTerms {
            cancellable: Some(cancellable),
            cancellation_fee_unit: unit,
            cancellation_fee_value: value.map(|v| Amount(v.parse().unwrap())),
            cancellation_offset_minutes: offset,
        }
    }

    fn slot() -> Slot {
        Slot {
            tour_id: 50872,
            option_id: 69232,
            date_time: "2026-12-10T09:30:00".into(),
            adult_category: 33,
        }
    }

    #[test]
    fn an_offer_id_carries_the_slot_back() {
        let id = slot().offer_id().unwrap();
        assert!(id.as_str().starts_with("gyg_"));
        assert_eq!(Slot::from_offer_id(&id).unwrap(), slot());
        assert!(Slot::from_offer_id(&OfferId::parse("vtr_abc").unwrap()).is_err());
    }

    #[test]
    fn the_policy_promises_no_more_than_the_terms() {
        let price = Money::parse("91.00", "EUR").unwrap();
        let deadline = DateTime::parse_from_rfc3339("2026-12-08T19:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        // Free until 24 h before the start (14 h earlier for the time zone).
        assert_eq!(
            policy(Some(&terms(true, None, None, Some(1440))), &slot(), price),
            CancellationPolicy::Refundable {
                free_until: deadline,
                penalty: price
            }
        );
        assert_eq!(
            policy(
                Some(&terms(
                    true,
                    Some(FeeUnit::Percentage),
                    Some("12.5"),
                    Some(1440)
                )),
                &slot(),
                price
            ),
            CancellationPolicy::RefundableUntil {
                deadline,
                penalty: Money::parse("11.38", "EUR").unwrap()
            },
            "12.5 % of 91.00 is 11.375, rounded up"
        );
        assert_eq!(
            policy(
                Some(&terms(true, Some(FeeUnit::Fixed), Some("10"), Some(1440))),
                &slot(),
                price
            ),
            CancellationPolicy::RefundableUntil {
                deadline,
                penalty: Money::parse("10.00", "EUR").unwrap()
            }
        );
        assert_eq!(
            policy(Some(&terms(false, None, None, None)), &slot(), price),
            CancellationPolicy::NonRefundable
        );
        assert_eq!(
            policy(None, &slot(), price),
            CancellationPolicy::NonRefundable
        );
        assert_eq!(
            policy(
                Some(&terms(true, Some(FeeUnit::Other), Some("5"), None)),
                &slot(),
                price
            ),
            CancellationPolicy::NonRefundable
        );
    }

    #[test]
    fn the_external_reference_is_the_key_s_and_fits() {
        let long = IdempotencyKey::recorded("k".repeat(300));
        let hashed = external_reference(&long);
        assert_eq!(hashed.len(), REFERENCE_PREFIX.len() + 64);
        let short = IdempotencyKey::recorded("abc".to_string());
        assert_eq!(external_reference(&short), "itinera-abc");
    }
}
