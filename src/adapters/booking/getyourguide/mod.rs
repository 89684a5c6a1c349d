//! GetYourGuide activities, through its Partner API (v1): a search lists the tours around the
//! city's centre on the day (`GET /1/tours`, `coordinates[]`, `date[]`), then asks the price of
//! each of the first few for the party (`POST /1/tours/{id}/price-breakdown`, adults only), so
//! every offer is a real time slot at GetYourGuide's retail price, under the tour's
//! `cancellation_policy`. A re-quote asks that price again. A booking checks it, puts a
//! temporary booking in a new cart (`POST /1/bookings`, our `external_reference_id`) and checks
//! the cart out (`POST /1/carts`) with the lead traveller as buyer and MasterBill payment: the
//! only payment the spec keeps, GetYourGuide invoices the partner. A cancellation reads the
//! booking (`GET /1/bookings/{hash}`: free now, or the tour's fee) and deletes it.
//!
//! GetYourGuide has no idempotency key and no lookup by our reference: a temporary booking is
//! never paid (it expires), so only the checkout can buy, and this process remembers, per
//! saga key, the cart it checked out. A booking sent again finds it by that memory; after a
//! restart that memory is gone, and the booking is refused with what the person must check,
//! rather than risk buying it twice.
//!
//! Verified against GetYourGuide's spec, `getyourguide/partner-api-spec` at 6c4a995 (`spec/`),
//! and `research/providers-tk-avis-booking.md` §5. What Itinera lacks for GetYourGuide is in
//! the README's provider table.

mod client;
mod mapping;
mod wire;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use futures::future::join_all;

use crate::adapters::http::{self, ClientError};
use crate::domain::money::{Currency, Money};
use crate::domain::offer::{ItemKind, Offer};
use crate::domain::places::City;
use crate::ports::booking::{
    BookingConfirmation, BookingError, BookingProvider, BookingRequest, CancelRequest,
    CancellationReceipt, SearchQuery,
};
use crate::ports::{Clock, ProviderError};

use client::{Client, unknown};
use mapping::{Slot, Tour};
use wire::{
    BaseData, Booking, BookingByHash, BookingCreate, BookingCreateData, BookingCreated,
    BookingStatus, CartConfirm, CartConfirmData, CartConfirmed, CartStatus, CategoryCount,
    CurrencyOnly, DayBreakdown, DayParty, Deleted, LANGUAGE, MasterBill, NewBookable, NewBooking,
    Participants, PriceBreakdownRequest, ShoppingCart, Tours,
};

const NAME: &str = "getyourguide";
/// How many tours around the city are priced for a search: each costs a price-breakdown call,
/// and GetYourGuide allows 120 calls a minute before blocking the partner for 5 minutes.
const MAX_TOURS: usize = 5;
/// The search radius around the city's centre (the spec's example, `…&coordinates[]=10`; the
/// unit is not stated, kilometres by the example's scale).
const RADIUS: &str = "10";
/// How long an offer's price is taken to hold: GetYourGuide gives no expiry before a booking,
/// so Itinera's own bound; the price is asked again at booking anyway.
const OFFER_TTL: chrono::Duration = chrono::Duration::minutes(30);

/// Where GetYourGuide is and how to sign in. `Debug` hides the token.
#[derive(Clone)]
pub struct GetYourGuideSettings {
    /// The partner's access token (`X-ACCESS-TOKEN`), given by GetYourGuide.
    pub access_token: String,
    /// `https://api.gygtest.net`, or a local fake in tests.
    pub base_url: String,
}

impl std::fmt::Debug for GetYourGuideSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GetYourGuideSettings")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

/// How far this process got with a booking, by saga key.
#[derive(Debug, Clone)]
enum Sent {
    /// Nothing checked out: at most a temporary booking, which is never paid and expires.
    Started,
    /// The cart was sent for checkout: the booking may be bought.
    CheckedOut { cart: String, booking: String },
}

pub struct GetYourGuideActivities {
    client: Client,
    clock: Arc<dyn Clock>,
    /// Saga key → how far its booking got here. Lost on a restart, which is why a booking sent
    /// again with nothing here is refused.
    sent: Mutex<HashMap<String, Sent>>,
    /// Booking hash → the refund its cancellation was taken to give, for a cancellation sent
    /// again after GetYourGuide cancelled it.
    refunds: Mutex<HashMap<String, Money>>,
}

/// What a search asks of every tour.
#[derive(Clone, Copy)]
struct Wanted {
    date: NaiveDate,
    city: City,
    adults: u8,
    currency: Currency,
    expires_at: DateTime<Utc>,
}

impl GetYourGuideActivities {
    pub fn new(
        settings: &GetYourGuideSettings,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, ClientError> {
        Ok(GetYourGuideActivities {
            client: Client::new(
                http::client(http::CALL_TIMEOUT)?,
                &settings.base_url,
                &settings.access_token,
            ),
            clock,
            sent: Mutex::default(),
            refunds: Mutex::default(),
        })
    }

    fn sent(&self, key: &str) -> Option<Sent> {
        self.sent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(key)
            .cloned()
    }

    fn remember(&self, key: &str, sent: Sent) {
        self.sent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key.to_string(), sent);
    }

    /// The tour's options and slots on a day, priced for the party.
    async fn day(
        &self,
        tour_id: i64,
        date: NaiveDate,
        adults: u8,
        currency: Currency,
    ) -> Result<DayBreakdown, BookingError> {
        self.client
            .post(
                &format!("/1/tours/{tour_id}/price-breakdown"),
                &PriceBreakdownRequest {
                    base_data: CurrencyOnly {
                        currency: currency.code().to_string(),
                    },
                    data: DayParty {
                        date: date.format("%Y-%m-%d").to_string(),
                        participants: Participants { adult: adults },
                    },
                },
            )
            .await
    }

    /// The offer of one tour on one day: its cheapest open slot, if any.
    async fn offer_of(&self, tour: &Tour, wanted: &Wanted) -> Result<Option<Offer>, BookingError> {
        let day = self
            .day(tour.id, wanted.date, wanted.adults, wanted.currency)
            .await?;
        let Some((slot, price)) = mapping::cheapest_slot(tour.id, &day, wanted.adults) else {
            return Ok(None);
        };
        if price.currency() != wanted.currency {
            tracing::warn!(tour = tour.id, %price, "GetYourGuide priced in another currency");
            return Ok(None);
        }
        let offer = mapping::offer(
            &slot,
            tour,
            price,
            (wanted.city, wanted.adults, wanted.expires_at),
        )
        .map_err(|e| unreadable(&e.to_string()))?;
        Ok(Some(offer))
    }

    /// The slot's price now for the party; `None` when it is no longer open to them.
    async fn priced(
        &self,
        slot: &Slot,
        adults: u8,
        currency: Currency,
    ) -> Result<Option<(Slot, Money)>, BookingError> {
        let date = slot
            .date()
            .ok_or_else(|| unreadable("the offer's slot has no date"))?;
        let day = self.day(slot.tour_id, date, adults, currency).await?;
        Ok(mapping::same_slot(slot, &day, adults))
    }

    async fn booking(&self, hash: &str, currency: Currency) -> Result<Booking, BookingError> {
        let found: BookingByHash = self
            .client
            .get(
                &format!("/1/bookings/{}", path_segment(hash)),
                currency,
                &[],
            )
            .await?;
        Ok(found.booking)
    }

    /// A new temporary booking of the slot in a new cart, then its checkout.
    async fn create_booking(
        &self,
        request: BookingRequest<'_>,
        slot: &Slot,
        cart_details: (wire::Billing, wire::Contact),
    ) -> Result<BookingConfirmation, BookingError> {
        let offer = request.offer;
        let key = request.idempotency_key.as_str();
        let adults = offer.party_size();
        let currency = offer.price.currency();
        self.remember(key, Sent::Started);
        // GetYourGuide's availability, then the price the person approved.
        let Some((now_slot, now)) = self.priced(slot, adults, currency).await? else {
            return Err(no_longer_available(offer));
        };
        super::approved_price::unchanged(NAME, "activity", now, offer.price)?;
        let created: BookingCreated = self
            .client
            .post(
                "/1/bookings",
                &BookingCreate {
                    base_data: base_data(currency),
                    data: BookingCreateData {
                        booking: NewBooking {
                            bookable: NewBookable {
                                option_id: slot.option_id,
                                datetime: slot.date_time.clone(),
                                price: wire::Amount(now.amount()),
                                categories: vec![CategoryCount {
                                    category_id: now_slot.adult_category,
                                    number_of_participants: adults,
                                }],
                                external_reference_id: mapping::external_reference(
                                    request.idempotency_key,
                                ),
                            },
                        },
                    },
                },
            )
            .await
            // No answer to a temporary booking buys nothing: the send again books anew.
            .map_err(|error| match error {
                BookingError::Provider(ProviderError::OutcomeUnknown { provider }) => {
                    ProviderError::unavailable(
                        &provider,
                        "no answer to the temporary booking; nothing was bought",
                    )
                    .into()
                }
                other => other,
            })?;
        let created = created.bookings;
        if let Some(status) = created.status
            && status != BookingStatus::Temp
        {
            tracing::info!(?status, "GetYourGuide's new booking is not temporary");
        }
        self.checkout(
            key,
            &created.shopping_cart_hash,
            &created.booking_hash,
            cart_details,
            offer,
        )
        .await
    }

    /// Checks the cart out with MasterBill, and reads what became of our booking.
    async fn checkout(
        &self,
        key: &str,
        cart: &str,
        booking: &str,
        (billing, traveler): (wire::Billing, wire::Contact),
        offer: &Offer,
    ) -> Result<BookingConfirmation, BookingError> {
        let currency = offer.price.currency();
        self.remember(
            key,
            Sent::CheckedOut {
                cart: cart.to_string(),
                booking: booking.to_string(),
            },
        );
        let confirmed: CartConfirmed = self
            .client
            .post(
                "/1/carts",
                &CartConfirm {
                    base_data: base_data(currency),
                    data: CartConfirmData {
                        shopping_cart: ShoppingCart {
                            shopping_cart_hash: cart.to_string(),
                            billing,
                            traveler,
                            payment: MasterBill { master_bill: true },
                        },
                    },
                },
            )
            .await?;
        if confirmed.status == Some(CartStatus::Invalid) {
            return Err(ProviderError::rejected(
                NAME,
                "invalid_cart",
                "GetYourGuide found the cart invalid at checkout: nothing was bought; search again and book anew",
            )
            .into());
        }
        if let Some(info) = &confirmed.payment_info {
            billed_as_approved(info, offer);
        }
        let ours = confirmed
            .bookings
            .into_iter()
            .find(|b| b.booking_hash == booking);
        // Bought: from here on, a failure to read what was bought leaves the booking unsettled
        // for the send again to read by its hash, never a failed item whose purchase stands.
        let ours = match ours {
            Some(found) => found,
            None => self
                .booking(booking, currency)
                .await
                .map_err(|_| BookingError::from(unknown()))?,
        };
        self.settle(ours, currency).await
    }

    /// What GetYourGuide's status of our booking settles.
    async fn settle(
        &self,
        booking: Booking,
        currency: Currency,
    ) -> Result<BookingConfirmation, BookingError> {
        match booking.booking_status {
            BookingStatus::Confirmed => {
                // The ticket reference if it can be read; the booking stands either way.
                let reference = match ticket_reference(&booking) {
                    Some(reference) => Some(reference),
                    None => self
                        .booking(&booking.booking_hash, currency)
                        .await
                        .ok()
                        .and_then(|read| ticket_reference(&read)),
                };
                Ok(BookingConfirmation {
                    reference: reference_of(&booking.booking_hash, currency),
                    confirmation: reference.unwrap_or_else(|| booking.booking_hash.clone()),
                })
            }
            // Bought, awaiting the supplier (minutes, up to 48 h): the saga sends the booking
            // again, and the lookup by hash then tells how it ended.
            BookingStatus::Unconfirmed => {
                tracing::info!(booking = %booking.booking_hash, "GetYourGuide booking awaits the supplier's confirmation");
                Err(unknown().into())
            }
            BookingStatus::Canceled => Err(ProviderError::rejected(
                NAME,
                "canceled",
                format!(
                    "GetYourGuide shows booking {} as cancelled: search again and book another activity",
                    booking.booking_hash
                ),
            )
            .into()),
            BookingStatus::Deleted
            | BookingStatus::DeletedByCustomer
            | BookingStatus::DeletedByDaemon => Err(ProviderError::rejected(
                NAME,
                "deleted",
                "GetYourGuide removed the booking from its cart before checkout: nothing was bought; search again and book anew",
            )
            .into()),
            // Still in the cart after a checkout, or a status this adapter does not know: the
            // booking may stand; the send again looks again.
            BookingStatus::Temp | BookingStatus::Other => {
                tracing::warn!(booking = %booking.booking_hash, status = ?booking.booking_status, "GetYourGuide booking not settled");
                Err(unknown().into())
            }
        }
    }

    /// A booking sent again after a checkout this process sent: what became of it.
    async fn resume(
        &self,
        request: BookingRequest<'_>,
        slot: &Slot,
        cart: String,
        hash: String,
        cart_details: (wire::Billing, wire::Contact),
    ) -> Result<BookingConfirmation, BookingError> {
        let currency = request.offer.price.currency();
        let booking = self.booking(&hash, currency).await?;
        match booking.booking_status {
            // The checkout never took: the same cart is checked out (one cart buys once).
            // A refusal now may be the first checkout still completing: unsettled, to be read
            // again, rather than a failed item beside a purchase.
            BookingStatus::Temp => {
                let key = request.idempotency_key.as_str();
                self.checkout(key, &cart, &hash, cart_details, request.offer)
                    .await
                    .map_err(|error| match error {
                        BookingError::Provider(ProviderError::Rejected { .. }) => unknown().into(),
                        other => other,
                    })
            }
            // Expired in the cart, never bought: booked anew.
            BookingStatus::Deleted
            | BookingStatus::DeletedByCustomer
            | BookingStatus::DeletedByDaemon => {
                tracing::info!(booking = %hash, "GetYourGuide dropped the unpaid booking; booking anew");
                self.create_booking(request, slot, cart_details).await
            }
            _ => self.settle(booking, currency).await,
        }
    }

    /// What cancelling the booking gives back now: the full price when GetYourGuide says it is
    /// free, the price less the tour's fee before its deadline, otherwise nothing.
    async fn refund_now(
        &self,
        booking: &Booking,
        currency: Currency,
    ) -> Result<Money, BookingError> {
        let bookable = booking
            .bookable
            .as_ref()
            .ok_or_else(|| unreadable("the booking has no bookable"))?;
        let price = bookable
            .price
            .ok_or_else(|| unreadable("the booking has no price"))
            .and_then(|price| {
                mapping::money(price, currency.code()).map_err(|problem| unreadable(&problem))
            })?;
        if bookable.currently_cancellable_at_no_fee == Some(true) {
            return Ok(price);
        }
        let zero = Money::zero(currency);
        let (Some(tour_id), Some(start)) = (
            bookable.tour_id,
            bookable
                .datetime_utc
                .as_deref()
                .and_then(|at| DateTime::parse_from_rfc3339(at).ok()),
        ) else {
            return Ok(zero);
        };
        let tours: Tours = self
            .client
            .get(&format!("/1/tours/{tour_id}"), currency, &[])
            .await?;
        let Some(terms) = tours
            .tours
            .into_iter()
            .find_map(|tour| tour.cancellation_policy)
            .filter(|terms| terms.cancellable == Some(true))
        else {
            return Ok(zero);
        };
        let deadline = start.with_timezone(&Utc)
            - chrono::Duration::minutes(terms.cancellation_offset_minutes.unwrap_or(0).max(0));
        match mapping::fee(&terms, price) {
            Some(fee) if self.clock.now() <= deadline => price
                .saturating_sub(&fee)
                .map_err(|e| unreadable(&e.to_string())),
            _ => Ok(zero),
        }
    }
}

fn base_data(currency: Currency) -> BaseData {
    BaseData {
        cnt_language: LANGUAGE,
        currency: currency.code().to_string(),
    }
}

fn ticket_reference(booking: &Booking) -> Option<String> {
    booking
        .ticket
        .as_ref()
        .and_then(|ticket| ticket.booking_reference.clone())
        .filter(|reference| !reference.trim().is_empty())
}

/// Our reference for a booking: its hash and the currency it was bought in, which every later
/// call must name (`WTLDAJ2S335O539FV3YCGZ0JMOCSTB5M.EUR`).
fn reference_of(hash: &str, currency: Currency) -> String {
    format!("{hash}.{}", currency.code())
}

fn parse_reference(reference: &str) -> Result<(&str, Currency), BookingError> {
    reference
        .rsplit_once('.')
        .and_then(|(hash, code)| Some((hash, Currency::parse(code).ok()?)))
        .filter(|(hash, _)| !hash.is_empty())
        .ok_or_else(|| {
            ProviderError::rejected(
                NAME,
                "unknown_reference",
                format!("{reference} is not a GetYourGuide booking reference of Itinera's"),
            )
            .into()
        })
}

/// A booking hash as one path segment.
fn path_segment(hash: &str) -> String {
    hash.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

/// What the checkout billed, against what the person approved: a difference is logged (the
/// invoice is the partner's, and the booking stands).
fn billed_as_approved(info: &wire::PaymentInfo, offer: &Offer) {
    let (Some(total), Some(currency)) = (info.total_price, info.payment_currency.as_deref()) else {
        return;
    };
    match mapping::money(total, currency) {
        Ok(billed) if billed == offer.price => {}
        billed => tracing::warn!(
            ?billed,
            approved = %offer.price,
            invoice = ?info.invoice_reference,
            "GetYourGuide billed another total than the one approved"
        ),
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

/// A booking sent before by an earlier run of Itinera, whose answer was lost: GetYourGuide has
/// no lookup by our reference, so sending it again could buy it twice.
fn unverifiable_resend(request: &BookingRequest<'_>) -> BookingError {
    BookingError::MayHoldABooking {
        provider: NAME.into(),
        message: format!(
            "the booking of {} got no answer from GetYourGuide before Itinera restarted, and GetYourGuide offers no way to look a booking up by Itinera's reference: Itinera will not send it again and risk buying it twice. Check GetYourGuide's partner account (its bookings and MasterBill invoice) for a booking with external reference {} before booking it again",
            request.offer.title,
            mapping::external_reference(request.idempotency_key),
        ),
    }
}

#[async_trait]
impl BookingProvider for GetYourGuideActivities {
    fn name(&self) -> &str {
        NAME
    }

    fn kinds(&self) -> &[ItemKind] {
        &[ItemKind::Activity]
    }

    /// The payment configuration: a small answer that needs the BOOKING access level, so it
    /// proves the token can book, not only read.
    async fn probe(&self) -> Result<(), BookingError> {
        let eur = Currency::parse("EUR").map_err(|e| unreadable(&e.to_string()))?;
        self.client
            .get::<serde::de::IgnoredAny>("/1/configuration/payment", eur, &[])
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
        let day = date.format("%Y-%m-%d");
        let found: Tours = self
            .client
            .get(
                "/1/tours",
                *currency,
                &[
                    ("coordinates[]", format!("{:.4}", city.centre.latitude())),
                    ("coordinates[]", format!("{:.4}", city.centre.longitude())),
                    ("coordinates[]", RADIUS.to_string()),
                    ("date[]", format!("{day}T00:00:00")),
                    ("date[]", format!("{day}T23:59:59")),
                    ("limit", MAX_TOURS.to_string()),
                ],
            )
            .await?;
        let tours: Vec<Tour> = found
            .tours
            .iter()
            .take(MAX_TOURS)
            .map(Tour::from_wire)
            .collect();
        let wanted = Wanted {
            date: *date,
            city: *city,
            adults: *participants,
            currency: *currency,
            expires_at: self.clock.now() + OFFER_TTL,
        };
        let priced = join_all(tours.iter().map(|tour| self.offer_of(tour, &wanted))).await;
        super::priced_offers::gathered(NAME, priced)
    }

    async fn quote(&self, offer: &Offer) -> Result<Offer, BookingError> {
        let slot = Slot::from_offer_id(&offer.id).map_err(|e| unreadable(&e.to_string()))?;
        let adults = offer.party_size();
        let Some((_, price)) = self.priced(&slot, adults, offer.price.currency()).await? else {
            return Err(no_longer_available(offer));
        };
        Ok(Offer {
            price,
            expires_at: self.clock.now() + OFFER_TTL,
            ..offer.clone()
        })
    }

    async fn book(&self, request: BookingRequest<'_>) -> Result<BookingConfirmation, BookingError> {
        let offer = request.offer;
        let slot = Slot::from_offer_id(&offer.id).map_err(|e| unreadable(&e.to_string()))?;
        let cart_details =
            mapping::buyer(request.travellers, offer.party_size(), offer.city.country)
                .map_err(|e| ProviderError::rejected(NAME, "buyer_details", e.to_string()))?;
        match self.sent(request.idempotency_key.as_str()) {
            // Checked out before by this process: what GetYourGuide made of it is the answer.
            Some(Sent::CheckedOut { cart, booking }) => {
                tracing::info!(%booking, "GetYourGuide booking sent again; reading it, not buying again");
                self.resume(request, &slot, cart, booking, cart_details)
                    .await
            }
            // Never checked out by this process: nothing can have been bought.
            Some(Sent::Started) => self.create_booking(request, &slot, cart_details).await,
            // Sent before by an earlier run: what it did cannot be known.
            None if request.first_sent_at.is_some() => Err(unverifiable_resend(&request)),
            None => self.create_booking(request, &slot, cart_details).await,
        }
    }

    async fn cancel(
        &self,
        request: CancelRequest<'_>,
    ) -> Result<CancellationReceipt, BookingError> {
        let reference = request.reference;
        let (hash, currency) = parse_reference(reference)?;
        let booking = self.booking(hash, currency).await?;
        let remembered = self
            .refunds
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(hash)
            .copied();
        match booking.booking_status {
            // Cancelled before (a lost answer): what that cancellation gave back.
            BookingStatus::Canceled => {
                let refund = match remembered {
                    Some(refund) => refund,
                    None => self.refund_now(&booking, currency).await?,
                };
                Ok(CancellationReceipt { refund })
            }
            BookingStatus::Confirmed | BookingStatus::Unconfirmed => {
                let refund = self.refund_now(&booking, currency).await?;
                self.refunds
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .insert(hash.to_string(), refund);
                let deleted: Deleted = self
                    .client
                    .delete(&format!("/1/bookings/{}", path_segment(hash)), currency)
                    .await?;
                match deleted.bookings.booking_status {
                    BookingStatus::Canceled => Ok(CancellationReceipt { refund }),
                    status => {
                        tracing::warn!(
                            ?status,
                            booking = hash,
                            "GetYourGuide answered a cancellation with another status"
                        );
                        Err(unknown().into())
                    }
                }
            }
            // Never bought: nothing to cancel, nothing comes back.
            BookingStatus::Temp
            | BookingStatus::Deleted
            | BookingStatus::DeletedByCustomer
            | BookingStatus::DeletedByDaemon => Ok(CancellationReceipt {
                refund: Money::zero(currency),
            }),
            BookingStatus::Other => Err(unknown().into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reference_carries_the_hash_and_the_currency() {
        let eur = Currency::parse("EUR").unwrap();
        let reference = reference_of("WTLDAJ2S335O539FV3YCGZ0JMOCSTB5M", eur);
        assert_eq!(
            parse_reference(&reference).unwrap(),
            ("WTLDAJ2S335O539FV3YCGZ0JMOCSTB5M", eur)
        );
        assert!(parse_reference("BR-12345").is_err());
        assert!(parse_reference(".EUR").is_err());
    }
}
