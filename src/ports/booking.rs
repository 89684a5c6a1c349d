//! What the core needs from a travel provider: search, re-quote, book, cancel.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

use crate::domain::idempotency::IdempotencyKey;
use crate::domain::ids::OrderId;
use crate::domain::money::{Currency, Money};
use crate::domain::offer::{ItemKind, Offer};
use crate::domain::places::{Airport, City};
use crate::domain::plan::Traveller;
use crate::ports::ProviderError;

/// Cabin class of a flight search.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Cabin {
    #[default]
    Economy,
    PremiumEconomy,
    Business,
    First,
}

impl Cabin {
    pub fn as_str(self) -> &'static str {
        match self {
            Cabin::Economy => "economy",
            Cabin::PremiumEconomy => "premium_economy",
            Cabin::Business => "business",
            Cabin::First => "first",
        }
    }
}

/// A validated search, one variant per kind of item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchQuery {
    Flights {
        origin: Airport,
        destination: Airport,
        date: NaiveDate,
        passengers: u8,
        cabin: Cabin,
        currency: Currency,
    },
    Hotels {
        city: City,
        check_in: NaiveDate,
        check_out: NaiveDate,
        guests: u8,
        currency: Currency,
    },
    Activities {
        city: City,
        date: NaiveDate,
        participants: u8,
        currency: Currency,
    },
    CarRentals {
        city: City,
        pick_up_at: NaiveDateTime,
        drop_off_at: NaiveDateTime,
        currency: Currency,
    },
}

impl SearchQuery {
    pub fn kind(&self) -> ItemKind {
        match self {
            SearchQuery::Flights { .. } => ItemKind::Flight,
            SearchQuery::Hotels { .. } => ItemKind::Hotel,
            SearchQuery::Activities { .. } => ItemKind::Activity,
            SearchQuery::CarRentals { .. } => ItemKind::CarRental,
        }
    }
}

/// Everything a provider needs to book one offer.
#[derive(Debug, Clone, Copy)]
pub struct BookingRequest<'a> {
    pub order_id: &'a OrderId,
    pub offer: &'a Offer,
    pub travellers: &'a [Traveller],
    pub idempotency_key: &'a IdempotencyKey,
    /// When this booking was first sent, if this is not the first send: a provider without
    /// idempotency keys (Duffel) looks for what that attempt made, and gives it time to show
    /// before it books again. `None` on the first send.
    pub first_sent_at: Option<DateTime<Utc>>,
}

impl BookingRequest<'_> {
    /// The lead traveller, who the provider writes to. A plan always has one (plans without
    /// travellers are refused when made); a request without is refused rather than sent.
    pub fn lead(&self, provider: &str) -> Result<&Traveller, BookingError> {
        lead(self.travellers, provider)
    }
}

/// Everything a provider needs to cancel one booking.
#[derive(Debug, Clone, Copy)]
pub struct CancelRequest<'a> {
    /// The provider's id for the booking, as its `BookingConfirmation` gave it.
    pub reference: &'a str,
    pub idempotency_key: &'a IdempotencyKey,
    /// The plan's travellers, as they were booked: a provider that finds a booking by its
    /// lead's name (Avis: confirmation number and last name) needs them; they are never stored
    /// beside the reference, which is kept in plain text.
    pub travellers: &'a [Traveller],
}

impl CancelRequest<'_> {
    /// The lead traveller the booking was made for.
    pub fn lead(&self, provider: &str) -> Result<&Traveller, BookingError> {
        lead(self.travellers, provider)
    }
}

fn lead<'a>(travellers: &'a [Traveller], provider: &str) -> Result<&'a Traveller, BookingError> {
    travellers.first().ok_or_else(|| {
        ProviderError::rejected(provider, "no_travellers", "a booking needs travellers").into()
    })
}

/// What the provider gives back for a booking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingConfirmation {
    /// The provider's id for the booking, used to cancel it.
    pub reference: String,
    /// What the traveller shows: the PNR or confirmation number.
    pub confirmation: String,
}

/// What the provider says a cancellation returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CancellationReceipt {
    pub refund: Money,
}

/// A provider call that did not give the expected result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BookingError {
    #[error("{provider} no longer offers {offer}: search again and pick another offer")]
    NoLongerAvailable { provider: String, offer: String },
    #[error("the offer {offer} expired: search again to get a current price")]
    OfferExpired { offer: String },
    /// Not booked for Itinera (nothing is charged for it), but the provider may still hold
    /// something a person must release: a room taken only on request, a booking whose answer
    /// was lost at a provider that cannot look bookings up. `itinera doctor` lists these.
    #[error("{provider} may still hold a booking: {message}")]
    MayHoldABooking { provider: String, message: String },
    #[error(transparent)]
    Provider(#[from] ProviderError),
}

impl BookingError {
    /// A search for a kind of item this provider does not sell (the planner only asks
    /// providers of the query's kind, so this is a wiring mistake, said plainly).
    pub fn kind_not_sold(provider: &str, query: &SearchQuery) -> BookingError {
        ProviderError::rejected(
            provider,
            "kind_not_sold",
            format!(
                "Itinera's {provider} adapter does not sell {} items",
                query.kind().as_str()
            ),
        )
        .into()
    }

    /// The error with the travellers' names, e-mails and phones taken out of the provider's
    /// words: a provider refusing a booking may echo what it was sent, and these messages are
    /// logged and kept in the order's history.
    pub fn without_traveller_details(self, travellers: &[Traveller]) -> BookingError {
        // Longest first, so an e-mail goes whole before the name inside it.
        let mut details: Vec<String> = travellers
            .iter()
            .flat_map(|traveller| {
                let phone_digits = traveller
                    .phone
                    .as_deref()
                    .map(crate::domain::personal::e164);
                [
                    Some(traveller.given_name.clone()),
                    Some(traveller.family_name.clone()),
                    traveller.email.clone(),
                    traveller.phone.clone(),
                    phone_digits,
                ]
            })
            .flatten()
            .map(|detail| detail.trim().to_string())
            .filter(|detail| detail.chars().count() >= 2)
            .collect();
        details.sort_by_key(|detail| std::cmp::Reverse(detail.chars().count()));
        let scrub = |text: String| -> String {
            details.iter().fold(text, |text, detail| {
                replace_ignoring_case(&text, detail, "[traveller]")
            })
        };
        match self {
            BookingError::Provider(ProviderError::Rejected {
                provider,
                code,
                message,
            }) => BookingError::Provider(ProviderError::Rejected {
                provider,
                code,
                message: scrub(message),
            }),
            BookingError::Provider(ProviderError::Unavailable {
                provider,
                message,
                retry_after,
            }) => BookingError::Provider(ProviderError::Unavailable {
                provider,
                message: scrub(message),
                retry_after,
            }),
            BookingError::MayHoldABooking { provider, message } => BookingError::MayHoldABooking {
                provider,
                message: scrub(message),
            },
            other => other,
        }
    }
}

/// `text` with every occurrence of `needle`, in any letter case, replaced.
fn replace_ignoring_case(text: &str, needle: &str, with: &str) -> String {
    let lower_text = text.to_lowercase();
    let lower_needle = needle.to_lowercase();
    // Lower-casing can change byte lengths outside ASCII: then only exact matches are replaced.
    if lower_text.len() != text.len() || lower_needle.len() != needle.len() {
        return text.replace(needle, with);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = 0;
    for (at, _) in lower_text.match_indices(&lower_needle) {
        if at < rest {
            continue;
        }
        out.push_str(&text[rest..at]);
        out.push_str(with);
        rest = at + needle.len();
    }
    out.push_str(&text[rest..]);
    out
}

/// The words a `MayHoldABooking` failure is recorded with, by which `itinera doctor` finds it
/// in the saga log.
pub const MAY_HOLD_A_BOOKING: &str = "may still hold a booking";

#[async_trait]
pub trait BookingProvider: Send + Sync {
    /// The name offers carry in their `provider` field.
    fn name(&self) -> &str;

    /// The kinds of item this provider sells.
    fn kinds(&self) -> &[ItemKind];

    /// A cheap call that books nothing, proving the provider answers and takes Itinera's
    /// credentials (`itinera doctor`).
    async fn probe(&self) -> Result<(), BookingError>;

    async fn search(&self, query: &SearchQuery) -> Result<Vec<Offer>, BookingError>;

    /// The offer as the provider would sell it now: current price, availability and expiry.
    async fn quote(&self, offer: &Offer) -> Result<Offer, BookingError>;

    async fn book(&self, request: BookingRequest<'_>) -> Result<BookingConfirmation, BookingError>;

    async fn cancel(&self, request: CancelRequest<'_>)
    -> Result<CancellationReceipt, BookingError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_provider_echoing_what_it_was_sent_keeps_no_traveller_detail() {
        let ada: Traveller = serde_json::from_value(serde_json::json!({
            "given_name": "Ada", "family_name": "Lovelace",
            "email": "ada@example.com", "phone": "+33 6 12 34 56 78",
        }))
        .unwrap();
        let echoed = BookingError::Provider(ProviderError::rejected(
            "duffel",
            "invalid_phone_number",
            "phone_number +33612345678 of LOVELACE, Ada (ada@example.com) is invalid",
        ));
        let BookingError::Provider(ProviderError::Rejected { code, message, .. }) =
            echoed.without_traveller_details(&[ada])
        else {
            panic!("still a refusal");
        };
        assert_eq!(code, "invalid_phone_number");
        assert_eq!(
            message,
            "phone_number [traveller] of [traveller], [traveller] ([traveller]) is invalid"
        );
    }

    #[test]
    fn a_booking_left_at_the_provider_is_recorded_with_the_words_doctor_looks_for() {
        let left = BookingError::MayHoldABooking {
            provider: "amadeus".into(),
            message: "ask the hotel".into(),
        };
        assert!(left.to_string().contains(MAY_HOLD_A_BOOKING));
    }
}
