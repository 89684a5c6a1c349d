//! Duffel Stays' JSON, as `shared/provider-apis.md` §6b and the JS SDK's `StaysTypes.ts`
//! describe it: the same envelope, auth and errors as Duffel's flights; decimal-string amounts;
//! a rate's cancellation timeline of `{before, refund_amount}` steps.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

pub use crate::adapters::booking::duffel::wire::Metadata;

/// `POST /stays/search` body: one room around a point.
#[derive(Debug, Serialize)]
pub struct Search {
    pub check_in_date: String,
    pub check_out_date: String,
    pub rooms: u8,
    pub guests: Vec<GuestType>,
    pub location: Location,
}

/// Itinera's searches have no ages: every guest an adult.
#[derive(Debug, Serialize)]
pub struct GuestType {
    #[serde(rename = "type")]
    pub kind: &'static str,
}

#[derive(Debug, Serialize)]
pub struct Location {
    /// Kilometres around the point.
    pub radius: u32,
    pub geographic_coordinates: Coordinates,
}

#[derive(Debug, Serialize)]
pub struct Coordinates {
    pub latitude: f64,
    pub longitude: f64,
}

#[derive(Debug, Deserialize)]
pub struct SearchAnswer {
    #[serde(default)]
    pub results: Vec<SearchResult>,
}

/// One accommodation found, with its rooms and rates once all were fetched.
#[derive(Debug, Deserialize)]
pub struct SearchResult {
    pub id: String,
    pub accommodation: Accommodation,
    #[serde(default)]
    pub cheapest_rate_total_amount: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Accommodation {
    pub name: String,
    /// Stars, 1 to 5, when known.
    #[serde(default)]
    pub rating: Option<u8>,
    #[serde(default)]
    pub rooms: Vec<Room>,
}

#[derive(Debug, Deserialize)]
pub struct Room {
    pub name: String,
    #[serde(default)]
    pub rates: Vec<Rate>,
}

#[derive(Debug, Deserialize)]
pub struct Rate {
    pub id: String,
    pub total_amount: String,
    pub total_currency: String,
    #[serde(default)]
    pub board_type: Option<String>,
    pub payment_type: PaymentType,
    #[serde(default)]
    pub available_payment_methods: Vec<String>,
    #[serde(default)]
    pub cancellation_timeline: Vec<TimelineStep>,
    /// Paid by the guest at the hotel on top of the total (local taxes), if anything.
    #[serde(default)]
    pub due_at_accommodation_amount: Option<String>,
    #[serde(default)]
    pub due_at_accommodation_currency: Option<String>,
    pub expires_at: String,
}

/// How the rate is paid: only `pay_now` is paid in full to Duffel at booking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentType {
    PayNow,
    /// A card guarantees the room; the hotel charges at the stay.
    Guarantee,
    Deposit,
    #[serde(other)]
    Other,
}

/// Cancelled before `before`, `refund_amount` comes back.
#[derive(Debug, Deserialize)]
pub struct TimelineStep {
    pub before: String,
    pub refund_amount: String,
    pub currency: String,
}

#[derive(Debug, Deserialize)]
pub struct Quote {
    pub id: String,
    pub total_amount: String,
    pub total_currency: String,
    pub accommodation: Accommodation,
}

/// `POST /stays/bookings` body, paid from the Duffel balance (no `payment`).
#[derive(Debug, Serialize)]
pub struct CreateBooking {
    pub quote_id: String,
    pub guests: Vec<GuestName>,
    pub email: String,
    pub phone_number: String,
    pub metadata: Metadata,
}

#[derive(Debug, Serialize)]
pub struct GuestName {
    pub given_name: String,
    pub family_name: String,
}

#[derive(Debug, Deserialize)]
pub struct Booking {
    pub id: String,
    /// The hotel's (or supplier's) confirmation reference, when it gave one.
    #[serde(default)]
    pub reference: Option<String>,
    pub status: BookingStatus,
    #[serde(default)]
    pub cancelled_at: Option<String>,
    pub accommodation: Accommodation,
    #[serde(default)]
    pub metadata: Option<HashMap<String, String>>,
}

impl Booking {
    /// Whether Itinera made this booking under the idempotency key `key`.
    pub fn made_under(&self, key: &str) -> bool {
        self.metadata
            .as_ref()
            .and_then(|metadata| metadata.get("itinera_key"))
            .is_some_and(|made| made == key)
    }

    /// The rate booked: the one rate of the accommodation's room in a booking's answer.
    pub fn rate(&self) -> Option<&Rate> {
        self.accommodation
            .rooms
            .iter()
            .flat_map(|room| &room.rates)
            .next()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BookingStatus {
    Confirmed,
    Cancelled,
    #[serde(other)]
    Other,
}
