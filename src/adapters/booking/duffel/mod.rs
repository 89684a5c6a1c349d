//! Duffel flights: a search is an offer request with its offers returned at once
//! (`return_offers=true`), a re-quote fetches the offer again, a booking is an `instant` order
//! paid from the Duffel balance, and a cancellation is Duffel's two steps: a quote, then its
//! confirmation, the refund being the quote's `refund_amount`.
//!
//! Duffel takes no idempotency key (none in its SDKs or docs). An order therefore carries the
//! saga's key in its `metadata`, and a booking first lists the orders of the lead traveller's
//! family name (`passenger_name[]`, the only filter near a reference that Duffel offers) for
//! one made under that key: a booking sent again after a lost answer finds the first order
//! instead of buying a second. A cancellation likewise first lists the order's cancellations
//! (`?order_id=`): a confirmed one is the answer, a pending quote is confirmed rather than
//! quoted anew.
//!
//! Verified against `shared/provider-apis.md` §1 and the JS SDK's types (`OrdersTypes.ts`:
//! `ListParamsOrders`, `CreateOrderPassenger`, `OrderPayment`; `shared.d.ts`:
//! `FlightsConditions`). What Itinera lacks for Duffel is in the README's provider table.

pub(super) mod client;
mod mapping;
pub(super) mod wire;

use std::sync::Arc;

use async_trait::async_trait;

use crate::adapters::http::{self, ClientError};
use crate::domain::idempotency::IdempotencyKey;
use crate::domain::offer::{ItemKind, Offer};
use crate::domain::places::City;
use crate::domain::plan::Traveller;
use crate::ports::booking::{
    BookingConfirmation, BookingError, BookingProvider, BookingRequest, CancelRequest,
    CancellationReceipt, SearchQuery,
};
use crate::ports::{Clock, ProviderError};

pub use client::API_VERSION;
use client::{Client, unknown};
use mapping::UnreadableOffer;
use wire::{
    Cancellation, CreateCancellation, CreateOrder, Metadata, OfferRequest, OfferRequestAnswer,
    Order, PassengerRequest, Payment, RefundTo, SliceRequest,
};

const NAME: &str = "duffel";
/// How many pages of a traveller's orders are searched for an earlier booking.
const MAX_PAGES: usize = 10;

/// Where Duffel is and how to sign in. `Debug` hides the token.
#[derive(Clone)]
pub struct DuffelSettings {
    /// `duffel_test_…` (sandbox mode).
    pub access_token: String,
    /// `https://api.duffel.com`, or a local fake in tests.
    pub base_url: String,
    /// How long Duffel may wait for airlines when searching (`supplier_timeout`): a little less
    /// than Itinera's search deadline, so Duffel answers with the airlines that did answer
    /// rather than being left out of the results.
    pub supplier_timeout: std::time::Duration,
    /// What Itinera sells through Duffel.
    pub products: Vec<DuffelProduct>,
}

/// A Duffel product Itinera can sell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DuffelProduct {
    Flights,
    /// Duffel Stays: hotels, where the account has it.
    Stays,
    /// Duffel Cars: car rentals, where the account has it.
    Cars,
}

impl std::fmt::Debug for DuffelSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DuffelSettings")
            .field("base_url", &self.base_url)
            .field("products", &self.products)
            .finish_non_exhaustive()
    }
}

/// How long an order Duffel was asked to create may take to appear in its order list (the
/// airline confirms it first). A booking sent again that finds nothing before this has passed
/// is left unsettled rather than bought again.
const ORDER_SETTLES_WITHIN: chrono::Duration = chrono::Duration::minutes(3);

pub struct DuffelFlights {
    client: Client,
    clock: Arc<dyn Clock>,
    supplier_timeout: std::time::Duration,
}

impl DuffelFlights {
    pub fn new(settings: &DuffelSettings, clock: Arc<dyn Clock>) -> Result<Self, ClientError> {
        Ok(DuffelFlights {
            client: Client::new(
                NAME,
                http::client(http::CALL_TIMEOUT)?,
                &settings.base_url,
                &settings.access_token,
            ),
            clock,
            supplier_timeout: settings.supplier_timeout,
        })
    }

    /// The offer as Duffel sells it now. A missing offer is gone; an expired one says so.
    async fn current_offer(&self, offer: &Offer) -> Result<wire::Offer, BookingError> {
        let path = format!("/air/offers/{}", offer.id.as_str());
        self.client
            .get_if_found::<wire::Offer>(&path)
            .await?
            .ok_or_else(|| BookingError::NoLongerAvailable {
                provider: NAME.into(),
                offer: offer.id.to_string(),
            })
    }

    /// The order an earlier attempt of this booking made, if it reached Duffel. Too many orders
    /// to be sure none is ours leaves it unknown: booking again could buy a second one.
    async fn order_made_under(
        &self,
        key: &IdempotencyKey,
        lead: &Traveller,
    ) -> Result<Option<Order>, BookingError> {
        self.client
            .find_in_pages(
                "/air/orders",
                &[("passenger_name[]", lead.family_name.as_str())],
                MAX_PAGES,
                |order: &Order| order.made_under(key.as_str()),
            )
            .await
    }

    async fn create_order(
        &self,
        request: BookingRequest<'_>,
    ) -> Result<BookingConfirmation, BookingError> {
        let offer = request.offer;
        let current = self.current_offer(offer).await?;
        let fresh = read(&current, offer.city)?;
        if fresh.is_expired(self.clock.now()) {
            return Err(BookingError::OfferExpired {
                offer: offer.id.to_string(),
            });
        }
        super::approved_price::unchanged(NAME, "offer", fresh.price, offer.price)?;
        let passengers = mapping::passengers(&current, request.travellers)
            .map_err(|e| ProviderError::rejected(NAME, "passenger_details", e.to_string()))?;
        let body = CreateOrder {
            kind: "instant",
            selected_offers: vec![current.id],
            passengers,
            payments: vec![Payment {
                kind: "balance",
                amount: offer.price.amount().to_string(),
                currency: offer.price.currency().code().to_string(),
            }],
            metadata: Metadata {
                itinera_key: request.idempotency_key.as_str().to_string(),
                itinera_order: request.order_id.to_string(),
            },
        };
        let order: Order = self.client.post("/air/orders", Some(&body)).await?;
        confirmation(order)
    }

    /// The cancellation of this order already under way or done, if an earlier attempt made one.
    /// Asks Duffel what cancelling the order gives back: a quote to confirm.
    async fn quote_cancellation(&self, order_id: &str) -> Result<Cancellation, BookingError> {
        self.client
            .post(
                "/air/order_cancellations",
                Some(&CreateCancellation {
                    order_id: order_id.to_string(),
                }),
            )
            .await
    }

    async fn confirm_cancellation(
        &self,
        quote: &Cancellation,
    ) -> Result<Cancellation, BookingError> {
        self.client
            .post::<(), _>(
                &format!("/air/order_cancellations/{}/actions/confirm", quote.id),
                None,
            )
            .await
    }

    async fn earlier_cancellation(
        &self,
        order_id: &str,
    ) -> Result<Option<Cancellation>, BookingError> {
        let page: wire::Page<Cancellation> = self
            .client
            .get_page("/air/order_cancellations", &[("order_id", order_id)])
            .await?;
        let now = self.clock.now();
        Ok(page.data.into_iter().find(|cancellation| {
            cancellation.confirmed_at.is_some() || !quote_expired(cancellation, now)
        }))
    }
}

fn quote_expired(cancellation: &Cancellation, now: chrono::DateTime<chrono::Utc>) -> bool {
    cancellation
        .expires_at
        .as_deref()
        .and_then(|at| chrono::DateTime::parse_from_rfc3339(at).ok())
        .is_some_and(|at| at <= now)
}

/// An offer in an answer Duffel gave: one we cannot read leaves us unable to sell it.
fn read(offer: &wire::Offer, city: City) -> Result<Offer, BookingError> {
    mapping::offer(offer, city).map_err(|e: UnreadableOffer| {
        ProviderError::rejected(NAME, "unreadable_offer", e.to_string()).into()
    })
}

/// Books through Duffel, which takes no idempotency key, without buying twice. A first send
/// cannot have made anything yet: `create` runs. A send again first asks what the earlier
/// attempt made (`earlier`, found by the key kept in the booking's metadata); nothing found
/// while the first attempt may still be under way at the supplier (`ORDER_SETTLES_WITHIN`)
/// leaves the outcome unknown rather than buying again.
pub(super) async fn book_once(
    now: chrono::DateTime<chrono::Utc>,
    first_sent_at: Option<chrono::DateTime<chrono::Utc>>,
    earlier: impl std::future::Future<Output = Result<Option<BookingConfirmation>, BookingError>>,
    create: impl std::future::Future<Output = Result<BookingConfirmation, BookingError>>,
) -> Result<BookingConfirmation, BookingError> {
    let Some(first_sent_at) = first_sent_at else {
        return create.await;
    };
    if let Some(found) = earlier.await? {
        return Ok(found);
    }
    if now - first_sent_at < ORDER_SETTLES_WITHIN {
        return Err(unknown(NAME).into());
    }
    create.await
}

/// What the traveller holds for an order Duffel made: its PNR. An order cancelled since is no
/// booking; one the airline has not confirmed yet (no PNR) is not settled.
fn confirmation(order: Order) -> Result<BookingConfirmation, BookingError> {
    if order.cancelled_at.is_some() {
        return Err(ProviderError::rejected(
            NAME,
            "order_cancelled",
            format!(
                "Duffel shows order {} made for this booking as cancelled: search again and book another flight",
                order.id
            ),
        )
        .into());
    }
    let Some(pnr) = order.booking_reference else {
        return Err(unknown(NAME).into());
    };
    Ok(BookingConfirmation {
        reference: order.id,
        confirmation: pnr,
    })
}

/// What a confirmed cancellation gives back in money. Credits and vouchers are the airline's
/// to spend with it, not money Itinera can return to the person; an order never paid has
/// nothing to give back.
fn refund_of(cancellation: &Cancellation) -> Result<CancellationReceipt, BookingError> {
    let amount = crate::domain::money::Money::parse(
        &cancellation.refund_amount,
        &cancellation.refund_currency,
    )
    .map_err(|_| unknown(NAME))?;
    let refund = match cancellation.refund_to {
        RefundTo::Balance | RefundTo::Card | RefundTo::ArcBspCash => amount,
        RefundTo::Voucher | RefundTo::AirlineCredits | RefundTo::AwaitingPayment => {
            tracing::warn!(
                refund_to = ?cancellation.refund_to,
                cancellation = %cancellation.id,
                "Duffel's refund is not money back"
            );
            crate::domain::money::Money::zero(amount.currency())
        }
    };
    Ok(CancellationReceipt { refund })
}

#[async_trait]
impl BookingProvider for DuffelFlights {
    fn name(&self) -> &str {
        NAME
    }

    fn kinds(&self) -> &[ItemKind] {
        &[ItemKind::Flight]
    }

    /// The first page of one airline: any answer proves the token is taken.
    async fn probe(&self) -> Result<(), BookingError> {
        self.client.probe().await
    }

    async fn search(&self, query: &SearchQuery) -> Result<Vec<Offer>, BookingError> {
        let SearchQuery::Flights {
            origin,
            destination,
            date,
            passengers,
            cabin,
            currency,
        } = query
        else {
            return Err(BookingError::kind_not_sold(NAME, query));
        };
        let body = OfferRequest {
            slices: vec![SliceRequest {
                origin: origin.code.to_string(),
                destination: destination.code.to_string(),
                departure_date: date.format("%Y-%m-%d").to_string(),
            }],
            passengers: (0..*passengers)
                .map(|_| PassengerRequest { kind: "adult" })
                .collect(),
            cabin_class: cabin.as_str(),
        };
        let answer: OfferRequestAnswer = self
            .client
            .post(
                &format!(
                    "/air/offer_requests?return_offers=true&supplier_timeout={}",
                    self.supplier_timeout.as_millis()
                ),
                Some(&body),
            )
            .await?;
        let offers: Vec<Offer> = answer
            .offers
            .iter()
            .filter_map(|offer| {
                mapping::offer(offer, destination.city)
                    .inspect_err(|error| tracing::warn!(%error, "Duffel offer skipped"))
                    .ok()
            })
            .collect();
        // Duffel prices in the account's billing currency, whatever was asked: offers in
        // another currency could never join the plan, so the search says which one works.
        if let Some(other) = offers
            .iter()
            .map(|offer| offer.price.currency())
            .find(|priced| priced != currency)
        {
            return Err(ProviderError::rejected(
                NAME,
                "billing_currency",
                format!(
                    "Duffel prices flights in {other}, its account's currency, not {currency}: search flights with currency {other}"
                ),
            )
            .into());
        }
        Ok(offers)
    }

    async fn quote(&self, offer: &Offer) -> Result<Offer, BookingError> {
        let fresh = read(&self.current_offer(offer).await?, offer.city)?;
        if fresh.is_expired(self.clock.now()) {
            return Err(BookingError::OfferExpired {
                offer: offer.id.to_string(),
            });
        }
        Ok(fresh)
    }

    async fn book(&self, request: BookingRequest<'_>) -> Result<BookingConfirmation, BookingError> {
        let lead = request.lead(NAME)?;
        book_once(
            self.clock.now(),
            request.first_sent_at,
            async {
                match self.order_made_under(request.idempotency_key, lead).await? {
                    Some(order) => {
                        tracing::info!(order = %order.id, "Duffel already booked this; not booking again");
                        confirmation(order).map(Some)
                    }
                    None => Ok(None),
                }
            },
            self.create_order(request),
        )
        .await
    }

    async fn cancel(
        &self,
        request: CancelRequest<'_>,
    ) -> Result<CancellationReceipt, BookingError> {
        let reference = request.reference;
        let (quote, reused) = match self.earlier_cancellation(reference).await? {
            Some(done) if done.confirmed_at.is_some() => return refund_of(&done),
            Some(pending) => (pending, true),
            None => (self.quote_cancellation(reference).await?, false),
        };
        let (quote, confirmed) = match self.confirm_cancellation(&quote).await {
            // An earlier quote Duffel no longer takes (its clock ran out before ours): a refused
            // confirmation moved nothing, so the cancellation is quoted again, once.
            Err(BookingError::Provider(ProviderError::Rejected { .. })) if reused => {
                let fresh = self.quote_cancellation(reference).await?;
                let confirmed = self.confirm_cancellation(&fresh).await?;
                (fresh, confirmed)
            }
            answer => (quote, answer?),
        };
        if confirmed.confirmed_at.is_none() {
            // Not confirmed: the booking may still stand; say so rather than refund for it.
            return Err(ProviderError::OutcomeUnknown {
                provider: NAME.to_string(),
            }
            .into());
        }
        if confirmed.refund_amount != quote.refund_amount
            || confirmed.refund_currency != quote.refund_currency
        {
            tracing::warn!(
                quoted = %quote.refund_amount,
                confirmed = %confirmed.refund_amount,
                "Duffel confirmed another refund than it quoted; the confirmed one is what comes back"
            );
        }
        // What Duffel confirmed is what it returns: refunding the quote instead would pay the
        // difference out of the merchant's pocket (or keep the customer's).
        refund_of(&confirmed)
    }
}
