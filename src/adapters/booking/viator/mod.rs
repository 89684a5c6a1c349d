//! Viator activities, as a merchant partner of the Partner API v2: a search finds Viator's
//! destination for the city (`/destinations` carries airport codes, read once and kept), lists
//! the destination's products for the day (`/products/search`), then asks the price of each of
//! the first few for the party (`/availability/check`, adults only), so every offer is a real
//! bookable item at Viator's `partnerTotalPrice`, under the product's refund windows
//! (`GET /products/{code}`, `cancellationPolicy`). A re-quote asks that price again; a booking
//! checks it, holds the item (`/bookings/hold`) and books it (`/bookings/book`); a cancellation
//! is Viator's quote (`cancel-quote`), then the cancellation, refunding the quote's amount.
//!
//! Viator's idempotency is `partnerBookingRef`: unique per booking, so a repeat cannot book
//! twice. It is derived from the saga's key, and a booking sent again first asks
//! `/bookings/status` for it: a booking found is the answer, never a second one. Viator says a
//! booking may take over 90 s (so the book call waits 120 s) and that after a timeout or a 500
//! the status must be checked before booking again, which the resend does.
//!
//! Verified against `shared/provider-apis.md` §7a and Viator's OpenAPI spec (api-evangelist/viator
//! `openapi/viator-partner-api-v2-openapi.json`). What Itinera lacks for Viator is in the
//! README's provider table.

mod client;
mod mapping;
mod wire;

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use futures::future::join_all;

use crate::adapters::http::{self, ClientError};
use crate::domain::money::{Currency, Money};
use crate::domain::offer::{ItemKind, Offer};
use crate::domain::places::City;
use crate::ports::booking::{
    BookingConfirmation, BookingError, BookingProvider, BookingRequest,
    CancelRequest as PortCancelRequest, CancellationReceipt, SearchQuery,
};
use crate::ports::{Clock, ProviderError};

pub use client::MEDIA_TYPE;
use client::{Client, unknown};
use mapping::{ItemRef, Product};
use wire::{
    Availability, Book, Booking, BookingStatus, CancelQuote, CancelRequest, CancelStatus,
    Cancellation, DeclineReason, Destinations, Filtering, Hold, Pagination, ProductSearch,
    ProductSearchAnswer, QuoteStatus, RejectionReason, StatusRequest,
};

const NAME: &str = "viator";
/// How many products of a destination are priced for a search: each costs an availability
/// call, and Viator limits calls per endpoint over a 10 s window.
const MAX_PRODUCTS: u32 = 5;
/// How long an offer's price is taken to hold: Viator gives no expiry, so Itinera's own bound,
/// the sandbox's; the price is asked again at booking anyway.
const OFFER_TTL: chrono::Duration = chrono::Duration::minutes(30);
/// The reason a cancellation gives Viator, from its `/bookings/cancel-reasons` (customer
/// reasons): the traveller's trip, or this part of it, is off.
const CANCEL_REASON: &str = "Customer_Service.I_canceled_my_entire_trip";

/// Where Viator is and how to sign in. `Debug` hides the key.
#[derive(Clone)]
pub struct ViatorSettings {
    /// The partner's API key (`exp-api-key`), a UUID; sandbox and production keys look alike.
    pub api_key: String,
    /// `https://api.sandbox.viator.com/partner`, or a local fake in tests.
    pub base_url: String,
}

impl std::fmt::Debug for ViatorSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ViatorSettings")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

/// Viator's destination ids by airport or city code, preferring destinations of type `CITY`.
type DestinationIndex = HashMap<String, (i64, bool)>;

pub struct ViatorActivities {
    client: Client,
    clock: Arc<dyn Clock>,
    /// Read once: Viator asks partners to refresh destinations weekly, not per search.
    destinations: tokio::sync::OnceCell<DestinationIndex>,
}

/// What a search asks of every product.
#[derive(Clone, Copy)]
struct Wanted {
    date: NaiveDate,
    city: City,
    adults: u8,
    currency: Currency,
    expires_at: DateTime<Utc>,
}

/// What a booking's answer settles.
enum Outcome {
    Settled(Result<BookingConfirmation, BookingError>),
    /// Viator refused a second booking under our reference: the first is the answer.
    Duplicate,
}

impl ViatorActivities {
    pub fn new(settings: &ViatorSettings, clock: Arc<dyn Clock>) -> Result<Self, ClientError> {
        Ok(ViatorActivities {
            client: Client::new(
                http::client(http::CALL_TIMEOUT)?,
                &settings.base_url,
                &settings.api_key,
            ),
            clock,
            destinations: tokio::sync::OnceCell::new(),
        })
    }

    /// Viator's destination for a city: one whose airport codes include the city's code or one
    /// of its airports'.
    async fn destination_of(&self, city: City) -> Result<Option<i64>, BookingError> {
        let index = self
            .destinations
            .get_or_try_init(|| async {
                let answer: Destinations = self.client.get("/destinations").await?;
                Ok::<_, BookingError>(index(answer))
            })
            .await?;
        Ok(std::iter::once(city.code)
            .chain(city.airports().map(|airport| airport.code))
            .find_map(|code| index.get(code))
            .map(|(id, _)| *id))
    }

    /// The bookable item at Viator now, and its price; `None` when Viator does not offer it.
    async fn priced(
        &self,
        item: &ItemRef,
        currency: Currency,
        adults: u8,
    ) -> Result<Option<Money>, BookingError> {
        let availability: Availability = self
            .client
            .post("/availability/check", &item.item(currency, adults))
            .await?;
        let Some(bookable) = availability
            .bookable_items
            .iter()
            .find(|bookable| item.names(bookable) && bookable.available)
        else {
            return Ok(None);
        };
        mapping::item_price(bookable, &availability.currency)
            .map(Some)
            .map_err(|problem| unreadable(&problem))
    }

    /// The priced offers of one product on one day.
    async fn offers_of(
        &self,
        code: &str,
        product: &Product,
        wanted: &Wanted,
    ) -> Result<Vec<Offer>, BookingError> {
        let Wanted {
            date,
            city,
            adults,
            currency,
            expires_at,
        } = *wanted;
        let product_only = ItemRef {
            product_code: code.to_string(),
            option_code: None,
            travel_date: date,
            start_time: None,
        };
        let availability: Availability = self
            .client
            .post("/availability/check", &product_only.item(currency, adults))
            .await?;
        if !availability.bookable_items.iter().any(|b| b.available) {
            return Ok(Vec::new());
        }
        let terms = self.cancellation_terms(code).await;
        let offers = availability
            .bookable_items
            .iter()
            .filter(|bookable| bookable.available)
            .filter_map(|bookable| {
                let item = ItemRef {
                    option_code: bookable.product_option_code.clone(),
                    start_time: bookable.start_time.clone(),
                    ..product_only.clone()
                };
                let priced = mapping::item_price(bookable, &availability.currency)
                    .map_err(|problem| format!("{code}: {problem}"))
                    .and_then(|price| {
                        let cancellation = mapping::policy(terms.as_ref(), &item, price);
                        mapping::offer(
                            &item,
                            product,
                            price,
                            cancellation,
                            (city, adults, expires_at),
                        )
                        .map_err(|e| e.to_string())
                    });
                priced
                    .inspect_err(|error| tracing::warn!(%error, "Viator item skipped"))
                    .ok()
            })
            .filter(|offer| offer.price.currency() == currency)
            .collect();
        Ok(offers)
    }

    /// The product's cancellation terms; without them (a failed call) its offers promise no
    /// refund rather than go unsold.
    async fn cancellation_terms(&self, code: &str) -> Option<wire::CancellationTerms> {
        self.client
            .get::<wire::ProductDetails>(&format!("/products/{}", path_segment(code)))
            .await
            .inspect_err(|error| {
                tracing::warn!(%error, product = code, "Viator product terms not read; offered as non-refundable");
            })
            .ok()
            .and_then(|details| details.cancellation_policy)
    }

    /// The booking made under our reference, if Viator has one.
    async fn booking_under(&self, partner_ref: &str) -> Result<Option<Booking>, BookingError> {
        self.client
            .post_if_found(
                "/bookings/status",
                &StatusRequest {
                    partner_booking_ref: partner_ref.to_string(),
                },
            )
            .await
    }

    /// What a booking answer (or a status found) means; a duplicate is looked up once.
    async fn settle(
        &self,
        booking: Booking,
        partner_ref: &str,
        offer: &Offer,
    ) -> Result<BookingConfirmation, BookingError> {
        match outcome(booking, offer) {
            Outcome::Settled(result) => result,
            Outcome::Duplicate => match self.booking_under(partner_ref).await? {
                Some(first) => match outcome(first, offer) {
                    Outcome::Settled(result) => result,
                    Outcome::Duplicate => Err(unknown().into()),
                },
                // Refused as a duplicate yet not found: Viator may still be making the first.
                None => Err(unknown().into()),
            },
        }
    }

    async fn create_booking(
        &self,
        request: BookingRequest<'_>,
        item: &ItemRef,
        partner_ref: String,
    ) -> Result<BookingConfirmation, BookingError> {
        let offer = request.offer;
        let adults = offer.party_size();
        let currency = offer.price.currency();
        let (booker_info, communication) = mapping::booker(request.travellers, adults)
            .map_err(|e| ProviderError::rejected(NAME, "booker_details", e.to_string()))?;
        // Viator's final availability check, then the price the person approved.
        let Some(now) = self.priced(item, currency, adults).await? else {
            return Err(no_longer_available(offer));
        };
        super::approved_price::unchanged(NAME, "activity", now, offer.price)?;
        let body = item.item(currency, adults);
        let hold: Hold = self.client.post("/bookings/hold", &body).await?;
        if let Some(total) = &hold.total_price {
            let held = mapping::money(
                total.price.partner_total_price,
                hold.currency.as_deref().unwrap_or(currency.code()),
            )
            .map_err(|problem| unreadable(&problem))?;
            super::approved_price::unchanged(NAME, "activity", held, offer.price)?;
        }
        let booking: Booking = self
            .client
            .post_slow(
                "/bookings/book",
                &Book {
                    item: body,
                    booking_ref: hold.booking_ref,
                    partner_booking_ref: partner_ref.clone(),
                    booker_info,
                    communication,
                },
            )
            .await?;
        self.settle(booking, &partner_ref, offer).await
    }

    async fn cancel_quote(&self, reference: &str) -> Result<CancelQuote, BookingError> {
        self.client
            .get(&format!(
                "/bookings/{}/cancel-quote",
                path_segment(reference)
            ))
            .await
    }
}

fn index(answer: Destinations) -> DestinationIndex {
    let mut index = DestinationIndex::new();
    for destination in answer.destinations {
        let is_city = destination.kind.eq_ignore_ascii_case("CITY");
        for code in &destination.iata_codes {
            let code = code.trim().to_ascii_uppercase();
            let better = index.get(&code).is_none_or(|(_, city)| is_city && !city);
            if better {
                tracing::debug!(%code, destination = %destination.name, "Viator destination");
                index.insert(code, (destination.destination_id, is_city));
            }
        }
    }
    index
}

/// A booking reference as one path segment (Viator's are `BR-123456789`).
fn path_segment(reference: &str) -> String {
    reference
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
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

/// What Viator's status of a booking settles.
fn outcome(booking: Booking, offer: &Offer) -> Outcome {
    let refused = |code: &str, message: String| {
        Outcome::Settled(Err(ProviderError::rejected(NAME, code, message).into()))
    };
    match booking.status {
        BookingStatus::Confirmed => {
            let Some(reference) = booking.booking_ref else {
                return Outcome::Settled(Err(unknown().into()));
            };
            if let (Some(total), Some(currency)) = (&booking.total_price, &booking.currency) {
                match mapping::money(total.price.partner_total_price, currency) {
                    Ok(billed) if billed == offer.price => {}
                    billed => tracing::warn!(
                        ?billed,
                        approved = %offer.price,
                        booking = %reference,
                        "Viator confirmed another total than the one approved"
                    ),
                }
            }
            Outcome::Settled(Ok(BookingConfirmation {
                reference: reference.clone(),
                confirmation: reference,
            }))
        }
        // Not settled yet at Viator: the saga sends the booking again, and the status lookup
        // then tells how it ended.
        BookingStatus::Pending | BookingStatus::InProgress | BookingStatus::OnHold => {
            tracing::info!(status = ?booking.status, booking = ?booking.booking_ref, "Viator booking not settled yet");
            Outcome::Settled(Err(unknown().into()))
        }
        BookingStatus::Rejected => match booking.rejection_reason_code {
            Some(RejectionReason::BookableItemIsNoLongerAvailable) => {
                Outcome::Settled(Err(no_longer_available(offer)))
            }
            Some(RejectionReason::DuplicateBooking) => Outcome::Duplicate,
            Some(RejectionReason::Other) | None => refused(
                "REJECTED",
                "Viator rejected the booking (reason OTHER): nothing was booked; pick another activity".into(),
            ),
        },
        BookingStatus::Canceled => refused(
            "CANCELED",
            format!(
                "Viator shows booking {} made for this item as cancelled: search again and book another activity",
                booking.booking_ref.unwrap_or_default()
            ),
        ),
        BookingStatus::Failed => refused(
            "FAILED",
            "Viator's booking failed: nothing was booked; search again and book anew".into(),
        ),
        // A status this adapter does not know: the booking may stand; the resend looks again.
        BookingStatus::Other => {
            tracing::warn!(booking = ?booking.booking_ref, "Viator booking in an unknown status");
            Outcome::Settled(Err(unknown().into()))
        }
    }
}

/// What a cancel quote says comes back.
fn refund_of(quote: &CancelQuote) -> Result<CancellationReceipt, BookingError> {
    let Some(details) = &quote.refund_details else {
        return Err(unknown().into());
    };
    let (Some(amount), Some(currency)) = (details.refund_amount, &details.currency_code) else {
        return Err(unknown().into());
    };
    let refund = mapping::money(amount, currency).map_err(|problem| unreadable(&problem))?;
    Ok(CancellationReceipt { refund })
}

#[async_trait]
impl BookingProvider for ViatorActivities {
    fn name(&self) -> &str {
        NAME
    }

    fn kinds(&self) -> &[ItemKind] {
        &[ItemKind::Activity]
    }

    /// The cancellation reasons: a small answer that proves the key is taken.
    async fn probe(&self) -> Result<(), BookingError> {
        self.client
            .get::<serde::de::IgnoredAny>("/bookings/cancel-reasons")
            .await
            .map(|_| ())
    }

    async fn search(&self, query: &SearchQuery) -> Result<Vec<Offer>, BookingError> {
        let SearchQuery::Activities {
            city,
            date,
            participants,
            currency,
        } = query
        else {
            return Err(BookingError::kind_not_sold(NAME, query));
        };
        let Some(destination) = self.destination_of(*city).await? else {
            tracing::info!(city = %city.code, "no Viator destination for the city");
            return Ok(Vec::new());
        };
        let day = date.format("%Y-%m-%d").to_string();
        let found: ProductSearchAnswer = self
            .client
            .post(
                "/products/search",
                &ProductSearch {
                    filtering: Filtering {
                        destination: destination.to_string(),
                        start_date: day.clone(),
                        end_date: day,
                    },
                    pagination: Pagination {
                        start: 1,
                        count: MAX_PRODUCTS,
                    },
                    currency: currency.code().to_string(),
                },
            )
            .await?;
        let expires_at = self.clock.now() + OFFER_TTL;
        let products: Vec<(String, Product)> = found
            .products
            .iter()
            .take(MAX_PRODUCTS as usize)
            .map(|summary| (summary.product_code.clone(), Product::from_summary(summary)))
            .collect();
        let wanted = Wanted {
            date: *date,
            city: *city,
            adults: *participants,
            currency: *currency,
            expires_at,
        };
        let priced = join_all(
            products
                .iter()
                .map(|(code, product)| self.offers_of(code, product, &wanted)),
        )
        .await;
        super::priced_offers::gathered(NAME, priced)
    }

    async fn quote(&self, offer: &Offer) -> Result<Offer, BookingError> {
        let item = ItemRef::from_offer_id(&offer.id).map_err(|e| unreadable(&e.to_string()))?;
        let adults = offer.party_size();
        let Some(price) = self.priced(&item, offer.price.currency(), adults).await? else {
            return Err(no_longer_available(offer));
        };
        Ok(Offer {
            price,
            expires_at: self.clock.now() + OFFER_TTL,
            ..offer.clone()
        })
    }

    async fn book(&self, request: BookingRequest<'_>) -> Result<BookingConfirmation, BookingError> {
        let item =
            ItemRef::from_offer_id(&request.offer.id).map_err(|e| unreadable(&e.to_string()))?;
        let partner_ref = mapping::partner_booking_ref(request.idempotency_key);
        // Sent before with no answer kept: what Viator made under our reference is the answer.
        if request.first_sent_at.is_some()
            && let Some(found) = self.booking_under(&partner_ref).await?
        {
            tracing::info!(status = ?found.status, "Viator has this booking already; not booking again");
            return self.settle(found, &partner_ref, request.offer).await;
        }
        self.create_booking(request, &item, partner_ref).await
    }

    async fn cancel(
        &self,
        request: PortCancelRequest<'_>,
    ) -> Result<CancellationReceipt, BookingError> {
        let reference = request.reference;
        let quote = self.cancel_quote(reference).await?;
        match quote.status {
            // Cancelled before (a lost answer): what that cancellation gives back.
            QuoteStatus::Cancelled => return refund_of(&quote),
            QuoteStatus::NotCancellable => {
                return Err(ProviderError::rejected(
                    NAME,
                    "NOT_CANCELLABLE",
                    format!(
                        "Viator says booking {reference} can no longer be cancelled (the activity has started or is over): nothing is refunded"
                    ),
                )
                .into());
            }
            QuoteStatus::Cancellable => {}
            QuoteStatus::Other => return Err(unknown().into()),
        }
        let cancelled: Cancellation = self
            .client
            .post(
                &format!("/bookings/{}/cancel", path_segment(reference)),
                &CancelRequest {
                    reason_code: CANCEL_REASON,
                },
            )
            .await?;
        match (cancelled.status, cancelled.reason) {
            (CancelStatus::Accepted, _) => refund_of(&quote),
            // Cancelled in between (another attempt whose answer was lost): its refund.
            (CancelStatus::Declined, Some(DeclineReason::AlreadyCancelled)) => {
                let now = self.cancel_quote(reference).await?;
                match now.status {
                    QuoteStatus::Cancelled if now.refund_details.is_some() => refund_of(&now),
                    _ => refund_of(&quote),
                }
            }
            (CancelStatus::Declined, reason) => Err(ProviderError::rejected(
                NAME,
                "DECLINED",
                format!(
                    "Viator declined to cancel booking {reference} ({}): it still stands",
                    match reason {
                        Some(DeclineReason::NotCancellable) => "NOT_CANCELLABLE",
                        Some(DeclineReason::AlreadyCancelled) => "ALREADY_CANCELLED",
                        Some(DeclineReason::Other) | None => "no reason given",
                    }
                ),
            )
            .into()),
            (CancelStatus::Other, _) => Err(unknown().into()),
        }
    }
}
