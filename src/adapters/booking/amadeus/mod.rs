//! Amadeus hotels (Self-Service APIs): a search lists the city's hotels (Hotel List v1) and asks
//! for their offers (Hotel Search v3), a re-quote prices the one offer again, and a booking is a
//! hotel order (Hotel Booking v2) guaranteed with the agency's card.
//!
//! Only offers paid in full when booked (`PREPAY`) are sold: the others are paid at the hotel,
//! and charging the traveller as well would take the money twice.
//!
//! Amadeus has no cancellation API for hotel orders, no way to look one up, and no idempotency
//! key. So an Amadeus stay is sold as non-refundable through Itinera (what the hotel gives back
//! goes to the agency's card, for the operator to pass on), a cancellation is refused with
//! what the person needs to cancel with the hotel (Itinera never reports a booking cancelled
//! that is not), and a booking whose first send got no answer is never sent again: Itinera
//! cannot know whether the hotel holds it, and a second send could book the room twice. Sends
//! that certainly did not reach the booking call (a rate limit, an outage, no answer to the
//! sign-in or the re-pricing before it) are sent again as usual.
//!
//! Verified against `shared/provider-apis.md` §6a and Amadeus's published OpenAPI specifications
//! (`HotelList_v1`, `HotelSearch_v3`, `HotelBooking_v2`, `Authorizaton_v1`). What Itinera lacks
//! for Amadeus is in the README's provider table.

mod client;
mod mapping;
mod wire;

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;

use super::no_lookup::{self, SendGuard};
use crate::adapters::http::{self, ClientError};
use crate::domain::offer::{ItemKind, Offer, OfferDetails};
use crate::domain::places::City;
use crate::ports::booking::{
    BookingConfirmation, BookingError, BookingProvider, BookingRequest, CancelRequest,
    CancellationReceipt, SearchQuery,
};
use crate::ports::{Clock, ProviderError};

pub use super::agency_card::{AgencyCard, CardError};
pub use client::Credentials;
use client::{Client, Failure};
use wire::{
    AgentContact, BookingStatus, CreateOrder, GuestReference, HotelOffers, HotelOrder, ListedHotel,
    Payment, PaymentCard, RoomAssociation, TravelAgent,
};

const NAME: &str = "amadeus";
/// How many of a city's hotels one search asks offers for (the ids go in the query string).
const HOTELS_PER_SEARCH: usize = 20;
/// Amadeus's most adults in one room.
const MAX_ADULTS_PER_ROOM: u8 = 9;
/// "NO HOTELS FOUND WHICH MATCH THIS INPUT": an empty search, not a failure.
const NO_HOTELS_FOUND: u32 = 424;
/// "OFFER NOT FOUND" and "INVALID OFFER ID": the offer expired or never was.
const OFFER_GONE: [u32; 2] = [38420, 36801];

/// Where Amadeus is, how to sign in, and the card and address hotel orders are made with.
#[derive(Debug, Clone)]
pub struct AmadeusSettings {
    pub credentials: Credentials,
    /// `https://test.api.amadeus.com`, or a local fake in tests.
    pub base_url: String,
    pub card: AgencyCard,
    /// The travel agent's e-mail Amadeus requires on every hotel order.
    pub agency_email: String,
}

pub struct AmadeusHotels {
    client: Client,
    clock: Arc<dyn Clock>,
    card: AgencyCard,
    agency_email: String,
    /// A hotel order is never sent twice without an answer (Amadeus cannot look one up).
    sends: SendGuard,
    /// The hotels of each city searched so far: reference data, listed once per run.
    hotels_by_city: tokio::sync::Mutex<HashMap<&'static str, Vec<String>>>,
}

impl AmadeusHotels {
    pub fn new(settings: &AmadeusSettings, clock: Arc<dyn Clock>) -> Result<Self, ClientError> {
        Ok(AmadeusHotels {
            client: Client::new(
                http::client(http::CALL_TIMEOUT)?,
                &settings.base_url,
                settings.credentials.clone(),
            ),
            clock,
            card: settings.card.clone(),
            agency_email: settings.agency_email.clone(),
            sends: SendGuard::default(),
            hotels_by_city: tokio::sync::Mutex::default(),
        })
    }

    /// The city's hotels, as many as one search asks offers for.
    async fn hotels_in(&self, city: City) -> Result<Vec<String>, BookingError> {
        let mut known = self.hotels_by_city.lock().await;
        if let Some(hotels) = known.get(city.code) {
            return Ok(hotels.clone());
        }
        let listed: Vec<ListedHotel> = self
            .client
            .get(
                "/v1/reference-data/locations/hotels/by-city",
                &[("cityCode", city.code.to_string())],
            )
            .await?;
        let hotels: Vec<String> = listed
            .into_iter()
            .take(HOTELS_PER_SEARCH)
            .map(|hotel| hotel.hotel_id)
            .collect();
        known.insert(city.code, hotels.clone());
        Ok(hotels)
    }

    /// The offer as Amadeus prices it now, with its hotel. A vanished offer is gone.
    async fn current_offer(&self, offer: &Offer) -> Result<HotelOffers, BookingError> {
        let gone = || BookingError::NoLongerAvailable {
            provider: NAME.into(),
            offer: offer.id.to_string(),
        };
        let priced: HotelOffers = self
            .client
            .get(
                &format!("/v3/shopping/hotel-offers/{}", offer.id.as_str()),
                &[],
            )
            .await
            .map_err(|failure| match failure {
                Failure::Refused(refusal)
                    if refusal.is_not_found() || refusal.is_one_of(&OFFER_GONE) =>
                {
                    gone()
                }
                other => other.into(),
            })?;
        if priced.offers.is_empty() || priced.available == Some(false) {
            return Err(gone());
        }
        Ok(priced)
    }

    fn read(&self, priced: &HotelOffers, city: City) -> Result<Offer, BookingError> {
        let Some(first) = priced.offers.first() else {
            return Err(unreadable("no offer in the answer"));
        };
        if !mapping::sellable(first) {
            return Err(ProviderError::rejected(
                NAME,
                "paid_at_hotel",
                "the hotel now wants this room paid at the stay, which Itinera does not sell (the traveller would pay twice): choose another hotel",
            )
            .into());
        }
        mapping::offer(&priced.hotel, first, city, self.clock.now())
            .map_err(|e| unreadable(&e.to_string()))
    }

    async fn create_order(
        &self,
        request: BookingRequest<'_>,
    ) -> Result<BookingConfirmation, BookingError> {
        let offer = request.offer;
        let priced = self
            .current_offer(offer)
            .await
            .map_err(no_lookup::nothing_sent_yet)?;
        let fresh = self.read(&priced, offer.city)?;
        super::approved_price::unchanged(NAME, "room", fresh.price, offer.price)?;
        let guests = mapping::guests(request.travellers);
        let body = CreateOrder {
            kind: "hotel-order",
            room_associations: vec![RoomAssociation {
                guest_references: guests
                    .iter()
                    .map(|guest| GuestReference {
                        guest_reference: guest.tid.to_string(),
                    })
                    .collect(),
                hotel_offer_id: fresh.id.to_string(),
            }],
            guests,
            travel_agent: TravelAgent {
                contact: AgentContact {
                    email: self.agency_email.clone(),
                },
            },
            payment: Payment {
                method: "CREDIT_CARD",
                payment_card: PaymentCard {
                    payment_card_info: mapping::card(&self.card),
                },
            },
        };
        let order: HotelOrder = self
            .client
            .post("/v2/booking/hotel-orders", &body)
            .await
            .map_err(|failure| match failure {
                Failure::Refused(refusal) if refusal.is_one_of(&OFFER_GONE) => {
                    BookingError::NoLongerAvailable {
                        provider: NAME.into(),
                        offer: offer.id.to_string(),
                    }
                }
                other => other.into(),
            })?;
        confirmation(order, &hotel_name(offer))
    }
}

/// What the traveller holds for an order Amadeus made: the hotel's confirmation number (or the
/// PNR). On request, or refused by the hotel, it is no booking to count on: said with the
/// references a person needs to follow it up with the hotel.
fn confirmation(order: HotelOrder, hotel: &str) -> Result<BookingConfirmation, BookingError> {
    let Some(booking) = order.hotel_bookings.first() else {
        return Err(client::unknown().into());
    };
    let number = booking
        .hotel_provider_information
        .iter()
        .find_map(|info| info.confirmation_number.clone())
        .or_else(|| {
            order
                .associated_records
                .first()
                .map(|record| record.reference.clone())
        })
        .unwrap_or_else(|| order.id.clone());
    match booking.booking_status {
        BookingStatus::Confirmed | BookingStatus::OnHold => Ok(BookingConfirmation {
            reference: order.id,
            confirmation: number,
        }),
        BookingStatus::Pending => Err(BookingError::MayHoldABooking {
            provider: NAME.into(),
            message: format!(
                "{hotel} only took the booking on request (confirmation {number}, Amadeus order {}) and Amadeus offers no way to follow it up, so it is not counted as booked: ask the hotel to release it, and choose another hotel",
                order.id
            ),
        }),
        status @ (BookingStatus::Cancelled
        | BookingStatus::Unconfirmed
        | BookingStatus::Denied
        | BookingStatus::Deleted
        | BookingStatus::Past
        | BookingStatus::Ghost
        | BookingStatus::Other) => Err(ProviderError::rejected(
            NAME,
            "not_confirmed",
            format!(
                "{hotel} did not confirm the booking (Amadeus status {status:?}, confirmation {number}, Amadeus order {}): choose another hotel",
                order.id
            ),
        )
        .into()),
    }
}

fn hotel_name(offer: &Offer) -> String {
    match &offer.details {
        OfferDetails::Hotel { hotel_name, .. } => hotel_name.clone(),
        _ => offer.title.clone(),
    }
}

fn unreadable(problem: &str) -> BookingError {
    ProviderError::rejected(NAME, "unreadable_offer", problem).into()
}

/// The refusal to send a booking again that may already have been made. The message names no
/// traveller: it is logged.
fn unverifiable(request: &BookingRequest<'_>) -> BookingError {
    BookingError::MayHoldABooking {
        provider: NAME.into(),
        message: format!(
            "the booking of {} ({} to {}) got no answer from Amadeus, which offers no way to look a booking up: Itinera will not send it again and risk booking the room twice. The hotel may hold a booking under the lead traveller's name: ask the hotel before booking it again",
            hotel_name(request.offer),
            request.offer.starts_on,
            request.offer.ends_on,
        ),
    }
}

#[async_trait]
impl BookingProvider for AmadeusHotels {
    fn name(&self) -> &str {
        NAME
    }

    fn kinds(&self) -> &[ItemKind] {
        &[ItemKind::Hotel]
    }

    /// A fresh token: Amadeus answers and takes the client id and secret.
    async fn probe(&self) -> Result<(), BookingError> {
        self.client.sign_in().await
    }

    async fn search(&self, query: &SearchQuery) -> Result<Vec<Offer>, BookingError> {
        let SearchQuery::Hotels {
            city,
            check_in,
            check_out,
            guests,
            currency,
        } = query
        else {
            return Err(BookingError::kind_not_sold(NAME, query));
        };
        if *guests > MAX_ADULTS_PER_ROOM {
            return Err(ProviderError::rejected(
                NAME,
                "too_many_guests",
                format!(
                    "Amadeus books one room for at most {MAX_ADULTS_PER_ROOM} guests: search for fewer guests"
                ),
            )
            .into());
        }
        let hotels = self.hotels_in(*city).await?;
        if hotels.is_empty() {
            return Ok(Vec::new());
        }
        let query = [
            ("hotelIds", hotels.join(",")),
            ("adults", guests.to_string()),
            ("checkInDate", check_in.format("%Y-%m-%d").to_string()),
            ("checkOutDate", check_out.format("%Y-%m-%d").to_string()),
            ("roomQuantity", "1".to_string()),
            ("currency", currency.code().to_string()),
            ("bestRateOnly", "true".to_string()),
        ];
        let found: Vec<HotelOffers> =
            match self.client.get("/v3/shopping/hotel-offers", &query).await {
                Ok(found) => found,
                Err(Failure::Refused(refusal)) if refusal.is_one_of(&[NO_HOTELS_FOUND]) => {
                    Vec::new()
                }
                Err(other) => return Err(other.into()),
            };
        let now = self.clock.now();
        Ok(found
            .iter()
            .filter(|hotel| hotel.available != Some(false))
            .flat_map(|hotel| hotel.offers.iter().map(move |offer| (hotel, offer)))
            .filter(|(_, offer)| mapping::sellable(offer))
            .filter_map(|(hotel, offer)| {
                mapping::offer(&hotel.hotel, offer, *city, now)
                    .inspect_err(|error| tracing::warn!(%error, "Amadeus offer skipped"))
                    .ok()
            })
            // Amadeus converts to the currency asked where it can; an offer it left in the
            // hotel's own currency could not join the plan.
            .filter(|offer| offer.price.currency() == *currency)
            .collect())
    }

    async fn quote(&self, offer: &Offer) -> Result<Offer, BookingError> {
        let priced = self.current_offer(offer).await?;
        self.read(&priced, offer.city)
    }

    async fn book(&self, request: BookingRequest<'_>) -> Result<BookingConfirmation, BookingError> {
        request.lead(NAME)?;
        self.sends
            .send_once(
                request.idempotency_key.as_str(),
                request.first_sent_at,
                || unverifiable(&request),
                self.create_order(request),
            )
            .await
    }

    async fn cancel(
        &self,
        request: CancelRequest<'_>,
    ) -> Result<CancellationReceipt, BookingError> {
        let reference = request.reference;
        Err(ProviderError::rejected(
            NAME,
            "cancel_with_hotel",
            format!(
                "Amadeus has no cancellation for hotel bookings, so Itinera cannot cancel this one: contact the hotel and cancel it quoting the confirmation number on the order (Amadeus order {reference}). The hotel's own terms decide what it gives back, to the agency's card that paid it; the operator passes that on with refund_payment"
            ),
        )
        .into())
    }
}
