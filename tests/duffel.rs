//! The Duffel flights adapter against a local fake that speaks Duffel's wire format
//! (`tests/common/duffel_fake/mod.rs`): what it sends (bearer token, `Duffel-Version`, the `data`
//! envelope, passengers echoing the offer's ids, the balance payment as a decimal string) and
//! how it reads every answer (offers, expiry, orders, the two-step cancellation, errors); then
//! the whole flow through the MCP tools with Duffel selling the flight.

mod common;

use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use common::booking_attempt::{Booking, cancelling};
use common::duffel_fake::{CURRENCY, FakeDuffel, TOKEN};
use itinera::adapters::booking::duffel::{API_VERSION, DuffelFlights};
use itinera::domain::idempotency::{IdempotencyKey, Operation};
use itinera::domain::money::{Currency, Money};
use itinera::domain::offer::{CancellationPolicy, Offer};
use itinera::domain::places::{Airport, City};
use itinera::domain::plan::Traveller;
use itinera::ports::booking::{BookingError, Cabin, SearchQuery};
use itinera::ports::{BookingProvider, ProviderError, SystemClock};

fn adapter(fake: &FakeDuffel, token: &str) -> DuffelFlights {
    DuffelFlights::new(&fake.settings(token), Arc::new(SystemClock)).unwrap()
}

fn eur(amount: &str) -> Money {
    Money::parse(amount, "EUR").unwrap()
}

fn departure() -> NaiveDate {
    chrono::Utc::now().date_naive() + chrono::Duration::days(20)
}

fn london_paris(passengers: u8) -> SearchQuery {
    SearchQuery::Flights {
        origin: Airport::parse("LHR").unwrap(),
        destination: Airport::parse("CDG").unwrap(),
        date: departure(),
        passengers,
        cabin: Cabin::Economy,
        currency: Currency::parse("EUR").unwrap(),
    }
}

fn ada() -> Traveller {
    serde_json::from_value(serde_json::json!({
        "given_name": "Ada",
        "family_name": "Lovelace",
        "date_of_birth": "1990-05-17",
        "email": "ada@example.com",
        "phone": "+33 6 12 34 56 78",
        "title": "ms",
        "gender": "f",
    }))
    .unwrap()
}

/// The offer of the fake's three priced at `amount` EUR for one passenger.
async fn offer_at(duffel: &DuffelFlights, amount: &str) -> Offer {
    duffel
        .search(&london_paris(1))
        .await
        .unwrap()
        .into_iter()
        .find(|offer| offer.price == eur(amount))
        .unwrap()
}

/// A fake Duffel with Ada booked on its flight at `price`: the fake, the adapter, the booking's
/// confirmation and the key its cancellation goes under.
async fn booked_at(
    price: &str,
) -> (
    FakeDuffel,
    DuffelFlights,
    itinera::ports::booking::BookingConfirmation,
    IdempotencyKey,
) {
    let fake = FakeDuffel::start().await;
    let duffel = adapter(&fake, TOKEN);
    let booking = Booking::new();
    let order = booking
        .book(&duffel, &offer_at(&duffel, price).await, &[ada()])
        .await
        .unwrap();
    let key = booking.key(Operation::Cancel);
    (fake, duffel, order, key)
}

fn assert_duffel_headers(sent: &common::duffel_fake::Received) {
    assert_eq!(
        sent.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert_eq!(sent.header("duffel-version"), Some(API_VERSION));
    assert_eq!(API_VERSION, "v2");
    assert_eq!(sent.header("accept"), Some("application/json"));
    assert!(sent.header("user-agent").unwrap().starts_with("itinera/"));
}

#[tokio::test]
async fn a_search_is_an_offer_request_and_its_offers_keep_duffel_s_ids_and_prices() {
    let fake = FakeDuffel::start().await;
    let duffel = adapter(&fake, TOKEN);
    let offers = duffel.search(&london_paris(2)).await.unwrap();

    let prices: Vec<Money> = offers.iter().map(|o| o.price).collect();
    assert_eq!(prices, [eur("588.80"), eur("379.98"), eur("700.00")]);
    for offer in &offers {
        assert!(offer.id.as_str().starts_with("off_"), "{}", offer.id);
        assert_eq!(offer.provider, "duffel");
        assert_eq!(offer.city, City::parse("PAR").unwrap());
        assert_eq!(offer.starts_on, departure());
        assert!(offer.title.starts_with("ZZ10"), "{}", offer.title);
        assert!(offer.expires_at > chrono::Utc::now());
    }
    assert!(
        matches!(offers[0].cancellation, CancellationPolicy::Refundable { penalty, .. } if penalty == offers[0].price),
        "no penalty: free until departure, nothing after"
    );
    assert_eq!(offers[1].cancellation, CancellationPolicy::NonRefundable);
    assert!(
        matches!(offers[2].cancellation, CancellationPolicy::RefundableUntil { penalty, .. } if penalty == eur("50.00"))
    );

    let sent = &fake.received()[0];
    assert_eq!(
        (sent.method.as_str(), sent.path.as_str()),
        ("POST", "/air/offer_requests")
    );
    assert_eq!(sent.field("return_offers"), Some("true"));
    assert_eq!(
        sent.field("supplier_timeout"),
        Some("6500"),
        "Duffel answers within Itinera's search deadline"
    );
    assert_duffel_headers(sent);
    assert!(
        sent.header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    assert_eq!(
        sent.json.as_ref().unwrap(),
        &serde_json::json!({"data": {
            "slices": [{"origin": "LHR", "destination": "CDG", "departure_date": departure().to_string()}],
            "passengers": [{"type": "adult"}, {"type": "adult"}],
            "cabin_class": "economy",
        }})
    );
}

#[tokio::test]
async fn a_re_quote_fetches_the_offer_again_and_tells_expired_from_gone() {
    let fake = FakeDuffel::start().await;
    let duffel = adapter(&fake, TOKEN);
    let offer = offer_at(&duffel, "294.40").await;
    assert_eq!(duffel.quote(&offer).await.unwrap(), offer);
    let fetched = fake.received_on("GET", &format!("/air/offers/{}", offer.id.as_str()));
    assert_eq!(fetched.len(), 1);
    assert_duffel_headers(&fetched[0]);

    fake.expire_offer(offer.id.as_str());
    assert_eq!(
        duffel.quote(&offer).await,
        Err(BookingError::OfferExpired {
            offer: offer.id.to_string()
        })
    );
    let gone = Offer {
        id: itinera::domain::ids::OfferId::parse("off_0000neverissued").unwrap(),
        ..offer
    };
    assert_eq!(
        duffel.quote(&gone).await,
        Err(BookingError::NoLongerAvailable {
            provider: "duffel".into(),
            offer: "off_0000neverissued".into()
        })
    );
}

#[tokio::test]
async fn a_booking_is_an_instant_order_paid_from_the_balance_for_the_offer_s_total() {
    let fake = FakeDuffel::start().await;
    let duffel = adapter(&fake, TOKEN);
    let offer = offer_at(&duffel, "294.40").await;
    let booking = Booking::new();
    let confirmation = booking.book(&duffel, &offer, &[ada()]).await.unwrap();
    assert!(confirmation.reference.starts_with("ord_"));
    assert!(confirmation.confirmation.starts_with("ZZ"), "the PNR");
    assert_eq!(fake.orders(), [(confirmation.reference.clone(), false)]);

    let sent = &fake.received_on("POST", "/air/orders")[0];
    assert_duffel_headers(sent);
    let data = &sent.json.as_ref().unwrap()["data"];
    assert_eq!(data["type"], "instant");
    assert_eq!(
        data["selected_offers"],
        serde_json::json!([offer.id.as_str()])
    );
    let passenger = &data["passengers"][0];
    assert!(passenger["id"].as_str().unwrap().starts_with("pas_"));
    assert_eq!(passenger["given_name"], "Ada");
    assert_eq!(passenger["family_name"], "Lovelace");
    assert_eq!(passenger["born_on"], "1990-05-17");
    assert_eq!(passenger["email"], "ada@example.com");
    assert_eq!(passenger["phone_number"], "+33612345678", "E.164");
    assert_eq!(
        data["payments"],
        serde_json::json!([{"type": "balance", "amount": "294.40", "currency": CURRENCY}]),
        "a decimal string, not a number nor minor units"
    );
    assert_eq!(
        data["metadata"]["itinera_key"],
        booking.key(Operation::Book).as_str()
    );
    // A first send has no earlier order to look for.
    assert!(fake.received_on("GET", "/air/orders").is_empty());
}

#[tokio::test]
async fn a_booking_sent_again_after_its_answer_was_lost_finds_the_first_order() {
    let fake = FakeDuffel::start().await;
    let duffel = adapter(&fake, TOKEN);
    let offer = offer_at(&duffel, "294.40").await;
    let booking = Booking::new();
    fake.lose_answer_to("/air/orders");
    let lost = booking.book(&duffel, &offer, &[ada()]).await;
    assert_eq!(
        lost,
        Err(BookingError::Provider(ProviderError::OutcomeUnknown {
            provider: "duffel".into()
        }))
    );
    assert_eq!(fake.orders().len(), 1, "Duffel booked it all the same");

    let again = booking.book(&duffel, &offer, &[ada()]).await.unwrap();
    assert_eq!(again.reference, fake.orders()[0].0);
    assert_eq!(fake.orders().len(), 1, "not booked twice");
    assert_eq!(fake.received_on("POST", "/air/orders").len(), 1);
    let looked = &fake.received_on("GET", "/air/orders")[0];
    assert_eq!(looked.field("passenger_name[]"), Some("Lovelace"));

    // Another booking (another key) of the same traveller is a new order.
    Booking::new()
        .book(&duffel, &offer_at(&duffel, "189.99").await, &[ada()])
        .await
        .unwrap();
    assert_eq!(fake.orders().len(), 2);
}

/// The first attempt failed with Duffel busy (nothing in its list yet): sent again at once,
/// the booking is left unsettled, since Duffel may still be creating the first order; sent
/// again once that had time to show, it books.
#[tokio::test]
async fn a_booking_sent_again_too_soon_waits_for_the_first_attempt_to_show() {
    let fake = FakeDuffel::start().await;
    let duffel = adapter(&fake, TOKEN);
    let offer = offer_at(&duffel, "294.40").await;
    let booking = Booking::new();
    booking.first_sent_ago(chrono::Duration::seconds(5));
    let soon = booking.book(&duffel, &offer, &[ada()]).await;
    assert_eq!(
        soon,
        Err(BookingError::Provider(ProviderError::OutcomeUnknown {
            provider: "duffel".into()
        }))
    );
    assert!(
        fake.received_on("POST", "/air/orders").is_empty(),
        "not bought while the first attempt may still show"
    );

    booking.first_sent_ago(chrono::Duration::minutes(4));
    booking.book(&duffel, &offer, &[ada()]).await.unwrap();
    assert_eq!(fake.orders().len(), 1);
}

#[tokio::test]
async fn a_cancellation_is_quoted_then_confirmed_and_refunds_what_was_confirmed() {
    let (fake, duffel, order, key) = booked_at("350.00").await;
    let receipt = duffel
        .cancel(cancelling(&order.reference, &key))
        .await
        .unwrap();
    assert_eq!(
        receipt.refund,
        eur("300.00"),
        "350.00 less the 50.00 penalty"
    );
    assert_eq!(fake.orders(), [(order.reference.clone(), true)]);

    let quoted = fake.received_on("POST", "/air/order_cancellations");
    assert_eq!(
        quoted[0].json.as_ref().unwrap(),
        &serde_json::json!({"data": {"order_id": order.reference}})
    );
    assert_duffel_headers(&quoted[0]);
    let confirms = confirmations(&fake);
    assert!(
        confirms[0]
            .path
            .starts_with("/air/order_cancellations/ore_")
    );
    assert_eq!(confirms[0].json, None, "no body");
    assert_duffel_headers(&confirms[0]);
    // Asked once more, the confirmed cancellation is the answer.
    assert_eq!(
        duffel
            .cancel(cancelling(&order.reference, &key))
            .await
            .unwrap()
            .refund,
        eur("300.00")
    );
    assert_eq!((quoted.len(), confirmations(&fake).len()), (1, 1));
}

fn confirmations(fake: &FakeDuffel) -> Vec<common::duffel_fake::Received> {
    fake.received()
        .into_iter()
        .filter(|r| r.path.ends_with("/actions/confirm"))
        .collect()
}

#[tokio::test]
async fn a_cancellation_sent_again_after_a_lost_answer_neither_quotes_nor_confirms_twice() {
    for lost in ["/air/order_cancellations", "/actions/confirm"] {
        let (fake, duffel, order, key) = booked_at("350.00").await;
        fake.lose_answer_to(lost);
        assert_eq!(
            duffel.cancel(cancelling(&order.reference, &key)).await,
            Err(BookingError::Provider(ProviderError::OutcomeUnknown {
                provider: "duffel".into()
            })),
            "{lost}"
        );
        let receipt = duffel
            .cancel(cancelling(&order.reference, &key))
            .await
            .unwrap();
        assert_eq!(receipt.refund, eur("300.00"), "{lost}");
        assert_eq!(fake.orders(), [(order.reference, true)]);
        assert_eq!(
            fake.received_on("POST", "/air/order_cancellations").len(),
            1,
            "one quote ({lost})"
        );
        assert_eq!(confirmations(&fake).len(), 1, "one confirmation ({lost})");
    }
}

/// A quote left pending (its confirmation's answer lost) that Duffel no longer takes by the
/// time the cancellation is sent again: quoted anew, once, and confirmed.
#[tokio::test]
async fn a_pending_quote_duffel_no_longer_takes_is_quoted_again_once() {
    let (fake, duffel, order, key) = booked_at("350.00").await;
    fake.lose_answer_to("/air/order_cancellations");
    assert!(
        duffel
            .cancel(cancelling(&order.reference, &key))
            .await
            .is_err()
    );
    fake.withdraw_quotes();
    let receipt = duffel
        .cancel(cancelling(&order.reference, &key))
        .await
        .unwrap();
    assert_eq!(receipt.refund, eur("300.00"));
    assert_eq!(fake.orders(), [(order.reference, true)]);
    assert_eq!(
        fake.received_on("POST", "/air/order_cancellations").len(),
        2,
        "quoted again once"
    );
}

#[tokio::test]
async fn a_non_refundable_fare_cancels_for_nothing_back() {
    let (_fake, duffel, order, key) = booked_at("189.99").await;
    let receipt = duffel
        .cancel(cancelling(&order.reference, &key))
        .await
        .unwrap();
    assert!(receipt.refund.is_zero());
}

fn rejected_code<T: std::fmt::Debug>(result: Result<T, BookingError>) -> (String, String) {
    match result {
        Err(BookingError::Provider(ProviderError::Rejected { code, message, .. })) => {
            (code, message)
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn refusals_keep_duffel_s_code_and_message_and_missing_details_are_asked_for_first() {
    let fake = FakeDuffel::start().await;
    let duffel = adapter(&fake, TOKEN);
    let offer = offer_at(&duffel, "294.40").await;

    let bad_email = Traveller {
        email: Some("not-an-email".into()),
        ..ada()
    };
    let (code, message) = rejected_code(Booking::new().book(&duffel, &offer, &[bad_email]).await);
    assert_eq!(code, "invalid_parameters");
    assert!(message.contains("email"), "{message}");

    let no_birth_date = Traveller {
        date_of_birth: None,
        ..ada()
    };
    let (code, message) =
        rejected_code(Booking::new().book(&duffel, &offer, &[no_birth_date]).await);
    assert_eq!(code, "passenger_details");
    assert!(
        message.contains("traveller 1 has no date_of_birth") && !message.contains("Lovelace"),
        "{message}"
    );
    let no_gender = Traveller {
        gender: None,
        ..ada()
    };
    let (code, message) = rejected_code(Booking::new().book(&duffel, &offer, &[no_gender]).await);
    assert_eq!(code, "passenger_details");
    assert!(message.contains("gender"), "{message}");
    assert_eq!(
        fake.received_on("POST", "/air/orders").len(),
        1,
        "only the bad e-mail was sent"
    );

    fake.expire_offer(offer.id.as_str());
    assert_eq!(
        Booking::new().book(&duffel, &offer, &[ada()]).await,
        Err(BookingError::OfferExpired {
            offer: offer.id.to_string()
        })
    );
    assert!(fake.orders().is_empty(), "nothing was booked");
}

#[tokio::test]
async fn rate_limits_outages_and_a_bad_token_are_told_apart() {
    let fake = FakeDuffel::start().await;
    let duffel = adapter(&fake, TOKEN);

    fake.rate_limit_next(30);
    match duffel.search(&london_paris(1)).await {
        Err(BookingError::Provider(ProviderError::RateLimited {
            retry_after: Some(wait),
            ..
        })) => assert!(
            wait > Duration::from_secs(25) && wait <= Duration::from_secs(31),
            "until ratelimit-reset: {wait:?}"
        ),
        other => panic!("expected a rate limit with its reset, got {other:?}"),
    }

    fake.fail_next(503);
    let unavailable = duffel.search(&london_paris(1)).await.unwrap_err();
    assert!(
        matches!(&unavailable, BookingError::Provider(e @ ProviderError::Unavailable { .. }) if e.is_retryable()),
        "{unavailable:?}"
    );
    fake.fail_next(500);
    assert_eq!(
        duffel.search(&london_paris(1)).await,
        Err(BookingError::Provider(ProviderError::OutcomeUnknown {
            provider: "duffel".into()
        })),
        "a 500 may come after Duffel acted"
    );

    let wrong = adapter(&fake, "duffel_test_revoked");
    let refused = wrong.search(&london_paris(1)).await.unwrap_err();
    let (code, message) = rejected_code::<()>(Err(refused.clone()));
    assert_eq!(code, "invalid_authentication");
    assert!(
        message.contains("ITINERA_DUFFEL_ACCESS_TOKEN"),
        "says what to fix: {message}"
    );
    assert!(!ProviderError::rejected("duffel", code, message).is_retryable());
}

/// The whole flow with Duffel selling the flight and the sandbox the hotel and the payment.
mod flow {
    use super::*;
    use common::{Harness, Options, money};
    use serde_json::{Value, json};

    async fn with_duffel() -> (Harness, FakeDuffel) {
        let fake = FakeDuffel::start().await;
        let h = Harness::with(Options {
            duffel: Some(fake.settings(TOKEN)),
            ..Options::default()
        })
        .await;
        (h, fake)
    }

    /// A Duffel flight to Paris (the one free to cancel) and a sandbox hotel there, approved.
    async fn approved_trip(h: &Harness) -> (String, Value) {
        let flights = h
            .ok(
                "search_flights",
                json!({"origin": "LHR", "destination": "CDG", "date": h.day(20), "currency": "EUR"}),
            )
            .await;
        let offers = flights["offers"].as_array().unwrap();
        assert!(
            offers.iter().all(|o| o["provider"] == "duffel"),
            "flights come from Duffel only: {flights}"
        );
        let flight = offers
            .iter()
            .find(|o| o["price"]["amount"] == "294.40")
            .unwrap()
            .clone();
        let hotels = h
            .ok(
                "search_hotels",
                json!({"city": "Paris", "check_in": h.day(20), "check_out": h.day(22), "currency": "EUR"}),
            )
            .await;
        assert!(hotels["offers"][0]["provider"] == "sandbox");
        let plan_id = h
            .approved_plan(json!({
                    "title": "Paris by Duffel",
                    "travellers": [{"given_name": "Ada", "family_name": "Lovelace", "date_of_birth": "1990-05-17", "email": "ada@example.com", "phone": "+33 6 12 34 56 78", "title": "ms", "gender": "f"}],
                    "payment_method": "pm_sandbox_visa",
                    "items": [{"offer_id": flight["id"]}, {"offer_id": hotels["offers"][0]["id"]}],
                }))
            .await;
        (plan_id, flight)
    }

    #[tokio::test]
    async fn a_trip_books_its_flight_at_duffel_and_cancelling_refunds_duffel_s_quote() {
        let (h, fake) = with_duffel().await;
        let (plan_id, flight) = approved_trip(&h).await;
        let order = h
            .ok("execute_travel_plan", json!({"plan_id": plan_id}))
            .await;
        assert_eq!(order["status"], "confirmed", "{order}");
        let orders = fake.orders();
        let [(duffel_order, false)] = orders.as_slice() else {
            panic!("one live order at Duffel: {:?}", fake.orders());
        };
        let status = h
            .ok("get_booking_status", json!({"order_id": order["order_id"]}))
            .await;
        let pnr = status["documents"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["kind"] == "flight")
            .unwrap()["confirmation"]
            .clone();
        assert!(pnr.as_str().unwrap().starts_with("ZZ"), "{status}");
        let paid = &fake.received_on("POST", "/air/orders")[0]
            .json
            .clone()
            .unwrap()["data"]["payments"][0];
        assert_eq!(paid["amount"], flight["price"]["amount"]);

        let cancelled = h
            .ok(
                "cancel_booking",
                json!({"order_id": order["order_id"], "item_ids": [order["items"][0]["item_id"]]}),
            )
            .await;
        assert_eq!(fake.orders(), [(duffel_order.clone(), true)]);
        assert_eq!(
            money(&cancelled["refunded"]),
            money(&flight["price"]),
            "the refund Duffel quoted: {cancelled}"
        );
    }

    #[tokio::test]
    async fn a_flight_whose_answer_was_lost_is_found_again_not_bought_twice() {
        let (h, fake) = with_duffel().await;
        let (plan_id, _) = approved_trip(&h).await;
        fake.lose_answer_to("/air/orders");
        let order = h
            .ok("execute_travel_plan", json!({"plan_id": plan_id}))
            .await;
        assert_eq!(order["status"], "confirmed", "{order}");
        assert_eq!(fake.orders().len(), 1, "one order at Duffel");
        assert_eq!(fake.received_on("POST", "/air/orders").len(), 1);
    }

    #[tokio::test]
    async fn a_failed_must_have_hotel_cancels_the_flight_booked_at_duffel() {
        let (h, fake) = with_duffel().await;
        h.set_faults("hotel.book=fail");
        let (plan_id, _) = approved_trip(&h).await;
        let failure = h.failed_execution(&plan_id).await;
        assert!(
            failure.contains("hotel") || failure.contains("Hotel"),
            "{failure}"
        );
        let orders = fake.orders();
        assert_eq!(orders.len(), 1, "the flight was booked first: {orders:?}");
        assert!(orders[0].1, "and cancelled at Duffel in the rollback");
        assert_eq!(
            fake.received_on("POST", "/air/order_cancellations")[0]
                .json
                .as_ref()
                .unwrap()["data"]["order_id"],
            orders[0].0.as_str()
        );
    }
}

#[tokio::test]
async fn a_search_in_another_currency_than_duffel_s_says_which_to_use() {
    let fake = FakeDuffel::start().await;
    let duffel = adapter(&fake, TOKEN);
    let SearchQuery::Flights {
        origin,
        destination,
        date,
        passengers,
        cabin,
        ..
    } = london_paris(1)
    else {
        unreachable!()
    };
    let in_dollars = SearchQuery::Flights {
        origin,
        destination,
        date,
        passengers,
        cabin,
        currency: Currency::parse("USD").unwrap(),
    };
    let refused = duffel.search(&in_dollars).await.unwrap_err().to_string();
    assert!(
        refused.contains("search flights with currency EUR"),
        "{refused}"
    );
}

#[tokio::test]
async fn a_child_is_not_booked_into_an_adult_seat() {
    let fake = FakeDuffel::start().await;
    let duffel = adapter(&fake, TOKEN);
    let offer = offer_at(&duffel, "294.40").await;
    let mut child = ada();
    child.kind = itinera::domain::plan::TravellerKind::Child;
    let refused = Booking::new()
        .book(&duffel, &offer, &[child])
        .await
        .unwrap_err()
        .to_string();
    assert!(refused.contains("is a child"), "{refused}");
    assert!(fake.received_on("POST", "/air/orders").is_empty());
}
