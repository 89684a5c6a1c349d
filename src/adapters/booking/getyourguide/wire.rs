//! GetYourGuide's JSON, as its Partner API spec describes it (`getyourguide/partner-api-spec`,
//! `spec/paths/*.yaml`, `spec/components/**`): snake_case fields, most answers under `data`
//! (beside `_metadata`; the client unwraps it), request bodies as `{base_data, data}`, prices as JSON numbers beside
//! a 3-letter currency, local date-times `Y-m-dTH:i:s`.

use serde::{Deserialize, Serialize};

pub use crate::adapters::http::JsonDecimal as Amount;

/// The language every call asks for: Itinera speaks English to the person.
pub const LANGUAGE: &str = "en";

/// `base_data` of the booking and cart bodies.
#[derive(Debug, Clone, Serialize)]
pub struct BaseData {
    pub cnt_language: &'static str,
    pub currency: String,
}

/// `GET /1/tours` and `GET /1/tours/{id}`: `data.tours`.
#[derive(Debug, Deserialize)]
pub struct Tours {
    #[serde(default)]
    pub tours: Vec<Tour>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Tour {
    pub tour_id: i64,
    pub title: Option<String>,
    #[serde(default)]
    pub durations: Vec<Duration>,
    pub cancellation_policy: Option<CancellationTerms>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Duration {
    pub duration: Option<Amount>,
    pub unit: Option<DurationUnit>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DurationUnit {
    Day,
    Hour,
    Minute,
    #[serde(other)]
    Other,
}

/// `CancellationPolicy` [commons/fields.yaml]: whether the booking can be cancelled, a fee
/// (fixed in the requested currency, or a percentage; null or 0 is none), and until how many
/// minutes before the start (null or 0: any time).
#[derive(Debug, Clone, Deserialize)]
pub struct CancellationTerms {
    pub cancellable: Option<bool>,
    pub cancellation_fee_unit: Option<FeeUnit>,
    pub cancellation_fee_value: Option<Amount>,
    pub cancellation_offset_minutes: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeeUnit {
    Fixed,
    Percentage,
    #[serde(other)]
    Other,
}

/// `POST /1/tours/{id}/price-breakdown` body.
#[derive(Debug, Serialize)]
pub struct PriceBreakdownRequest {
    pub base_data: CurrencyOnly,
    pub data: DayParty,
}

#[derive(Debug, Serialize)]
pub struct CurrencyOnly {
    pub currency: String,
}

#[derive(Debug, Serialize)]
pub struct DayParty {
    /// `Y-m-d`, local.
    pub date: String,
    pub participants: Participants,
}

/// Itinera searches for adults only (its search has no ages).
#[derive(Debug, Serialize)]
pub struct Participants {
    pub adult: u8,
}

/// The price-breakdown answer: `tour_options`.
#[derive(Debug, Deserialize)]
pub struct DayBreakdown {
    #[serde(default)]
    pub tour_options: Vec<TourOption>,
}

#[derive(Debug, Deserialize)]
pub struct TourOption {
    pub option_id: i64,
    #[serde(default)]
    pub time_slots: Vec<TimeSlot>,
}

#[derive(Debug, Deserialize)]
pub struct TimeSlot {
    /// `Y-m-dTH:i:s`, local; midnight for activities with opening hours.
    pub date_time: String,
    pub vacancies: i64,
    pub min_participants: Option<i64>,
    pub max_participants: Option<i64>,
    /// Why the slot cannot be booked for the party (`no_availability`, `not_enough_spots`,
    /// `invalid_request`, `others`): any reason at all keeps the slot out, so it is not read.
    pub unavailability_reason: Option<serde::de::IgnoredAny>,
    pub price_breakdown: Option<PriceBreakdown>,
}

#[derive(Debug, Deserialize)]
pub struct PriceBreakdown {
    #[serde(default)]
    pub individuals: Vec<Individual>,
    pub price_summary: PriceSummary,
}

/// One ticket category of the party, with the `category_id` a booking names.
#[derive(Debug, Deserialize)]
pub struct Individual {
    pub category_id: i64,
    pub ticket_category: TicketCategory,
    pub quantity: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketCategory {
    Adult,
    /// Child, youth, senior, …: not what Itinera books.
    #[serde(other)]
    Other,
}

/// The retail price of the whole party, what the customer pays.
#[derive(Debug, Deserialize)]
pub struct PriceSummary {
    pub retail_price: Amount,
    pub currency: String,
}

/// `POST /1/bookings` body.
#[derive(Debug, Serialize)]
pub struct BookingCreate {
    pub base_data: BaseData,
    pub data: BookingCreateData,
}

#[derive(Debug, Serialize)]
pub struct BookingCreateData {
    pub booking: NewBooking,
}

#[derive(Debug, Serialize)]
pub struct NewBooking {
    pub bookable: NewBookable,
}

#[derive(Debug, Serialize)]
pub struct NewBookable {
    pub option_id: i64,
    pub datetime: String,
    /// The retail price the price-breakdown gave, as a JSON number.
    pub price: Amount,
    pub categories: Vec<CategoryCount>,
    /// Our reference (max 255): GetYourGuide keeps it, though nothing looks a booking up by it.
    pub external_reference_id: String,
}

#[derive(Debug, Serialize)]
pub struct CategoryCount {
    pub category_id: i64,
    pub number_of_participants: u8,
}

/// `POST /1/bookings` answer: `data.bookings`.
#[derive(Debug, Deserialize)]
pub struct BookingCreated {
    pub bookings: CreatedBooking,
}

#[derive(Debug, Deserialize)]
pub struct CreatedBooking {
    pub shopping_cart_hash: String,
    pub booking_hash: String,
    pub status: Option<BookingStatus>,
}

/// `POST /1/carts` body.
#[derive(Debug, Serialize)]
pub struct CartConfirm {
    pub base_data: BaseData,
    pub data: CartConfirmData,
}

#[derive(Debug, Serialize)]
pub struct CartConfirmData {
    pub shopping_cart: ShoppingCart,
}

#[derive(Debug, Serialize)]
pub struct ShoppingCart {
    pub shopping_cart_hash: String,
    pub billing: Billing,
    pub traveler: Contact,
    pub payment: MasterBill,
}

/// The buyer: the lead traveller, in the country of the trip's city (Itinera keeps no address).
#[derive(Debug, Clone, Serialize)]
pub struct Billing {
    #[serde(flatten)]
    pub contact: Contact,
    /// ISO 3166-1 alpha-2.
    pub country_code: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Contact {
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    /// ITU E.123, `+49123456789`.
    pub phone_number: String,
}

/// The only payment the spec keeps: GetYourGuide invoices the partner.
#[derive(Debug, Serialize)]
pub struct MasterBill {
    pub master_bill: bool,
}

/// `POST /1/carts` answer: `data`.
#[derive(Debug, Deserialize)]
pub struct CartConfirmed {
    pub status: Option<CartStatus>,
    #[serde(default)]
    pub bookings: Vec<Booking>,
    pub payment_info: Option<PaymentInfo>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CartStatus {
    Completed,
    Open,
    /// Two-step payments only (PayPal, 3DS), which the spec no longer has.
    InPayment,
    Invalid,
    #[serde(other)]
    Other,
}

#[derive(Debug, Deserialize)]
pub struct PaymentInfo {
    pub total_price: Option<Amount>,
    pub payment_currency: Option<String>,
    pub invoice_reference: Option<String>,
}

/// A booking as a cart, `GET /1/bookings/{hash}` and `DELETE` show it.
#[derive(Debug, Clone, Deserialize)]
pub struct Booking {
    pub booking_hash: String,
    pub booking_status: BookingStatus,
    pub bookable: Option<Bookable>,
    pub ticket: Option<Ticket>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Bookable {
    pub tour_id: Option<i64>,
    /// `2017-09-01T04:00:00Z`.
    pub datetime_utc: Option<String>,
    pub price: Option<Amount>,
    pub currently_cancellable_at_no_fee: Option<bool>,
}

/// Only present once the booking is confirmed and active.
#[derive(Debug, Clone, Deserialize)]
pub struct Ticket {
    /// `GYG7VMWR9HZ3`: what the traveller shows.
    pub booking_reference: Option<String>,
}

/// `GET /1/bookings/{hash}`: `{booking}`.
#[derive(Debug, Deserialize)]
pub struct BookingByHash {
    pub booking: Booking,
}

/// `DELETE /1/bookings/{hash}` answer: `data.bookings`.
#[derive(Debug, Deserialize)]
pub struct Deleted {
    pub bookings: DeletedBooking,
}

#[derive(Debug, Deserialize)]
pub struct DeletedBooking {
    pub booking_status: BookingStatus,
}

/// `BookingStatus` [commons/fields.yaml].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BookingStatus {
    /// In a cart, not bought.
    Temp,
    /// Bought, awaiting the supplier: minutes for free-sale, up to 48 h otherwise.
    Unconfirmed,
    /// Confirmed and active: the only booked state.
    Confirmed,
    #[serde(alias = "cancelled")]
    Canceled,
    /// Removed from the cart before checkout (by the partner, the customer, or on expiry).
    Deleted,
    DeletedByCustomer,
    DeletedByDaemon,
    #[serde(other)]
    Other,
}

/// The error answer of 400, 401 and 404 [schema/errors.yaml].
#[derive(Debug, Deserialize)]
pub struct ErrorBody {
    #[serde(default)]
    pub errors: Vec<ErrorItem>,
    pub method: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorItem {
    pub error_code: Option<i64>,
    pub error_message: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_read_as_the_spec_shows_them() {
        let booking: BookingByHash = serde_json::from_str(
            r#"{"booking": {"booking_hash": "H", "booking_status": "deleted_by_daemon"}}"#,
        )
        .unwrap();
        assert_eq!(
            booking.booking.booking_status,
            BookingStatus::DeletedByDaemon
        );
        let other: BookingByHash = serde_json::from_str(
            r#"{"booking": {"booking_hash": "H", "booking_status": "something_new", "bookable": {"price": 40.1}}}"#,
        )
        .unwrap();
        assert_eq!(other.booking.booking_status, BookingStatus::Other);
        let body = serde_json::to_value(NewBookable {
            option_id: 1,
            datetime: "2026-12-10T09:00:00".into(),
            price: Amount(rust_decimal::Decimal::new(9100, 2)),
            categories: vec![],
            external_reference_id: "r".into(),
        })
        .unwrap();
        assert!(body["price"].is_number());
    }
}
