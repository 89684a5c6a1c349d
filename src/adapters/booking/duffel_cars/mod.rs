//! Duffel Cars: a search around the city's centre for a driver of `SEARCHED_DRIVER_AGE` resident
//! in the city's country, only rates prepaid to Duffel sold; a re-quote and a booking go through
//! a quote (`POST /cars/quotes`); a booking is paid from the Duffel balance; a cancellation
//! cancels, and gives nothing back through Itinera (Duffel states no refund a machine can read).
//!
//! Duffel Cars has no idempotency key and no way to list bookings (the SDK has create, get and
//! cancel only), so a booking whose send got no answer is never sent again
//! (`no_lookup::SendGuard`), as with Amadeus.
//!
//! Verified against `shared/provider-apis.md` §8a and the Duffel JS SDK (`src/Cars/CarsTypes.ts`,
//! `Cars.ts`, `Quotes/Quotes.ts`, `Bookings/Bookings.ts`); whether Duffel opens Cars to every
//! account is unconfirmed. What Itinera lacks for it is in the README's provider table.

mod mapping;
mod wire;

use std::sync::Arc;

use async_trait::async_trait;

use super::car_driver;
use super::duffel::DuffelSettings;
use super::duffel::client::{Client, unknown};
use super::no_lookup::{self, SendGuard};
use crate::adapters::http::{self, ClientError};
use crate::domain::offer::{ItemKind, Offer, OfferDetails};
use crate::ports::booking::{
    BookingConfirmation, BookingError, BookingProvider, BookingRequest, CancelRequest,
    CancellationReceipt, SearchQuery,
};
use crate::ports::{Clock, ProviderError};

use mapping::{Priced, Rental};
use wire::{
    Booking, BookingStatus, Coordinates, CreateBooking, Location, Metadata, Quote, Search,
    SearchAnswer, SearchDriver,
};

const NAME: &str = "duffel_cars";
/// Kilometres around the city's centre (its airports are often farther than a hotel).
const SEARCH_RADIUS_KM: u32 = 30;

pub struct DuffelCars {
    client: Client,
    clock: Arc<dyn Clock>,
    sends: SendGuard,
}

impl DuffelCars {
    pub fn new(settings: &DuffelSettings, clock: Arc<dyn Clock>) -> Result<Self, ClientError> {
        Ok(DuffelCars {
            client: Client::new(
                NAME,
                http::client(http::CALL_TIMEOUT)?,
                &settings.base_url,
                &settings.access_token,
            ),
            clock,
            sends: SendGuard::default(),
        })
    }

    /// A quote for the offer's rate: the price a booking would pay now.
    async fn quote_for(&self, offer: &Offer) -> Result<Quote, BookingError> {
        self.client.quote_rate("/cars/quotes", offer).await
    }

    fn read_quote(&self, quote: &Quote, offer: &Offer) -> Result<Offer, BookingError> {
        let priced = Priced {
            rate_id: &quote.rate_id,
            total: (&quote.total_amount, &quote.total_currency),
            payment_type: quote.payment_type,
            mileage: &quote.mileage,
            supplier: &quote.supplier,
            car: &quote.car,
            pickup_location: &quote.pickup_location,
        };
        if !mapping::sellable(&priced) {
            return Err(ProviderError::rejected(
                NAME,
                "paid_at_counter",
                "the car is now paid at the rental counter, which Itinera does not sell (the traveller would pay twice): choose another car",
            )
            .into());
        }
        mapping::offer(&priced, rental_of(offer)?, self.clock.now())
            .map_err(|e| unreadable(&e.to_string()))
    }

    async fn create_booking(
        &self,
        request: BookingRequest<'_>,
    ) -> Result<BookingConfirmation, BookingError> {
        let offer = request.offer;
        let rental = rental_of(offer)?;
        let lead = request.lead(NAME)?;
        let driver = mapping::driver(lead, rental.pick_up_at.date())
            .map_err(|e| ProviderError::rejected(NAME, "driver_details", e.to_string()))?;
        let quote = self
            .quote_for(offer)
            .await
            .map_err(no_lookup::nothing_sent_yet)?;
        let fresh = self.read_quote(&quote, offer)?;
        super::approved_price::unchanged(NAME, "car", fresh.price, offer.price)?;
        let body = CreateBooking {
            quote_id: quote.id,
            driver,
            metadata: Metadata {
                itinera_key: request.idempotency_key.as_str().to_string(),
                itinera_order: request.order_id.to_string(),
            },
        };
        let booking: Booking = self.client.post("/cars/bookings", Some(&body)).await?;
        match booking.status {
            BookingStatus::Confirmed => Ok(BookingConfirmation {
                reference: booking.id,
                confirmation: booking.reference,
            }),
            BookingStatus::Cancelled => Err(BookingError::MayHoldABooking {
                provider: NAME.into(),
                message: format!(
                    "Duffel answered the car booking with booking {} already cancelled: check it in the Duffel dashboard",
                    booking.id
                ),
            }),
            BookingStatus::Other => Err(unknown(NAME).into()),
        }
    }
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

fn unreadable(problem: &str) -> BookingError {
    ProviderError::rejected(NAME, "unreadable_rate", problem).into()
}

/// The refusal to send again a booking that may have been made: nothing can look it up.
fn unverifiable(offer: &Offer) -> BookingError {
    BookingError::MayHoldABooking {
        provider: NAME.into(),
        message: format!(
            "the booking of {} got no answer from Duffel, which offers no way to look a car booking up: Itinera will not send it again and risk booking twice. Look for it in the Duffel dashboard (metadata itinera_key) before booking again",
            offer.title
        ),
    }
}

#[async_trait]
impl BookingProvider for DuffelCars {
    fn name(&self) -> &str {
        NAME
    }

    fn kinds(&self) -> &[ItemKind] {
        &[ItemKind::CarRental]
    }

    /// One airline's page: any answer proves the token is taken (Cars has no list to read).
    async fn probe(&self) -> Result<(), BookingError> {
        self.client.probe().await
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
        let location = || Location {
            radius: SEARCH_RADIUS_KM,
            geographic_coordinates: Coordinates {
                latitude: city.centre.latitude(),
                longitude: city.centre.longitude(),
            },
        };
        let body = Search {
            pickup_date: pick_up_at.format("%Y-%m-%d").to_string(),
            pickup_time: pick_up_at.format("%H:%M").to_string(),
            dropoff_date: drop_off_at.format("%Y-%m-%d").to_string(),
            dropoff_time: drop_off_at.format("%H:%M").to_string(),
            pickup_location: location(),
            dropoff_location: location(),
            driver: SearchDriver {
                age: car_driver::SEARCHED_DRIVER_AGE,
                residence_country_code: city.country.to_string(),
            },
        };
        let answer: SearchAnswer = self.client.post("/cars/search", Some(&body)).await?;
        let rental = Rental {
            city: *city,
            pick_up_at: *pick_up_at,
            drop_off_at: *drop_off_at,
        };
        let now = self.clock.now();
        Ok(answer
            .rates
            .iter()
            .map(|rate| Priced {
                rate_id: &rate.id,
                total: (&rate.total_amount, &rate.total_currency),
                payment_type: rate.payment_type,
                mileage: &rate.mileage,
                supplier: &rate.supplier,
                car: &rate.car,
                pickup_location: &rate.pickup_location,
            })
            .filter(mapping::sellable)
            .filter_map(|priced| {
                mapping::offer(&priced, rental, now)
                    .inspect_err(|error| tracing::warn!(%error, "Duffel Cars rate skipped"))
                    .ok()
            })
            .filter(|offer| offer.price.currency() == *currency)
            .collect())
    }

    async fn quote(&self, offer: &Offer) -> Result<Offer, BookingError> {
        let quote = self.quote_for(offer).await?;
        self.read_quote(&quote, offer)
    }

    async fn book(&self, request: BookingRequest<'_>) -> Result<BookingConfirmation, BookingError> {
        self.sends
            .send_once(
                request.idempotency_key.as_str(),
                request.first_sent_at,
                || unverifiable(request.offer),
                self.create_booking(request),
            )
            .await
    }

    /// Cancels; nothing is given back through Itinera (the offer said so). A booking already
    /// cancelled by an earlier attempt is not cancelled twice.
    async fn cancel(
        &self,
        request: CancelRequest<'_>,
    ) -> Result<CancellationReceipt, BookingError> {
        let reference = request.reference;
        let cancelled: Booking = self
            .client
            .cancel_once(
                &format!("/cars/bookings/{reference}"),
                |booking: &Booking| booking.status == BookingStatus::Cancelled,
            )
            .await?;
        let currency = crate::domain::money::Currency::parse(&cancelled.total_currency)
            .map_err(|e| unreadable(&e.to_string()))?;
        Ok(CancellationReceipt {
            refund: crate::domain::money::Money::zero(currency),
        })
    }
}
