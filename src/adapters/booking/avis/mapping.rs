//! Avis's vehicles as Itinera's offers, the offer id that carries what pricing the car again
//! needs, and the driver and card a reservation names.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, NaiveDateTime, Utc};

use super::wire::{Category, Contact, Distance, PaymentCard};
use crate::adapters::booking::agency_card::{AgencyCard, CardBrand};
use crate::adapters::booking::car_driver::{self, DriverError};
use crate::domain::ids::OfferId;
use crate::domain::money::Money;
use crate::domain::offer::{CancellationPolicy, ItemKind, Offer, OfferDetails};
use crate::domain::places::City;
use crate::domain::plan::Traveller;

/// Offer ids of Avis cars start so: the rest is the car, base64url (no padding).
const ID_PREFIX: &str = "avis_";
/// Avis gives rates no expiry; Itinera prices every car again before booking, so this only says
/// how long a price shown is worth trusting.
pub const RATE_TRUSTED_FOR: Duration = Duration::minutes(30);

/// What pricing one car again needs besides the rental's dates (kept in the offer's details):
/// the location, the car's SIPP code, the prepaid rate's code, the renter's country.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CarRef {
    pub location: String,
    pub sipp_code: String,
    pub rate_code: String,
    pub country: String,
}

/// Why an answer or an offer id could not be read as ours.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Avis car {car}: {problem}")]
pub struct Unreadable {
    pub car: String,
    pub problem: String,
}

impl CarRef {
    pub fn offer_id(&self) -> Result<OfferId, Unreadable> {
        let joined = [
            self.location.as_str(),
            &self.sipp_code,
            &self.rate_code,
            &self.country,
        ]
        .join("\n");
        OfferId::parse(&format!("{ID_PREFIX}{}", URL_SAFE_NO_PAD.encode(joined))).map_err(|e| {
            Unreadable {
                car: self.sipp_code.clone(),
                problem: e.to_string(),
            }
        })
    }

    pub fn from_offer_id(id: &OfferId) -> Result<CarRef, Unreadable> {
        let problem = |problem: &str| Unreadable {
            car: id.to_string(),
            problem: problem.to_string(),
        };
        let bytes = id
            .as_str()
            .strip_prefix(ID_PREFIX)
            .and_then(|encoded| URL_SAFE_NO_PAD.decode(encoded).ok())
            .ok_or_else(|| problem("not an offer id of Avis's adapter"))?;
        let text = String::from_utf8(bytes).map_err(|_| problem("not text"))?;
        let parts: Vec<&str> = text.split('\n').collect();
        let [location, sipp_code, rate_code, country] = parts.as_slice() else {
            return Err(problem("not four parts"));
        };
        Ok(CarRef {
            location: (*location).to_string(),
            sipp_code: (*sipp_code).to_string(),
            rate_code: (*rate_code).to_string(),
            country: (*country).to_string(),
        })
    }
}

/// The rental a search was for.
#[derive(Debug, Clone, Copy)]
pub struct Rental {
    pub city: City,
    pub pick_up_at: NaiveDateTime,
    pub drop_off_at: NaiveDateTime,
}

/// A time as Avis takes it: `YYYY-MM-DDTHH:MM:SS`, local at the location, no offset.
pub fn local_time(at: NaiveDateTime) -> String {
    at.format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// One priced car at one location.
pub struct PricedCar<'a> {
    pub car: CarRef,
    pub brand: &'a str,
    pub category: &'a Category,
    pub distance: Option<&'a Distance>,
    pub location_name: &'a str,
    pub price: Money,
}

pub fn offer(
    priced: &PricedCar<'_>,
    rental: Rental,
    now: DateTime<Utc>,
) -> Result<Offer, Unreadable> {
    let category = priced.category;
    let model = match (&category.make, &category.model, &category.name) {
        (Some(make), Some(model), _) => format!("{make} {model} or similar"),
        (_, _, Some(name)) => name.clone(),
        _ => category.sipp_code.clone(),
    };
    let class = category
        .vehicle_class_name
        .clone()
        .unwrap_or_else(|| category.sipp_code.clone());
    let transmission = category
        .vehicle_transmission
        .as_deref()
        .map(str::to_lowercase)
        .unwrap_or_else(|| "transmission not stated".into());
    Ok(Offer {
        id: priced.car.offer_id()?,
        provider: super::NAME.into(),
        kind: ItemKind::CarRental,
        title: format!(
            "{} {model} ({class}, {transmission}), {} → {}, {}, at {} (prepaid; no refund through Itinera)",
            priced.brand,
            rental.pick_up_at.format("%Y-%m-%d %H:%M"),
            rental.drop_off_at.format("%Y-%m-%d %H:%M"),
            mileage(priced.distance),
            priced.location_name,
        ),
        price: priced.price,
        city: rental.city,
        starts_on: rental.pick_up_at.date(),
        ends_on: rental.drop_off_at.date(),
        // Avis states its cancellation terms only as text (the terms endpoint), and its
        // cancellation answer says nothing of money: nothing is promised back.
        cancellation: CancellationPolicy::NonRefundable,
        expires_at: now + RATE_TRUSTED_FOR,
        details: OfferDetails::CarRental {
            company: priced.brand.to_string(),
            vehicle_class: class,
            model,
            pick_up_at: rental.pick_up_at,
            drop_off_at: rental.drop_off_at,
            pick_up_location: priced.location_name.to_string(),
        },
        accepted_payments: Vec::new(),
    })
}

fn mileage(distance: Option<&Distance>) -> String {
    match distance {
        Some(distance) if distance.unlimited_distance => "unlimited mileage".into(),
        Some(Distance {
            distance_covered: Some(covered),
            distance_unit: Some(unit),
            ..
        }) => format!("{} {} included", covered.0, unit.to_lowercase()),
        _ => "limited mileage".into(),
    }
}

/// The lead traveller as the renter and driver, of an age the rate was searched for.
pub fn contact(lead: &Traveller, pick_up_at: NaiveDateTime) -> Result<Contact, DriverError> {
    let pick_up_on = pick_up_at.date();
    let born = car_driver::born(lead, pick_up_on)?;
    Ok(Contact {
        first_name: lead.given_name.clone(),
        last_name: lead.family_name.clone(),
        email: lead.email.clone(),
        telephone: lead.phone.as_deref().map(crate::domain::personal::e164),
        age: car_driver::age_on(born, pick_up_on),
        date_of_birth: born.format("%Y-%m-%d").to_string(),
    })
}

/// The agency's card as Avis's `payment` object.
pub fn payment_card(card: &AgencyCard) -> PaymentCard {
    // `YYYY-MM` (checked when configured) printed as on the card: `MMYY`.
    let (year, month) = card.expiry().split_once('-').unwrap_or_default();
    PaymentCard {
        card_type: match card.brand() {
            CardBrand::Visa => "VI",
            CardBrand::Mastercard => "MC",
            CardBrand::AmericanExpress => "AX",
        },
        card_number: card.number().to_string(),
        card_holder_name: card.holder().to_string(),
        expiry_date: format!("{month}{}", year.get(2..).unwrap_or_default()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_offer_id_carries_the_car_back() {
        let car = CarRef {
            location: "CDG".into(),
            sipp_code: "ECMR".into(),
            rate_code: "2X".into(),
            country: "FR".into(),
        };
        let id = car.offer_id().unwrap();
        assert!(id.as_str().starts_with("avis_"));
        assert_eq!(CarRef::from_offer_id(&id).unwrap(), car);
        assert!(CarRef::from_offer_id(&OfferId::parse("bcom_abc").unwrap()).is_err());
    }

    #[test]
    fn the_card_is_named_as_avis_prints_it() {
        let card = AgencyCard::parse(
            "ITINERA_AVIS_CARD",
            "5555555555554444",
            "2027-08",
            "DESK",
            None,
        )
        .unwrap();
        let sent = payment_card(&card);
        assert_eq!(sent.card_type, "MC");
        assert_eq!(sent.expiry_date, "0827");
    }
}
