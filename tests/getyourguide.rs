//! The GetYourGuide activities adapter against a local fake that speaks GetYourGuide's wire
//! format (`tests/common/getyourguide_fake.rs`): what it sends (`X-ACCESS-TOKEN`,
//! `cnt_language` and `currency`, the party, the temporary booking with our reference, the
//! MasterBill checkout) and how it reads every answer (tours, price-breakdowns with prices as
//! JSON numbers, booking statuses, cancellation, errors); then the whole flow through the MCP
//! tools with GetYourGuide selling the activity.

mod common;

use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use common::booking_attempt::{Booking, cancelling};
use common::getyourguide_fake::{ADULT, Checkout, FakeGetYourGuide, TOKEN};
use itinera::adapters::booking::getyourguide::GetYourGuideActivities;
use itinera::domain::idempotency::Operation;
use itinera::domain::money::{Currency, Money};
use itinera::domain::offer::{CancellationPolicy, ItemKind, Offer, OfferDetails};
use itinera::domain::places::City;
use itinera::domain::plan::Traveller;
use itinera::ports::booking::{BookingError, SearchQuery};
use itinera::ports::{BookingProvider, ProviderError, SystemClock};
use serde_json::json;

fn adapter(fake: &FakeGetYourGuide, token: &str) -> GetYourGuideActivities {
    GetYourGuideActivities::new(&fake.settings(token), Arc::new(SystemClock)).unwrap()
}

fn eur(amount: &str) -> Money {
    Money::parse(amount, "EUR").unwrap()
}

fn day() -> NaiveDate {
    chrono::Utc::now().date_naive() + chrono::Duration::days(20)
}

fn paris(participants: u8) -> SearchQuery {
    SearchQuery::Activities {
        city: City::parse("PAR").unwrap(),
        date: day(),
        participants,
        currency: Currency::parse("EUR").unwrap(),
    }
}

fn ada() -> Traveller {
    serde_json::from_value(json!({
        "given_name": "Ada",
        "family_name": "Lovelace",
        "email": "ada@example.com",
        "phone": "+33 6 12 34 56 78",
    }))
    .unwrap()
}

/// The offer of the tour whose title starts so, for `participants` adults.
async fn offer_of(gyg: &GetYourGuideActivities, title: &str, participants: u8) -> Offer {
    gyg.search(&paris(participants))
        .await
        .unwrap()
        .into_iter()
        .find(|offer| offer.title.starts_with(title))
        .unwrap()
}

fn assert_gyg_headers(sent: &common::getyourguide_fake::Received) {
    assert_eq!(sent.header("x-access-token"), Some(TOKEN));
    assert_eq!(sent.header("accept"), Some("application/json"));
    assert!(sent.header("user-agent").unwrap().starts_with("itinera/"));
    if sent.method == "GET" || sent.method == "DELETE" {
        assert_eq!(sent.field("cnt_language"), Some("en"), "{sent:?}");
        assert_eq!(sent.field("currency"), Some("EUR"), "{sent:?}");
    }
}

fn outcome_unknown<T: std::fmt::Debug>(result: Result<T, BookingError>) {
    assert!(
        matches!(
            result,
            Err(BookingError::Provider(ProviderError::OutcomeUnknown { .. }))
        ),
        "expected an unknown outcome, got {result:?}"
    );
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
async fn a_search_offers_each_tour_s_cheapest_open_slot_around_the_city() {
    let fake = FakeGetYourGuide::start().await;
    let gyg = adapter(&fake, TOKEN);
    let offers = gyg.search(&paris(2)).await.unwrap();
    let date = day();
    let found: Vec<(String, Money)> = offers.iter().map(|o| (o.title.clone(), o.price)).collect();
    assert_eq!(
        found,
        [
            (
                format!("Eiffel Tower Summit Tour, {date} 14:00"),
                eur("80.00")
            ),
            (format!("Seine River Cruise, {date}"), eur("30.50")),
            (format!("Louvre Skip-the-Line, {date} 10:00"), eur("120.20")),
        ],
        "the cheapest open slot of each tour, retail price for two; the catacombs have one place left"
    );
    for offer in &offers {
        assert!(offer.id.as_str().starts_with("gyg_"), "{}", offer.id);
        assert_eq!(offer.provider, "getyourguide");
        assert_eq!(offer.kind, ItemKind::Activity);
        assert_eq!((offer.starts_on, offer.ends_on), (date, date));
    }
    let at = |time: &str| {
        date.and_time(chrono::NaiveTime::parse_from_str(time, "%H:%M").unwrap())
            .and_utc()
    };
    assert_eq!(
        offers[0].cancellation,
        CancellationPolicy::Refundable {
            free_until: at("14:00") - chrono::Duration::minutes(1440) - chrono::Duration::hours(14),
            penalty: eur("80.00"),
        },
        "free until 24 h before (14 h earlier for the time zone), nothing after"
    );
    assert_eq!(offers[1].cancellation, CancellationPolicy::NonRefundable);
    assert_eq!(
        offers[2].cancellation,
        CancellationPolicy::RefundableUntil {
            deadline: at("10:00") - chrono::Duration::minutes(2880) - chrono::Duration::hours(14),
            penalty: eur("12.02"),
        },
        "a 10 % fee until 48 h before"
    );
    assert!(matches!(
        &offers[0].details,
        OfferDetails::Activity { name, start_time, duration_minutes: 120, participants: 2, .. }
            if name == "Eiffel Tower Summit Tour" && start_time == "14:00"
    ));
    assert!(matches!(
        &offers[1].details,
        OfferDetails::Activity { start_time, .. } if start_time.is_empty()
    ));

    let searched = fake.received_on("GET", "/1/tours");
    assert_eq!(searched.len(), 1);
    assert_gyg_headers(&searched[0]);
    let all = |name: &str| -> Vec<String> {
        searched[0]
            .form
            .iter()
            .filter(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
            .collect()
    };
    assert_eq!(all("coordinates[]"), ["48.8566", "2.3522", "10"]);
    assert_eq!(
        all("date[]"),
        [format!("{date}T00:00:00"), format!("{date}T23:59:59")]
    );
    assert_eq!(searched[0].field("limit"), Some("5"));
    assert!(
        searched[0].field("q").is_none(),
        "q and coordinates exclude each other"
    );
    for tour in [1001, 1002, 1003, 1004] {
        let priced = fake.received_on("POST", &format!("/1/tours/{tour}/price-breakdown"));
        assert_eq!(priced.len(), 1, "tour {tour}");
        assert_gyg_headers(&priced[0]);
        assert_eq!(
            priced[0].json.as_ref().unwrap(),
            &json!({"base_data": {"currency": "EUR"}, "data": {"date": date.to_string(), "participants": {"adult": 2}}})
        );
    }

    // A city GetYourGuide lists nothing around has no offers.
    let tokyo = SearchQuery::Activities {
        city: City::parse("TYO").unwrap(),
        date,
        participants: 1,
        currency: Currency::parse("EUR").unwrap(),
    };
    assert!(gyg.search(&tokyo).await.unwrap().is_empty());
}

#[tokio::test]
async fn search_quote_book_and_cancel_refund_the_price_while_free() {
    let fake = FakeGetYourGuide::start().await;
    let gyg = adapter(&fake, TOKEN);
    let offer = offer_of(&gyg, "Eiffel", 1).await;
    assert_eq!(offer.price, eur("40.00"));
    let quoted = gyg.quote(&offer).await.unwrap();
    assert_eq!(
        (quoted.id.clone(), quoted.price),
        (offer.id.clone(), offer.price)
    );

    let booking = Booking::new();
    let confirmed = booking.book(&gyg, &offer, &[ada()]).await.unwrap();
    let bought = fake.bought();
    assert_eq!(bought.len(), 1);
    assert_eq!(bought[0].status, "confirmed");
    assert_eq!(
        confirmed.confirmation, bought[0].ticket,
        "the ticket's booking_reference"
    );
    assert_eq!(confirmed.reference, format!("{}.EUR", bought[0].hash));

    let created = fake.received_on("POST", "/1/bookings");
    assert_eq!(created.len(), 1);
    assert_gyg_headers(&created[0]);
    let key = booking.key(Operation::Book);
    assert_eq!(
        created[0].json.as_ref().unwrap(),
        &json!({
            "base_data": {"cnt_language": "en", "currency": "EUR"},
            "data": {"booking": {"bookable": {
                "option_id": 5001,
                "datetime": format!("{}T14:00:00", day()),
                "price": 40.0,
                "categories": [{"category_id": ADULT, "number_of_participants": 1}],
                "external_reference_id": format!("itinera-{}", key.as_str()),
            }}},
        })
    );
    let carts = fake.received_on("POST", "/1/carts");
    assert_eq!(carts.len(), 1);
    let cart = &carts[0].json.as_ref().unwrap()["data"]["shopping_cart"];
    assert_eq!(cart["shopping_cart_hash"], bought[0].cart.as_str());
    assert_eq!(cart["payment"], json!({"master_bill": true}));
    assert_eq!(
        cart["billing"],
        json!({"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com", "phone_number": "+33612345678", "country_code": "FR"})
    );
    assert_eq!(
        cart["traveler"],
        json!({"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com", "phone_number": "+33612345678"})
    );
    assert_eq!(
        carts[0].json.as_ref().unwrap()["base_data"],
        json!({"cnt_language": "en", "currency": "EUR"})
    );
    let read = fake.received_on("GET", &format!("/1/bookings/{}", bought[0].hash));
    assert_eq!(read.len(), 1, "the cart's answer had no ticket: read once");
    assert_gyg_headers(&read[0]);

    let refund = gyg
        .cancel(cancelling(
            &confirmed.reference,
            &booking.key(Operation::Cancel),
        ))
        .await
        .unwrap()
        .refund;
    assert_eq!(refund, eur("40.00"), "free now: the whole price");
    assert_eq!(fake.bookings()[0].status, "canceled");
    let deleted = fake.received_on("DELETE", &format!("/1/bookings/{}", bought[0].hash));
    assert_eq!(deleted.len(), 1);
    assert_gyg_headers(&deleted[0]);
    // Sent again (a lost answer): the same refund, no second DELETE.
    let again = gyg
        .cancel(cancelling(
            &confirmed.reference,
            &booking.key(Operation::Cancel),
        ))
        .await
        .unwrap();
    assert_eq!(again.refund, refund);
    assert_eq!(
        fake.received_on("DELETE", &format!("/1/bookings/{}", bought[0].hash))
            .len(),
        1
    );
    // Even by a new process, which reads it back from the tour's terms: the same refund (the
    // cancelled booking is no longer "cancellable at no fee", but was cancelled in time).
    let restarted = adapter(&fake, TOKEN);
    let read_back = restarted
        .cancel(cancelling(
            &confirmed.reference,
            &booking.key(Operation::Cancel),
        ))
        .await
        .unwrap();
    assert_eq!(read_back.refund, refund);
}

#[tokio::test]
async fn a_cancellation_with_a_fee_refunds_the_price_less_the_fee() {
    let fake = FakeGetYourGuide::start().await;
    let gyg = adapter(&fake, TOKEN);
    let offer = offer_of(&gyg, "Louvre", 1).await;
    assert_eq!(offer.price, eur("60.10"));
    let booking = Booking::new();
    let confirmed = booking.book(&gyg, &offer, &[ada()]).await.unwrap();
    let refund = gyg
        .cancel(cancelling(
            &confirmed.reference,
            &booking.key(Operation::Cancel),
        ))
        .await
        .unwrap()
        .refund;
    assert_eq!(refund, eur("54.09"), "60.10 less its 10 % fee, 6.01");
    assert_eq!(fake.received_on("GET", "/1/tours/1003").len(), 1);
}

#[tokio::test]
async fn getyourguide_s_refusals_keep_its_code_and_message() {
    let fake = FakeGetYourGuide::start().await;
    let gyg = adapter(&fake, TOKEN);
    // The river cruise is not cancellable: GetYourGuide says so with its 400.
    let offer = offer_of(&gyg, "Seine", 1).await;
    let booking = Booking::new();
    let confirmed = booking.book(&gyg, &offer, &[ada()]).await.unwrap();
    let (code, message) = rejected_code(
        gyg.cancel(cancelling(
            &confirmed.reference,
            &booking.key(Operation::Cancel),
        ))
        .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("46", "The booking can no longer be canceled")
    );
    assert_eq!(fake.bought()[0].status, "confirmed", "it still stands");
    // A booking GetYourGuide does not know: its 404, read the same way.
    let (code, message) = rejected_code(
        gyg.cancel(cancelling(
            "NOSUCHHASH.EUR",
            &booking.key(Operation::Cancel),
        ))
        .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("44", "Booking not found")
    );
    // What the cart needs is asked for before any call.
    let calls = fake.received().len();
    let no_email: Traveller = serde_json::from_value(
        json!({"given_name": "Grace", "family_name": "Hopper", "phone": "+1 555 0100"}),
    )
    .unwrap();
    let (code, message) = rejected_code(Booking::new().book(&gyg, &offer, &[no_email]).await);
    assert_eq!(code, "buyer_details");
    assert!(message.contains("e-mail"), "{message}");
    assert_eq!(fake.received().len(), calls);
}

#[tokio::test]
async fn a_sold_out_slot_is_no_longer_available_at_quote_and_at_booking() {
    let fake = FakeGetYourGuide::start().await;
    let gyg = adapter(&fake, TOKEN);
    let offer = offer_of(&gyg, "Eiffel", 1).await;
    fake.sell_out(1001);
    assert!(matches!(
        gyg.quote(&offer).await,
        Err(BookingError::NoLongerAvailable { .. })
    ));
    assert!(matches!(
        Booking::new().book(&gyg, &offer, &[ada()]).await,
        Err(BookingError::NoLongerAvailable { .. })
    ));
    assert!(fake.received_on("POST", "/1/bookings").is_empty());
    assert!(
        !gyg.search(&paris(1))
            .await
            .unwrap()
            .iter()
            .any(|o| o.title.starts_with("Eiffel"))
    );
}

#[tokio::test]
async fn a_changed_price_books_nothing() {
    let fake = FakeGetYourGuide::start().await;
    let gyg = adapter(&fake, TOKEN);
    let offer = offer_of(&gyg, "Eiffel", 1).await;
    fake.reprice(1001, "49.00");
    let (code, message) = rejected_code(Booking::new().book(&gyg, &offer, &[ada()]).await);
    assert_eq!(code, "price_changed");
    assert!(message.contains("49.00"), "{message}");
    assert!(fake.bookings().is_empty());
}

#[tokio::test]
async fn rate_limits_outages_and_a_bad_token_are_told_apart() {
    let fake = FakeGetYourGuide::start().await;
    let gyg = adapter(&fake, TOKEN);
    fake.fail_next(429, Some(7));
    assert_eq!(
        gyg.search(&paris(1)).await.unwrap_err(),
        BookingError::Provider(ProviderError::RateLimited {
            provider: "getyourguide".into(),
            retry_after: Some(Duration::from_secs(7)),
        })
    );
    fake.fail_next(429, None);
    assert_eq!(
        gyg.search(&paris(1)).await.unwrap_err(),
        BookingError::Provider(ProviderError::RateLimited {
            provider: "getyourguide".into(),
            retry_after: Some(Duration::from_secs(300)),
        }),
        "GetYourGuide blocks for 5 minutes"
    );
    fake.fail_next(503, Some(2));
    assert!(matches!(
        gyg.search(&paris(1)).await,
        Err(BookingError::Provider(ProviderError::Unavailable { retry_after: Some(d), .. })) if d == Duration::from_secs(2)
    ));
    fake.fail_next(500, None);
    outcome_unknown(gyg.search(&paris(1)).await);
    fake.fail_next(403, None);
    let (code, message) = rejected_code(gyg.probe().await);
    assert_eq!(code, "http_403");
    assert!(message.contains("BOOKING access"), "{message}");

    let wrong = adapter(&fake, "not-the-token");
    let (code, message) = rejected_code(wrong.search(&paris(1)).await);
    assert_eq!(code, "25");
    assert!(
        message.starts_with("Unauthorized. The access token is invalid.")
            && message.contains("ITINERA_GETYOURGUIDE_ACCESS_TOKEN"),
        "{message}"
    );
    rejected_code(wrong.probe().await);
    gyg.probe().await.unwrap();
    assert_gyg_headers(
        fake.received_on("GET", "/1/configuration/payment")
            .last()
            .unwrap(),
    );
}

#[tokio::test]
async fn an_unconfirmed_booking_is_unsettled_until_the_supplier_confirms() {
    let fake = FakeGetYourGuide::start().await;
    let gyg = adapter(&fake, TOKEN);
    let offer = offer_of(&gyg, "Eiffel", 1).await;
    fake.next_checkouts(Checkout::Unconfirmed);
    let booking = Booking::new();
    outcome_unknown(booking.book(&gyg, &offer, &[ada()]).await);
    outcome_unknown(booking.book(&gyg, &offer, &[ada()]).await);
    fake.confirm_pending();
    let confirmed = booking.book(&gyg, &offer, &[ada()]).await.unwrap();
    let bought = fake.bought();
    assert_eq!(bought.len(), 1);
    assert_eq!(confirmed.confirmation, bought[0].ticket);
    assert_eq!(
        fake.received_on("POST", "/1/carts").len(),
        1,
        "checked out once"
    );
    assert_eq!(fake.received_on("POST", "/1/bookings").len(), 1);
}

#[tokio::test]
async fn a_lost_checkout_answer_never_books_twice() {
    let fake = FakeGetYourGuide::start().await;
    let gyg = adapter(&fake, TOKEN);
    let offer = offer_of(&gyg, "Eiffel", 1).await;
    fake.next_checkouts(Checkout::Lost);
    let booking = Booking::new();
    outcome_unknown(booking.book(&gyg, &offer, &[ada()]).await);
    let confirmed = booking.book(&gyg, &offer, &[ada()]).await.unwrap();
    let bought = fake.bought();
    assert_eq!(bought.len(), 1, "one booking bought");
    assert_eq!(confirmed.confirmation, bought[0].ticket);
    assert_eq!(fake.received_on("POST", "/1/carts").len(), 1);
    assert_eq!(fake.received_on("POST", "/1/bookings").len(), 1);
}

#[tokio::test]
async fn a_checkout_that_bought_stands_even_when_reading_the_booking_afterwards_fails() {
    let fake = FakeGetYourGuide::start().await;
    let gyg = adapter(&fake, TOKEN);
    let offer = offer_of(&gyg, "Eiffel", 1).await;
    fake.fail_booking_reads(true);
    let booking = Booking::new();
    let booked = booking.book(&gyg, &offer, &[ada()]).await.unwrap();
    let bought = fake.bought();
    assert_eq!(bought.len(), 1, "bought, and reported booked, not failed");
    assert_eq!(
        booked.confirmation, bought[0].hash,
        "without the ticket, GetYourGuide's booking hash is the confirmation"
    );
    assert!(
        !fake
            .received_on("GET", &format!("/1/bookings/{}", bought[0].hash))
            .is_empty(),
        "the ticket was asked for"
    );
}

#[tokio::test]
async fn after_a_restart_a_booking_sent_before_is_refused_not_bought_again() {
    let fake = FakeGetYourGuide::start().await;
    let gyg = adapter(&fake, TOKEN);
    let offer = offer_of(&gyg, "Eiffel", 1).await;
    fake.next_checkouts(Checkout::Lost);
    let booking = Booking::new();
    outcome_unknown(booking.book(&gyg, &offer, &[ada()]).await);
    let restarted = adapter(&fake, TOKEN);
    let calls = fake.received().len();
    let message = may_hold(booking.book(&restarted, &offer, &[ada()]).await);
    let reference = format!("itinera-{}", booking.key(Operation::Book).as_str());
    assert!(message.contains(&reference), "{message}");
    assert!(
        !message.contains("Lovelace"),
        "no name in what is logged: {message}"
    );
    assert_eq!(fake.received().len(), calls, "nothing sent");
    assert_eq!(fake.bought().len(), 1);
    // A booking first sent by a run that is gone, which this one never saw, likewise.
    let other = Booking::new();
    other.first_sent_ago(chrono::Duration::minutes(3));
    may_hold(other.book(&restarted, &offer, &[ada()]).await);
}

/// The message of a booking GetYourGuide may still hold, not counted as booked.
fn may_hold(result: Result<impl std::fmt::Debug, BookingError>) -> String {
    match result {
        Err(BookingError::MayHoldABooking { message, .. }) => message,
        other => panic!("expected a booking GetYourGuide may hold, got {other:?}"),
    }
}

#[tokio::test]
async fn a_failure_before_checkout_is_booked_on_the_resend() {
    let fake = FakeGetYourGuide::start().await;
    let gyg = adapter(&fake, TOKEN);
    let offer = offer_of(&gyg, "Eiffel", 1).await;
    let booking = Booking::new();
    // The price check is refused by a busy GetYourGuide: nothing happened.
    fake.fail_next(503, None);
    assert!(matches!(
        booking.book(&gyg, &offer, &[ada()]).await,
        Err(BookingError::Provider(ProviderError::Unavailable { .. }))
    ));
    // The temporary booking's answer is lost: at most an unpaid booking in a cart.
    fake.lose_next_booking_answer();
    assert!(matches!(
        booking.book(&gyg, &offer, &[ada()]).await,
        Err(BookingError::Provider(ProviderError::Unavailable { .. }))
    ));
    let confirmed = booking.book(&gyg, &offer, &[ada()]).await.unwrap();
    assert_eq!(fake.bought().len(), 1);
    assert_eq!(confirmed.confirmation, fake.bought()[0].ticket);
}

#[tokio::test]
async fn a_checkout_refused_by_a_busy_getyourguide_checks_the_same_cart_out_again() {
    let fake = FakeGetYourGuide::start().await;
    let gyg = adapter(&fake, TOKEN);
    let offer = offer_of(&gyg, "Eiffel", 1).await;
    let booking = Booking::new();
    fake.refuse_next_checkout(503);
    assert!(matches!(
        booking.book(&gyg, &offer, &[ada()]).await,
        Err(BookingError::Provider(ProviderError::Unavailable { .. }))
    ));
    let confirmed = booking.book(&gyg, &offer, &[ada()]).await.unwrap();
    let bought = fake.bought();
    assert_eq!(bought.len(), 1);
    assert_eq!(confirmed.confirmation, bought[0].ticket);
    assert_eq!(fake.bookings().len(), 1, "no second temporary booking");
    let carts = fake.received_on("POST", "/1/carts");
    assert_eq!(carts.len(), 2);
    assert!(
        carts.iter().all(
            |c| c.json.as_ref().unwrap()["data"]["shopping_cart"]["shopping_cart_hash"]
                == bought[0].cart.as_str()
        ),
        "the same cart both times"
    );
}

#[tokio::test]
async fn the_fake_refuses_calls_without_the_language_the_currency_or_master_bill() {
    let fake = FakeGetYourGuide::start().await;
    let http = reqwest::Client::new();
    let answer = http
        .get(format!("{}/1/tours?currency=EUR", fake.base_url))
        .header("X-ACCESS-TOKEN", TOKEN)
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 400);
    let body: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(
        body["errors"][0]["errorMessage"],
        "Missing Parameters: cnt_language"
    );
    let cart = json!({
        "base_data": {"cnt_language": "en", "currency": "EUR"},
        "data": {"shopping_cart": {
            "shopping_cart_hash": "X",
            "billing": {"first_name": "A", "last_name": "L", "email": "a@example.com", "country_code": "FR", "phone_number": "+336"},
            "traveler": {"first_name": "A", "last_name": "L", "email": "a@example.com", "phone_number": "+336"},
            "payment": {"encrypted_credit_card": {}},
        }},
    });
    let answer = http
        .post(format!("{}/1/carts", fake.base_url))
        .header("X-ACCESS-TOKEN", TOKEN)
        .header("Accept", "application/json")
        .json(&cart)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 400);
    let body: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(body["errors"][0]["errorCode"], 33);
}

/// The whole flow with GetYourGuide selling the activity and the sandbox the hotel and payment.
mod flow {
    use super::*;
    use common::{Harness, Options, money};

    #[tokio::test]
    async fn a_trip_books_its_activity_at_getyourguide_and_cancelling_refunds_it() {
        let fake = FakeGetYourGuide::start().await;
        let h = Harness::with(Options {
            gyg: Some(fake.settings(TOKEN)),
            ..Options::default()
        })
        .await;
        let (plan_id, activity) = h.approved_eiffel_trip("getyourguide").await;
        let order = h
            .ok("execute_travel_plan", json!({"plan_id": plan_id}))
            .await;
        assert_eq!(order["status"], "confirmed", "{order}");
        let bought = fake.bought();
        assert_eq!(bought.len(), 1, "one booking at GetYourGuide");
        assert_eq!(bought[0].status, "confirmed");
        let status = h
            .ok("get_booking_status", json!({"order_id": order["order_id"]}))
            .await;
        let confirmation = status["documents"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["kind"] == "activity")
            .unwrap()["confirmation"]
            .clone();
        assert_eq!(confirmation, bought[0].ticket.as_str(), "{status}");

        let item = order["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["kind"] == "activity")
            .unwrap()["item_id"]
            .clone();
        let cancelled = h
            .ok(
                "cancel_booking",
                json!({"order_id": order["order_id"], "item_ids": [item]}),
            )
            .await;
        assert_eq!(fake.bookings()[0].status, "canceled");
        assert_eq!(
            money(&cancelled["refunded"]),
            money(&activity["price"]),
            "free cancellation: the whole price back: {cancelled}"
        );
    }

    #[tokio::test]
    async fn with_viator_configured_too_an_activity_search_asks_both() {
        let fake = FakeGetYourGuide::start().await;
        let viator = common::viator_fake::FakeViator::start().await;
        let h = Harness::with(Options {
            gyg: Some(fake.settings(TOKEN)),
            viator: Some(viator.settings(common::viator_fake::API_KEY)),
            ..Options::default()
        })
        .await;
        let activities = h
            .ok(
                "search_activities",
                json!({"city": "Paris", "date": h.day(20), "participants": 1, "currency": "EUR"}),
            )
            .await;
        let providers: std::collections::BTreeSet<&str> = activities["offers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["provider"].as_str().unwrap())
            .collect();
        assert_eq!(
            providers.into_iter().collect::<Vec<_>>(),
            ["getyourguide", "viator"],
            "{activities}"
        );
    }
}
