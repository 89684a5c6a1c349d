//! Booking.com hotels, through the Demand API 3.1: a search looks around the city's centre
//! (`/accommodations/search` by coordinates, with its products), keeps per accommodation its
//! cheapest product paid online when booked, and names the cheapest few
//! (`/accommodations/details`); a re-quote is an order preview (`/orders/preview`), which
//! gives the price, the fee schedule and the single-use `order_token`; a booking previews
//! again, checks the price approved, and creates the order (`/orders/create`) paid with the
//! agency's card; a cancellation cancels the order (`/orders/cancel`) and reads the fee
//! Booking.com kept (`/orders/details/accommodations`) against what was paid
//! (`/orders/details`).
//!
//! Only `pay_online_now` products are sold: Itinera charges the traveller, so a product paid at
//! the property would be paid twice, and one paid online later would be charged after the
//! order was settled. Only accommodations priced in the plan's currency are sold, so the
//! amount charged to the agency's card is the amount the traveller paid (which currency
//! Booking.com charges when the booker's differs is not documented).
//!
//! Booking.com takes no idempotency key. An order carries a `label` derived from the saga's key,
//! and a booking sent again first looks for it: the orders created since the first send
//! (`/orders/details` by `created`), then their labels (`/orders/details/accommodations`). An
//! order found is the answer. Not found, the first send may still have made one that does not
//! show yet (how soon an order shows is not documented), and the `order_token` is not
//! documented as single-use either: so a booking whose send got no answer is never sent again.
//! While it is recent it stays unsettled (looked for again later); after
//! `ORDER_SHOWS_WITHIN` it is reported as one Booking.com may hold, for a person to check.
//!
//! Verified against the Demand API 3.1 OpenAPI specification (api-evangelist/booking-com,
//! `openapi/_original/booking-com-demand-api-3-1-openapi.yml`) and Booking.com's developer docs
//! on authentication, errors, rate limits and the sandbox, as summarised in
//! `docs/research/booking-com.md`. What Itinera lacks for Booking.com is in the README's provider
//! table.

mod client;
mod lookup;
mod mapping;
mod preview;
mod refund;

use lookup::{confirmation_of, not_found};
mod wire;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};

use super::agency_card::AgencyCard;
use super::no_lookup::{self, SendGuard};
use crate::adapters::http::{self, ClientError};
use crate::domain::money::{Currency, Money};
use crate::domain::offer::{CancellationPolicy, ItemKind, Offer, OfferDetails};
use crate::domain::places::City;
use crate::domain::plan::Traveller;
use crate::ports::booking::{
    BookingConfirmation, BookingError, BookingProvider, BookingRequest, CancelRequest,
    CancellationReceipt, SearchQuery,
};
use crate::ports::{Clock, ProviderError};

pub use client::{AFFILIATE_HEADER, RATE_LIMIT_WAIT};
use client::{Client, Failure, unknown};
use mapping::{StayRef, day};
use wire::{
    AccommodationDetails, AccommodationOrder, AccommodationOrdersQuery, Address, Allocation,
    Availability, Available, Booker, Cancel, CancelAnswer, CancelStatus, Card, Cities, Coordinates,
    Create, CreateAccommodation, CreateProduct, Created, Details, Envelope, Guest, Guests,
    OrderBooker, OrderStatus, OrdersPage, OrdersQuery, Payment, PaymentFilter, PersonName, Preview,
    PreviewAccommodationRequest, PreviewAnswer, PreviewProductRequest, Search,
    SearchedAccommodation, Window,
};

const NAME: &str = "booking_com";
/// Kilometres around the city's centre.
const SEARCH_RADIUS_KM: f64 = 5.0;
/// How many accommodations one search names (one details call for them all) and offers.
const ACCOMMODATIONS_PER_SEARCH: usize = 5;
/// Rows of the search's first page (10 to 100, a multiple of 10).
const SEARCH_ROWS: u32 = 100;
/// How long an offer's price is taken to hold: Booking.com gives no expiry; the price is
/// previewed again before booking anyway.
const OFFER_TTL: chrono::Duration = chrono::Duration::minutes(30);
/// Booking.com's `platform` for Itinera's bookers (a server acting for a person at a desk).
const PLATFORM: &str = "desktop";
/// The language of names asked and of the booker's e-mails.
const LANGUAGE: &str = "en-gb";
/// `label` of an order: our reference, bounded (Booking.com documents no length; 64 is short).
const LABEL_PREFIX: &str = "itinera-";
const MAX_LABEL: usize = 64;
/// How long after its first send an order not found is still taken as possibly on its way:
/// Booking.com documents neither how soon an order shows in `/orders/details` nor a way to
/// tell an order never made, so until then the booking stays unsettled (the hold kept), and
/// after it a person is asked to check. Generous: it is counted from the first send, and a
/// later send of the same booking (after one answered without an order) may be the one that
/// booked; waiting longer only keeps the hold longer.
const ORDER_SHOWS_WITHIN: chrono::Duration = chrono::Duration::minutes(30);
/// Margin around the created window of the lookup (clocks differ).
const LOOKUP_MARGIN: chrono::Duration = chrono::Duration::minutes(2);
/// `/orders/details` takes at most seven days per window.
const MAX_WINDOW: chrono::Duration = chrono::Duration::days(7);
/// Pages of orders read when looking for a lost one.
const MAX_PAGES: usize = 10;
/// Ids per `/orders/details/accommodations` call (its maximum).
const IDS_PER_CALL: usize = 100;
/// Why Itinera cancels: the traveller called it off.
const CANCEL_REASON: &str = "The traveller cancelled this part of the trip.";

/// Where Booking.com is, how to sign in, and the card orders are paid with. `Debug` hides the
/// key and the card.
#[derive(Clone)]
pub struct BookingComSettings {
    /// The Demand API key, sent as a bearer; Booking.com uses the same key in its sandbox.
    pub api_key: String,
    /// The affiliate id the key belongs to (`X-Affiliate-Id`).
    pub affiliate_id: u64,
    /// `https://demandapi-sandbox.booking.com/3.1`, or a local fake in tests.
    pub base_url: String,
    /// The agency's card (in sandbox mode a test card), charged for `pay_online_now` stays.
    pub card: AgencyCard,
    /// The agency's country, two lowercase letters: the market Booking.com prices for, and
    /// the country of the booker's address on an order.
    pub booker_country: String,
}

impl std::fmt::Debug for BookingComSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BookingComSettings")
            .field("affiliate_id", &self.affiliate_id)
            .field("base_url", &self.base_url)
            .field("card", &self.card)
            .field("booker_country", &self.booker_country)
            .finish_non_exhaustive()
    }
}

pub struct BookingComHotels {
    client: Client,
    clock: Arc<dyn Clock>,
    card: AgencyCard,
    booker_country: String,
    /// Remembers bookings whose sends were all answered without an order, so those are sent
    /// again; one without an answer is never sent again.
    sends: SendGuard,
}

/// The one product an offer is for, as a preview priced it now.
struct Priced {
    offer: Offer,
    order_token: String,
}

impl BookingComHotels {
    pub fn new(settings: &BookingComSettings, clock: Arc<dyn Clock>) -> Result<Self, ClientError> {
        Ok(BookingComHotels {
            client: Client::new(
                http::client(http::CALL_TIMEOUT)?,
                &settings.base_url,
                &settings.api_key,
                settings.affiliate_id,
            ),
            clock,
            card: settings.card.clone(),
            booker_country: settings.booker_country.clone(),
            sends: SendGuard::default(),
        })
    }

    fn booker(&self) -> Booker {
        Booker {
            country: self.booker_country.clone(),
            platform: PLATFORM,
        }
    }

    /// The names, stars and currency of the accommodations, by id.
    async fn details(
        &self,
        ids: Vec<u64>,
    ) -> Result<std::collections::HashMap<u64, AccommodationDetails>, BookingError> {
        let answer: Envelope<Vec<AccommodationDetails>> = self
            .client
            .post(
                "/accommodations/details",
                &Details {
                    accommodations: ids,
                    languages: [LANGUAGE],
                },
            )
            .await?;
        Ok(answer
            .data
            .into_iter()
            .map(|details| (details.id, details))
            .collect())
    }

    async fn create_order(
        &self,
        request: BookingRequest<'_>,
        lead: &Traveller,
        label: String,
    ) -> Result<BookingConfirmation, BookingError> {
        let (Some(email), Some(phone)) = (&lead.email, &lead.phone) else {
            return Err(ProviderError::rejected(
                NAME,
                "guest_contact",
                "Booking.com needs the lead traveller's e-mail and phone: add them to the first traveller with update_travel_plan",
            )
            .into());
        };
        let Some(cvc) = self.card.security_code() else {
            return Err(ProviderError::rejected(
                NAME,
                "card_security_code",
                "Booking.com needs the card's security code: set ITINERA_BOOKINGCOM_CARD_CVC",
            )
            .into());
        };
        let priced = self
            .preview(request.offer)
            .await
            .map_err(no_lookup::nothing_sent_yet)?;
        super::approved_price::unchanged(NAME, "room", priced.offer.price, request.offer.price)?;
        // The terms approved, too: a preview gives them back unless its schedule gives less.
        if priced.offer.cancellation != request.offer.cancellation {
            return Err(ProviderError::rejected(
                NAME,
                "terms_changed",
                format!(
                    "the room's cancellation terms are now {}, not the {} approved: search again",
                    priced.offer.cancellation.describe(),
                    request.offer.cancellation.describe()
                ),
            )
            .into());
        }
        let stay =
            StayRef::from_offer_id(&request.offer.id).map_err(|e| unreadable(&e.to_string()))?;
        let full_name = format!("{} {}", lead.given_name, lead.family_name);
        let body = Create {
            order_token: priced.order_token,
            booker: OrderBooker {
                name: PersonName {
                    first_name: lead.given_name.clone(),
                    last_name: lead.family_name.clone(),
                },
                email: email.clone(),
                telephone: crate::domain::personal::e164(phone),
                language: LANGUAGE,
                address: Address {
                    country: self.booker_country.clone(),
                },
            },
            accommodation: CreateAccommodation {
                label,
                products: vec![CreateProduct {
                    id: stay.product,
                    guests: vec![Guest {
                        name: full_name,
                        email: email.clone(),
                    }],
                }],
            },
            // The agency's card, as a merchant of record pays; the virtual-card SCA exemption
            // (`authentication.sca_exemption`) is not sent, its use not being documented.
            payment: Payment {
                method: "card",
                timing: "pay_online_now",
                card: Card {
                    number: self.card.number().to_string(),
                    cvc: cvc.to_string(),
                    expiry_date: self.card.expiry().to_string(),
                    cardholder: self.card.holder().to_string(),
                },
            },
        };
        let created: Envelope<Created> = self.client.act("/orders/create", &body).await?;
        let made = created.data.accommodation;
        Ok(BookingConfirmation {
            confirmation: made
                .reservation
                .map_or_else(|| made.order.clone(), |reservation| reservation.to_string()),
            reference: made.order,
        })
    }
}

fn unreadable(problem: &str) -> BookingError {
    ProviderError::rejected(NAME, "unreadable_answer", problem.to_string()).into()
}

fn no_longer_available(offer: &Offer) -> BookingError {
    BookingError::NoLongerAvailable {
        provider: NAME.into(),
        offer: offer.id.to_string(),
    }
}

fn hotel_name(offer: &Offer) -> String {
    match &offer.details {
        OfferDetails::Hotel { hotel_name, .. } => hotel_name.clone(),
        _ => offer.title.clone(),
    }
}

#[async_trait]
impl BookingProvider for BookingComHotels {
    fn name(&self) -> &str {
        NAME
    }

    fn kinds(&self) -> &[ItemKind] {
        &[ItemKind::Hotel]
    }

    /// Ten cities of one country: a small lookup that books nothing and proves the key and the
    /// affiliate id are taken.
    async fn probe(&self) -> Result<(), BookingError> {
        self.client
            .post::<_, serde::de::IgnoredAny>(
                "/common/locations/cities",
                &Cities {
                    country: "nl",
                    rows: 10,
                },
            )
            .await
            .map(|_| ())
            .map_err(BookingError::from)
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
        let found: Envelope<Vec<SearchedAccommodation>> = self
            .client
            .post(
                "/accommodations/search",
                &Search {
                    booker: self.booker(),
                    checkin: day(*check_in),
                    checkout: day(*check_out),
                    guests: Guests {
                        number_of_adults: *guests,
                        number_of_rooms: 1,
                    },
                    coordinates: Coordinates {
                        latitude: city.centre.latitude(),
                        longitude: city.centre.longitude(),
                        radius: SEARCH_RADIUS_KM,
                    },
                    currency: currency.code().to_string(),
                    extras: ["products"],
                    payment: PaymentFilter {
                        timing: "pay_online",
                    },
                    rows: SEARCH_ROWS,
                },
            )
            .await?;
        // Per accommodation, its cheapest product paid online now, for the party searched.
        let mut cheapest: Vec<(u64, wire::Product, Money, Money)> = found
            .data
            .into_iter()
            .filter(|accommodation| accommodation.currency == currency.code())
            .filter_map(|accommodation| {
                let id = accommodation.id;
                accommodation
                    .products
                    .into_iter()
                    .filter(mapping::paid_now)
                    .filter(|product| product.number_of_adults.is_none_or(|n| n == *guests))
                    .filter_map(|product| {
                        let book = mapping::money(product.price.book.0, *currency).ok()?;
                        let total = mapping::money(product.price.total.0, *currency).ok()?;
                        Some((id, product, book, total))
                    })
                    .min_by_key(|(_, _, book, _)| book.amount())
            })
            .collect();
        cheapest.sort_by_key(|(_, _, book, _)| book.amount());
        cheapest.truncate(ACCOMMODATIONS_PER_SEARCH);
        if cheapest.is_empty() {
            return Ok(Vec::new());
        }
        let details = self
            .details(cheapest.iter().map(|(id, ..)| *id).collect())
            .await?;
        let expires_at = self.clock.now() + OFFER_TTL;
        let stay = Stay {
            city: *city,
            check_in: *check_in,
            check_out: *check_out,
            guests: *guests,
            expires_at,
        };
        Ok(cheapest
            .into_iter()
            .filter_map(|(id, product, book, total)| {
                let details = details.get(&id)?;
                offer(details, &product, book, total, &stay)
                    .inspect_err(|error| tracing::warn!(%error, "Booking.com product skipped"))
                    .ok()
                    .flatten()
            })
            .collect())
    }

    async fn quote(&self, offer: &Offer) -> Result<Offer, BookingError> {
        Ok(self.preview(offer).await?.offer)
    }

    async fn book(&self, request: BookingRequest<'_>) -> Result<BookingConfirmation, BookingError> {
        let lead = request.lead(NAME)?;
        let label = super::our_reference::for_key(LABEL_PREFIX, request.idempotency_key, MAX_LABEL);
        let outcome = async {
            if let Some(first_sent_at) = request.first_sent_at {
                // Not able to look, the earlier send's outcome stays unknown: never taken as
                // nothing booked (the saga would then release the traveller's money while the
                // agency's card may have paid an order).
                let earlier = self
                    .order_labelled(&label, first_sent_at, request.offer.price.currency())
                    .await
                    .map_err(|error| {
                        tracing::warn!(%error, "Booking.com orders not read; the booking stays unsettled");
                        BookingError::from(unknown())
                    })?;
                if let Some((order, found)) = earlier {
                    tracing::info!(%order, "Booking.com has this booking already; not booking again");
                    return confirmation_of(order, &found);
                }
            }
            let now = self.clock.now();
            self.sends
                .send_once(
                    request.idempotency_key.as_str(),
                    request.first_sent_at,
                    || not_found(&request, &label, now),
                    self.create_order(request, lead, label.clone()),
                )
                .await
        }
        .await;
        outcome.map_err(|error| error.without_traveller_details(request.travellers))
    }

    async fn cancel(
        &self,
        request: CancelRequest<'_>,
    ) -> Result<CancellationReceipt, BookingError> {
        let reference = request.reference;
        let order = self.accommodation_order(reference).await?;
        match order.status {
            OrderStatus::Booked => {}
            // Cancelled before (an answer lost, or a cancel sent again): its refund, once.
            OrderStatus::Cancelled
            | OrderStatus::CancelledByAccommodation
            | OrderStatus::CancelledByGuest => return self.refund_of(reference).await,
            OrderStatus::NoShow | OrderStatus::Stayed => {
                return Err(ProviderError::rejected(
                    NAME,
                    "not_cancellable",
                    format!(
                        "Booking.com shows order {reference} as {}: it can no longer be cancelled, and nothing is refunded",
                        if order.status == OrderStatus::Stayed { "stayed" } else { "a no-show" }
                    ),
                )
                .into());
            }
            OrderStatus::Other => return Err(unknown().into()),
        }
        let cancelled: Envelope<CancelAnswer> = self
            .client
            .act(
                "/orders/cancel",
                &Cancel {
                    order: reference.to_string(),
                    reason: CANCEL_REASON,
                },
            )
            .await?;
        match cancelled.data.status {
            CancelStatus::Successful => self.refund_of(reference).await,
            // Failed, perhaps because it was cancelled meanwhile (another cancel, or Booking.com
            // slow to show the first): the order says which.
            CancelStatus::Failed
                if self
                    .accommodation_order(reference)
                    .await
                    .is_ok_and(|order| order.status.is_cancelled()) =>
            {
                self.refund_of(reference).await
            }
            CancelStatus::Failed => Err(ProviderError::rejected(
                NAME,
                "cancel_failed",
                format!(
                    "Booking.com could not cancel order {reference}: it still stands; cancel it in Booking.com's partner tools or with the property"
                ),
            )
            .into()),
            CancelStatus::Other => Err(unknown().into()),
        }
    }
}

/// What every offer of one search shares.
struct Stay {
    city: City,
    check_in: chrono::NaiveDate,
    check_out: chrono::NaiveDate,
    guests: u8,
    expires_at: DateTime<Utc>,
}

/// One accommodation's product as an offer; `None` when Itinera cannot book it (an order there
/// needs the booker's full address, which Itinera does not have; or it prices in another
/// currency than the plan's).
fn offer(
    details: &AccommodationDetails,
    product: &wire::Product,
    book: Money,
    total: Money,
    stay: &Stay,
) -> Result<Option<Offer>, mapping::Unreadable> {
    let problem = |problem: String| mapping::Unreadable {
        stay: product.id.clone(),
        problem,
    };
    if details.booker_address_required == Some(true)
        || details
            .currency
            .as_deref()
            .is_some_and(|own| own != book.currency().code())
    {
        return Ok(None);
    }
    let Some(hotel_name) = mapping::name(&details.name) else {
        return Err(problem("no name".into()));
    };
    let id = StayRef {
        accommodation: details.id,
        product: product.id.clone(),
        checkin: stay.check_in,
        checkout: stay.check_out,
        adults: stay.guests,
    }
    .offer_id()?;
    let board = mapping::board(product.policies.meal_plan.as_ref());
    let cancellation =
        mapping::search_terms(&product.policies.cancellation, book).map_err(problem)?;
    let at_property = total
        .saturating_sub(&book)
        .map_err(|e| problem(e.to_string()))?;
    let extra = if at_property.is_zero() {
        String::new()
    } else {
        format!(", plus {at_property} of charges paid at the property")
    };
    Ok(Some(Offer {
        id,
        provider: NAME.into(),
        kind: ItemKind::Hotel,
        title: format!(
            "{hotel_name}, {board}, {} to {}{extra}",
            stay.check_in, stay.check_out
        ),
        price: book,
        city: stay.city,
        starts_on: stay.check_in,
        ends_on: stay.check_out,
        cancellation,
        expires_at: stay.expires_at,
        details: OfferDetails::Hotel {
            hotel_name,
            // The search names no room (only its id); the product is Booking.com's room and rate.
            room_type: "room".into(),
            board,
            stars: mapping::stars(details.rating.as_ref()),
            check_in: stay.check_in,
            check_out: stay.check_out,
            guests: stay.guests,
        },
        accepted_payments: Vec::new(),
    }))
}
