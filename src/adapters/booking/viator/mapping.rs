//! Viator's bookable items as Itinera's offers, the offer id that carries what a booking needs
//! back, and Itinera's lead traveller as Viator's booker.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, NaiveDate, Utc};

use super::wire::{self, Amount, BookerInfo, Communication, Item, Pax};
use crate::domain::idempotency::IdempotencyKey;
use crate::domain::ids::OfferId;
use crate::domain::money::{Currency, Money};
use crate::domain::offer::{CancellationPolicy, ItemKind, Offer, OfferDetails};
use crate::domain::places::City;
use crate::domain::plan::Traveller;

/// Offer ids of Viator items start so: the rest is the item, base64url (no padding).
const ID_PREFIX: &str = "vtr_";
/// `partnerBookingRef` is at most 100 characters.
const MAX_PARTNER_REF: usize = 100;
const PARTNER_REF_PREFIX: &str = "itinera-";

/// What identifies one bookable item at Viator: the product, its option, the day and the start
/// time. Viator's codes may hold characters an offer id may not (`:` in `09:00`), so the id is
/// these four joined by newlines, base64url-encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemRef {
    pub product_code: String,
    pub option_code: Option<String>,
    pub travel_date: NaiveDate,
    pub start_time: Option<String>,
}

/// Why a Viator answer or an offer id could not be read as ours.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Viator item {item}: {problem}")]
pub struct Unreadable {
    item: String,
    problem: String,
}

/// A booker detail Viator requires that the lead traveller lacks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BookerError {
    #[error(
        "the lead traveller has no phone: Viator requires one for the supplier to reach them; add it to the plan's first traveller with update_travel_plan"
    )]
    NoPhone,
    #[error(transparent)]
    Party(#[from] crate::adapters::booking::adult_party::PartyError),
}

impl ItemRef {
    pub fn offer_id(&self) -> Result<OfferId, Unreadable> {
        let joined = [
            self.product_code.as_str(),
            self.option_code.as_deref().unwrap_or_default(),
            &self.travel_date.format("%Y-%m-%d").to_string(),
            self.start_time.as_deref().unwrap_or_default(),
        ]
        .join("\n");
        OfferId::parse(&format!("{ID_PREFIX}{}", URL_SAFE_NO_PAD.encode(joined)))
            .map_err(|e| self.unreadable(e.to_string()))
    }

    /// The item an offer id of ours names.
    pub fn from_offer_id(id: &OfferId) -> Result<ItemRef, Unreadable> {
        let problem = |problem: &str| Unreadable {
            item: id.to_string(),
            problem: problem.to_string(),
        };
        let bytes = id
            .as_str()
            .strip_prefix(ID_PREFIX)
            .and_then(|encoded| URL_SAFE_NO_PAD.decode(encoded).ok())
            .ok_or_else(|| problem("not an offer id of Viator's adapter"))?;
        let text = String::from_utf8(bytes).map_err(|_| problem("not text"))?;
        let parts: Vec<&str> = text.split('\n').collect();
        let [code, option, date, time] = parts.as_slice() else {
            return Err(problem("not four parts"));
        };
        let optional = |part: &str| (!part.is_empty()).then(|| part.to_string());
        Ok(ItemRef {
            product_code: (*code).to_string(),
            option_code: optional(option),
            travel_date: NaiveDate::parse_from_str(date, "%Y-%m-%d")
                .map_err(|_| problem("no travel date"))?,
            start_time: optional(time),
        })
    }

    /// The item as Viator's availability, hold and book calls take it.
    pub fn item(&self, currency: Currency, adults: u8) -> Item {
        Item {
            product_code: self.product_code.clone(),
            product_option_code: self.option_code.clone(),
            start_time: self.start_time.clone(),
            travel_date: self.travel_date.format("%Y-%m-%d").to_string(),
            currency: currency.code().to_string(),
            pax_mix: vec![Pax {
                age_band: "ADULT",
                number_of_travelers: adults,
            }],
        }
    }

    /// Whether Viator's bookable item is this one.
    pub fn names(&self, item: &wire::BookableItem) -> bool {
        item.product_option_code == self.option_code && item.start_time == self.start_time
    }

    fn unreadable(&self, problem: String) -> Unreadable {
        Unreadable {
            item: self.product_code.clone(),
            problem,
        }
    }
}

/// What a product search said about the product: its name and length.
#[derive(Debug, Clone)]
pub struct Product {
    pub title: String,
    pub duration_minutes: u32,
}

impl Product {
    pub fn from_summary(summary: &wire::ProductSummary) -> Product {
        Product {
            title: summary
                .title
                .clone()
                .unwrap_or_else(|| summary.product_code.clone()),
            duration_minutes: summary
                .duration
                .as_ref()
                .and_then(wire::ProductDuration::minutes)
                .unwrap_or(0),
        }
    }
}

/// A JSON price in a currency code as our money.
pub fn money(amount: Amount, currency: &str) -> Result<Money, String> {
    let currency = Currency::parse(currency).map_err(|e| e.to_string())?;
    Money::new(amount.0, currency).map_err(|e| e.to_string())
}

/// The price Viator asks for a bookable item: its `partnerTotalPrice`, in the answer's currency.
pub fn item_price(item: &wire::BookableItem, currency: &str) -> Result<Money, String> {
    let total = item
        .total_price
        .as_ref()
        .ok_or_else(|| "no totalPrice".to_string())?;
    money(total.price.partner_total_price, currency)
}

/// The latest a start given in local time can be in UTC is 14 hours earlier (UTC+14), so a
/// deadline taken 14 hours before the local time never falls after the real one (Viator gives
/// the product's time zone by name, and Itinera has no time zone table).
const MAX_UTC_OFFSET_HOURS: i64 = 14;

/// The product's refund windows as our policy, which is only Itinera's estimate: what a
/// cancellation gives back is Viator's quote. Only a full refund is promised: free until the
/// end of the last 100 % window, nothing after (a partial window later is not promised). No
/// terms, or no full refund at any time, is `NonRefundable`.
pub fn policy(
    terms: Option<&wire::CancellationTerms>,
    item: &ItemRef,
    price: Money,
) -> CancellationPolicy {
    let Some(days_before) = terms
        .into_iter()
        .flat_map(|terms| &terms.refund_eligibility)
        .filter(|window| window.percentage_refundable >= 100)
        .map(|window| window.day_range_min)
        .min()
    else {
        return CancellationPolicy::NonRefundable;
    };
    let start = item
        .start_time
        .as_deref()
        .and_then(|time| chrono::NaiveTime::parse_from_str(time, "%H:%M").ok())
        .unwrap_or(chrono::NaiveTime::MIN);
    let free_until = item.travel_date.and_time(start).and_utc()
        - chrono::Duration::days(days_before.max(0))
        - chrono::Duration::hours(MAX_UTC_OFFSET_HOURS);
    CancellationPolicy::Refundable {
        free_until,
        penalty: price,
    }
}

/// One available bookable item as an offer, under the product's cancellation policy.
pub fn offer(
    item_ref: &ItemRef,
    product: &Product,
    price: Money,
    cancellation: CancellationPolicy,
    (city, adults, expires_at): (City, u8, DateTime<Utc>),
) -> Result<Offer, Unreadable> {
    let start_time = item_ref.start_time.clone().unwrap_or_default();
    let mut title = format!("{}, {}", product.title, item_ref.travel_date);
    if !start_time.is_empty() {
        title.push_str(&format!(" {start_time}"));
    }
    if let Some(option) = &item_ref.option_code {
        title.push_str(&format!(" (option {option})"));
    }
    Ok(Offer {
        id: item_ref.offer_id()?,
        provider: super::NAME.into(),
        kind: ItemKind::Activity,
        title,
        price,
        city,
        starts_on: item_ref.travel_date,
        ends_on: item_ref.travel_date,
        cancellation,
        expires_at,
        details: OfferDetails::Activity {
            name: product.title.clone(),
            date: item_ref.travel_date,
            start_time,
            duration_minutes: product.duration_minutes,
            participants: adults,
        },
        accepted_payments: Vec::new(),
    })
}

/// Our reference for a booking at Viator, the same on every send of it: Viator keeps
/// `partnerBookingRef` unique, so a repeat cannot book twice, and a lookup by it finds the
/// booking an unanswered send made. Keys too long for Viator's 100 characters are hashed.
pub fn partner_booking_ref(key: &IdempotencyKey) -> String {
    crate::adapters::booking::our_reference::for_key(PARTNER_REF_PREFIX, key, MAX_PARTNER_REF)
}

/// Viator's names are 1 to 50 characters.
fn name(text: &str) -> String {
    text.trim().chars().take(50).collect()
}

/// The lead traveller as the booker, and the phone and e-mail the supplier writes to. Everything
/// Viator requires is checked here, before any call, so the person is told what to add.
pub fn booker(
    travellers: &[Traveller],
    adults: u8,
) -> Result<(BookerInfo, Communication), BookerError> {
    let lead = crate::adapters::booking::adult_party::lead_of(travellers, adults, "Viator")?;
    let phone = lead
        .phone
        .as_deref()
        .map(international)
        .filter(|phone| phone.len() > 1)
        .ok_or(BookerError::NoPhone)?;
    Ok((
        BookerInfo {
            first_name: name(&lead.given_name),
            last_name: name(&lead.family_name),
        },
        Communication {
            phone,
            email: lead.email.clone(),
        },
    ))
}

/// Viator wants the phone starting with `+` and at most 30 characters: `+33612345678`.
fn international(phone: &str) -> String {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    format!("+{digits}").chars().take(30).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_offer_id_carries_the_item_back() {
        let item = ItemRef {
            product_code: "5657BRIDGECLIMB".into(),
            option_code: Some("TG1".into()),
            travel_date: NaiveDate::from_ymd_opt(2026, 12, 10).unwrap(),
            start_time: Some("09:00".into()),
        };
        let id = item.offer_id().unwrap();
        assert!(id.as_str().starts_with("vtr_"));
        assert_eq!(ItemRef::from_offer_id(&id).unwrap(), item);
        let bare = ItemRef {
            option_code: None,
            start_time: None,
            ..item
        };
        assert_eq!(
            ItemRef::from_offer_id(&bare.offer_id().unwrap()).unwrap(),
            bare
        );
        assert!(ItemRef::from_offer_id(&OfferId::parse("off_123").unwrap()).is_err());
    }

    #[test]
    fn the_partner_reference_is_the_key_s_and_fits_viator() {
        let order = crate::domain::ids::OrderId::generate();
        let key = IdempotencyKey::derive(
            &order,
            None,
            crate::domain::idempotency::Operation::Book,
            "0",
        );
        let reference = partner_booking_ref(&key);
        assert_eq!(reference, partner_booking_ref(&key));
        assert!(reference.len() <= MAX_PARTNER_REF);
        let long = IdempotencyKey::recorded("k".repeat(200));
        let hashed = partner_booking_ref(&long);
        assert_eq!(hashed.len(), PARTNER_REF_PREFIX.len() + 64);
    }

    #[test]
    fn only_a_full_refund_is_promised_and_no_later_than_its_window() {
        let item = ItemRef {
            product_code: "P".into(),
            option_code: None,
            travel_date: NaiveDate::from_ymd_opt(2026, 12, 10).unwrap(),
            start_time: Some("10:00".into()),
        };
        let price = Money::parse("120.20", "EUR").unwrap();
        let window = |min, percent| wire::RefundWindow {
            day_range_min: min,
            percentage_refundable: percent,
        };
        // CUSTOM: all back from 7 days before, half from 2 to 7, nothing after.
        let custom = wire::CancellationTerms {
            refund_eligibility: vec![window(7, 100), window(2, 50), window(0, 0)],
        };
        let free_until = DateTime::parse_from_rfc3339("2026-12-02T20:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            policy(Some(&custom), &item, price),
            CancellationPolicy::Refundable {
                free_until,
                penalty: price
            },
            "7 days before 10:00 local, 14 hours earlier for the time zone"
        );
        let final_sale = wire::CancellationTerms {
            refund_eligibility: vec![window(0, 0)],
        };
        assert_eq!(
            policy(Some(&final_sale), &item, price),
            CancellationPolicy::NonRefundable
        );
        assert_eq!(
            policy(None, &item, price),
            CancellationPolicy::NonRefundable
        );
    }

    #[test]
    fn phones_start_with_a_plus() {
        assert_eq!(international("+33 6 12-34 56 78"), "+33612345678");
        assert_eq!(international("0044 20 8016"), "+0044208016");
    }
}
