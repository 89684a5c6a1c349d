//! Booking.com's products as Itinera's offers, the offer id that carries what a preview needs
//! back, and the cancellation terms in Itinera's words.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use super::wire::{self, CancellationType, FeeStep, MealPlanKind, Timing};
use crate::domain::ids::OfferId;
use crate::domain::money::{Currency, Money};
use crate::domain::offer::CancellationPolicy;

/// Offer ids of Booking.com stays start so: the rest is the stay, base64url (no padding).
const ID_PREFIX: &str = "bcom_";

/// What a preview needs to price one product again: the accommodation, the product, the dates
/// and the adults. Product ids hold `_` and their format is Booking.com's own, so the id is
/// these joined by newlines, base64url-encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StayRef {
    pub accommodation: u64,
    pub product: String,
    pub checkin: NaiveDate,
    pub checkout: NaiveDate,
    pub adults: u8,
}

/// Why an answer or an offer id could not be read as ours.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Booking.com stay {stay}: {problem}")]
pub struct Unreadable {
    pub stay: String,
    pub problem: String,
}

impl StayRef {
    pub fn offer_id(&self) -> Result<OfferId, Unreadable> {
        let joined = [
            self.accommodation.to_string(),
            self.product.clone(),
            day(self.checkin),
            day(self.checkout),
            self.adults.to_string(),
        ]
        .join("\n");
        OfferId::parse(&format!("{ID_PREFIX}{}", URL_SAFE_NO_PAD.encode(joined))).map_err(|e| {
            Unreadable {
                stay: self.product.clone(),
                problem: e.to_string(),
            }
        })
    }

    /// The stay an offer id of ours names.
    pub fn from_offer_id(id: &OfferId) -> Result<StayRef, Unreadable> {
        let problem = |problem: &str| Unreadable {
            stay: id.to_string(),
            problem: problem.to_string(),
        };
        let bytes = id
            .as_str()
            .strip_prefix(ID_PREFIX)
            .and_then(|encoded| URL_SAFE_NO_PAD.decode(encoded).ok())
            .ok_or_else(|| problem("not an offer id of Booking.com's adapter"))?;
        let text = String::from_utf8(bytes).map_err(|_| problem("not text"))?;
        let parts: Vec<&str> = text.split('\n').collect();
        let [accommodation, product, checkin, checkout, adults] = parts.as_slice() else {
            return Err(problem("not five parts"));
        };
        let date = |text: &str| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| problem("not a date"))
        };
        Ok(StayRef {
            accommodation: accommodation
                .parse()
                .map_err(|_| problem("not an accommodation id"))?,
            product: (*product).to_string(),
            checkin: date(checkin)?,
            checkout: date(checkout)?,
            adults: adults.parse().map_err(|_| problem("not a party size"))?,
        })
    }
}

/// A day as Booking.com writes it.
pub fn day(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

/// Whether Itinera can sell the product: paid online when booked (`pay_online_now`), charged
/// to the agency's card. Paid at the property, the traveller would pay twice; paid online
/// later, the charge would come after Itinera settled the order.
pub fn paid_now(product: &wire::Product) -> bool {
    product
        .policies
        .payment
        .timings
        .iter()
        .any(|timing| match timing {
            Timing::PayOnlineNow => true,
            Timing::PayAtTheProperty | Timing::PayOnlineLater | Timing::Other => false,
        })
}

/// An amount in `currency`; Booking.com's numbers carry at most two decimals (`multipleOf
/// 0.01`), and one Itinera cannot hold exactly is refused rather than rounded.
pub fn money(amount: Decimal, currency: Currency) -> Result<Money, String> {
    Money::new(amount, currency).map_err(|e| e.to_string())
}

/// The terms a search gives: free until a moment, or none. After the moment the search tells
/// no fee (only the preview has the schedule), so the whole price is taken as kept: what the
/// person is promised is never more than Booking.com gives back. `special_conditions` promise
/// nothing either.
pub fn search_terms(
    cancellation: &wire::SearchCancellation,
    price: Money,
) -> Result<CancellationPolicy, String> {
    match cancellation.kind {
        CancellationType::FreeCancellation => {
            let Some(until) = &cancellation.free_cancellation_until else {
                return Ok(CancellationPolicy::NonRefundable);
            };
            Ok(CancellationPolicy::Refundable {
                free_until: instant(until)?,
                penalty: price,
            })
        }
        CancellationType::NonRefundable
        | CancellationType::SpecialConditions
        | CancellationType::Other => Ok(CancellationPolicy::NonRefundable),
    }
}

/// The terms a preview's fee schedule gives: free while the fee is zero, then the highest fee
/// of the steps after (a schedule that rises in steps is promised its last step from the
/// first, never more back than Booking.com gives). A fee from now (or no step at all) is
/// non-refundable here. `None`: free at every step given, so any terms the search promised
/// hold.
pub fn schedule_terms(
    steps: &[FeeStep],
    currency: Currency,
    price: Money,
) -> Result<Option<CancellationPolicy>, String> {
    let mut free_until: Option<DateTime<Utc>> = None;
    let mut penalty = Money::zero(currency);
    let mut charged_from_now = steps.is_empty();
    for step in steps {
        let fee = money(step.price.accommodation_currency.0, currency)?;
        let from = match step.from.as_deref() {
            None | Some("now") => None,
            Some(at) => Some(instant(at)?),
        };
        match (from, fee.is_zero()) {
            (None, true) => {}
            (None, false) => charged_from_now = true,
            (Some(at), _) if !fee.is_zero() => {
                free_until = Some(free_until.map_or(at, |known| known.min(at)));
            }
            (Some(_), _) => {}
        }
        if fee.amount() > penalty.amount() {
            penalty = fee;
        }
    }
    if charged_from_now {
        return Ok(Some(CancellationPolicy::NonRefundable));
    }
    let Some(free_until) = free_until else {
        return Ok(None);
    };
    Ok(Some(CancellationPolicy::Refundable {
        free_until,
        penalty: penalty.min(&price).map_err(|e| e.to_string())?,
    }))
}

/// Whether `terms` give back, at every moment, at least what `promised` says.
pub fn gives_back_at_least(terms: &CancellationPolicy, promised: &CancellationPolicy) -> bool {
    match (terms, promised) {
        (_, CancellationPolicy::NonRefundable) => true,
        (
            CancellationPolicy::Refundable {
                free_until,
                penalty,
            },
            CancellationPolicy::Refundable {
                free_until: promised_until,
                penalty: promised_penalty,
            },
        ) => free_until >= promised_until && penalty.amount() <= promised_penalty.amount(),
        (
            CancellationPolicy::NonRefundable
            | CancellationPolicy::Refundable { .. }
            | CancellationPolicy::RefundableUntil { .. },
            CancellationPolicy::Refundable { .. } | CancellationPolicy::RefundableUntil { .. },
        ) => terms == promised,
    }
}

fn instant(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|at| at.with_timezone(&Utc))
        .map_err(|e| format!("cancellation time {text}: {e}"))
}

/// The meal plan in words.
pub fn board(plan: Option<&wire::MealPlan>) -> String {
    match plan.map(|plan| plan.plan) {
        Some(MealPlanKind::AllInclusive) => "all inclusive",
        Some(MealPlanKind::BreakfastIncluded) => "breakfast included",
        Some(MealPlanKind::FullBoard) => "full board",
        Some(MealPlanKind::HalfBoard) => "half board",
        Some(MealPlanKind::NoPlan) | None => "room only",
        Some(MealPlanKind::Other) => "meals as the property says",
    }
    .to_string()
}

/// The name in English, else Booking.com's fallback, else any.
pub fn name(translated: &std::collections::BTreeMap<String, String>) -> Option<String> {
    translated
        .get("en-gb")
        .or_else(|| translated.get("fallback"))
        .or_else(|| translated.values().next())
        .cloned()
}

/// Stars as a whole number (Booking.com gives tenths, e.g. 3.5); 0 when not rated.
pub fn stars(rating: Option<&wire::Rating>) -> u8 {
    rating
        .and_then(|rating| rating.stars)
        .and_then(|stars| stars.0.trunc().to_u8())
        .map_or(0, |stars| stars.min(5))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::http::JsonDecimal;

    fn eur(amount: &str) -> Money {
        Money::parse(amount, "EUR").unwrap()
    }

    fn step(from: Option<&str>, fee: i64) -> FeeStep {
        FeeStep {
            from: from.map(str::to_string),
            price: wire::Amounts {
                accommodation_currency: JsonDecimal(Decimal::new(fee, 2)),
            },
        }
    }

    #[test]
    fn an_offer_id_gives_the_stay_back() {
        let stay = StayRef {
            accommodation: 10507360,
            product: "1050736001_95127794_2_0_0".into(),
            checkin: NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
            checkout: NaiveDate::from_ymd_opt(2026, 3, 3).unwrap(),
            adults: 2,
        };
        let id = stay.offer_id().unwrap();
        assert!(id.as_str().starts_with("bcom_"));
        assert_eq!(StayRef::from_offer_id(&id).unwrap(), stay);
        assert!(StayRef::from_offer_id(&OfferId::parse("vtr_abc").unwrap()).is_err());
    }

    #[test]
    fn a_fee_schedule_promises_no_more_than_it_gives_back() {
        let eur_ = Currency::parse("EUR").unwrap();
        let free_then_full = [
            step(Some("now"), 0),
            step(Some("2026-02-27T22:00:00+00:00"), 17765),
        ];
        assert_eq!(
            schedule_terms(&free_then_full, eur_, eur("186.92")).unwrap(),
            Some(CancellationPolicy::Refundable {
                free_until: "2026-02-27T22:00:00Z".parse().unwrap(),
                penalty: eur("177.65"),
            })
        );
        assert_eq!(
            schedule_terms(&[step(Some("now"), 18692)], eur_, eur("186.92")).unwrap(),
            Some(CancellationPolicy::NonRefundable)
        );
        assert_eq!(
            schedule_terms(&[step(Some("now"), 0)], eur_, eur("186.92")).unwrap(),
            None,
            "free throughout: whatever the search promised holds"
        );
        let rising = [
            step(Some("now"), 0),
            step(Some("2026-02-20T22:00:00+00:00"), 5000),
            step(Some("2026-02-27T22:00:00+00:00"), 18692),
        ];
        assert_eq!(
            schedule_terms(&rising, eur_, eur("186.92")).unwrap(),
            Some(CancellationPolicy::Refundable {
                free_until: "2026-02-20T22:00:00Z".parse().unwrap(),
                penalty: eur("186.92"),
            })
        );
    }

    #[test]
    fn the_search_s_terms_stand_while_the_schedule_gives_as_much_back() {
        let until: DateTime<Utc> = "2026-02-27T22:00:00Z".parse().unwrap();
        let promised = CancellationPolicy::Refundable {
            free_until: until,
            penalty: eur("420.00"),
        };
        let kinder = CancellationPolicy::Refundable {
            free_until: until,
            penalty: eur("140.00"),
        };
        let earlier = CancellationPolicy::Refundable {
            free_until: until - chrono::Duration::days(1),
            penalty: eur("140.00"),
        };
        assert!(gives_back_at_least(&kinder, &promised));
        assert!(!gives_back_at_least(&earlier, &promised));
        assert!(!gives_back_at_least(
            &CancellationPolicy::NonRefundable,
            &promised
        ));
        assert!(gives_back_at_least(
            &earlier,
            &CancellationPolicy::NonRefundable
        ));
    }

    #[test]
    fn stars_are_whole() {
        let rating = |stars: i64| wire::Rating {
            stars: Some(JsonDecimal(Decimal::new(stars, 1))),
        };
        assert_eq!(stars(Some(&rating(35))), 3);
        assert_eq!(stars(Some(&rating(40))), 4);
        assert_eq!(stars(None), 0);
    }
}
