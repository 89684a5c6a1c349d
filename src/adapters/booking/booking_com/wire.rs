//! Booking.com Demand API 3.1 JSON, as its OpenAPI specification describes it (every call a POST
//! with a JSON body; answers `{request_id, data}`; search prices as JSON numbers, preview and
//! order prices as `{accommodation_currency, booker_currency}` pairs; errors as
//! `{request_id, errors: [{id, message}]}`). Only the fields Itinera reads or must send are
//! here; statuses are enums with a catch-all, matched exhaustively where they are read.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::adapters::http::JsonDecimal;

/// Every answer but `/orders/details`: `{request_id, data}`.
#[derive(Debug, Deserialize)]
pub struct Envelope<T> {
    pub data: T,
}

/// Every refusal documented: `{request_id, errors: [{id, message}]}`.
#[derive(Debug, Deserialize)]
pub struct ErrorBody {
    #[serde(default)]
    pub request_id: Option<String>,
    pub errors: Vec<ApiError>,
}

#[derive(Debug, Deserialize)]
pub struct ApiError {
    /// e.g. `missing_parameter`.
    pub id: String,
    #[serde(default)]
    pub message: Option<String>,
}

/// `booker` of a search or a preview: the market Booking.com prices for.
#[derive(Debug, Clone, Serialize)]
pub struct Booker {
    /// Two lowercase letters.
    pub country: String,
    pub platform: &'static str,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Guests {
    pub number_of_adults: u8,
    pub number_of_rooms: u8,
}

#[derive(Debug, Serialize)]
pub struct Coordinates {
    pub latitude: f64,
    pub longitude: f64,
    /// Kilometres.
    pub radius: f64,
}

/// `POST /accommodations/search`.
#[derive(Debug, Serialize)]
pub struct Search {
    pub booker: Booker,
    pub checkin: String,
    pub checkout: String,
    pub guests: Guests,
    pub coordinates: Coordinates,
    pub currency: String,
    pub extras: [&'static str; 1],
    /// Only what is paid online (`pay_online` covers now and later; later is left out here).
    pub payment: PaymentFilter,
    pub rows: u32,
}

#[derive(Debug, Serialize)]
pub struct PaymentFilter {
    pub timing: &'static str,
}

#[derive(Debug, Deserialize)]
pub struct SearchedAccommodation {
    pub id: u64,
    pub currency: String,
    #[serde(default)]
    pub products: Vec<Product>,
}

#[derive(Debug, Deserialize)]
pub struct Product {
    /// e.g. `1000420_95127794_2_0_0`.
    pub id: String,
    #[serde(default)]
    pub number_of_adults: Option<u8>,
    pub policies: ProductPolicies,
    pub price: SearchPrice,
}

#[derive(Debug, Deserialize)]
pub struct ProductPolicies {
    pub cancellation: SearchCancellation,
    #[serde(default)]
    pub meal_plan: Option<MealPlan>,
    /// Missing, the product is taken as not paid now and left out of the search.
    #[serde(default)]
    pub payment: PaymentPolicy,
}

#[derive(Debug, Deserialize)]
pub struct SearchCancellation {
    /// ISO 8601 date-time, or null.
    #[serde(default)]
    pub free_cancellation_until: Option<String>,
    #[serde(rename = "type")]
    pub kind: CancellationType,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CancellationType {
    FreeCancellation,
    NonRefundable,
    SpecialConditions,
    #[serde(other)]
    Other,
}

#[derive(Debug, Deserialize)]
pub struct MealPlan {
    pub plan: MealPlanKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MealPlanKind {
    AllInclusive,
    BreakfastIncluded,
    FullBoard,
    HalfBoard,
    NoPlan,
    #[serde(other)]
    Other,
}

#[derive(Debug, Default, Deserialize)]
pub struct PaymentPolicy {
    #[serde(default)]
    pub timings: Vec<Timing>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Timing {
    PayAtTheProperty,
    PayOnlineLater,
    PayOnlineNow,
    #[serde(other)]
    Other,
}

/// A search price: plain numbers in the answer's currency.
#[derive(Debug, Deserialize)]
pub struct SearchPrice {
    /// What booking costs.
    pub book: JsonDecimal,
    /// `book` plus the charges left to pay at the property.
    pub total: JsonDecimal,
}

/// `POST /accommodations/details`.
#[derive(Debug, Serialize)]
pub struct Details {
    pub accommodations: Vec<u64>,
    pub languages: [&'static str; 1],
}

#[derive(Debug, Deserialize)]
pub struct AccommodationDetails {
    pub id: u64,
    /// Translated: `{"en-gb": …}` or `{"fallback": …}`.
    #[serde(default)]
    pub name: BTreeMap<String, String>,
    #[serde(default)]
    pub rating: Option<Rating>,
    #[serde(default)]
    pub booker_address_required: Option<bool>,
    /// The accommodation's own currency.
    #[serde(default)]
    pub currency: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Rating {
    #[serde(default)]
    pub stars: Option<JsonDecimal>,
}

/// `POST /orders/preview`.
#[derive(Debug, Serialize)]
pub struct Preview {
    pub booker: Booker,
    pub currency: String,
    pub accommodation: PreviewAccommodationRequest,
}

#[derive(Debug, Serialize)]
pub struct PreviewAccommodationRequest {
    pub id: u64,
    pub checkin: String,
    pub checkout: String,
    pub products: Vec<PreviewProductRequest>,
}

#[derive(Debug, Serialize)]
pub struct PreviewProductRequest {
    pub id: String,
    pub allocation: Allocation,
}

#[derive(Debug, Serialize)]
pub struct Allocation {
    pub number_of_adults: u8,
    pub children: [u8; 0],
}

#[derive(Debug, Deserialize)]
pub struct PreviewAnswer {
    pub accommodation: PreviewAccommodation,
    pub order_token: String,
}

#[derive(Debug, Deserialize)]
pub struct PreviewAccommodation {
    pub currency: Currencies,
    pub general_policies: GeneralPolicies,
    #[serde(default)]
    pub products: Vec<PreviewProduct>,
}

#[derive(Debug, Deserialize)]
pub struct Currencies {
    pub accommodation: String,
}

#[derive(Debug, Deserialize)]
pub struct GeneralPolicies {
    pub payment: Timings,
}

/// Each timing the order can be paid with, or null when it cannot.
#[derive(Debug, Deserialize)]
pub struct Timings {
    #[serde(default)]
    pub pay_online_now: Option<Charges>,
}

/// When and how much a timing charges.
#[derive(Debug, Deserialize)]
pub struct Charges {
    #[serde(default)]
    pub dates: Vec<Charge>,
}

#[derive(Debug, Deserialize)]
pub struct Charge {
    pub at: chrono::NaiveDate,
    pub price: Amounts,
}

#[derive(Debug, Deserialize)]
pub struct PreviewProduct {
    pub id: String,
    pub policies: PreviewPolicies,
    pub price: PreviewPrice,
}

#[derive(Debug, Deserialize)]
pub struct PreviewPolicies {
    /// The fee schedule: from each `from` on (`"now"`, a date-time, or null), `price` is kept.
    #[serde(default)]
    pub cancellation: Option<Vec<FeeStep>>,
}

#[derive(Debug, Deserialize)]
pub struct FeeStep {
    #[serde(default)]
    pub from: Option<String>,
    pub price: Amounts,
}

#[derive(Debug, Deserialize)]
pub struct PreviewPrice {
    /// What is paid online; null when nothing is.
    #[serde(default)]
    pub chargeable_online: Option<Amounts>,
}

/// A money field of the preview and the orders, read in the accommodation's currency (the
/// `booker_currency` beside it is not read: only stays priced in the plan's currency are sold).
#[derive(Debug, Clone, Deserialize)]
pub struct Amounts {
    pub accommodation_currency: JsonDecimal,
}

/// `POST /orders/create`.
#[derive(Debug, Serialize)]
pub struct Create {
    pub order_token: String,
    pub booker: OrderBooker,
    pub accommodation: CreateAccommodation,
    pub payment: Payment,
}

#[derive(Debug, Serialize)]
pub struct OrderBooker {
    pub name: PersonName,
    pub email: String,
    pub telephone: String,
    pub language: &'static str,
    pub address: Address,
}

#[derive(Debug, Serialize)]
pub struct PersonName {
    pub first_name: String,
    pub last_name: String,
}

/// Only the country: the other fields are needed when `booker_address_required`, and such
/// accommodations are not offered.
#[derive(Debug, Serialize)]
pub struct Address {
    pub country: String,
}

#[derive(Debug, Serialize)]
pub struct CreateAccommodation {
    /// Ours, read back in `/orders/details/accommodations`: how a lost answer is found again.
    pub label: String,
    pub products: Vec<CreateProduct>,
}

#[derive(Debug, Serialize)]
pub struct CreateProduct {
    pub id: String,
    pub guests: Vec<Guest>,
}

#[derive(Debug, Serialize)]
pub struct Guest {
    pub name: String,
    pub email: String,
}

#[derive(Debug, Serialize)]
pub struct Payment {
    pub method: &'static str,
    pub timing: &'static str,
    pub card: Card,
}

/// The agency's card as sent. Its `Debug` shows only the last four digits: a body printed
/// while debugging must not carry the card.
#[derive(Serialize)]
pub struct Card {
    pub number: String,
    pub cvc: String,
    /// `YYYY-MM`.
    pub expiry_date: String,
    pub cardholder: String,
}

impl std::fmt::Debug for Card {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let last_four = self
            .number
            .get(self.number.len().saturating_sub(4)..)
            .unwrap_or_default();
        f.debug_struct("Card")
            .field("number", &format_args!("…{last_four}"))
            .field("cvc", &"[redacted]")
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Deserialize)]
pub struct Created {
    pub accommodation: CreatedAccommodation,
}

#[derive(Debug, Deserialize)]
pub struct CreatedAccommodation {
    /// A numeric string.
    pub order: String,
    #[serde(default)]
    pub reservation: Option<u64>,
}

/// `POST /orders/details`, one of its variants.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum OrdersQuery {
    Created {
        created: Window,
        currency: String,
        services: [&'static str; 1],
        maximum_results: u32,
    },
    Orders {
        orders: Vec<String>,
        currency: String,
        extras: [&'static str; 1],
    },
    Page {
        page: String,
    },
}

#[derive(Debug, Serialize)]
pub struct Window {
    pub from: String,
    pub to: String,
}

#[derive(Debug, Deserialize)]
pub struct OrdersPage {
    #[serde(default)]
    pub data: Vec<OrderSummary>,
    #[serde(default)]
    pub metadata: Option<Metadata>,
}

#[derive(Debug, Deserialize)]
pub struct Metadata {
    #[serde(default)]
    pub next_page: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct OrderSummary {
    pub id: String,
    #[serde(default)]
    pub accommodations: Option<OrderAccommodations>,
    #[serde(default)]
    pub payment: Option<OrderPayment>,
}

#[derive(Debug, Deserialize)]
pub struct OrderAccommodations {
    #[serde(default)]
    pub reservation: Option<u64>,
}

#[derive(Debug, Deserialize)]
pub struct OrderPayment {
    #[serde(default)]
    pub paid: Vec<Paid>,
}

#[derive(Debug, Deserialize)]
pub struct Paid {
    pub amount: JsonDecimal,
    pub transaction_currency: String,
}

/// `POST /orders/details/accommodations`, one of its variants.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum AccommodationOrdersQuery {
    Orders { orders: Vec<String> },
    Reservations { reservations: Vec<u64> },
}

#[derive(Debug, Deserialize)]
pub struct AccommodationOrder {
    #[serde(default)]
    pub reservation: Option<u64>,
    #[serde(default)]
    pub label: Option<String>,
    pub status: OrderStatus,
    #[serde(default)]
    pub cancellation_details: Option<CancellationDetails>,
    #[serde(default)]
    pub currency: Option<Currencies>,
}

#[derive(Debug, Deserialize)]
pub struct CancellationDetails {
    pub fee: Amounts,
}

/// An order's status, in `/orders/details` and `/orders/details/accommodations`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Booked,
    Cancelled,
    CancelledByAccommodation,
    CancelledByGuest,
    NoShow,
    Stayed,
    #[serde(other)]
    Other,
}

impl OrderStatus {
    /// Cancelled, by whoever.
    pub fn is_cancelled(self) -> bool {
        match self {
            OrderStatus::Cancelled
            | OrderStatus::CancelledByAccommodation
            | OrderStatus::CancelledByGuest => true,
            OrderStatus::Booked
            | OrderStatus::NoShow
            | OrderStatus::Stayed
            | OrderStatus::Other => false,
        }
    }
}

/// `POST /orders/cancel`.
#[derive(Debug, Serialize)]
pub struct Cancel {
    pub order: String,
    pub reason: &'static str,
}

#[derive(Debug, Deserialize)]
pub struct CancelAnswer {
    pub status: CancelStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CancelStatus {
    Successful,
    Failed,
    #[serde(other)]
    Other,
}

/// `POST /common/locations/cities`, the probe.
#[derive(Debug, Serialize)]
pub struct Cities {
    pub country: &'static str,
    pub rows: u32,
}

/// `POST /accommodations/availability` for one product: whether the accommodation still sells
/// it (a product it no longer has is absent from `products`).
#[derive(Debug, Serialize)]
pub struct Availability {
    pub accommodation: u64,
    pub booker: Booker,
    pub checkin: String,
    pub checkout: String,
    pub guests: Guests,
    pub currency: String,
    pub products: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub struct Available {
    #[serde(default)]
    pub products: Vec<AvailableProduct>,
}

#[derive(Debug, Deserialize)]
pub struct AvailableProduct {
    pub id: String,
}
