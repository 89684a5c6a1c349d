//! Amadeus Self-Service JSON, as its published OpenAPI specifications (Hotel List v1, Hotel
//! Search v3, Hotel Booking v2, Authorization v1) describe it: answers wrapped in `{"data": …}`,
//! prices as decimal strings beside a currency, errors as `{"errors": [{status, code, title,
//! detail}]}` with a numeric code.

use serde::{Deserialize, Serialize};

/// Every answer: `{"data": …}`; the booking request too.
#[derive(Debug, Serialize, Deserialize)]
pub struct Envelope<T> {
    pub data: T,
}

/// Every other refusal.
#[derive(Debug, Deserialize)]
pub struct ErrorBody {
    pub errors: Vec<ApiError>,
}

#[derive(Debug, Deserialize)]
pub struct ApiError {
    /// Amadeus's numeric error code, e.g. 38420 "OFFER NOT FOUND".
    #[serde(default)]
    pub code: Option<u32>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub detail: Option<String>,
}

/// One hotel of `GET /v1/reference-data/locations/hotels/by-city`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListedHotel {
    pub hotel_id: String,
}

/// One hotel's offers, from the search (`GET /v3/shopping/hotel-offers`) or the re-pricing of
/// one offer (`GET /v3/shopping/hotel-offers/{offerId}`).
#[derive(Debug, Deserialize)]
pub struct HotelOffers {
    pub hotel: Hotel,
    #[serde(default)]
    pub available: Option<bool>,
    #[serde(default)]
    pub offers: Vec<HotelOffer>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Hotel {
    pub name: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HotelOffer {
    pub id: String,
    /// `YYYY-MM-DD`, the hotel's local date.
    pub check_in_date: String,
    pub check_out_date: String,
    #[serde(default)]
    pub board_type: Option<String>,
    #[serde(default)]
    pub room: Room,
    #[serde(default)]
    pub guests: Option<Guests>,
    pub price: Price,
    #[serde(default)]
    pub policies: Policies,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Room {
    /// A three-character room type code, e.g. `ELE`.
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub description: Option<FreeText>,
}

#[derive(Debug, Deserialize)]
pub struct FreeText {
    pub text: String,
}

#[derive(Debug, Deserialize)]
pub struct Guests {
    pub adults: u8,
}

#[derive(Debug, Deserialize)]
pub struct Price {
    pub currency: String,
    /// `total = base + taxes`: what the stay costs.
    pub total: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Policies {
    /// How the stay is paid: only `PREPAY` is paid in full when booked.
    #[serde(default)]
    pub payment_type: Option<PaymentType>,
    #[serde(default)]
    pub cancellations: Vec<CancellationRule>,
}

/// `policies.paymentType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PaymentType {
    /// A card guarantees the room; the hotel charges at the stay.
    Guarantee,
    /// Part is paid now, the rest at the hotel.
    Deposit,
    /// Paid in full when booked.
    Prepay,
    /// Held without payment until a time.
    Holdtime,
    #[serde(other)]
    Other,
}

/// A penalty that applies after `deadline` (its amount, percentage or nights are not read:
/// Itinera promises no refund for Amadeus stays, and only tells the hotel's deadline).
#[derive(Debug, Deserialize)]
pub struct CancellationRule {
    /// ISO 8601 with the hotel's offset, e.g. `2026-12-01T23:59:00+01:00`.
    #[serde(default)]
    pub deadline: Option<String>,
}

/// `POST /v2/booking/hotel-orders` body (`data`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateOrder {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub guests: Vec<Guest>,
    pub travel_agent: TravelAgent,
    pub room_associations: Vec<RoomAssociation>,
    pub payment: Payment,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Guest {
    /// A temporary id the room association refers to.
    pub tid: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<&'static str>,
    pub first_name: String,
    pub last_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct TravelAgent {
    pub contact: AgentContact,
}

#[derive(Debug, Serialize)]
pub struct AgentContact {
    pub email: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoomAssociation {
    pub guest_references: Vec<GuestReference>,
    pub hotel_offer_id: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GuestReference {
    pub guest_reference: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Payment {
    pub method: &'static str,
    pub payment_card: PaymentCard,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentCard {
    pub payment_card_info: PaymentCardInfo,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentCardInfo {
    pub vendor_code: &'static str,
    pub card_number: String,
    /// `YYYY-MM`, as the specification's request example writes it.
    pub expiry_date: String,
    pub holder_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub security_code: Option<String>,
}

/// The hotel order made.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HotelOrder {
    pub id: String,
    pub hotel_bookings: Vec<HotelBooking>,
    #[serde(default)]
    pub associated_records: Vec<AssociatedRecord>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HotelBooking {
    pub booking_status: BookingStatus,
    #[serde(default)]
    pub hotel_provider_information: Vec<ProviderInformation>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderInformation {
    pub confirmation_number: Option<String>,
}

/// The PNR the order is stored in.
#[derive(Debug, Deserialize)]
pub struct AssociatedRecord {
    pub reference: String,
}

/// `hotelBookings[].bookingStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BookingStatus {
    Confirmed,
    /// On request: the hotel has yet to say yes.
    Pending,
    Cancelled,
    /// Deferred payment.
    OnHold,
    Past,
    /// The hotel finally refused.
    Unconfirmed,
    /// The hotel denied an on-request booking.
    Denied,
    Ghost,
    Deleted,
    #[serde(other)]
    Other,
}
