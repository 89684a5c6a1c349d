//! Avis Budget Group car rentals (Rental Cars 2.0.0): a search at the city's Avis location (an
//! airport one first) for a driver of `SEARCHED_DRIVER_AGE` resident in the city's country,
//! only prepaid (`pay_now`) rates sold; a re-quote prices the car again
//! (`POST /cars/catalog/v2/vehicles/rates`); a reservation pays the prepaid total with the
//! agency's card (`payment_preference` `CustomerPaymentCard`); a cancellation (`PUT`) names the
//! reservation by its confirmation number and the driver's last name, and gives nothing back
//! through Itinera (Avis states its terms only as text).
//!
//! Avis has no idempotency key, and a reservation can be looked up only by a confirmation number
//! that a lost answer never gave: a reservation whose send got no answer is never sent again
//! (`no_lookup::SendGuard`), as with Amadeus and Duffel Cars. Our reference rides in the
//! reservation's `remark` and `transaction_id`, for a person to find it at Avis.
//!
//! Verified against ABG's OpenAPI contract as `docs/research/avis.md` records it, through the
//! local fake `tests/common/avis_fake.rs`; never against Avis itself. Where the contract is
//! silent (the prepaid payment block, the card's expiry format), the README's provider table
//! says what Itinera assumed.

mod client;
mod mapping;
mod wire;

pub use crate::adapters::booking::agency_card::AgencyCard;
pub use client::Credentials;

use std::sync::Arc;

use async_trait::async_trait;
use reqwest::Method;

use super::car_driver;
use super::no_lookup::{self, SendGuard};
use crate::adapters::http::{self, ClientError, JsonDecimal};
use crate::domain::idempotency::IdempotencyKey;
use crate::domain::money::{Currency, Money};
use crate::domain::offer::{ItemKind, Offer, OfferDetails};
use crate::domain::places::City;
use crate::ports::booking::{
    BookingConfirmation, BookingError, BookingProvider, BookingRequest, CancelRequest,
    CancellationReceipt, SearchQuery,
};
use crate::ports::{Clock, ProviderError};

use client::{Client, Failure};
use mapping::{CarRef, PricedCar, Rental};
use wire::{
    CancelReservation, CancelledReservation, Confirmation, CreateReservation, Customer, LastName,
    LastNameOnly, Location, LocationsAnswer, OnRequestStatus, PaymentPreference, PricedRental,
    Product, RateAnswer, RateRequest, RateRequestRate, RateTotalsRequest, ReservationAnswer,
    ReservationRequest, Transaction, VehicleStatus, VehiclesAnswer,
};

const NAME: &str = "avis";
/// Avis's codes for a location with nothing to rent: no location for the keyword (609), sold
/// out (223), no car for the filter (500708).
const NOTHING_THERE: [&str; 3] = ["609", "223", "500708"];
/// Avis's codes for a car or rate no longer sold as searched.
const NO_LONGER_SOLD: [&str; 6] = ["223", "500708", "14528", "14105", "19074", "14381"];
/// "Reservation already cancelled".
const ALREADY_CANCELLED: &str = "14036";

/// Where Avis is and how Itinera signs in and pays.
#[derive(Debug, Clone)]
pub struct AvisSettings {
    pub credentials: Credentials,
    pub base_url: String,
    /// `Avis`, `Budget` or `Payless`: the brand searched and booked.
    pub brand: String,
    /// Charged the prepaid total of each reservation.
    pub card: AgencyCard,
}

pub struct AvisCars {
    client: Client,
    brand: String,
    card: AgencyCard,
    clock: Arc<dyn Clock>,
    sends: SendGuard,
}

impl AvisCars {
    pub fn new(settings: &AvisSettings, clock: Arc<dyn Clock>) -> Result<Self, ClientError> {
        Ok(AvisCars {
            client: Client::new(
                http::client(http::CALL_TIMEOUT)?,
                &settings.base_url,
                settings.credentials.clone(),
            ),
            brand: settings.brand.clone(),
            card: settings.card.clone(),
            clock,
            sends: SendGuard::default(),
        })
    }

    fn product(&self) -> Product {
        Product {
            brand: self.brand.clone(),
        }
    }

    /// The city's location of this brand, an airport one first; `None` where it has none.
    async fn location(&self, city: &City) -> Result<Option<Location>, BookingError> {
        let query = [
            ("brand", self.brand.clone()),
            ("keyword", city.name.to_string()),
            ("country_code", city.country.to_string()),
            ("transaction_id", fresh_transaction()),
        ];
        let answer: Result<LocationsAnswer, Failure> =
            self.client.get("/cars/locations/v2/keyword", &query).await;
        let mut locations = match answer {
            Ok(answer) => answer.locations,
            Err(Failure::Refused(refusal)) if refusal.is_one_of(&NOTHING_THERE) => return Ok(None),
            Err(failure) => return Err(failure.into()),
        };
        // The keyword is a name: Paris, Texas answers for Paris too.
        locations.retain(|location| {
            location
                .address
                .as_ref()
                .and_then(|address| address.country_code.as_deref())
                .is_none_or(|country| country.eq_ignore_ascii_case(city.country))
        });
        locations.sort_by_key(|location| !location.airport_location);
        Ok(locations.into_iter().next())
    }

    /// The car priced again as the offer names it: what a reservation would pay now, and the
    /// quote id that keeps that price.
    async fn price(&self, offer: &Offer) -> Result<(Money, Option<String>), BookingError> {
        let car = car_of(offer)?;
        let body = RateRequest {
            product: self.product(),
            transaction: Transaction {
                transaction_id: fresh_transaction(),
            },
            reservation: rental_request(&car, offer)?,
            rate_totals: RateTotalsRequest {
                rate: RateRequestRate {
                    rate_code: car.rate_code.clone(),
                    country_code: car.country.clone(),
                    quote_id: None,
                },
            },
        };
        let answer: Result<RateAnswer, Failure> = self
            .client
            .send(Method::POST, "/cars/catalog/v2/vehicles/rates", &body)
            .await;
        let priced = answer
            .map_err(|failure| not_sold(failure, offer))?
            .reservation;
        let price = priced_total(&priced, offer.price.currency())?;
        if priced.rate_totals.rate.rate_code != car.rate_code {
            return Err(unreadable(
                "priced under another rate than the prepaid one searched",
            ));
        }
        Ok((price, priced.rate_totals.rate.quote_id))
    }

    async fn reserve(
        &self,
        request: BookingRequest<'_>,
    ) -> Result<BookingConfirmation, BookingError> {
        let offer = request.offer;
        let car = car_of(offer)?;
        let rental = rental_request(&car, offer)?;
        let pick_up_at = rental_of(offer)?.pick_up_at;
        let contact = mapping::contact(request.lead(NAME)?, pick_up_at)
            .map_err(|e| ProviderError::rejected(NAME, "driver_details", e.to_string()))?;
        let last_name = contact.last_name.clone();
        let (price, quote_id) = self
            .price(offer)
            .await
            .map_err(no_lookup::nothing_sent_yet)?;
        super::approved_price::unchanged(NAME, "car", price, offer.price)?;
        let ours = our_reference(request.idempotency_key);
        let body = CreateReservation {
            product: self.product(),
            transaction: Transaction {
                transaction_id: ours.clone(),
            },
            reservation: ReservationRequest {
                rental,
                email_notification: false,
                remark: ours.clone(),
            },
            rate_totals: RateTotalsRequest {
                rate: RateRequestRate {
                    rate_code: car.rate_code.clone(),
                    country_code: car.country.clone(),
                    quote_id,
                },
            },
            customer: Customer { contact },
            payment_preference: PaymentPreference {
                kind: "CustomerPaymentCard",
                amount: JsonDecimal(price.amount()),
                currency: price.currency().to_string(),
                payment_method: mapping::payment_card(&self.card),
            },
        };
        let answer: Result<serde_json::Value, Failure> = self
            .client
            .send(Method::POST, "/cars/reservation/v2", &body)
            .await;
        let answer = answer.map_err(|failure| not_sold(failure, offer))?;
        let number = answer["reservation"]["confirmation"]["number"]
            .as_str()
            .map(str::to_string);
        let Some(number) = number else {
            return Err(BookingError::MayHoldABooking {
                provider: NAME.into(),
                message: format!(
                    "Avis answered the reservation of {} without a confirmation number: look for remark {ours} at Avis before booking again",
                    offer.title
                ),
            });
        };
        let reference = format!("{}.{number}.{}", self.brand, price.currency());
        // Made: what else the answer says is read leniently.
        let reservation = serde_json::from_value::<ReservationAnswer>(answer)
            .unwrap_or_default()
            .reservation;
        if on_request(&reservation) {
            let why = "Avis could take this car only on request, not confirmed";
            return Err(self
                .give_back(&reference, &last_name, "on_request", why)
                .await);
        }
        if let Some(booked) = booked_total(&reservation, price.currency())
            && booked != price
        {
            let why = format!("Avis reserved the car at {booked}, not the {price} approved");
            return Err(self
                .give_back(&reference, &last_name, "price_changed", &why)
                .await);
        }
        Ok(BookingConfirmation {
            reference,
            confirmation: number,
        })
    }

    /// A reservation Itinera cannot keep (a car only on request, another total than approved)
    /// is cancelled at once and the booking refused with `code`; if it cannot be, a person must.
    async fn give_back(
        &self,
        reference: &str,
        last_name: &str,
        code: &str,
        why: &str,
    ) -> BookingError {
        match self.cancel_reservation(reference, last_name).await {
            Ok(()) => ProviderError::rejected(
                NAME,
                code,
                format!("{why}; Itinera cancelled reservation {reference}: choose another car"),
            )
            .into(),
            Err(error) => BookingError::MayHoldABooking {
                provider: NAME.into(),
                message: format!(
                    "{why} (reservation {reference}), and cancelling it failed ({error}): cancel it at Avis"
                ),
            },
        }
    }

    async fn cancel_reservation(
        &self,
        reference: &str,
        last_name: &str,
    ) -> Result<(), BookingError> {
        let (brand, number, _) = parse_reference(reference)?;
        let body = CancelReservation {
            product: Product {
                brand: brand.to_string(),
            },
            transaction: Transaction {
                transaction_id: fresh_transaction(),
            },
            reservation: CancelledReservation {
                email_notification: false,
                confirmation: Confirmation {
                    number: number.to_string(),
                },
            },
            customer: LastNameOnly {
                contact: LastName {
                    last_name: last_name.to_string(),
                },
            },
        };
        let answer: Result<serde_json::Value, Failure> = self
            .client
            .send(Method::PUT, "/cars/reservation/v2", &body)
            .await;
        match answer {
            Ok(_) => Ok(()),
            // An earlier attempt cancelled it and its answer was lost.
            Err(Failure::Refused(refusal)) if refusal.is_one_of(&[ALREADY_CANCELLED]) => Ok(()),
            Err(failure) => Err(failure.into()),
        }
    }
}

/// Whether Avis took the car only on request and has not confirmed it: `Confirmed` wins over the
/// status the car was searched with.
fn on_request(reservation: &wire::Reservation) -> bool {
    let Some(category) = reservation
        .vehicle
        .as_ref()
        .and_then(|vehicle| vehicle.category.as_ref())
    else {
        return false;
    };
    match category.vehicle_onrequest_status {
        Some(OnRequestStatus::Confirmed) => false,
        Some(OnRequestStatus::Pending | OnRequestStatus::Denied) => true,
        Some(OnRequestStatus::Other) | None => {
            category.vehicle_status == Some(VehicleStatus::OnRequest)
        }
    }
}

/// The total the reservation was made at, when its answer says (in the currency it names, or
/// the one priced).
fn booked_total(reservation: &wire::Reservation, priced_in: Currency) -> Option<Money> {
    let totals = reservation.rate_totals.as_ref()?;
    let amount = totals.totals.as_ref()?.reservation_total?;
    let currency = match totals
        .rate
        .as_ref()
        .and_then(|rate| rate.currency.as_deref())
    {
        Some(code) => Currency::parse(code).ok()?,
        None => priced_in,
    };
    Money::new(amount.0, currency).ok()
}

/// The reservation's total in the currency Avis priced it in (the offer's, when it names none).
fn priced_total(priced: &PricedRental, fallback: Currency) -> Result<Money, BookingError> {
    let currency = match &priced.rate_totals.rate.currency {
        Some(code) => Currency::parse(code).map_err(|e| unreadable(&e.to_string()))?,
        None => fallback,
    };
    Money::new(priced.rate_totals.totals.reservation_total.0, currency)
        .map_err(|e| unreadable(&e.to_string()))
}

/// A refusal saying the car is no longer sold as searched, as that; any other failure as it is.
fn not_sold(failure: Failure, offer: &Offer) -> BookingError {
    match failure {
        Failure::Refused(refusal) if refusal.is_one_of(&NO_LONGER_SOLD) => {
            BookingError::NoLongerAvailable {
                provider: NAME.into(),
                offer: offer.id.to_string(),
            }
        }
        other => other.into(),
    }
}

fn car_of(offer: &Offer) -> Result<CarRef, BookingError> {
    CarRef::from_offer_id(&offer.id).map_err(|e| unreadable(&e.to_string()))
}

/// The rental an offer of this adapter is for.
fn rental_of(offer: &Offer) -> Result<Rental, BookingError> {
    let OfferDetails::CarRental {
        pick_up_at,
        drop_off_at,
        ..
    } = &offer.details
    else {
        return Err(unreadable("not a car rental offer"));
    };
    Ok(Rental {
        city: offer.city,
        pick_up_at: *pick_up_at,
        drop_off_at: *drop_off_at,
    })
}

fn rental_request(car: &CarRef, offer: &Offer) -> Result<wire::Rental, BookingError> {
    let rental = rental_of(offer)?;
    Ok(wire::Rental {
        pickup_date: mapping::local_time(rental.pick_up_at),
        pickup_location: car.location.clone(),
        dropoff_date: mapping::local_time(rental.drop_off_at),
        dropoff_location: car.location.clone(),
        vehicle_sipp_code: car.sipp_code.clone(),
    })
}

/// Our reference for a reservation: the saga's key, the same on every send.
fn our_reference(key: &IdempotencyKey) -> String {
    super::our_reference::for_key("itinera-", key, 50)
}

/// A transaction id for a call that changes nothing: only for tracing it at Avis.
fn fresh_transaction() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// `brand.number.currency`: the brand and confirmation number cancelling needs, and the
/// currency the refund is counted in.
fn parse_reference(reference: &str) -> Result<(&str, &str, Currency), BookingError> {
    let parsed = reference
        .split_once('.')
        .and_then(|(brand, rest)| Some((brand, rest.rsplit_once('.')?)))
        .filter(|(brand, (number, _))| !brand.is_empty() && !number.is_empty())
        .and_then(|(brand, (number, currency))| {
            Some((brand, number, Currency::parse(currency).ok()?))
        });
    parsed.ok_or_else(|| {
        ProviderError::rejected(
            NAME,
            "unknown_reference",
            format!("{reference} is not an Avis reservation reference of Itinera's"),
        )
        .into()
    })
}

fn unreadable(problem: &str) -> BookingError {
    ProviderError::rejected(NAME, "unreadable_rate", problem).into()
}

/// The refusal to send again a reservation that may have been made: nothing can look it up.
fn unverifiable(offer: &Offer, key: &IdempotencyKey) -> BookingError {
    BookingError::MayHoldABooking {
        provider: NAME.into(),
        message: format!(
            "the reservation of {} got no answer from Avis, which can look a reservation up only by its confirmation number: Itinera will not send it again and risk booking twice. Ask Avis for the reservation with remark {} before booking again",
            offer.title,
            our_reference(key)
        ),
    }
}

#[async_trait]
impl BookingProvider for AvisCars {
    fn name(&self) -> &str {
        NAME
    }

    fn kinds(&self) -> &[ItemKind] {
        &[ItemKind::CarRental]
    }

    /// A sign-in: it proves the gateway answers and takes Itinera's credentials.
    async fn probe(&self) -> Result<(), BookingError> {
        self.client.sign_in().await
    }

    async fn search(&self, query: &SearchQuery) -> Result<Vec<Offer>, BookingError> {
        let SearchQuery::CarRentals {
            city,
            pick_up_at,
            drop_off_at,
            currency,
        } = query
        else {
            return Err(BookingError::kind_not_sold(NAME, query));
        };
        let Some(location) = self.location(city).await? else {
            return Ok(Vec::new());
        };
        let query = [
            ("brand", self.brand.clone()),
            ("pickup_location", location.code.clone()),
            ("dropoff_location", location.code.clone()),
            ("pickup_date", mapping::local_time(*pick_up_at)),
            ("dropoff_date", mapping::local_time(*drop_off_at)),
            ("country_code", city.country.to_string()),
            ("age", car_driver::SEARCHED_DRIVER_AGE.to_string()),
            ("transaction_id", fresh_transaction()),
        ];
        let answer: Result<VehiclesAnswer, Failure> =
            self.client.get("/cars/catalog/v2/vehicles", &query).await;
        let vehicles = match answer {
            Ok(answer) => answer.vehicles,
            Err(Failure::Refused(refusal)) if refusal.is_one_of(&NOTHING_THERE) => Vec::new(),
            Err(failure) => return Err(failure.into()),
        };
        let rental = Rental {
            city: *city,
            pick_up_at: *pick_up_at,
            drop_off_at: *drop_off_at,
        };
        let now = self.clock.now();
        Ok(vehicles
            .iter()
            // A car Avis must first find is not sold: it would be reserved, then given back.
            .filter(|vehicle| vehicle.category.vehicle_status != Some(VehicleStatus::OnRequest))
            .filter_map(|vehicle| {
                // Paid at the counter, the traveller would pay twice: only prepaid rates sell.
                let pay_now = vehicle.rate_totals.pay_now.as_ref()?;
                let priced = Currency::parse(vehicle.rate_totals.rate.currency.as_deref()?)
                    .ok()
                    .and_then(|currency| Money::new(pay_now.reservation_total.0, currency).ok())
                    .map(|price| PricedCar {
                        car: CarRef {
                            location: location.code.clone(),
                            sipp_code: vehicle.category.sipp_code.clone(),
                            rate_code: pay_now.rate_code.clone(),
                            country: city.country.to_string(),
                        },
                        brand: &self.brand,
                        category: &vehicle.category,
                        distance: vehicle.distance.as_ref(),
                        location_name: &location.name,
                        price,
                    })?;
                mapping::offer(&priced, rental, now)
                    .inspect_err(|error| tracing::warn!(%error, "Avis car skipped"))
                    .ok()
            })
            .filter(|offer| offer.price.currency() == *currency)
            .collect())
    }

    async fn quote(&self, offer: &Offer) -> Result<Offer, BookingError> {
        let (price, _) = self.price(offer).await?;
        Ok(Offer {
            price,
            expires_at: self.clock.now() + mapping::RATE_TRUSTED_FOR,
            ..offer.clone()
        })
    }

    async fn book(&self, request: BookingRequest<'_>) -> Result<BookingConfirmation, BookingError> {
        self.sends
            .send_once(
                request.idempotency_key.as_str(),
                request.first_sent_at,
                || unverifiable(request.offer, request.idempotency_key),
                self.reserve(request),
            )
            .await
    }

    /// Cancels, naming the reservation by its number and the driver's last name; nothing is
    /// given back through Itinera (the offer said so). One already cancelled is not refused.
    async fn cancel(
        &self,
        request: CancelRequest<'_>,
    ) -> Result<CancellationReceipt, BookingError> {
        let (_, _, currency) = parse_reference(request.reference)?;
        let last_name = &request.lead(NAME)?.family_name;
        self.cancel_reservation(request.reference, last_name)
            .await?;
        Ok(CancellationReceipt {
            refund: Money::zero(currency),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reference_names_brand_number_and_currency() {
        let (brand, number, currency) = parse_reference("Budget.09449519US3.EUR").unwrap();
        assert_eq!((brand, number), ("Budget", "09449519US3"));
        assert_eq!(currency, Currency::parse("EUR").unwrap());
        assert!(parse_reference("09449519US3").is_err());
        assert!(parse_reference("Avis..EUR").is_err());
        let (_, dotted, _) = parse_reference("Avis.0944.9519US3.EUR").unwrap();
        assert_eq!(dotted, "0944.9519US3", "a number with a dot stays whole");
    }
}
