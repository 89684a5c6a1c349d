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
mod mapping;
mod wire;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};

use super::agency_card::AgencyCard;
use super::no_lookup::{self, SendGuard};
use crate::adapters::http::{self, ClientError};
use crate::domain::idempotency::IdempotencyKey;
use crate::domain::money::{Currency, Money};
use crate::domain::offer::{CancellationPolicy, ItemKind, Offer, OfferDetails};
use crate::domain::places::City;
use crate::domain::plan::Traveller;
use crate::ports::booking::{
    BookingConfirmation, BookingError, BookingProvider, BookingRequest, CancellationReceipt,
    SearchQuery,
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

    /// The offer's product previewed now: its price, terms and order token. A product the
    /// accommodation no longer sells is gone.
    async fn preview(&self, offer: &Offer) -> Result<Priced, BookingError> {
        let stay = StayRef::from_offer_id(&offer.id).map_err(|e| unreadable(&e.to_string()))?;
        let currency = offer.price.currency();
        let answer: Result<Envelope<PreviewAnswer>, Failure> = self
            .client
            .post(
                "/orders/preview",
                &Preview {
                    booker: self.booker(),
                    currency: currency.code().to_string(),
                    accommodation: PreviewAccommodationRequest {
                        id: stay.accommodation,
                        checkin: day(stay.checkin),
                        checkout: day(stay.checkout),
                        products: vec![PreviewProductRequest {
                            id: stay.product.clone(),
                            allocation: Allocation {
                                number_of_adults: stay.adults,
                                children: [],
                            },
                        }],
                    },
                },
            )
            .await;
        let previewed = match answer {
            Ok(envelope) => envelope.data,
            // Booking.com's error ids for a product sold out are not documented: a refused
            // preview asks whether the accommodation still sells the product, and says the
            // refusal as given when it does.
            Err(Failure::Refused(refusal)) if refusal.is_of_the_request() => {
                if !self.still_sold(&stay, currency).await? {
                    return Err(no_longer_available(offer));
                }
                return Err(BookingError::Provider(refusal.into()));
            }
            Err(other) => return Err(other.into()),
        };
        let fresh = self.read_preview(&previewed, &stay, offer)?;
        Ok(Priced {
            offer: fresh,
            order_token: previewed.order_token,
        })
    }

    /// Whether the accommodation still sells the stay's product (`/accommodations/availability`
    /// lists only the products it has).
    async fn still_sold(&self, stay: &StayRef, currency: Currency) -> Result<bool, BookingError> {
        let available: Envelope<Available> = self
            .client
            .post(
                "/accommodations/availability",
                &Availability {
                    accommodation: stay.accommodation,
                    booker: self.booker(),
                    checkin: day(stay.checkin),
                    checkout: day(stay.checkout),
                    guests: Guests {
                        number_of_adults: stay.adults,
                        number_of_rooms: 1,
                    },
                    currency: currency.code().to_string(),
                    products: vec![stay.product.clone()],
                },
            )
            .await?;
        Ok(available
            .data
            .products
            .iter()
            .any(|product| product.id == stay.product))
    }

    /// The offer at the preview's price and terms.
    fn read_preview(
        &self,
        previewed: &PreviewAnswer,
        stay: &StayRef,
        offer: &Offer,
    ) -> Result<Offer, BookingError> {
        let accommodation = &previewed.accommodation;
        let currency = offer.price.currency();
        if accommodation.currency.accommodation != currency.code() {
            return Err(ProviderError::rejected(
                NAME,
                "currency_changed",
                format!(
                    "the accommodation now prices in {}, not the {currency} of the plan: search again in {}",
                    accommodation.currency.accommodation, accommodation.currency.accommodation
                ),
            )
            .into());
        }
        let Some(product) = accommodation
            .products
            .iter()
            .find(|product| product.id == stay.product)
        else {
            return Err(no_longer_available(offer));
        };
        let (Some(now), Some(online)) = (
            &accommodation.general_policies.payment.pay_online_now,
            &product.price.chargeable_online,
        ) else {
            return Err(ProviderError::rejected(
                NAME,
                "paid_at_property",
                "the accommodation no longer takes this room paid online when booked, which is all Itinera sells (the traveller would pay twice): choose another hotel",
            )
            .into());
        };
        let price = mapping::money(online.accommodation_currency.0, currency)
            .map_err(|problem| unreadable(&problem))?;
        if !charged_in_full_now(now, online, self.clock.now()) {
            return Err(ProviderError::rejected(
                NAME,
                "paid_later",
                "Booking.com would charge part of this room after booking, when Itinera has already settled the traveller's payment: choose another hotel",
            )
            .into());
        }
        // The search tells no fee schedule, so its terms are the least Booking.com gives: they
        // stand while the schedule gives at least as much back; stricter terms are told, and
        // the saga stops on them.
        let cancellation = match &product.policies.cancellation {
            Some(steps) => match mapping::schedule_terms(steps, currency, price)
                .map_err(|problem| unreadable(&problem))?
            {
                Some(previewed)
                    if !mapping::gives_back_at_least(&previewed, &offer.cancellation) =>
                {
                    previewed
                }
                Some(_) | None => offer.cancellation.clone(),
            },
            // No schedule shown: nothing back is all that can be promised.
            None => CancellationPolicy::NonRefundable,
        };
        Ok(Offer {
            price,
            cancellation,
            expires_at: self.clock.now() + OFFER_TTL,
            ..offer.clone()
        })
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

    /// The order made under `label` since `since`, if Booking.com shows one: the orders created
    /// in the window, then their labels.
    async fn order_labelled(
        &self,
        label: &str,
        since: DateTime<Utc>,
        currency: Currency,
    ) -> Result<Option<(String, AccommodationOrder)>, BookingError> {
        let from = since - LOOKUP_MARGIN;
        // A margin either side: clocks differ, and the window's ends are whole seconds.
        let to = (self.clock.now() + LOOKUP_MARGIN).min(from + MAX_WINDOW);
        let mut by_reservation = std::collections::HashMap::new();
        let mut query = OrdersQuery::Created {
            created: Window {
                from: from.to_rfc3339_opts(SecondsFormat::Secs, true),
                to: to.to_rfc3339_opts(SecondsFormat::Secs, true),
            },
            currency: currency.code().to_string(),
            services: ["accommodations"],
            maximum_results: 100,
        };
        // Every order of the window must be read: one left unread may be ours, and "not found"
        // would then release the traveller's money while Booking.com charged the agency.
        let mut read_all = false;
        for _ in 0..MAX_PAGES {
            let page: OrdersPage = self.client.post("/orders/details", &query).await?;
            for order in page.data {
                if let Some(reservation) = order.accommodations.and_then(|a| a.reservation) {
                    by_reservation.insert(reservation, order.id);
                }
            }
            match page.metadata.and_then(|metadata| metadata.next_page) {
                Some(next) => query = OrdersQuery::Page { page: next },
                None => {
                    read_all = true;
                    break;
                }
            }
        }
        let reservations: Vec<u64> = by_reservation.keys().copied().collect();
        for chunk in reservations.chunks(IDS_PER_CALL) {
            let found: Envelope<Vec<AccommodationOrder>> = self
                .client
                .post(
                    "/orders/details/accommodations",
                    &AccommodationOrdersQuery::Reservations {
                        reservations: chunk.to_vec(),
                    },
                )
                .await?;
            let labelled = found
                .data
                .into_iter()
                .find(|order| order.label.as_deref() == Some(label));
            if let Some(order) = labelled {
                // Ours, but not tied back to its order: it exists, so never "not found".
                let id = order
                    .reservation
                    .and_then(|reservation| by_reservation.get(&reservation).cloned())
                    .ok_or_else(unknown)?;
                return Ok(Some((id, order)));
            }
        }
        if !read_all {
            tracing::warn!(
                pages = MAX_PAGES,
                "Booking.com shows more orders than Itinera reads: the lost order stays unsettled"
            );
            return Err(unknown().into());
        }
        Ok(None)
    }

    /// One order's accommodation part: its status, fee and currency.
    async fn accommodation_order(&self, order: &str) -> Result<AccommodationOrder, BookingError> {
        let found: Envelope<Vec<AccommodationOrder>> = self
            .client
            .post(
                "/orders/details/accommodations",
                &AccommodationOrdersQuery::Orders {
                    orders: vec![order.to_string()],
                },
            )
            .await?;
        found.data.into_iter().next().ok_or_else(|| {
            ProviderError::rejected(
                NAME,
                "order_not_found",
                format!("Booking.com shows no accommodation order {order}"),
            )
            .into()
        })
    }

    /// What was paid for the order, in `currency`; `None` when Booking.com shows no payment in
    /// it.
    async fn paid(&self, order: &str, currency: Currency) -> Result<Option<Money>, BookingError> {
        let page: OrdersPage = self
            .client
            .post(
                "/orders/details",
                &OrdersQuery::Orders {
                    orders: vec![order.to_string()],
                    currency: currency.code().to_string(),
                    extras: ["payment"],
                },
            )
            .await?;
        let Some(payments) = page
            .data
            .into_iter()
            .find(|summary| summary.id == order)
            .and_then(|summary| summary.payment)
        else {
            return Ok(None);
        };
        if payments.paid.is_empty()
            || payments
                .paid
                .iter()
                .any(|paid| paid.transaction_currency != currency.code())
        {
            return Ok(None);
        }
        let amounts = payments
            .paid
            .iter()
            .map(|paid| mapping::money(paid.amount.0, currency))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|problem| unreadable(&problem))?;
        Money::sum(currency, &amounts)
            .map(Some)
            .map_err(|e| unreadable(&e.to_string()))
    }

    /// The refund of a cancelled order: what was paid less the fee Booking.com kept. Either
    /// unknown or unreadable, it is said so, for a person to read it at Booking.com, rather than
    /// guessed; the order is cancelled either way, and the message says that too. (No answer at
    /// all stays an outage: the cancel is sent again, finds the order cancelled and reads again.)
    async fn refund_of(&self, order: &str) -> Result<CancellationReceipt, BookingError> {
        self.read_refund(order).await.map_err(|error| match error {
            BookingError::Provider(ProviderError::Rejected { code, message, .. })
                if code != "refund_unknown" =>
            {
                refund_unknown(order, &format!("its answer could not be read ({message})"))
            }
            other => other,
        })
    }

    async fn read_refund(&self, order: &str) -> Result<CancellationReceipt, BookingError> {
        let cancelled = self.accommodation_order(order).await?;
        let currency = cancelled
            .currency
            .as_ref()
            .and_then(|currencies| Currency::parse(&currencies.accommodation).ok());
        let fee = cancelled
            .cancellation_details
            .as_ref()
            .zip(currency)
            .map(|(details, currency)| {
                mapping::money(details.fee.accommodation_currency.0, currency)
            })
            .transpose()
            .map_err(|problem| unreadable(&problem))?;
        let paid = match currency {
            Some(currency) => self.paid(order, currency).await?,
            None => None,
        };
        let (Some(fee), Some(paid)) = (fee, paid) else {
            return Err(refund_unknown(
                order,
                "it does not show both what was paid and the fee it kept",
            ));
        };
        let refund = paid
            .saturating_sub(&fee)
            .map_err(|e| unreadable(&e.to_string()))?;
        Ok(CancellationReceipt { refund })
    }
}

/// Whether paying online now charges the whole online price at booking: every charge dated by
/// tomorrow (the dates are the property's, whose day may be ahead of ours) and adding up to it.
/// A charge later would reach the agency's card after the traveller's payment settled.
fn charged_in_full_now(timing: &wire::Charges, online: &wire::Amounts, now: DateTime<Utc>) -> bool {
    let latest = now.date_naive() + chrono::Duration::days(1);
    let total: rust_decimal::Decimal = timing
        .dates
        .iter()
        .map(|charge| charge.price.accommodation_currency.0)
        .sum();
    !timing.dates.is_empty()
        && timing.dates.iter().all(|charge| charge.at <= latest)
        && total == online.accommodation_currency.0
}

/// A cancelled order whose refund Itinera cannot tell, and why.
fn refund_unknown(order: &str, why: &str) -> BookingError {
    ProviderError::rejected(
        NAME,
        "refund_unknown",
        format!(
            "Booking.com cancelled order {order}, but {why}: read the refund in Booking.com's partner tools and pass it on with refund_payment"
        ),
    )
    .into()
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

/// What an order found under our label settles.
fn confirmation_of(
    order: String,
    found: &AccommodationOrder,
) -> Result<BookingConfirmation, BookingError> {
    let confirmation = found
        .reservation
        .map_or_else(|| order.clone(), |reservation| reservation.to_string());
    match found.status {
        OrderStatus::Booked | OrderStatus::Stayed | OrderStatus::NoShow => {
            Ok(BookingConfirmation {
                reference: order,
                confirmation,
            })
        }
        OrderStatus::Cancelled
        | OrderStatus::CancelledByAccommodation
        | OrderStatus::CancelledByGuest => Err(ProviderError::rejected(
            NAME,
            "order_cancelled",
            format!(
                "Booking.com shows order {order} made for this stay as cancelled: search again and book another hotel"
            ),
        )
        .into()),
        OrderStatus::Other => Err(unknown().into()),
    }
}

/// A booking sent before whose order is not found: unsettled while it may still show,
/// then left for a person. The message names no traveller: it is logged.
fn not_found(request: &BookingRequest<'_>, label: &str, now: DateTime<Utc>) -> BookingError {
    let recent = request
        .first_sent_at
        .is_none_or(|first| now - first < ORDER_SHOWS_WITHIN);
    if recent {
        return unknown().into();
    }
    BookingError::MayHoldABooking {
        provider: NAME.into(),
        message: format!(
            "the booking of {} ({} to {}) got no answer from Booking.com, and no order labelled {label} shows since: Booking.com takes no idempotency key, so Itinera will not send it again and risk booking the room twice. Look for an order labelled {label} in Booking.com's partner tools and cancel it if it is there, before booking again",
            hotel_name(request.offer),
            request.offer.starts_on,
            request.offer.ends_on,
        ),
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
        reference: &str,
        _idempotency_key: &IdempotencyKey,
    ) -> Result<CancellationReceipt, BookingError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn charges(dates: serde_json::Value) -> wire::Charges {
        serde_json::from_value(serde_json::json!({ "dates": dates })).unwrap()
    }

    #[test]
    fn only_a_room_charged_in_full_at_booking_is_paid_online_now() {
        let now: DateTime<Utc> = "2026-11-26T12:00:00Z".parse().unwrap();
        let online: wire::Amounts =
            serde_json::from_value(serde_json::json!({"accommodation_currency": 300.5})).unwrap();
        let at = |day: &str, amount: f64| serde_json::json!({"at": day, "price": {"accommodation_currency": amount}});
        let today = charges(serde_json::json!([at("2026-11-26", 300.5)]));
        assert!(charged_in_full_now(&today, &online, now));
        let split = charges(serde_json::json!([
            at("2026-11-26", 100.5),
            at("2026-11-27", 200.0)
        ]));
        assert!(
            charged_in_full_now(&split, &online, now),
            "the property's day may be ahead of ours"
        );
        let later = charges(serde_json::json!([
            at("2026-11-26", 100.5),
            at("2026-12-20", 200.0)
        ]));
        assert!(
            !charged_in_full_now(&later, &online, now),
            "a charge weeks later"
        );
        let short = charges(serde_json::json!([at("2026-11-26", 200.0)]));
        assert!(
            !charged_in_full_now(&short, &online, now),
            "not the whole price"
        );
        assert!(!charged_in_full_now(
            &charges(serde_json::json!([])),
            &online,
            now
        ));
    }
}
