//! Duffel's JSON, as `shared/provider-apis.md` §1 and the JS SDK's types describe it: bodies and
//! answers wrapped in `{"data": …}`, amounts as decimal strings beside an ISO currency, datetimes
//! of flights local to their airport (no offset), `expires_at` in UTC.

use serde::{Deserialize, Serialize};

use crate::domain::plan::{Gender, Title};

/// Every request body and every answer: `{"data": …}`.
#[derive(Debug, Serialize, Deserialize)]
pub struct Envelope<T> {
    pub data: T,
}

/// A list answer: `{"data": […], "meta": {"after": cursor|null, …}}`.
#[derive(Debug, Deserialize)]
pub struct Page<T> {
    pub data: Vec<T>,
    pub meta: PageMeta,
}

#[derive(Debug, Deserialize)]
pub struct PageMeta {
    pub after: Option<String>,
}

/// `POST /air/offer_requests` body.
#[derive(Debug, Serialize)]
pub struct OfferRequest {
    pub slices: Vec<SliceRequest>,
    pub passengers: Vec<PassengerRequest>,
    pub cabin_class: &'static str,
}

#[derive(Debug, Serialize)]
pub struct SliceRequest {
    pub origin: String,
    pub destination: String,
    /// `YYYY-MM-DD`.
    pub departure_date: String,
}

/// Itinera searches for adults only (its search has no ages), so `{"type": "adult"}`.
#[derive(Debug, Serialize)]
pub struct PassengerRequest {
    #[serde(rename = "type")]
    pub kind: &'static str,
}

/// The offer request created, with its offers (`return_offers=true`).
#[derive(Debug, Deserialize)]
pub struct OfferRequestAnswer {
    #[serde(default)]
    pub offers: Vec<Offer>,
}

#[derive(Debug, Deserialize)]
pub struct Offer {
    pub id: String,
    /// UTC, e.g. `2026-12-01T10:00:00.000000Z`.
    pub expires_at: String,
    pub total_amount: String,
    pub total_currency: String,
    pub owner: Airline,
    pub slices: Vec<Slice>,
    pub passengers: Vec<OfferPassenger>,
    pub conditions: Conditions,
    #[serde(default)]
    pub passenger_identity_documents_required: bool,
}

#[derive(Debug, Deserialize)]
pub struct Airline {
    pub iata_code: Option<String>,
    pub name: String,
}

#[derive(Debug, Deserialize)]
pub struct Slice {
    pub segments: Vec<Segment>,
}

#[derive(Debug, Deserialize)]
pub struct Segment {
    /// Local time at the origin, ISO 8601 without offset.
    pub departing_at: String,
    /// Local time at the destination.
    pub arriving_at: String,
    pub origin: Place,
    pub destination: Place,
    pub marketing_carrier: Airline,
    pub marketing_carrier_flight_number: String,
    #[serde(default)]
    pub passengers: Vec<SegmentPassenger>,
}

#[derive(Debug, Deserialize)]
pub struct Place {
    pub iata_code: String,
}

#[derive(Debug, Deserialize)]
pub struct SegmentPassenger {
    pub cabin_class: Option<String>,
}

/// The passengers of an offer, whose ids an order must echo.
#[derive(Debug, Deserialize)]
pub struct OfferPassenger {
    pub id: String,
}

/// What the airline allows after booking. Only refunds matter to Itinera.
#[derive(Debug, Deserialize)]
pub struct Conditions {
    /// `null` when the airline said nothing.
    pub refund_before_departure: Option<Condition>,
}

#[derive(Debug, Deserialize)]
pub struct Condition {
    pub allowed: bool,
    /// `null` when not allowed or the penalty is not known.
    pub penalty_amount: Option<String>,
    pub penalty_currency: Option<String>,
}

/// `POST /air/orders` body.
#[derive(Debug, Serialize)]
pub struct CreateOrder {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub selected_offers: Vec<String>,
    pub passengers: Vec<OrderPassenger>,
    pub payments: Vec<Payment>,
    pub metadata: Metadata,
}

/// A passenger as an order takes one. `gender` and `title` are left out: Itinera does not ask
/// travellers for them (see the README's provider table).
#[derive(Debug, Serialize)]
pub struct OrderPassenger {
    pub id: String,
    /// `mr`, `ms`, `mrs`, `miss` or `dr`.
    pub title: Title,
    /// `m` or `f`.
    pub gender: Gender,
    pub given_name: String,
    pub family_name: String,
    /// `YYYY-MM-DD`.
    pub born_on: String,
    pub email: String,
    /// E.164, `+442080160509`.
    pub phone_number: String,
}

#[derive(Debug, Serialize)]
pub struct Payment {
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Decimal string, the offer's `total_amount`.
    pub amount: String,
    pub currency: String,
}

/// What lets a booking sent again find the order the first one made: Duffel takes no
/// idempotency key, but keeps an order's metadata and returns it when orders are listed.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Metadata {
    pub itinera_key: String,
    pub itinera_order: String,
}

#[derive(Debug, Deserialize)]
pub struct Order {
    pub id: String,
    /// The airline's PNR; absent on orders not confirmed by the airline.
    #[serde(default)]
    pub booking_reference: Option<String>,
    /// Set once the order was cancelled.
    #[serde(default)]
    pub cancelled_at: Option<String>,
    /// Free-form; only ours is read.
    pub metadata: Option<serde_json::Value>,
}

impl Order {
    /// Whether this order was made under this idempotency key.
    pub fn made_under(&self, key: &str) -> bool {
        self.metadata
            .as_ref()
            .and_then(|metadata| metadata.get("itinera_key"))
            .and_then(serde_json::Value::as_str)
            == Some(key)
    }
}

/// `POST /air/order_cancellations` body.
#[derive(Debug, Serialize)]
pub struct CreateCancellation {
    pub order_id: String,
}

/// A cancellation quote (`confirmed_at` null) or a confirmed cancellation.
#[derive(Debug, Deserialize)]
pub struct Cancellation {
    pub id: String,
    pub refund_amount: String,
    pub refund_currency: String,
    pub refund_to: RefundTo,
    pub confirmed_at: Option<String>,
    /// The quote must be confirmed before this.
    pub expires_at: Option<String>,
}

/// Where a cancellation's refund goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefundTo {
    ArcBspCash,
    Balance,
    Card,
    Voucher,
    AwaitingPayment,
    AirlineCredits,
}

/// An error answer: `{"meta": {…}, "errors": [{type, code, title, message}]}`.
#[derive(Debug, Deserialize)]
pub struct ErrorBody {
    pub errors: Vec<ApiError>,
}

#[derive(Debug, Deserialize)]
pub struct ApiError {
    #[serde(rename = "type")]
    pub kind: ErrorType,
    pub code: Option<String>,
    pub title: Option<String>,
    pub message: Option<String>,
}

/// The error types Duffel documents (the Ruby SDK maps exactly these).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorType {
    AirlineError,
    ApiError,
    AuthenticationError,
    InvalidRequestError,
    InvalidStateError,
    RateLimitError,
    ValidationError,
    /// A type added after this adapter was written.
    #[serde(other)]
    Other,
}

impl ErrorType {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorType::AirlineError => "airline_error",
            ErrorType::ApiError => "api_error",
            ErrorType::AuthenticationError => "authentication_error",
            ErrorType::InvalidRequestError => "invalid_request_error",
            ErrorType::InvalidStateError => "invalid_state_error",
            ErrorType::RateLimitError => "rate_limit_error",
            ErrorType::ValidationError => "validation_error",
            ErrorType::Other => "unknown_error",
        }
    }
}
