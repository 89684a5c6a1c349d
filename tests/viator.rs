//! The Viator activities adapter against a local fake that speaks Viator's wire format
//! (`tests/common/viator_fake.rs`): what it sends (`exp-api-key`, the versioned media type, the
//! pax mix, a `partnerBookingRef` the same on every send) and how it reads every answer
//! (destinations, products, prices as JSON numbers, holds, booking statuses, the two-step
//! cancellation, errors); then the whole flow through the MCP tools with Viator selling the
//! activity.

mod common;

use common::booking_attempt::cancelling;

use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use common::viator_fake::{API_KEY, BookAnswer, FakeViator, MEDIA_TYPE, PARIS};
use itinera::adapters::booking::viator::ViatorActivities;
use itinera::domain::idempotency::{IdempotencyKey, Operation};
use itinera::domain::ids::{ItemId, OrderId};
use itinera::domain::money::{Currency, Money};
use itinera::domain::offer::{CancellationPolicy, ItemKind, Offer, OfferDetails};
use itinera::domain::places::City;
use itinera::domain::plan::Traveller;
use itinera::ports::booking::{BookingConfirmation, BookingError, BookingRequest, SearchQuery};
use itinera::ports::{BookingProvider, ProviderError, SystemClock};
use serde_json::json;

fn adapter(fake: &FakeViator, key: &str) -> ViatorActivities {
    ViatorActivities::new(&fake.settings(key), Arc::new(SystemClock)).unwrap()
}

fn eur(amount: &str) -> Money {
    Money::parse(amount, "EUR").unwrap()
}

fn day() -> NaiveDate {
    chrono::Utc::now().date_naive() + chrono::Duration::days(20)
}

fn paris(participants: u8, currency: &str) -> SearchQuery {
    paris_on(day(), participants, currency)
}

fn paris_on(date: NaiveDate, participants: u8, currency: &str) -> SearchQuery {
    SearchQuery::Activities {
        city: City::parse("PAR").unwrap(),
        date,
        participants,
        currency: Currency::parse(currency).unwrap(),
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

fn grace() -> Traveller {
    serde_json::from_value(json!({"given_name": "Grace", "family_name": "Hopper"})).unwrap()
}

/// One booking of one item of one order: the key a resend reuses.
struct Booking {
    order: OrderId,
    item: ItemId,
    first_sent: std::sync::Mutex<Option<chrono::DateTime<chrono::Utc>>>,
}

impl Booking {
    fn new() -> Booking {
        Booking {
            order: OrderId::generate(),
            item: ItemId::generate(),
            first_sent: std::sync::Mutex::new(None),
        }
    }

    fn key(&self, operation: Operation) -> IdempotencyKey {
        IdempotencyKey::derive(&self.order, Some(&self.item), operation, "0")
    }

    /// Sent as the saga sends it: `first_sent_at` from the second send on.
    async fn book(
        &self,
        viator: &ViatorActivities,
        offer: &Offer,
        travellers: &[Traveller],
    ) -> Result<BookingConfirmation, BookingError> {
        let first_sent_at = {
            let mut first = self.first_sent.lock().unwrap();
            let earlier = *first;
            first.get_or_insert(chrono::Utc::now());
            earlier
        };
        self.send(viator, offer, travellers, first_sent_at).await
    }

    async fn send(
        &self,
        viator: &ViatorActivities,
        offer: &Offer,
        travellers: &[Traveller],
        first_sent_at: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<BookingConfirmation, BookingError> {
        viator
            .book(BookingRequest {
                order_id: &self.order,
                offer,
                travellers,
                idempotency_key: &self.key(Operation::Book),
                first_sent_at,
            })
            .await
    }
}

/// The offer of the activity whose title starts so, for `participants` adults.
async fn offer_of(viator: &ViatorActivities, title: &str, participants: u8) -> Offer {
    viator
        .search(&paris(participants, "EUR"))
        .await
        .unwrap()
        .into_iter()
        .find(|offer| offer.title.starts_with(title))
        .unwrap()
}

fn assert_viator_headers(sent: &common::viator_fake::Received) {
    assert_eq!(sent.header("exp-api-key"), Some(API_KEY));
    assert_eq!(sent.header("accept"), Some(MEDIA_TYPE));
    assert_eq!(MEDIA_TYPE, "application/json;version=2.0");
    assert_eq!(sent.header("accept-language"), Some("en-US"));
    if sent.method == "POST" {
        assert_eq!(sent.header("content-type"), Some(MEDIA_TYPE));
    }
    assert!(sent.header("user-agent").unwrap().starts_with("itinera/"));
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
async fn a_search_prices_each_bookable_item_of_the_city_s_destination_for_the_party() {
    let fake = FakeViator::start().await;
    let viator = adapter(&fake, API_KEY);
    let offers = viator.search(&paris(2, "EUR")).await.unwrap();

    let found: Vec<(String, Money)> = offers.iter().map(|o| (o.title.clone(), o.price)).collect();
    let date = day();
    assert_eq!(
        found,
        [
            (
                format!("Eiffel Tower Summit Tour, {date} 09:00 (option TG1)"),
                eur("91.00")
            ),
            (
                format!("Eiffel Tower Summit Tour, {date} 14:00 (option TG1)"),
                eur("91.00")
            ),
            (format!("Seine River Cruise, {date}"), eur("30.50")),
            (
                format!("Louvre Skip-the-Line, {date} 10:00 (option STD)"),
                eur("120.20")
            ),
        ],
        "the sold-out sunset cruise is left out; prices are partnerTotalPrice for two"
    );
    for offer in &offers {
        assert!(offer.id.as_str().starts_with("vtr_"), "{}", offer.id);
        assert_eq!(offer.provider, "viator");
        assert_eq!(offer.kind, ItemKind::Activity);
        assert_eq!(offer.city, City::parse("PAR").unwrap());
        assert_eq!((offer.starts_on, offer.ends_on), (date, date));
        assert!(offer.expires_at > chrono::Utc::now());
    }
    let free_until = |days: i64, time: &str| CancellationPolicy::Refundable {
        free_until: date
            .and_time(chrono::NaiveTime::parse_from_str(time, "%H:%M").unwrap())
            .and_utc()
            - chrono::Duration::days(days)
            - chrono::Duration::hours(14),
        penalty: offers[0].price,
    };
    assert_eq!(
        offers[0].cancellation,
        free_until(1, "09:00"),
        "STANDARD: free until a day before the start (14 h earlier for the time zone)"
    );
    assert_eq!(
        offers[2].cancellation,
        CancellationPolicy::NonRefundable,
        "ALL_SALES_FINAL"
    );
    assert!(
        matches!(offers[3].cancellation, CancellationPolicy::Refundable { penalty, .. } if penalty == eur("120.20")),
        "CUSTOM: only the full refund window is promised"
    );
    let terms = fake.received_on("GET", "/products/5010EIFFEL");
    assert_eq!(terms.len(), 1);
    assert_viator_headers(&terms[0]);
    assert!(matches!(
        &offers[0].details,
        OfferDetails::Activity { name, start_time, duration_minutes: 120, participants: 2, .. }
            if name == "Eiffel Tower Summit Tour" && start_time == "09:00"
    ));

    let destinations = fake.received_on("GET", "/destinations");
    assert_eq!(destinations.len(), 1);
    assert_viator_headers(&destinations[0]);
    let searched = fake.received_on("POST", "/products/search");
    assert_viator_headers(&searched[0]);
    assert_eq!(
        searched[0].json.as_ref().unwrap(),
        &json!({
            "filtering": {"destination": PARIS.to_string(), "startDate": date.to_string(), "endDate": date.to_string()},
            "pagination": {"start": 1, "count": 5},
            "currency": "EUR",
        }),
        "the city's destination (type CITY preferred over the region with the same airports)"
    );
    let checks = fake.received_on("POST", "/availability/check");
    assert_eq!(checks.len(), 3, "one per product");
    for check in &checks {
        assert_viator_headers(check);
        let body = check.json.as_ref().unwrap();
        assert_eq!(body["travelDate"], date.to_string());
        assert_eq!(body["currency"], "EUR");
        assert_eq!(
            body["paxMix"],
            json!([{"ageBand": "ADULT", "numberOfTravelers": 2}])
        );
    }

    // Destinations are read once.
    viator.search(&paris(1, "EUR")).await.unwrap();
    assert_eq!(fake.received_on("GET", "/destinations").len(), 1);
    // A city Viator does not serve has no offers.
    let tokyo = SearchQuery::Activities {
        city: City::parse("TYO").unwrap(),
        date,
        participants: 1,
        currency: Currency::parse("EUR").unwrap(),
    };
    assert!(viator.search(&tokyo).await.unwrap().is_empty());
}

#[tokio::test]
async fn search_quote_book_and_cancel_refund_viator_s_quote() {
    let fake = FakeViator::start().await;
    let viator = adapter(&fake, API_KEY);
    // Five days ahead: the Louvre's 50 % window.
    let soon = chrono::Utc::now().date_naive() + chrono::Duration::days(5);
    let offer = viator
        .search(&paris_on(soon, 2, "EUR"))
        .await
        .unwrap()
        .into_iter()
        .find(|offer| offer.title.starts_with("Louvre"))
        .unwrap();
    assert_eq!(offer.price, eur("120.20"));
    assert_eq!(viator.quote(&offer).await.unwrap().price, offer.price);
    let quoted = fake.received_on("POST", "/availability/check");
    assert_eq!(
        quoted.last().unwrap().json.as_ref().unwrap(),
        &json!({
            "productCode": "3300LOUVRE",
            "productOptionCode": "STD",
            "startTime": "10:00",
            "travelDate": soon.to_string(),
            "currency": "EUR",
            "paxMix": [{"ageBand": "ADULT", "numberOfTravelers": 2}],
        }),
        "the re-quote asks for exactly the item offered"
    );

    let booking = Booking::new();
    let confirmation = booking
        .book(&viator, &offer, &[ada(), grace()])
        .await
        .unwrap();
    assert!(confirmation.reference.starts_with("BR-"));
    assert_eq!(confirmation.confirmation, confirmation.reference);
    let held = &fake.received_on("POST", "/bookings/hold")[0];
    assert_viator_headers(held);
    assert_eq!(held.json.as_ref().unwrap()["productCode"], "3300LOUVRE");
    let sent = &fake.received_on("POST", "/bookings/book")[0];
    assert_viator_headers(sent);
    let body = sent.json.as_ref().unwrap();
    assert_eq!(
        body["bookingRef"],
        confirmation.reference.as_str(),
        "the hold's"
    );
    assert_eq!(
        body["partnerBookingRef"],
        format!("itinera-{}", booking.key(Operation::Book).as_str())
    );
    assert_eq!(
        body["bookerInfo"],
        json!({"firstName": "Ada", "lastName": "Lovelace"})
    );
    assert_eq!(
        body["communication"],
        json!({"phone": "+33612345678", "email": "ada@example.com"})
    );
    assert_eq!(
        body["paxMix"],
        json!([{"ageBand": "ADULT", "numberOfTravelers": 2}])
    );
    assert_eq!(
        (&body["productOptionCode"], &body["startTime"]),
        (&json!("STD"), &json!("10:00"))
    );
    assert!(
        fake.received_on("POST", "/bookings/status").is_empty(),
        "a first send has nothing to look up"
    );
    let bookings = fake.bookings();
    assert_eq!(bookings.len(), 1);
    assert_eq!(bookings[0].status, "CONFIRMED");

    let key = booking.key(Operation::Cancel);
    let receipt = viator
        .cancel(cancelling(&confirmation.reference, &key))
        .await
        .unwrap();
    assert_eq!(
        receipt.refund,
        eur("60.10"),
        "half of 120.20, as Viator quoted five days ahead"
    );
    assert_eq!(fake.bookings()[0].status, "CANCELED");
    let quote = &fake.received_on(
        "GET",
        &format!("/bookings/{}/cancel-quote", confirmation.reference),
    )[0];
    assert_viator_headers(quote);
    let cancel = &fake.received_on(
        "POST",
        &format!("/bookings/{}/cancel", confirmation.reference),
    )[0];
    assert_viator_headers(cancel);
    assert_eq!(
        cancel.json.as_ref().unwrap(),
        &json!({"reasonCode": "Customer_Service.I_canceled_my_entire_trip"})
    );
    // Asked again, the cancelled booking's refund is the answer; nothing is cancelled twice.
    assert_eq!(
        viator
            .cancel(cancelling(&confirmation.reference, &key))
            .await
            .unwrap()
            .refund,
        eur("60.10")
    );
    assert_eq!(
        fake.received()
            .iter()
            .filter(|r| r.path.ends_with("/cancel"))
            .count(),
        1
    );
}

#[tokio::test]
async fn a_booking_whose_answer_was_lost_is_found_by_its_partner_reference_not_made_twice() {
    let fake = FakeViator::start().await;
    let viator = adapter(&fake, API_KEY);
    let offer = offer_of(&viator, "Eiffel", 1).await;
    let booking = Booking::new();
    fake.next_book_answers(BookAnswer::Lost);
    outcome_unknown(booking.book(&viator, &offer, &[ada()]).await);
    assert_eq!(fake.bookings().len(), 1, "Viator booked it all the same");

    let again = booking.book(&viator, &offer, &[ada()]).await.unwrap();
    assert_eq!(again.reference, fake.bookings()[0].booking_ref);
    assert_eq!(fake.bookings().len(), 1, "one booking");
    assert_eq!(fake.received_on("POST", "/bookings/book").len(), 1);
    let partner_ref = format!("itinera-{}", booking.key(Operation::Book).as_str());
    let looked = &fake.received_on("POST", "/bookings/status")[0];
    assert_viator_headers(looked);
    assert_eq!(
        looked.json.as_ref().unwrap(),
        &json!({"partnerBookingRef": partner_ref})
    );
    assert_eq!(fake.bookings()[0].partner_ref, partner_ref);
}

#[tokio::test]
async fn a_booking_sent_again_without_its_record_meets_viator_s_duplicate_check() {
    let fake = FakeViator::start().await;
    let viator = adapter(&fake, API_KEY);
    let offer = offer_of(&viator, "Eiffel", 1).await;
    let booking = Booking::new();
    let first = booking.send(&viator, &offer, &[ada()], None).await.unwrap();
    // Sent again as a first send (its record lost): Viator refuses the same partnerBookingRef
    // and the adapter reads the first booking.
    let again = booking.send(&viator, &offer, &[ada()], None).await.unwrap();
    assert_eq!(again, first);
    assert_eq!(fake.bookings().len(), 1);
    let sent = fake.received_on("POST", "/bookings/book");
    assert_eq!(sent.len(), 2);
    assert_eq!(
        sent[0].json.as_ref().unwrap()["partnerBookingRef"],
        sent[1].json.as_ref().unwrap()["partnerBookingRef"],
        "the same reference on every send"
    );
}

#[tokio::test]
async fn a_booking_nothing_was_made_for_is_booked_on_the_resend() {
    let fake = FakeViator::start().await;
    let viator = adapter(&fake, API_KEY);
    let offer = offer_of(&viator, "Eiffel", 1).await;
    let booking = Booking::new();
    fake.lose_answer_to("/bookings/hold");
    outcome_unknown(booking.book(&viator, &offer, &[ada()]).await);
    assert!(fake.bookings().is_empty());
    let confirmation = booking.book(&viator, &offer, &[ada()]).await.unwrap();
    assert_eq!(fake.bookings().len(), 1);
    assert_eq!(fake.bookings()[0].booking_ref, confirmation.reference);
}

#[tokio::test]
async fn a_pending_booking_is_unsettled_until_the_supplier_confirms() {
    let fake = FakeViator::start().await;
    let viator = adapter(&fake, API_KEY);
    let offer = offer_of(&viator, "Eiffel", 1).await;
    let booking = Booking::new();
    fake.next_book_answers(BookAnswer::Pending);
    outcome_unknown(booking.book(&viator, &offer, &[ada()]).await);
    outcome_unknown(booking.book(&viator, &offer, &[ada()]).await);
    assert_eq!(fake.received_on("POST", "/bookings/book").len(), 1);

    fake.confirm_pending();
    let confirmation = booking.book(&viator, &offer, &[ada()]).await.unwrap();
    assert_eq!(confirmation.reference, fake.bookings()[0].booking_ref);
    assert_eq!(fake.bookings().len(), 1);
    assert_eq!(fake.received_on("POST", "/bookings/book").len(), 1);
    assert_eq!(fake.received_on("POST", "/bookings/status").len(), 2);
}

#[tokio::test]
async fn an_item_sold_out_is_no_longer_available_at_quote_and_at_booking() {
    let fake = FakeViator::start().await;
    let viator = adapter(&fake, API_KEY);
    let offer = offer_of(&viator, "Eiffel", 1).await;
    let gone = BookingError::NoLongerAvailable {
        provider: "viator".into(),
        offer: offer.id.to_string(),
    };

    fake.gone_at_book("5010EIFFEL");
    assert_eq!(
        Booking::new().book(&viator, &offer, &[ada()]).await,
        Err(gone.clone())
    );
    assert!(fake.bookings().is_empty());

    fake.sell_out("5010EIFFEL");
    assert_eq!(viator.quote(&offer).await, Err(gone.clone()));
    assert_eq!(
        Booking::new().book(&viator, &offer, &[ada()]).await,
        Err(gone)
    );
    assert!(fake.bookings().is_empty());
}

#[tokio::test]
async fn a_changed_price_books_nothing() {
    let fake = FakeViator::start().await;
    let viator = adapter(&fake, API_KEY);
    let offer = offer_of(&viator, "Seine", 2).await;
    fake.reprice("2050SEINE", "17.00");
    assert_eq!(viator.quote(&offer).await.unwrap().price, eur("34.00"));
    let (code, message) = rejected_code(
        Booking::new()
            .book(&viator, &offer, &[ada(), grace()])
            .await,
    );
    assert_eq!(code, "price_changed");
    assert!(
        message.contains("34.00") && message.contains("30.50"),
        "{message}"
    );
    assert!(fake.received_on("POST", "/bookings/hold").is_empty());
    assert!(fake.bookings().is_empty());
}

#[tokio::test]
async fn viator_s_refusals_keep_its_code_and_message_and_missing_details_are_asked_for_first() {
    let fake = FakeViator::start().await;
    let viator = adapter(&fake, API_KEY);
    // Viator prices in any currency but bills bookings in five only.
    let in_francs = viator
        .search(&paris(1, "CHF"))
        .await
        .unwrap()
        .into_iter()
        .next()
        .unwrap();
    let (code, message) = rejected_code(Booking::new().book(&viator, &in_francs, &[ada()]).await);
    assert_eq!(code, "BAD_REQUEST");
    assert!(message.starts_with("Invalid currency CHF"), "{message}");

    let offer = offer_of(&viator, "Eiffel", 1).await;
    let no_phone = Traveller {
        phone: None,
        ..ada()
    };
    let (code, message) = rejected_code(Booking::new().book(&viator, &offer, &[no_phone]).await);
    assert_eq!(code, "booker_details");
    assert!(
        message.contains("lead traveller has no phone") && !message.contains("Lovelace"),
        "{message}"
    );
    let (code, message) = rejected_code(
        Booking::new()
            .book(&viator, &offer, &[ada(), grace()])
            .await,
    );
    assert_eq!(code, "booker_details");
    assert!(message.contains("search again for 2"), "{message}");
    assert!(fake.bookings().is_empty());
    assert!(fake.received_on("POST", "/bookings/book").is_empty());
}

#[tokio::test]
async fn rate_limits_outages_and_a_bad_key_are_told_apart() {
    let fake = FakeViator::start().await;
    let viator = adapter(&fake, API_KEY);

    fake.rate_limit_next(Some(7), 10);
    assert_eq!(
        viator.search(&paris(1, "EUR")).await,
        Err(BookingError::Provider(ProviderError::RateLimited {
            provider: "viator".into(),
            retry_after: Some(Duration::from_secs(7)),
        })),
        "Retry-After first"
    );
    fake.rate_limit_next(None, 4);
    assert_eq!(
        viator.search(&paris(1, "EUR")).await,
        Err(BookingError::Provider(ProviderError::RateLimited {
            provider: "viator".into(),
            retry_after: Some(Duration::from_secs(4)),
        })),
        "else RateLimit-Reset"
    );

    fake.fail_next(503, Some(30));
    let unavailable = viator.search(&paris(1, "EUR")).await.unwrap_err();
    assert!(
        matches!(&unavailable, BookingError::Provider(e @ ProviderError::Unavailable { retry_after: Some(wait), .. }) if e.is_retryable() && *wait == Duration::from_secs(30)),
        "{unavailable:?}"
    );
    fake.fail_next(500, None);
    outcome_unknown(viator.search(&paris(1, "EUR")).await);

    let offer = offer_of(&viator, "Eiffel", 1).await;
    fake.lose_answer_to("/bookings/book");
    outcome_unknown(Booking::new().book(&viator, &offer, &[ada()]).await);

    let wrong = adapter(&fake, "00000000-0000-0000-0000-000000000000");
    let (code, message) = rejected_code(wrong.search(&paris(1, "EUR")).await);
    assert_eq!(code, "UNAUTHORIZED");
    assert!(
        message.starts_with("Invalid API Key") && message.contains("ITINERA_VIATOR_API_KEY"),
        "says what to fix: {message}"
    );
}

#[tokio::test]
async fn the_fake_refuses_calls_without_the_key_or_the_versioned_accept() {
    let fake = FakeViator::start().await;
    let http = reqwest::Client::new();
    let url = format!("{}/destinations", fake.base_url);
    let unversioned = http
        .get(&url)
        .header("exp-api-key", API_KEY)
        .header("Accept", "application/json")
        .header("Accept-Language", "en-US")
        .send()
        .await
        .unwrap();
    assert_eq!(unversioned.status(), 400);
    let body: serde_json::Value = unversioned.json().await.unwrap();
    assert_eq!(body["code"], "INVALID_HEADER_VALUE");
    let keyless = http
        .get(&url)
        .header("Accept", MEDIA_TYPE)
        .send()
        .await
        .unwrap();
    assert_eq!(keyless.status(), 401);
}

#[tokio::test]
async fn an_activity_under_way_is_not_cancellable() {
    let fake = FakeViator::start().await;
    let viator = adapter(&fake, API_KEY);
    let offer = offer_of(&viator, "Eiffel", 1).await;
    let booking = Booking::new();
    let confirmation = booking.book(&viator, &offer, &[ada()]).await.unwrap();
    fake.start_activity(&confirmation.reference);
    let (code, message) = rejected_code(
        viator
            .cancel(cancelling(
                &confirmation.reference,
                &booking.key(Operation::Cancel),
            ))
            .await,
    );
    assert_eq!(code, "NOT_CANCELLABLE");
    assert!(message.contains("can no longer be cancelled"), "{message}");
    assert_eq!(fake.bookings()[0].status, "CONFIRMED");
    assert!(
        !fake.received().iter().any(|r| r.path.ends_with("/cancel")),
        "no cancellation sent"
    );
}

#[tokio::test]
async fn a_cancellation_whose_answer_was_lost_is_read_back_and_all_sales_final_refunds_nothing() {
    let fake = FakeViator::start().await;
    let viator = adapter(&fake, API_KEY);
    let offer = offer_of(&viator, "Eiffel", 1).await;
    let booking = Booking::new();
    let confirmation = booking.book(&viator, &offer, &[ada()]).await.unwrap();
    let key = booking.key(Operation::Cancel);
    fake.lose_answer_to("/cancel");
    outcome_unknown(
        viator
            .cancel(cancelling(&confirmation.reference, &key))
            .await,
    );
    let receipt = viator
        .cancel(cancelling(&confirmation.reference, &key))
        .await
        .unwrap();
    assert_eq!(receipt.refund, offer.price, "free cancellation: all back");
    assert_eq!(
        fake.received()
            .iter()
            .filter(|r| r.path.ends_with("/cancel"))
            .count(),
        1
    );

    let final_sale = offer_of(&viator, "Seine", 1).await;
    let booking = Booking::new();
    let confirmation = booking.book(&viator, &final_sale, &[ada()]).await.unwrap();
    let receipt = viator
        .cancel(cancelling(
            &confirmation.reference,
            &booking.key(Operation::Cancel),
        ))
        .await
        .unwrap();
    assert!(receipt.refund.is_zero());
}

/// A cancellation quoted just before another cancellation landed, or the activity started: Viator
/// declines, and the adapter reads the earlier cancellation's refund, or refuses.
#[tokio::test]
async fn a_declined_cancellation_is_read_for_what_it_says() {
    let fake = FakeViator::start().await;
    let viator = adapter(&fake, API_KEY);
    let offer = offer_of(&viator, "Eiffel", 1).await;
    let booking = Booking::new();
    let confirmation = booking.book(&viator, &offer, &[ada()]).await.unwrap();
    let key = booking.key(Operation::Cancel);
    viator
        .cancel(cancelling(&confirmation.reference, &key))
        .await
        .unwrap();
    fake.stale_quote_next();
    let receipt = viator
        .cancel(cancelling(&confirmation.reference, &key))
        .await
        .unwrap();
    assert_eq!(
        receipt.refund, offer.price,
        "DECLINED + ALREADY_CANCELLED: the earlier cancellation's refund"
    );
    let quotes = fake.received_on(
        "GET",
        &format!("/bookings/{}/cancel-quote", confirmation.reference),
    );
    assert_eq!(quotes.len(), 3, "quoted again after the decline");

    let other = Booking::new();
    let started = other.book(&viator, &offer, &[ada()]).await.unwrap();
    fake.start_activity(&started.reference);
    fake.stale_quote_next();
    let (code, message) = rejected_code(
        viator
            .cancel(cancelling(
                &started.reference,
                &other.key(Operation::Cancel),
            ))
            .await,
    );
    assert_eq!(code, "DECLINED");
    assert!(
        message.contains("NOT_CANCELLABLE") && message.contains("still stands"),
        "{message}"
    );
}

/// The whole flow with Viator selling the activity and the sandbox the hotel and the payment.
mod flow {
    use super::*;
    use common::{Harness, Options, money};

    async fn with_viator() -> (Harness, FakeViator) {
        let fake = FakeViator::start().await;
        let h = Harness::with(Options {
            viator: Some(fake.settings(API_KEY)),
            ..Options::default()
        })
        .await;
        (h, fake)
    }

    #[tokio::test]
    async fn a_trip_books_its_activity_at_viator_and_cancelling_refunds_viator_s_quote() {
        let (h, fake) = with_viator().await;
        let (plan_id, activity) = h.approved_eiffel_trip("viator").await;
        let order = h
            .ok("execute_travel_plan", json!({"plan_id": plan_id}))
            .await;
        assert_eq!(order["status"], "confirmed", "{order}");
        let bookings = fake.bookings();
        assert_eq!(bookings.len(), 1, "one booking at Viator");
        assert_eq!(bookings[0].status, "CONFIRMED");
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
        assert_eq!(confirmation, bookings[0].booking_ref.as_str(), "{status}");

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
        assert_eq!(fake.bookings()[0].status, "CANCELED");
        assert_eq!(
            money(&cancelled["refunded"]),
            money(&activity["price"]),
            "the refund Viator quoted: {cancelled}"
        );
    }

    #[tokio::test]
    async fn an_activity_whose_answer_was_lost_is_found_again_not_booked_twice() {
        let (h, fake) = with_viator().await;
        let (plan_id, _) = h.approved_eiffel_trip("viator").await;
        fake.next_book_answers(BookAnswer::Lost);
        let order = h
            .ok("execute_travel_plan", json!({"plan_id": plan_id}))
            .await;
        assert_eq!(order["status"], "confirmed", "{order}");
        assert_eq!(fake.bookings().len(), 1, "one booking at Viator");
        assert_eq!(fake.received_on("POST", "/bookings/book").len(), 1);
    }
}
