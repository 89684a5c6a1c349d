//! Offers: what a provider will sell, at what price, under what cancellation terms, until when.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::ids::OfferId;
use super::money::{Money, MoneyError};
use super::places::City;

/// What kind of thing an item books.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    Flight,
    Hotel,
    Activity,
    CarRental,
}

impl ItemKind {
    pub const ALL: [ItemKind; 4] = [
        ItemKind::Flight,
        ItemKind::Hotel,
        ItemKind::Activity,
        ItemKind::CarRental,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            ItemKind::Flight => "flight",
            ItemKind::Hotel => "hotel",
            ItemKind::Activity => "activity",
            ItemKind::CarRental => "car_rental",
        }
    }

    pub fn parse(value: &str) -> Option<ItemKind> {
        ItemKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == value)
    }
}

/// The terms under which a booking can be cancelled, and what comes back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CancellationPolicy {
    /// Nothing is refunded on cancellation.
    NonRefundable,
    /// Fully refundable until `free_until`; after it, `penalty` is kept and the rest refunded.
    Refundable {
        free_until: DateTime<Utc>,
        penalty: Money,
    },
    /// Refundable less `penalty` until `deadline`, nothing after (an airline fare with a fee
    /// from booking, refundable only before departure).
    RefundableUntil {
        deadline: DateTime<Utc>,
        penalty: Money,
    },
}

impl CancellationPolicy {
    /// What cancelling at `at` gives back of the `paid` amount.
    pub fn refund_for(&self, paid: &Money, at: DateTime<Utc>) -> Result<Money, MoneyError> {
        match self {
            CancellationPolicy::NonRefundable => Ok(Money::zero(paid.currency())),
            CancellationPolicy::Refundable { free_until, .. } if at <= *free_until => Ok(*paid),
            CancellationPolicy::Refundable { penalty, .. } => paid.saturating_sub(penalty),
            CancellationPolicy::RefundableUntil { deadline, penalty } if at <= *deadline => {
                paid.saturating_sub(penalty)
            }
            CancellationPolicy::RefundableUntil { .. } => Ok(Money::zero(paid.currency())),
        }
    }

    pub fn is_refundable(&self) -> bool {
        matches!(
            self,
            CancellationPolicy::Refundable { .. } | CancellationPolicy::RefundableUntil { .. }
        )
    }

    /// One line a person can read, e.g. "free cancellation until 2026-12-01 12:00 UTC, then EUR 50.00 fee".
    pub fn describe(&self) -> String {
        match self {
            CancellationPolicy::NonRefundable => "non-refundable".to_string(),
            CancellationPolicy::Refundable {
                free_until,
                penalty,
            } => format!(
                "free cancellation until {} UTC, then a {} fee",
                free_until.format("%Y-%m-%d %H:%M"),
                penalty
            ),
            CancellationPolicy::RefundableUntil { deadline, penalty } => format!(
                "refundable until {} UTC less a {penalty} fee, nothing after",
                deadline.format("%Y-%m-%d %H:%M")
            ),
        }
    }
}

/// Kind-specific facts about an offer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OfferDetails {
    Flight {
        carrier: String,
        carrier_name: String,
        flight_number: String,
        origin: String,
        destination: String,
        /// Local time at the origin.
        departs_at: NaiveDateTime,
        /// Local time at the destination.
        arrives_at: NaiveDateTime,
        stops: u8,
        cabin: String,
        passengers: u8,
    },
    Hotel {
        hotel_name: String,
        room_type: String,
        board: String,
        stars: u8,
        check_in: NaiveDate,
        check_out: NaiveDate,
        guests: u8,
    },
    Activity {
        name: String,
        date: NaiveDate,
        start_time: String,
        duration_minutes: u32,
        participants: u8,
    },
    CarRental {
        company: String,
        vehicle_class: String,
        model: String,
        pick_up_at: NaiveDateTime,
        drop_off_at: NaiveDateTime,
        pick_up_location: String,
    },
}

/// A priced, bookable offer from one provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Offer {
    pub id: OfferId,
    /// The provider that issued the offer and will book it, e.g. "sandbox".
    pub provider: String,
    pub kind: ItemKind,
    /// One line a person can read.
    pub title: String,
    /// Total price for all travellers.
    pub price: Money,
    /// Where the item takes place; for a flight, the city it lands in.
    pub city: City,
    /// First local day the item covers (departure, check-in, activity day, pick-up).
    pub starts_on: NaiveDate,
    /// Last local day the item covers (arrival, check-out, activity day, drop-off).
    pub ends_on: NaiveDate,
    pub cancellation: CancellationPolicy,
    /// After this instant the provider no longer honours the price.
    pub expires_at: DateTime<Utc>,
    pub details: OfferDetails,
    /// The payment providers the merchant takes payment through (a hotel in China may take
    /// only Alipay+ and WeChat Pay); empty when it takes any. The router passes over the rest.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accepted_payments: Vec<String>,
}

impl Offer {
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        now >= self.expires_at
    }

    /// How many people the offer is for: passengers, guests or participants; one driver.
    pub fn party_size(&self) -> u8 {
        match &self.details {
            OfferDetails::Flight { passengers, .. } => *passengers,
            OfferDetails::Hotel { guests, .. } => *guests,
            OfferDetails::Activity { participants, .. } => *participants,
            OfferDetails::CarRental { .. } => 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_fee_from_booking_is_kept_and_nothing_comes_back_after_the_deadline() {
        let paid = Money::parse("200", "EUR").unwrap();
        let deadline = Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap();
        let policy = CancellationPolicy::RefundableUntil {
            deadline,
            penalty: Money::parse("50", "EUR").unwrap(),
        };
        assert_eq!(
            policy.refund_for(&paid, deadline).unwrap(),
            Money::parse("150", "EUR").unwrap()
        );
        let after = deadline + chrono::Duration::seconds(1);
        assert!(policy.refund_for(&paid, after).unwrap().is_zero());
        assert!(policy.is_refundable());
        assert_eq!(
            policy.describe(),
            "refundable until 2026-12-01 12:00 UTC less a EUR 50.00 fee, nothing after"
        );
    }

    #[test]
    fn refunds_follow_the_policy_deadline() {
        let paid = Money::parse("200", "EUR").unwrap();
        let deadline = Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap();
        let policy = CancellationPolicy::Refundable {
            free_until: deadline,
            penalty: Money::parse("50", "EUR").unwrap(),
        };
        assert_eq!(policy.refund_for(&paid, deadline).unwrap(), paid);
        let late = deadline + chrono::Duration::hours(1);
        assert_eq!(
            policy.refund_for(&paid, late).unwrap(),
            Money::parse("150", "EUR").unwrap()
        );
        assert!(
            CancellationPolicy::NonRefundable
                .refund_for(&paid, deadline)
                .unwrap()
                .is_zero()
        );
        assert!(policy.describe().contains("EUR 50.00 fee"));
    }
}
