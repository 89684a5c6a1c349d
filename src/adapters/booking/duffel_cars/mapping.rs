//! Duffel Cars' rates and quotes as Itinera's offers, and the driver a booking names.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};

use crate::adapters::booking::car_driver::{self, DriverError};

use super::wire::{Car, Driver, Mileage, PaymentType, PlaceName, Supplier};
use crate::domain::ids::OfferId;
use crate::domain::money::Money;
use crate::domain::offer::{CancellationPolicy, ItemKind, Offer, OfferDetails};
use crate::domain::places::City;
use crate::domain::plan::Traveller;

/// Duffel gives rates no expiry; Itinera quotes every rate again before booking, so this only
/// says how long a price shown is worth trusting.
const RATE_TRUSTED_FOR: Duration = Duration::minutes(30);

/// Why a rate could not be read as ours.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Duffel Cars rate {rate}: {problem}")]
pub struct UnreadableRate {
    rate: String,
    problem: String,
}

/// The rental a search or quote was for.
#[derive(Debug, Clone, Copy)]
pub struct Rental {
    pub city: City,
    pub pick_up_at: NaiveDateTime,
    pub drop_off_at: NaiveDateTime,
}

/// What a rate or a quote offers.
pub struct Priced<'a> {
    pub rate_id: &'a str,
    pub total: (&'a str, &'a str),
    pub payment_type: PaymentType,
    pub mileage: &'a Mileage,
    pub supplier: &'a Supplier,
    pub car: &'a Car,
    pub pickup_location: &'a PlaceName,
}

/// Whether Itinera can sell it: paid to Duffel when booked. A car paid at the counter
/// (`postpaid`, `guarantee`) would charge the traveller twice.
pub fn sellable(priced: &Priced<'_>) -> bool {
    priced.payment_type == PaymentType::Prepaid
}

pub fn offer(
    priced: &Priced<'_>,
    rental: Rental,
    now: DateTime<Utc>,
) -> Result<Offer, UnreadableRate> {
    let problem = |problem: String| UnreadableRate {
        rate: priced.rate_id.to_string(),
        problem,
    };
    let price =
        Money::parse(priced.total.0, priced.total.1).map_err(|e| problem(format!("total: {e}")))?;
    let mileage = match priced.mileage {
        Mileage::Unlimited => "unlimited mileage".to_string(),
        Mileage::Limited { unit, limit } => format!("{limit} {unit} included"),
    };
    let car = priced.car;
    Ok(Offer {
        id: OfferId::parse(priced.rate_id).map_err(|e| problem(e.to_string()))?,
        provider: super::NAME.into(),
        kind: ItemKind::CarRental,
        title: format!(
            "{} {} ({}, {}), {} → {}, {mileage}, at {} (no refund through Itinera)",
            priced.supplier.name,
            car.name,
            car.category.replace('_', " "),
            car.transmission,
            rental.pick_up_at.format("%Y-%m-%d %H:%M"),
            rental.drop_off_at.format("%Y-%m-%d %H:%M"),
            priced.pickup_location.name,
        ),
        price,
        city: rental.city,
        starts_on: rental.pick_up_at.date(),
        ends_on: rental.drop_off_at.date(),
        // Duffel Cars states no refund terms a machine can read (only free-text conditions),
        // and its cancellation says nothing of money: nothing is promised back.
        cancellation: CancellationPolicy::NonRefundable,
        expires_at: now + RATE_TRUSTED_FOR,
        details: OfferDetails::CarRental {
            company: priced.supplier.name.clone(),
            vehicle_class: car.category.clone(),
            model: car.name.clone(),
            pick_up_at: rental.pick_up_at,
            drop_off_at: rental.drop_off_at,
            pick_up_location: priced.pickup_location.name.clone(),
        },
        accepted_payments: Vec::new(),
    })
}

/// The lead traveller as the driver, of an age the searched rates are for.
pub fn driver(lead: &Traveller, pick_up_on: NaiveDate) -> Result<Driver, DriverError> {
    let born = car_driver::born(lead, pick_up_on)?;
    Ok(Driver {
        given_name: lead.given_name.clone(),
        family_name: lead.family_name.clone(),
        email: lead.email.clone().ok_or(DriverError::Missing("email"))?,
        phone_number: crate::domain::personal::e164(
            lead.phone.as_deref().ok_or(DriverError::Missing("phone"))?,
        ),
        date_of_birth: born.format("%Y-%m-%d").to_string(),
    })
}
