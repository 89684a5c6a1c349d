//! The Booking.com hotels adapter against a local fake of the Demand API 3.1
//! (`tests/common/booking_com_fake.rs`): the search by coordinates and the names from details,
//! only products paid online when booked; the preview before a booking and the order paid with
//! the agency's card under our label; the errors Booking.com answers with; a lost order found
//! again by its label; a cancellation refunding what was paid less the fee Booking.com kept.

mod common;

use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDate, Utc};
use common::booking_attempt::{Booking, cancelling};
use common::booking_com_fake::{
    AFFILIATE_ID, API_KEY, CARD_CVC, CARD_NUMBER, FakeBookingCom, deadline,
};
use itinera::adapters::booking::booking_com::BookingComHotels;
use itinera::domain::idempotency::Operation;
use itinera::domain::money::{Currency, Money};
use itinera::domain::offer::{CancellationPolicy, Offer, OfferDetails};
use itinera::domain::places::City;
use itinera::domain::plan::Traveller;
use itinera::ports::booking::{BookingError, SearchQuery};
use itinera::ports::{BookingProvider, ProviderError, SystemClock};
use rust_decimal::Decimal;
use serde_json::json;

fn adapter_with(fake: &FakeBookingCom, key: &str) -> BookingComHotels {
    BookingComHotels::new(&fake.settings(key), Arc::new(SystemClock)).unwrap()
}

fn adapter(fake: &FakeBookingCom) -> BookingComHotels {
    adapter_with(fake, API_KEY)
}

fn eur(amount: &str) -> Money {
    Money::parse(amount, "EUR").unwrap()
}

fn check_in() -> NaiveDate {
    Utc::now().date_naive() + chrono::Duration::days(20)
}

/// Three nights in Paris for two.
fn paris() -> SearchQuery {
    SearchQuery::Hotels {
        city: City::parse("PAR").unwrap(),
        check_in: check_in(),
        check_out: check_in() + chrono::Duration::days(3),
        guests: 2,
        currency: Currency::parse("EUR").unwrap(),
    }
}

fn traveller(given: &str, family: &str) -> Traveller {
    serde_json::from_value(json!({
        "given_name": given,
        "family_name": family,
        "email": format!("{}@example.com", given.to_lowercase()),
        "phone": "+33 6 12 34 56 78",
    }))
    .unwrap()
}

fn guests() -> [Traveller; 2] {
    [
        traveller("Ada", "Lovelace"),
        traveller("Mary", "Somerville"),
    ]
}

/// The offer of the fake's hotel named so.
async fn offer_at(hotels: &BookingComHotels, name: &str) -> Offer {
    hotels
        .search(&paris())
        .await
        .unwrap()
        .into_iter()
        .find(|offer| offer.title.starts_with(name))
        .unwrap()
}

fn rejected<T: std::fmt::Debug>(result: Result<T, BookingError>) -> (String, String) {
    match result {
        Err(BookingError::Provider(ProviderError::Rejected { code, message, .. })) => {
            (code, message)
        }
        other => panic!("expected Booking.com's refusal, got {other:?}"),
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

#[tokio::test]
async fn a_search_offers_each_hotel_s_cheapest_room_paid_online_now_named_and_ranked() {
    let fake = FakeBookingCom::start().await;
    let hotels = adapter(&fake);
    let offers = hotels.search(&paris()).await.unwrap();

    let shown: Vec<(String, Money)> = offers
        .iter()
        .map(|o| match &o.details {
            OfferDetails::Hotel { hotel_name, .. } => (hotel_name.clone(), o.price),
            other => panic!("a hotel offer, not {other:?}"),
        })
        .collect();
    assert_eq!(
        shown,
        [
            ("Bastille Rooms Fake".to_string(), eur("330.00")),
            ("Hôtel Lumière Fake".to_string(), eur("420.00")),
        ],
        "cheapest first; the Lumière's 300.00 room is paid at the property and its 360.00 one online later, and the Marais Inn is paid at the property only: selling those would charge the traveller twice; Lyon is out of the radius"
    );
    let (bastille, lumiere) = (&offers[0], &offers[1]);
    assert!(
        bastille
            .title
            .contains("plus EUR 7.50 of charges paid at the property"),
        "{}",
        bastille.title
    );
    assert_eq!(bastille.cancellation, CancellationPolicy::NonRefundable);
    assert_eq!(
        lumiere.cancellation,
        CancellationPolicy::Refundable {
            free_until: deadline(check_in()),
            penalty: eur("420.00"),
        },
        "free until Booking.com's deadline; after it the search tells no fee, so nothing is promised back"
    );
    match &lumiere.details {
        OfferDetails::Hotel {
            board,
            stars,
            guests,
            ..
        } => {
            assert_eq!(
                (board.as_str(), *stars, *guests),
                ("breakfast included", 4, 2)
            );
        }
        other => panic!("{other:?}"),
    }
    for offer in &offers {
        assert_eq!(offer.provider, "booking_com");
        assert_eq!(offer.starts_on, check_in());
        assert_eq!(offer.ends_on, check_in() + chrono::Duration::days(3));
    }

    let [search] = fake
        .received_on("/accommodations/search")
        .try_into()
        .unwrap();
    assert_eq!(
        search.header("authorization"),
        Some(format!("Bearer {API_KEY}").as_str())
    );
    assert_eq!(
        search.header("x-affiliate-id"),
        Some(AFFILIATE_ID.to_string().as_str())
    );
    assert_eq!(search.header("content-type"), Some("application/json"));
    let body = search.json.unwrap();
    assert_eq!(
        body["booker"],
        json!({"country": "fr", "platform": "desktop"})
    );
    assert_eq!(
        body["guests"],
        json!({"number_of_adults": 2, "number_of_rooms": 1})
    );
    assert_eq!(body["extras"], json!(["products"]));
    assert_eq!(body["currency"], "EUR");
    assert_eq!(body["coordinates"]["radius"], 5.0);
    assert_eq!(body["checkin"], check_in().to_string());
    let [details] = fake
        .received_on("/accommodations/details")
        .try_into()
        .unwrap();
    assert_eq!(
        details.json.unwrap()["accommodations"],
        json!([1003, 1001]),
        "one details call for the offered hotels only"
    );
}

#[tokio::test]
async fn a_room_whose_payment_terms_are_missing_is_left_out_not_the_whole_search() {
    let fake = FakeBookingCom::start().await;
    let hotels = adapter(&fake);
    fake.omit_payment_policy("100301_131");

    let offers = hotels.search(&paris()).await.unwrap();

    let titles: Vec<&str> = offers.iter().map(|o| o.title.as_str()).collect();
    assert_eq!(offers.len(), 1, "{titles:?}");
    assert!(
        titles[0].starts_with("Hôtel Lumière Fake"),
        "the Bastille's only room says not how it is paid, so it may not be paid now: {titles:?}"
    );
}

#[tokio::test]
async fn a_hotel_that_needs_the_booker_s_full_address_is_left_out() {
    let fake = FakeBookingCom::start().await;
    let hotels = adapter(&fake);
    fake.require_booker_address(1_001);

    let offers = hotels.search(&paris()).await.unwrap();

    let titles: Vec<&str> = offers.iter().map(|o| o.title.as_str()).collect();
    assert_eq!(offers.len(), 1, "{titles:?}");
    assert!(
        titles[0].starts_with("Bastille Rooms Fake"),
        "Itinera keeps no address beyond the country: {titles:?}"
    );
}

#[tokio::test]
async fn a_room_is_previewed_then_ordered_with_the_agency_s_card_under_our_label() {
    let fake = FakeBookingCom::start().await;
    let hotels = adapter(&fake);
    let offer = offer_at(&hotels, "Hôtel Lumière Fake").await;
    let quoted = hotels.quote(&offer).await.unwrap();
    assert_eq!(quoted.price, offer.price);
    assert_eq!(
        quoted.cancellation, offer.cancellation,
        "the preview's schedule (one night after the deadline) gives back more than promised: the terms approved stand"
    );

    let booking = Booking::new();
    let confirmation = booking.book(&hotels, &offer, &guests()).await.unwrap();
    let orders = fake.orders();
    assert_eq!(orders.len(), 1);
    assert_eq!(confirmation.reference, orders[0].id);
    assert_eq!(confirmation.confirmation, orders[0].reservation.to_string());
    assert_eq!(
        orders[0].total,
        Decimal::new(42000, 2),
        "the price approved"
    );

    let previews = fake.received_on("/orders/preview");
    let preview = previews.last().unwrap().json.clone().unwrap();
    assert_eq!(preview["accommodation"]["id"], 1001);
    assert_eq!(
        preview["accommodation"]["products"],
        json!([{"id": "100101_111_2_0_0", "allocation": {"number_of_adults": 2, "children": []}}])
    );
    let [create] = fake.received_on("/orders/create").try_into().unwrap();
    assert_eq!(
        create.header("authorization"),
        Some(format!("Bearer {API_KEY}").as_str())
    );
    let sent = create.json.unwrap();
    assert_eq!(
        sent["payment"],
        json!({"method": "card", "timing": "pay_online_now", "card": {
            "number": CARD_NUMBER, "cvc": CARD_CVC, "expiry_date": "2030-10", "cardholder": "AGENCY DESK"}})
    );
    let label = sent["accommodation"]["label"].as_str().unwrap();
    assert!(
        label.starts_with("itinera-") && label.len() <= 64,
        "{label}"
    );
    assert_eq!(
        orders[0].label.as_deref(),
        Some(label),
        "kept by Booking.com"
    );
    assert!(
        !label.contains(booking.order.as_str()),
        "the label is derived from the key, not the order's id"
    );
    assert_eq!(
        sent["booker"],
        json!({"name": {"first_name": "Ada", "last_name": "Lovelace"}, "email": "ada@example.com",
               "telephone": "+33612345678", "language": "en-gb", "address": {"country": "fr"}})
    );
    assert_eq!(
        sent["accommodation"]["products"],
        json!([{"id": "100101_111_2_0_0", "guests": [{"name": "Ada Lovelace", "email": "ada@example.com"}]}])
    );
    assert!(
        sent["order_token"]
            .as_str()
            .unwrap()
            .starts_with("fake-order-token-")
    );
}

#[tokio::test]
async fn a_changed_price_books_nothing() {
    let fake = FakeBookingCom::start().await;
    let hotels = adapter(&fake);
    let offer = offer_at(&hotels, "Hôtel Lumière Fake").await;
    fake.reprice(1001, "100101_111", Decimal::new(15000, 2));

    assert_eq!(hotels.quote(&offer).await.unwrap().price, eur("450.00"));
    let (code, message) = rejected(Booking::new().book(&hotels, &offer, &guests()).await);
    assert_eq!(code, "price_changed");
    assert!(
        message.contains("EUR 450.00") && message.contains("EUR 420.00"),
        "{message}"
    );
    assert!(fake.orders().is_empty());
    assert!(fake.received_on("/orders/create").is_empty());
}

#[tokio::test]
async fn stricter_cancellation_terms_book_nothing() {
    let fake = FakeBookingCom::start().await;
    let hotels = adapter(&fake);
    let offer = offer_at(&hotels, "Hôtel Lumière Fake").await;
    fake.tighten("100101_111");

    assert_eq!(
        hotels.quote(&offer).await.unwrap().cancellation,
        CancellationPolicy::NonRefundable,
        "told, so the saga stops on other terms than approved"
    );
    let (code, _) = rejected(Booking::new().book(&hotels, &offer, &guests()).await);
    assert_eq!(code, "terms_changed");
    assert!(fake.orders().is_empty());
}

#[tokio::test]
async fn a_preview_in_another_currency_or_paid_at_the_property_books_nothing() {
    let fake = FakeBookingCom::start().await;
    let hotels = adapter(&fake);
    let offer = offer_at(&hotels, "Hôtel Lumière Fake").await;

    fake.take_payment_at_property("100101_111");
    let (code, message) = rejected(Booking::new().book(&hotels, &offer, &guests()).await);
    assert_eq!(code, "paid_at_property");
    assert!(message.contains("choose another hotel"), "{message}");

    fake.preview_in("USD");
    let (code, message) = rejected(Booking::new().book(&hotels, &offer, &guests()).await);
    assert_eq!(code, "currency_changed");
    assert!(message.contains("search again in USD"), "{message}");

    assert!(fake.received_on("/orders/create").is_empty());
    assert!(fake.orders().is_empty());
}

#[tokio::test]
async fn a_room_sold_out_is_no_longer_available_at_quote_and_at_booking() {
    let fake = FakeBookingCom::start().await;
    let hotels = adapter(&fake);
    let offer = offer_at(&hotels, "Hôtel Lumière Fake").await;
    fake.sell_out("100101_111");

    let gone = |result: Result<_, BookingError>| {
        assert!(
            matches!(&result, Err(BookingError::NoLongerAvailable { provider, offer: id }) if provider == "booking_com" && id == offer.id.as_str()),
            "{result:?}"
        );
    };
    gone(hotels.quote(&offer).await.map(|_| ()));
    gone(
        Booking::new()
            .book(&hotels, &offer, &guests())
            .await
            .map(|_| ()),
    );
    assert!(fake.orders().is_empty());
}

#[tokio::test]
async fn a_refusal_keeps_booking_com_s_id_and_message() {
    let fake = FakeBookingCom::start().await;
    let hotels = adapter(&fake);
    let offer = offer_at(&hotels, "Hôtel Lumière Fake").await;

    fake.fail_next(400, None);
    let (code, message) = rejected(hotels.quote(&offer).await);
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("invalid_request", "forced HTTP 400"),
        "the room is still sold, so the refusal is told as Booking.com gave it"
    );

    let no_phone: Traveller = serde_json::from_value(
        json!({"given_name": "Ada", "family_name": "Lovelace", "email": "ada@example.com"}),
    )
    .unwrap();
    let (code, message) = rejected(Booking::new().book(&hotels, &offer, &[no_phone]).await);
    assert_eq!(code, "guest_contact");
    assert!(!message.contains("Lovelace"), "{message}");
    assert!(fake.orders().is_empty());
}

#[tokio::test]
async fn rate_limits_outages_and_a_bad_key_are_told_apart() {
    let fake = FakeBookingCom::start().await;
    let hotels = adapter(&fake);

    fake.fail_next(429, Some(7));
    assert_eq!(
        hotels.search(&paris()).await,
        Err(BookingError::Provider(ProviderError::RateLimited {
            provider: "booking_com".into(),
            retry_after: Some(Duration::from_secs(7)),
        }))
    );
    fake.fail_next(429, None);
    assert_eq!(
        hotels.search(&paris()).await,
        Err(BookingError::Provider(ProviderError::RateLimited {
            provider: "booking_com".into(),
            retry_after: Some(Duration::from_secs(60)),
        })),
        "no Retry-After: Booking.com's usual minute"
    );
    fake.fail_next(503, Some(30));
    let unavailable = hotels.search(&paris()).await.unwrap_err();
    assert!(
        matches!(&unavailable, BookingError::Provider(e @ ProviderError::Unavailable { retry_after: Some(wait), .. }) if e.is_retryable() && *wait == Duration::from_secs(30)),
        "{unavailable:?}"
    );
    fake.fail_next(500, None);
    assert!(
        matches!(
            hotels.search(&paris()).await,
            Err(BookingError::Provider(ProviderError::Unavailable { .. }))
        ),
        "a search books nothing: a 500 to it is an outage, not an unknown outcome"
    );

    let wrong = adapter_with(&fake, "not-the-key");
    let (code, message) = rejected(wrong.search(&paris()).await);
    assert_eq!(code, "unauthorised");
    assert!(
        message.contains("ITINERA_BOOKINGCOM_API_KEY")
            && message.contains("ITINERA_BOOKINGCOM_AFFILIATE_ID"),
        "says what to fix: {message}"
    );
    let probe = wrong.probe().await.unwrap_err().to_string();
    assert!(probe.contains("ITINERA_BOOKINGCOM_API_KEY"), "{probe}");
    hotels.probe().await.unwrap();
    assert!(fake.orders().is_empty());
}

#[tokio::test]
async fn an_order_whose_answer_was_lost_is_found_by_its_label_not_made_twice() {
    let fake = FakeBookingCom::start().await;
    let hotels = adapter(&fake);
    let offer = offer_at(&hotels, "Hôtel Lumière Fake").await;
    let booking = Booking::new();

    fake.lose_next_create_answer();
    outcome_unknown(booking.book(&hotels, &offer, &guests()).await);
    assert_eq!(fake.orders().len(), 1, "Booking.com made the order");

    // Booking.com cannot be asked: still unknown, never taken as nothing booked.
    fake.fail_next(503, None);
    outcome_unknown(booking.book(&hotels, &offer, &guests()).await);
    let again = booking.book(&hotels, &offer, &guests()).await.unwrap();
    let orders = fake.orders();
    assert_eq!(orders.len(), 1, "found, not made twice");
    assert_eq!(again.reference, orders[0].id);
    assert_eq!(again.confirmation, orders[0].reservation.to_string());
    assert_eq!(fake.received_on("/orders/create").len(), 1);
    let lookup = fake.received_on("/orders/details").pop().unwrap();
    let window = lookup.json.unwrap();
    assert_eq!(window["currency"], "EUR");
    assert!(window["created"]["from"].is_string() && window["created"]["to"].is_string());
}

/// Our order among the agency's others: the label carries the saga's key.
fn ours(fake: &FakeBookingCom) -> Vec<common::booking_com_fake::Order> {
    fake.orders()
        .into_iter()
        .filter(|order| {
            order
                .label
                .as_deref()
                .is_some_and(|l| l.starts_with("itinera-"))
        })
        .collect()
}

#[tokio::test]
async fn a_lost_order_is_looked_for_on_every_page_of_the_window() {
    let fake = FakeBookingCom::start().await;
    let hotels = adapter(&fake);
    let offer = offer_at(&hotels, "Hôtel Lumière Fake").await;
    let booking = Booking::new();
    fake.booked_elsewhere(250);

    fake.lose_next_create_answer();
    outcome_unknown(booking.book(&hotels, &offer, &guests()).await);
    let found = booking.book(&hotels, &offer, &guests()).await.unwrap();

    let ours = ours(&fake);
    assert_eq!(ours.len(), 1, "found on the last page, not made twice");
    assert_eq!(found.reference, ours[0].id);
    let reads: Vec<_> = fake
        .received_on("/orders/details")
        .into_iter()
        .map(|received| received.json.unwrap())
        .collect();
    assert_eq!(reads.len(), 3, "251 orders, 100 a page: {reads:?}");
    assert_eq!(reads[0]["maximum_results"], 100);
    assert!(reads[1]["page"].is_string() && reads[2]["page"].is_string());
}

#[tokio::test]
async fn a_lost_order_beyond_the_pages_read_stays_unsettled_never_not_found() {
    let fake = FakeBookingCom::start().await;
    let hotels = adapter(&fake);
    let offer = offer_at(&hotels, "Hôtel Lumière Fake").await;
    let booking = Booking::new();
    // Ten full pages of other bookers' orders: ours is on the eleventh, which is not read.
    fake.booked_elsewhere(1000);

    fake.lose_next_create_answer();
    outcome_unknown(booking.book(&hotels, &offer, &guests()).await);
    // Long past the time an order takes to show: read in full, "not found" would give up.
    booking.first_sent_ago(chrono::Duration::minutes(40));
    outcome_unknown(booking.book(&hotels, &offer, &guests()).await);

    assert_eq!(fake.received_on("/orders/details").len(), 10);
    assert_eq!(
        fake.received_on("/orders/create").len(),
        1,
        "never sent twice"
    );
    assert_eq!(ours(&fake).len(), 1);
}

#[tokio::test]
async fn a_send_with_no_answer_and_no_order_found_is_never_sent_again() {
    let fake = FakeBookingCom::start().await;
    let hotels = adapter(&fake);
    let offer = offer_at(&hotels, "Hôtel Lumière Fake").await;

    // Sent 20 minutes ago by an earlier run, no answer kept, no order shows yet: unsettled.
    let recent = Booking::new();
    recent.first_sent_ago(chrono::Duration::minutes(20));
    outcome_unknown(recent.book(&hotels, &offer, &guests()).await);

    // Long enough ago that Booking.com may hold it unseen: a person must check.
    let old = Booking::new();
    old.first_sent_ago(chrono::Duration::minutes(40));
    match old.book(&hotels, &offer, &guests()).await {
        Err(BookingError::MayHoldABooking { provider, message }) => {
            assert_eq!(provider, "booking_com");
            assert!(message.contains("labelled itinera-"), "{message}");
            assert!(!message.contains("Lovelace"), "{message}");
        }
        other => panic!("expected a booking Booking.com may hold, got {other:?}"),
    }
    assert!(fake.received_on("/orders/create").is_empty());
    assert!(fake.orders().is_empty());
}

#[tokio::test]
async fn a_send_answered_without_an_order_is_sent_again() {
    let fake = FakeBookingCom::start().await;
    let hotels = adapter(&fake);
    let offer = offer_at(&hotels, "Hôtel Lumière Fake").await;
    let booking = Booking::new();

    fake.fail_next(429, None);
    assert!(matches!(
        booking.book(&hotels, &offer, &guests()).await,
        Err(BookingError::Provider(ProviderError::RateLimited { .. }))
    ));
    let booked = booking.book(&hotels, &offer, &guests()).await.unwrap();
    assert_eq!(fake.orders().len(), 1);
    assert_eq!(booked.reference, fake.orders()[0].id);
}

#[tokio::test]
async fn a_cancellation_refunds_what_was_paid_less_the_fee_and_counts_once() {
    let fake = FakeBookingCom::start().await;
    let hotels = adapter(&fake);
    let bastille = offer_at(&hotels, "Bastille Rooms Fake").await;
    let lumiere = offer_at(&hotels, "Hôtel Lumière Fake").await;
    let kept = Booking::new()
        .book(&hotels, &bastille, &guests())
        .await
        .unwrap();
    let free = Booking::new()
        .book(&hotels, &lumiere, &guests())
        .await
        .unwrap();

    let key = Booking::new().key(Operation::Cancel);
    let receipt = hotels
        .cancel(cancelling(&kept.reference, &key))
        .await
        .unwrap();
    assert_eq!(
        receipt.refund,
        eur("220.00"),
        "330.00 paid, one night (110.00) kept by the property"
    );
    let again = hotels
        .cancel(cancelling(&kept.reference, &key))
        .await
        .unwrap();
    assert_eq!(
        again.refund,
        eur("220.00"),
        "the same refund, not a failure"
    );
    assert_eq!(fake.cancellations(), 1);
    assert_eq!(
        fake.received_on("/orders/cancel").len(),
        1,
        "cancelled once"
    );

    let receipt = hotels
        .cancel(cancelling(&free.reference, &key))
        .await
        .unwrap();
    assert_eq!(receipt.refund, eur("420.00"), "before the deadline, no fee");
    let cancel = fake
        .received_on("/orders/cancel")
        .pop()
        .unwrap()
        .json
        .unwrap();
    assert_eq!(cancel["order"], free.reference.as_str());
    assert!(cancel["reason"].is_string());
    assert!(
        fake.orders().iter().all(|o| o.status == "cancelled"),
        "both cancelled at Booking.com"
    );
}

#[tokio::test]
async fn a_cancellation_booking_com_fails_or_whose_refund_cannot_be_read_says_so() {
    let fake = FakeBookingCom::start().await;
    let hotels = adapter(&fake);
    let offer = offer_at(&hotels, "Bastille Rooms Fake").await;
    let booked = Booking::new()
        .book(&hotels, &offer, &guests())
        .await
        .unwrap();
    let key = Booking::new().key(Operation::Cancel);

    fake.refuse_next_cancel();
    let (code, message) = rejected(hotels.cancel(cancelling(&booked.reference, &key)).await);
    assert_eq!(code, "cancel_failed");
    assert!(message.contains("still stands"), "{message}");
    assert_eq!(fake.orders()[0].status, "booked");

    fake.hide_payments();
    let (code, message) = rejected(hotels.cancel(cancelling(&booked.reference, &key)).await);
    assert_eq!(
        code, "refund_unknown",
        "cancelled, but what was paid is not shown: no refund is guessed"
    );
    assert!(message.contains(&booked.reference), "{message}");
    assert_eq!(fake.orders()[0].status, "cancelled");
    assert_eq!(fake.cancellations(), 1);
}

#[tokio::test]
async fn a_stay_had_or_missed_cannot_be_cancelled_and_refunds_nothing() {
    let fake = FakeBookingCom::start().await;
    let hotels = adapter(&fake);
    let offer = offer_at(&hotels, "Hôtel Lumière Fake").await;
    let key = Booking::new().key(Operation::Cancel);

    for (status, told) in [("stayed", "as stayed"), ("no_show", "as a no-show")] {
        let booked = Booking::new()
            .book(&hotels, &offer, &guests())
            .await
            .unwrap();
        fake.mark(&booked.reference, status);
        let (code, message) = rejected(hotels.cancel(cancelling(&booked.reference, &key)).await);
        assert_eq!(code, "not_cancellable");
        assert!(message.contains(told), "{message}");
        assert!(message.contains("nothing is refunded"), "{message}");
    }
    assert!(fake.received_on("/orders/cancel").is_empty());
    assert_eq!(fake.cancellations(), 0);
}

#[tokio::test]
async fn the_fake_refuses_what_booking_com_refuses() {
    let fake = FakeBookingCom::start().await;
    let hotels = adapter(&fake);
    let offer = offer_at(&hotels, "Hôtel Lumière Fake").await;
    Booking::new()
        .book(&hotels, &offer, &guests())
        .await
        .unwrap();
    let create = fake
        .received_on("/orders/create")
        .pop()
        .unwrap()
        .json
        .unwrap();

    let http = reqwest::Client::new();
    let post = |path: &str, body: serde_json::Value, affiliate: Option<&str>| {
        let mut request = http
            .post(format!("{}{path}", fake.base_url))
            .bearer_auth(API_KEY)
            .json(&body);
        if let Some(affiliate) = affiliate {
            request = request.header("X-Affiliate-Id", affiliate);
        }
        request.send()
    };
    let affiliate = AFFILIATE_ID.to_string();
    let used = post("/orders/create", create.clone(), Some(&affiliate))
        .await
        .unwrap();
    assert_eq!(used.status(), 400);
    let body: serde_json::Value = used.json().await.unwrap();
    assert_eq!(
        body["errors"][0]["id"], "invalid_order_token",
        "a token serves once"
    );

    let unsigned = post("/accommodations/search", json!({}), None)
        .await
        .unwrap();
    assert_eq!(unsigned.status(), 401, "X-Affiliate-Id is required");
    let got = http
        .get(format!("{}/accommodations/search", fake.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), 405, "every endpoint is a POST");

    let preview = fake
        .received_on("/orders/preview")
        .pop()
        .unwrap()
        .json
        .unwrap();
    let previewed: serde_json::Value = post("/orders/preview", preview, Some(&affiliate))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    fake.expire_tokens();
    let mut expired = create;
    expired["order_token"] = previewed["data"]["order_token"].clone();
    let refused = post("/orders/create", expired, Some(&affiliate))
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(
        body["errors"][0]["message"],
        "The order token has expired or was used."
    );
    assert_eq!(fake.orders().len(), 1, "nothing more was made");
    let missing = post(
        "/orders/details",
        json!({"created": {"from": Utc::now().to_rfc3339()}}),
        Some(&affiliate),
    )
    .await
    .unwrap();
    let body: serde_json::Value = missing.json().await.unwrap();
    assert_eq!(
        body["errors"][0]["message"],
        "Parameter 'currency' is missing."
    );
}

/// The whole flow through the MCP tools, Booking.com selling the hotel.
mod flow {
    use super::*;
    use common::oauth_server::FakeAuthServer;
    use common::{Harness, Options, money};
    use serde_json::Value;

    async fn with_booking_com() -> (Harness, FakeBookingCom) {
        let fake = FakeBookingCom::start().await;
        let h = Harness::with(Options {
            booking_com: Some(fake.settings(API_KEY)),
            ..Options::default()
        })
        .await;
        (h, fake)
    }

    /// Three nights for two at the Lumière, approved: the plan and the offer.
    async fn approved_lumiere(h: &Harness) -> (String, Value) {
        let hotels = h
            .ok(
                "search_hotels",
                json!({"city": "Paris", "check_in": h.day(20), "check_out": h.day(23), "guests": 2, "currency": "EUR"}),
            )
            .await;
        let offers = hotels["offers"].as_array().unwrap();
        assert!(
            !offers.is_empty() && offers.iter().all(|o| o["provider"] == "booking_com"),
            "hotels come from Booking.com only: {hotels}"
        );
        let lumiere = offers
            .iter()
            .find(|o| {
                o["title"]
                    .as_str()
                    .unwrap()
                    .starts_with("Hôtel Lumière Fake")
            })
            .unwrap()
            .clone();
        assert_eq!(lumiere["cancellation"]["type"], "refundable", "{lumiere}");
        let plan_id = h
            .approved_plan(json!({
                "title": "Paris at the Lumière",
                "travellers": [
                    {"given_name": "Ada", "family_name": "Lovelace", "email": "ada@example.com", "phone": "+33 6 12 34 56 78"},
                    {"given_name": "Mary", "family_name": "Somerville"},
                ],
                "payment_method": "pm_sandbox_visa",
                "items": [{"offer_id": lumiere["id"]}],
            }))
            .await;
        (plan_id, lumiere)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_plan_needing_the_person_s_booking_com_sign_in_asks_for_it_before_booking() {
        let fake = FakeBookingCom::start().await;
        let accounts = FakeAuthServer::start().await;
        let h = Harness::with(Options {
            booking_com: Some(fake.settings(API_KEY)),
            platform_logins: vec![accounts.settings()],
            ..Options::default()
        })
        .await;
        let (plan_id, _) = approved_lumiere(&h).await;

        let refused = h
            .err("execute_travel_plan", json!({"plan_id": plan_id}))
            .await;
        let answer: Value = serde_json::from_str(&refused).unwrap();
        assert_eq!(answer["status"], "auth_required", "{answer}");
        let [platform] = answer["platforms"].as_array().unwrap().as_slice() else {
            panic!("one sign-in: {answer}");
        };
        assert_eq!(platform["platform"], "booking_com");
        assert!(
            answer["message"]
                .as_str()
                .unwrap()
                .contains("Nothing was booked or charged"),
            "{answer}"
        );
        assert!(fake.received_on("/orders/preview").is_empty());
        assert!(fake.orders().is_empty());
        let bookings = h.ok("list_bookings", json!({})).await;
        assert_eq!(bookings["orders"], json!([]), "no order, no hold");

        let url = platform["authorization_url"].as_str().unwrap();
        let (status, page) = accounts.sign_in(url).await;
        assert_eq!(status, 200, "{page}");
        let order = h
            .ok("execute_travel_plan", json!({"plan_id": plan_id}))
            .await;
        assert_eq!(order["status"], "confirmed", "{order}");
        assert_eq!(fake.orders().len(), 1, "booked once, after the sign-in");
    }

    #[tokio::test]
    async fn a_trip_books_its_hotel_at_booking_com_and_cancelling_refunds_it() {
        let (h, fake) = with_booking_com().await;
        let (plan_id, lumiere) = approved_lumiere(&h).await;
        let order = h
            .ok("execute_travel_plan", json!({"plan_id": plan_id}))
            .await;
        assert_eq!(order["status"], "confirmed", "{order}");
        let orders = fake.orders();
        assert_eq!(orders.len(), 1, "one order at Booking.com");
        let status = h
            .ok("get_booking_status", json!({"order_id": order["order_id"]}))
            .await;
        let confirmation = status["documents"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["kind"] == "hotel")
            .unwrap()["confirmation"]
            .clone();
        assert_eq!(confirmation, orders[0].reservation.to_string(), "{status}");

        let cancelled = h
            .ok("cancel_booking", json!({"order_id": order["order_id"]}))
            .await;
        assert_eq!(fake.orders()[0].status, "cancelled");
        assert_eq!(fake.cancellations(), 1);
        assert_eq!(
            money(&cancelled["refunded"]),
            money(&lumiere["price"]),
            "free cancellation before the deadline: all of it back: {cancelled}"
        );
    }

    #[tokio::test]
    async fn a_hotel_whose_answer_was_lost_is_found_by_its_label_not_booked_twice() {
        let (h, fake) = with_booking_com().await;
        let (plan_id, _) = approved_lumiere(&h).await;
        fake.lose_next_create_answer();
        let order = h
            .ok("execute_travel_plan", json!({"plan_id": plan_id}))
            .await;
        assert_eq!(order["status"], "confirmed", "{order}");
        assert_eq!(fake.orders().len(), 1, "one order at Booking.com");
        assert_eq!(fake.received_on("/orders/create").len(), 1);
    }
}
