//! Duffel Stays: a search looks around the city's centre and fetches every rate of the closest
//! few accommodations, each offered at its cheapest rate paid now from the Duffel balance; a
//! re-quote and a booking go through a quote (`POST /stays/quotes`), which gives the price the
//! booking pays; a cancellation gives back what the booked rate's cancellation timeline says
//! at the time Duffel cancelled it (Duffel's answer to a cancellation carries no amount).
//!
//! Duffel takes no idempotency key here either: a booking carries the saga's key in its
//! `metadata`, and one sent again first looks through the account's bookings for it, as the
//! flights adapter does with orders (`duffel::book_once`).
//!
//! Verified against `shared/provider-apis.md` §6b and the JS SDK (`src/Stays/StaysTypes.ts`,
//! `Bookings.ts`, `Quotes.ts`, `SearchResults.ts`, `mocks.ts`). What Itinera lacks for Duffel
//! Stays is in the README's provider table.

mod mapping;
mod wire;

use std::sync::Arc;

use async_trait::async_trait;
use futures::future::join_all;

use super::duffel::DuffelSettings;
use super::duffel::client::{Client, unknown};
use crate::adapters::http::{self, ClientError};
use crate::domain::idempotency::IdempotencyKey;
use crate::domain::offer::{ItemKind, Offer, OfferDetails};
use crate::domain::plan::Traveller;
use crate::ports::booking::{
    BookingConfirmation, BookingError, BookingProvider, BookingRequest, CancelRequest,
    CancellationReceipt, SearchQuery,
};
use crate::ports::{Clock, ProviderError};

use mapping::Stay;
use wire::{
    Booking, BookingStatus, Coordinates, CreateBooking, GuestName, GuestType, Location, Metadata,
    Quote, Search, SearchAnswer, SearchResult,
};

const NAME: &str = "duffel_stays";
/// How many accommodations of a search have all their rates fetched (one call each).
const ACCOMMODATIONS_PER_SEARCH: usize = 5;
/// Kilometres around the city's centre.
const SEARCH_RADIUS_KM: u32 = 5;
/// How many pages of the account's bookings are searched for an earlier booking.
const MAX_PAGES: usize = 10;

pub struct DuffelStays {
    client: Client,
    clock: Arc<dyn Clock>,
}

impl DuffelStays {
    pub fn new(settings: &DuffelSettings, clock: Arc<dyn Clock>) -> Result<Self, ClientError> {
        Ok(DuffelStays {
            client: Client::new(
                NAME,
                http::client(http::CALL_TIMEOUT)?,
                &settings.base_url,
                &settings.access_token,
            ),
            clock,
        })
    }

    /// Every rate of one accommodation found; one whose rates cannot be had is left out.
    async fn all_rates(&self, result: &SearchResult) -> Option<SearchResult> {
        self.client
            .post::<(), SearchResult>(
                &format!(
                    "/stays/search_results/{}/actions/fetch_all_rates",
                    result.id
                ),
                None,
            )
            .await
            .inspect_err(|error| tracing::warn!(%error, "Duffel Stays rates not fetched"))
            .ok()
    }

    /// A quote for the offer's rate: the price a booking would pay now. A rate Duffel no
    /// longer has is gone.
    async fn quote_for(&self, offer: &Offer) -> Result<Quote, BookingError> {
        self.client.quote_rate("/stays/quotes", offer).await
    }

    fn read_quote(&self, quote: &Quote, offer: &Offer) -> Result<Offer, BookingError> {
        let stay = stay_of(offer)?;
        let (room, rate) = quote
            .accommodation
            .rooms
            .iter()
            .flat_map(|room| room.rates.iter().map(move |rate| (room, rate)))
            .find(|(_, rate)| rate.id == offer.id.as_str())
            .ok_or_else(|| unreadable("the quote does not hold the rate quoted"))?;
        mapping::offer(
            &quote.accommodation,
            room,
            rate,
            (&quote.total_amount, &quote.total_currency),
            stay,
        )
        .map_err(|e| unreadable(&e.to_string()))
    }

    async fn create_booking(
        &self,
        request: BookingRequest<'_>,
        lead: &Traveller,
    ) -> Result<BookingConfirmation, BookingError> {
        let (Some(email), Some(phone)) = (&lead.email, &lead.phone) else {
            return Err(ProviderError::rejected(
                NAME,
                "guest_contact",
                "the hotel needs the lead guest's e-mail and phone: add them to the first traveller with update_travel_plan",
            )
            .into());
        };
        let quote = self.quote_for(request.offer).await?;
        let fresh = self.read_quote(&quote, request.offer)?;
        super::approved_price::unchanged(NAME, "stay", fresh.price, request.offer.price)?;
        let body = CreateBooking {
            quote_id: quote.id,
            guests: request
                .travellers
                .iter()
                .map(|traveller| GuestName {
                    given_name: traveller.given_name.clone(),
                    family_name: traveller.family_name.clone(),
                })
                .collect(),
            email: email.clone(),
            phone_number: crate::domain::personal::e164(phone),
            metadata: Metadata {
                itinera_key: request.idempotency_key.as_str().to_string(),
                itinera_order: request.order_id.to_string(),
            },
        };
        let booking: Booking = self.client.post("/stays/bookings", Some(&body)).await?;
        confirmation(booking)
    }

    async fn booking_made_under(
        &self,
        key: &IdempotencyKey,
    ) -> Result<Option<BookingConfirmation>, BookingError> {
        let found = self
            .client
            .find_in_pages("/stays/bookings", &[], MAX_PAGES, |booking: &Booking| {
                booking.made_under(key.as_str())
            })
            .await?;
        found.map(confirmation).transpose()
    }
}

/// The stay an offer of this adapter is for.
fn stay_of(offer: &Offer) -> Result<Stay, BookingError> {
    let OfferDetails::Hotel { guests, .. } = &offer.details else {
        return Err(unreadable("not a hotel offer"));
    };
    Ok(Stay {
        city: offer.city,
        check_in: offer.starts_on,
        check_out: offer.ends_on,
        guests: *guests,
    })
}

fn unreadable(problem: &str) -> BookingError {
    ProviderError::rejected(NAME, "unreadable_rate", problem).into()
}

/// What the traveller holds for a booking Duffel made: the hotel's reference.
fn confirmation(booking: Booking) -> Result<BookingConfirmation, BookingError> {
    match booking.status {
        BookingStatus::Confirmed => Ok(BookingConfirmation {
            confirmation: booking.reference.unwrap_or_else(|| booking.id.clone()),
            reference: booking.id,
        }),
        BookingStatus::Cancelled => Err(ProviderError::rejected(
            NAME,
            "booking_cancelled",
            format!(
                "Duffel shows booking {} made for this stay as cancelled: search again and book another stay",
                booking.id
            ),
        )
        .into()),
        BookingStatus::Other => Err(unknown(NAME).into()),
    }
}

/// What a cancelled booking gives back: its rate's timeline at the time it was cancelled.
fn refund_of(
    booking: &Booking,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<CancellationReceipt, BookingError> {
    let cancelled_at = booking
        .cancelled_at
        .as_deref()
        .and_then(|at| chrono::DateTime::parse_from_rfc3339(at).ok())
        .map_or(now, |at| at.with_timezone(&chrono::Utc));
    let Some(rate) = booking.rate() else {
        // Cancelled, but with no timeline to read what comes back: said so, for a person to
        // read the refund in Duffel's dashboard, rather than asked again forever.
        return Err(ProviderError::rejected(
            NAME,
            "refund_unknown",
            format!(
                "Duffel cancelled stay booking {} but its answer does not say what it gives back: read the refund in the Duffel dashboard and pass it on with refund_payment",
                booking.id
            ),
        )
        .into());
    };
    let refund = mapping::refund_at(rate, cancelled_at).map_err(|e| unreadable(&e))?;
    Ok(CancellationReceipt { refund })
}

#[async_trait]
impl BookingProvider for DuffelStays {
    fn name(&self) -> &str {
        NAME
    }

    fn kinds(&self) -> &[ItemKind] {
        &[ItemKind::Hotel]
    }

    /// The first page of one booking: any answer proves the token is taken for Stays.
    async fn probe(&self) -> Result<(), BookingError> {
        self.client
            .get_page::<serde::de::IgnoredAny>("/stays/bookings", &[("limit", "1")])
            .await
            .map(|_| ())
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
        let body = Search {
            check_in_date: check_in.format("%Y-%m-%d").to_string(),
            check_out_date: check_out.format("%Y-%m-%d").to_string(),
            rooms: 1,
            guests: (0..*guests).map(|_| GuestType { kind: "adult" }).collect(),
            location: Location {
                radius: SEARCH_RADIUS_KM,
                geographic_coordinates: Coordinates {
                    latitude: city.centre.latitude(),
                    longitude: city.centre.longitude(),
                },
            },
        };
        let answer: SearchAnswer = self.client.post("/stays/search", Some(&body)).await?;
        let mut results = answer.results;
        results.sort_by_key(|result| {
            result
                .cheapest_rate_total_amount
                .as_deref()
                .and_then(|total| total.parse::<rust_decimal::Decimal>().ok())
                .unwrap_or(rust_decimal::Decimal::MAX)
        });
        results.truncate(ACCOMMODATIONS_PER_SEARCH);
        let fetched = join_all(results.iter().map(|result| self.all_rates(result))).await;
        let stay = Stay {
            city: *city,
            check_in: *check_in,
            check_out: *check_out,
            guests: *guests,
        };
        Ok(fetched
            .iter()
            .flatten()
            .filter_map(|result| {
                let (room, rate) = mapping::cheapest(&result.accommodation)?;
                mapping::offer(
                    &result.accommodation,
                    room,
                    rate,
                    (&rate.total_amount, &rate.total_currency),
                    stay,
                )
                .inspect_err(|error| tracing::warn!(%error, "Duffel Stays rate skipped"))
                .ok()
            })
            // Duffel prices in the account's currency; others could not join the plan.
            .filter(|offer| offer.price.currency() == *currency)
            .collect())
    }

    async fn quote(&self, offer: &Offer) -> Result<Offer, BookingError> {
        let quote = self.quote_for(offer).await?;
        self.read_quote(&quote, offer)
    }

    async fn book(&self, request: BookingRequest<'_>) -> Result<BookingConfirmation, BookingError> {
        let lead = request.lead(NAME)?;
        super::duffel::book_once(
            self.clock.now(),
            request.first_sent_at,
            self.booking_made_under(request.idempotency_key),
            self.create_booking(request, lead),
        )
        .await
    }

    async fn cancel(
        &self,
        request: CancelRequest<'_>,
    ) -> Result<CancellationReceipt, BookingError> {
        let reference = request.reference;
        // Cancelled by an earlier attempt whose answer was lost: its refund is the answer.
        let cancelled: Booking = self
            .client
            .cancel_once(
                &format!("/stays/bookings/{reference}"),
                |booking: &Booking| booking.status == BookingStatus::Cancelled,
            )
            .await?;
        refund_of(&cancelled, self.clock.now())
    }
}
