//! Avis Budget Group's Rental Cars 2.0.0 JSON, as its OpenAPI contract describes it
//! (`docs/research/avis.md`): money as JSON numbers beside a currency, counts as strings,
//! `snake_case` fields, every answer with `status` and `transaction`, errors as
//! `{"status": {"errors": [{code, message, reason, details}]}}` (the contract's examples; its
//! schemas put `errors` at the top level, so both are read).

use serde::{Deserialize, Serialize};

use crate::adapters::http::JsonDecimal;

/// `product`: the brand a call is for.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Product {
    pub brand: String,
}

/// `transaction`: our id for the call, echoed back (support can find the call by it).
#[derive(Debug, Serialize)]
pub struct Transaction {
    pub transaction_id: String,
}

// --- Locations: `GET /cars/locations/v2/keyword` -------------------------------------------

#[derive(Debug, Deserialize)]
pub struct LocationsAnswer {
    #[serde(default)]
    pub locations: Vec<Location>,
}

#[derive(Debug, Deserialize)]
pub struct Location {
    /// "3-5 character alphanumeric location or airport code"; an older example names it
    /// `location_code`.
    #[serde(alias = "location_code")]
    pub code: String,
    #[serde(alias = "location_name")]
    pub name: String,
    #[serde(default)]
    pub airport_location: bool,
    #[serde(default)]
    pub address: Option<Address>,
}

#[derive(Debug, Deserialize)]
pub struct Address {
    #[serde(default)]
    pub country_code: Option<String>,
}

// --- Availability: `GET /cars/catalog/v2/vehicles` -----------------------------------------

#[derive(Debug, Deserialize)]
pub struct VehiclesAnswer {
    #[serde(default)]
    pub vehicles: Vec<Vehicle>,
}

#[derive(Debug, Deserialize)]
pub struct Vehicle {
    pub category: Category,
    pub rate_totals: RateTotals,
    #[serde(default)]
    pub distance: Option<Distance>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Category {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub make: Option<String>,
    #[serde(default)]
    pub model: Option<String>,
    pub sipp_code: String,
    #[serde(default)]
    pub vehicle_class_name: Option<String>,
    #[serde(default)]
    pub vehicle_transmission: Option<String>,
    #[serde(default)]
    pub vehicle_status: Option<VehicleStatus>,
}

/// `vehicle_status`: a car Avis has, or one it must first find.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum VehicleStatus {
    Available,
    OnRequest,
    #[serde(other)]
    Other,
}

/// `vehicle_onrequest_status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum OnRequestStatus {
    Confirmed,
    Pending,
    Denied,
    #[serde(other)]
    Other,
}

#[derive(Debug, Deserialize)]
pub struct RateTotals {
    pub rate: Rate,
    /// The prepaid offer: its own `rate_code` and total. Absent where Avis sells no prepaid rate.
    #[serde(default)]
    pub pay_now: Option<PayTotal>,
}

#[derive(Debug, Deserialize)]
pub struct Rate {
    #[serde(default)]
    pub currency: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct PayTotal {
    pub rate_code: String,
    pub reservation_total: JsonDecimal,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Distance {
    pub unlimited_distance: bool,
    #[serde(default)]
    pub distance_unit: Option<String>,
    #[serde(default)]
    pub distance_covered: Option<JsonDecimal>,
}

// --- Price one car: `POST /cars/catalog/v2/vehicles/rates` ---------------------------------

#[derive(Debug, Serialize)]
pub struct RateRequest {
    pub product: Product,
    pub transaction: Transaction,
    pub reservation: Rental,
    pub rate_totals: RateTotalsRequest,
}

/// What is rented, where and when (`reservation_rate_request` / `reservation_request`).
#[derive(Debug, Clone, Serialize)]
pub struct Rental {
    /// `YYYY-MM-DDTHH:MM:SS`, local time at the location.
    pub pickup_date: String,
    pub pickup_location: String,
    pub dropoff_date: String,
    pub dropoff_location: String,
    pub vehicle_sipp_code: String,
}

#[derive(Debug, Serialize)]
pub struct RateTotalsRequest {
    pub rate: RateRequestRate,
}

#[derive(Debug, Serialize)]
pub struct RateRequestRate {
    pub rate_code: String,
    /// The renter's country of residence.
    pub country_code: String,
    /// "Required for re-shop and booking requests to retain the originally quoted rate."
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quote_id: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct RateAnswer {
    pub reservation: PricedRental,
}

#[derive(Debug, Deserialize)]
pub struct PricedRental {
    pub rate_totals: PricedTotals,
}

#[derive(Debug, Deserialize)]
pub struct PricedTotals {
    pub rate: PricedRate,
    pub totals: Totals,
}

#[derive(Debug, Deserialize)]
pub struct PricedRate {
    pub rate_code: String,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub quote_id: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Totals {
    pub reservation_total: JsonDecimal,
}

// --- Reserve: `POST /cars/reservation/v2` --------------------------------------------------

#[derive(Debug, Serialize)]
pub struct CreateReservation {
    pub product: Product,
    pub transaction: Transaction,
    pub reservation: ReservationRequest,
    pub rate_totals: RateTotalsRequest,
    pub customer: Customer,
    pub payment_preference: PaymentPreference,
}

#[derive(Debug, Serialize)]
pub struct ReservationRequest {
    #[serde(flatten)]
    pub rental: Rental,
    /// Avis's own e-mails to the driver: Itinera sends its own.
    pub email_notification: bool,
    /// Our reference for the booking, for a person looking for it at Avis (nothing searches by it).
    pub remark: String,
}

#[derive(Debug, Serialize)]
pub struct Customer {
    pub contact: Contact,
}

#[derive(Debug, Serialize)]
pub struct Contact {
    pub first_name: String,
    pub last_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub telephone: Option<String>,
    pub age: i32,
    pub date_of_birth: String,
}

/// How Avis is paid: the agency's card, charged the prepaid total.
#[derive(Debug, Serialize)]
pub struct PaymentPreference {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub amount: JsonDecimal,
    pub currency: String,
    pub payment_method: PaymentCard,
}

#[derive(Debug, Serialize)]
pub struct PaymentCard {
    /// `VI`, `MC` or `AX`.
    pub card_type: &'static str,
    pub card_number: String,
    pub card_holder_name: String,
    /// "As found printed on the card": `MMYY`.
    pub expiry_date: String,
}

/// What of a reservation's answer Itinera reads besides its confirmation number (read on its
/// own first: a made reservation is never lost to a field read here). Everything optional:
/// the contract requires none of it, and its own example leaves much out.
#[derive(Debug, Default, Deserialize)]
pub struct ReservationAnswer {
    #[serde(default)]
    pub reservation: Reservation,
}

#[derive(Debug, Default, Deserialize)]
pub struct Reservation {
    #[serde(default)]
    pub vehicle: Option<ReservedVehicle>,
    #[serde(default)]
    pub rate_totals: Option<BookedTotals>,
}

#[derive(Debug, Serialize)]
pub struct Confirmation {
    pub number: String,
}

#[derive(Debug, Deserialize)]
pub struct ReservedVehicle {
    #[serde(default)]
    pub category: Option<ReservedCategory>,
}

#[derive(Debug, Deserialize)]
pub struct ReservedCategory {
    #[serde(default)]
    pub vehicle_status: Option<VehicleStatus>,
    /// Of a car on request: whether Avis has found and confirmed it.
    #[serde(default)]
    pub vehicle_onrequest_status: Option<OnRequestStatus>,
}

#[derive(Debug, Deserialize)]
pub struct BookedTotals {
    #[serde(default)]
    pub rate: Option<BookedRate>,
    #[serde(default)]
    pub totals: Option<BookedTotal>,
}

#[derive(Debug, Deserialize)]
pub struct BookedRate {
    #[serde(default)]
    pub currency: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct BookedTotal {
    #[serde(default)]
    pub reservation_total: Option<JsonDecimal>,
}

// --- Cancel: `PUT /cars/reservation/v2` ----------------------------------------------------

#[derive(Debug, Serialize)]
pub struct CancelReservation {
    pub product: Product,
    pub transaction: Transaction,
    pub reservation: CancelledReservation,
    pub customer: LastNameOnly,
}

#[derive(Debug, Serialize)]
pub struct CancelledReservation {
    pub email_notification: bool,
    pub confirmation: Confirmation,
}

#[derive(Debug, Serialize)]
pub struct LastNameOnly {
    pub contact: LastName,
}

#[derive(Debug, Serialize)]
pub struct LastName {
    pub last_name: String,
}

// --- Errors --------------------------------------------------------------------------------

/// An error answer, in the examples' shape (`status.errors`) or the schemas' (`errors`).
#[derive(Debug, Deserialize)]
pub struct ErrorBody {
    #[serde(default)]
    pub status: Option<ErrorList>,
    #[serde(default)]
    pub errors: Vec<ApiError>,
}

#[derive(Debug, Deserialize)]
pub struct ErrorList {
    #[serde(default)]
    pub errors: Vec<ApiError>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ApiError {
    /// The HTTP status again (`"400"`) or Avis's business code (`"14036"`).
    pub code: String,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub details: Option<String>,
}

impl ErrorBody {
    /// Every error, wherever the answer put them.
    pub fn all(self) -> Vec<ApiError> {
        let mut errors = self.status.map(|status| status.errors).unwrap_or_default();
        errors.extend(self.errors);
        errors
    }
}
