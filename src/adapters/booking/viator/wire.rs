//! Viator's JSON, as Viator's published OpenAPI spec (v2.0) and `shared/provider-apis.md` §7a
//! describe it: plain bodies (no envelope), camelCase fields, prices as JSON numbers beside a
//! 3-letter currency, dates `YYYY-MM-DD`, start times `HH:MM` local to the product.

use serde::{Deserialize, Serialize};

/// A price Viator sends as a JSON number (`21.75`), read from the number's own text, never
/// through a float.
pub use crate::adapters::http::JsonDecimal as Amount;

/// `GET /destinations`.
#[derive(Debug, Deserialize)]
pub struct Destinations {
    #[serde(default)]
    pub destinations: Vec<Destination>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Destination {
    pub destination_id: i64,
    pub name: String,
    /// `CITY`, `COUNTRY`, `REGION`, … (a free list in the spec: read as text).
    #[serde(rename = "type")]
    pub kind: String,
    /// Airport codes of the destination, e.g. `["VCE"]`; absent for most non-cities.
    #[serde(default)]
    pub iata_codes: Vec<String>,
}

/// `POST /products/search` body.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductSearch {
    pub filtering: Filtering,
    pub pagination: Pagination,
    pub currency: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Filtering {
    /// The numeric destination id, as a string (the spec's type).
    pub destination: String,
    /// `YYYY-MM-DD`, in the supplier's time zone.
    pub start_date: String,
    pub end_date: String,
}

#[derive(Debug, Serialize)]
pub struct Pagination {
    /// 1-based.
    pub start: u32,
    pub count: u32,
}

#[derive(Debug, Deserialize)]
pub struct ProductSearchAnswer {
    #[serde(default)]
    pub products: Vec<ProductSummary>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductSummary {
    pub product_code: String,
    pub title: Option<String>,
    pub duration: Option<ProductDuration>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductDuration {
    pub fixed_duration_in_minutes: Option<u32>,
    pub variable_duration_from_minutes: Option<u32>,
}

impl ProductDuration {
    /// The fixed duration, or the shortest of a variable one.
    pub fn minutes(&self) -> Option<u32> {
        self.fixed_duration_in_minutes
            .or(self.variable_duration_from_minutes)
    }
}

/// `GET /products/{code}`: of the product's content, only its cancellation terms matter here
/// (an `INACTIVE` product has none).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductDetails {
    pub cancellation_policy: Option<CancellationTerms>,
}

/// The policy's `type` (`STANDARD`, `ALL_SALES_FINAL`, `CUSTOM`) is not read: its windows say
/// the same, exactly.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancellationTerms {
    #[serde(default)]
    pub refund_eligibility: Vec<RefundWindow>,
}

/// A share refunded for cancellations from `dayRangeMax` (absent: any time before) to
/// `dayRangeMin` days before the start, in the product's time zone. Only where a window ends
/// matters to Itinera's policy.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundWindow {
    pub day_range_min: i64,
    pub percentage_refundable: u32,
}

/// One bookable item as `/availability/check`, `/bookings/hold` and `/bookings/book` take it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Item {
    pub product_code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_option_code: Option<String>,
    /// Required by Viator for products with several start times.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    /// `YYYY-MM-DD`.
    pub travel_date: String,
    pub currency: String,
    pub pax_mix: Vec<Pax>,
}

/// Itinera searches for adults only (its search has no ages): `{ADULT, n}`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Pax {
    pub age_band: &'static str,
    pub number_of_travelers: u8,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Availability {
    pub currency: String,
    #[serde(default)]
    pub bookable_items: Vec<BookableItem>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BookableItem {
    pub product_option_code: Option<String>,
    pub start_time: Option<String>,
    pub available: bool,
    /// Absent when the pax mix does not fit the product (`TRAVELER_MISMATCH`).
    pub total_price: Option<TotalPrice>,
}

#[derive(Debug, Deserialize)]
pub struct TotalPrice {
    pub price: Price,
}

/// The price's components; only what Viator invoices the merchant matters to Itinera.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Price {
    /// The total Viator invoices for the item: what the traveller pays through Itinera.
    pub partner_total_price: Amount,
}

/// `POST /bookings/hold` answer.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Hold {
    pub booking_ref: String,
    pub currency: Option<String>,
    pub total_price: Option<TotalPrice>,
}

/// `POST /bookings/book` body: the item, the hold, our unique reference and the booker.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Book {
    #[serde(flatten)]
    pub item: Item,
    pub booking_ref: String,
    /// Unique per booking (max 100 characters): a repeat cannot book twice.
    pub partner_booking_ref: String,
    pub booker_info: BookerInfo,
    pub communication: Communication,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BookerInfo {
    /// 1 to 50 characters.
    pub first_name: String,
    pub last_name: String,
}

#[derive(Debug, Serialize)]
pub struct Communication {
    /// Starts with `+`, at most 30 characters.
    pub phone: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// `POST /bookings/status` body: one of the two references.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusRequest {
    pub partner_booking_ref: String,
}

/// What `/bookings/book` and `/bookings/status` answer about a booking.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Booking {
    pub status: BookingStatus,
    pub rejection_reason_code: Option<RejectionReason>,
    pub booking_ref: Option<String>,
    pub currency: Option<String>,
    pub total_price: Option<TotalPrice>,
}

/// The booking statuses the spec lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BookingStatus {
    Confirmed,
    Rejected,
    /// Viator's spelling here; `CANCELLED` is read the same.
    #[serde(alias = "CANCELLED")]
    Canceled,
    /// Waiting on the supplier.
    Pending,
    /// Still being processed by Viator.
    InProgress,
    /// A hold without a booking request.
    OnHold,
    Failed,
    /// A status added after this adapter was written.
    #[serde(other)]
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RejectionReason {
    BookableItemIsNoLongerAvailable,
    DuplicateBooking,
    /// `OTHER`, or a reason added later.
    #[serde(other)]
    Other,
}

/// `GET /bookings/{ref}/cancel-quote` answer.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelQuote {
    pub status: QuoteStatus,
    pub refund_details: Option<RefundDetails>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum QuoteStatus {
    Cancellable,
    Cancelled,
    /// The start time has passed.
    NotCancellable,
    #[serde(other)]
    Other,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundDetails {
    /// What cancelling gives back (0 while the booking is still `PENDING`).
    pub refund_amount: Option<Amount>,
    pub currency_code: Option<String>,
}

/// `POST /bookings/{ref}/cancel` body: a code from `/bookings/cancel-reasons`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelRequest {
    pub reason_code: &'static str,
}

#[derive(Debug, Deserialize)]
pub struct Cancellation {
    pub status: CancelStatus,
    pub reason: Option<DeclineReason>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CancelStatus {
    Accepted,
    Declined,
    #[serde(other)]
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DeclineReason {
    AlreadyCancelled,
    NotCancellable,
    #[serde(other)]
    Other,
}

/// Every error answer: `{code, message, timestamp, trackingId}`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
    pub tracking_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;

    #[test]
    fn prices_are_read_from_the_number_s_text() {
        let price: Price = serde_json::from_str(r#"{"partnerTotalPrice": 21.75}"#).unwrap();
        assert_eq!(price.partner_total_price.0, Decimal::new(2175, 2));
        let price: Price = serde_json::from_str(r#"{"partnerTotalPrice": 0.1}"#).unwrap();
        assert_eq!(price.partner_total_price.0, Decimal::new(1, 1));
        assert!(serde_json::from_str::<Price>(r#"{"partnerTotalPrice": "21.75"}"#).is_err());
    }

    #[test]
    fn unknown_statuses_are_kept_apart() {
        let booking: Booking =
            serde_json::from_str(r#"{"status": "SOMETHING_NEW", "bookingRef": "BR-1"}"#).unwrap();
        assert_eq!(booking.status, BookingStatus::Other);
        let booking: Booking = serde_json::from_str(
            r#"{"status": "REJECTED", "rejectionReasonCode": "DUPLICATE_BOOKING"}"#,
        )
        .unwrap();
        assert_eq!(
            booking.rejection_reason_code,
            Some(RejectionReason::DuplicateBooking)
        );
    }
}
