//! Duffel Cars' JSON, as `shared/provider-apis.md` §8a and the JS SDK's `src/Cars/CarsTypes.ts`
//! describe it: the same envelope, auth and errors as Duffel's flights; decimal-string amounts.

use serde::{Deserialize, Serialize};

pub use crate::adapters::booking::duffel::wire::Metadata;

/// `POST /cars/search` body.
#[derive(Debug, Serialize)]
pub struct Search {
    pub pickup_date: String,
    /// `HH:MM`, local.
    pub pickup_time: String,
    pub dropoff_date: String,
    pub dropoff_time: String,
    pub pickup_location: Location,
    pub dropoff_location: Location,
    pub driver: SearchDriver,
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

#[derive(Debug, Serialize)]
pub struct SearchDriver {
    pub age: u8,
    /// ISO 3166-1 alpha-2.
    pub residence_country_code: String,
}

#[derive(Debug, Deserialize)]
pub struct SearchAnswer {
    #[serde(default)]
    pub rates: Vec<Rate>,
}

#[derive(Debug, Deserialize)]
pub struct Rate {
    pub id: String,
    pub total_amount: String,
    pub total_currency: String,
    pub payment_type: PaymentType,
    pub mileage: Mileage,
    pub supplier: Supplier,
    pub car: Car,
    pub pickup_location: PlaceName,
}

/// Who takes the money: only `prepaid` is paid to Duffel when booked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentType {
    Prepaid,
    /// Paid at the counter.
    Postpaid,
    /// A card guarantees the car; the counter charges.
    Guarantee,
    #[serde(other)]
    Other,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Mileage {
    Unlimited,
    Limited { unit: String, limit: u32 },
}

#[derive(Debug, Deserialize)]
pub struct Supplier {
    pub name: String,
}

#[derive(Debug, Deserialize)]
pub struct Car {
    pub name: String,
    pub category: String,
    pub transmission: String,
}

#[derive(Debug, Deserialize)]
pub struct PlaceName {
    pub name: String,
}

#[derive(Debug, Deserialize)]
pub struct Quote {
    pub id: String,
    pub rate_id: String,
    pub total_amount: String,
    pub total_currency: String,
    pub payment_type: PaymentType,
    pub mileage: Mileage,
    pub supplier: Supplier,
    pub car: Car,
    pub pickup_location: PlaceName,
}

/// `POST /cars/bookings` body, paid from the Duffel balance (no `payment`).
#[derive(Debug, Serialize)]
pub struct CreateBooking {
    pub quote_id: String,
    pub driver: Driver,
    pub metadata: Metadata,
}

#[derive(Debug, Serialize)]
pub struct Driver {
    pub given_name: String,
    pub family_name: String,
    pub email: String,
    pub phone_number: String,
    /// `YYYY-MM-DD`.
    pub date_of_birth: String,
}

#[derive(Debug, Deserialize)]
pub struct Booking {
    pub id: String,
    /// The supplier's confirmation reference.
    pub reference: String,
    pub status: BookingStatus,
    pub total_currency: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BookingStatus {
    Confirmed,
    Cancelled,
    #[serde(other)]
    Other,
}
