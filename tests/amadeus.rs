//! The Amadeus hotels adapter against a local fake that speaks Amadeus's wire format
//! (`tests/common/amadeus_fake.rs`): the client-credentials token, the city's hotels and their
//! offers, the re-pricing before a booking, the hotel order guaranteed by the agency's card, the
//! errors Amadeus answers with; and what Itinera does where Amadeus has no API: a cancellation
//! that says to contact the hotel, a booking never sent twice without an answer.

mod common;

use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDate, Utc};
use common::amadeus_fake::{AGENCY_EMAIL, CARD_NUMBER, CLIENT_ID, CLIENT_SECRET, FakeAmadeus};
use common::booking_attempt::{Booking, cancelling, rejected};
use itinera::adapters::booking::amadeus::AmadeusHotels;
use itinera::domain::idempotency::Operation;
use itinera::domain::money::{Currency, Money};
use itinera::domain::offer::{CancellationPolicy, Offer};
use itinera::domain::places::City;
use itinera::domain::plan::Traveller;
use itinera::ports::booking::{BookingError, SearchQuery};
use itinera::ports::{BookingProvider, ProviderError, SystemClock};

fn adapter_with(fake: &FakeAmadeus, secret: &str) -> AmadeusHotels {
    AmadeusHotels::new(&fake.settings(secret), Arc::new(SystemClock)).unwrap()
}

fn adapter(fake: &FakeAmadeus) -> AmadeusHotels {
    adapter_with(fake, CLIENT_SECRET)
}

fn eur(amount: &str) -> Money {
    Money::parse(amount, "EUR").unwrap()
}

fn check_in() -> NaiveDate {
    Utc::now().date_naive() + chrono::Duration::days(20)
}

/// Three nights in Paris for `guests`.
fn paris(guests: u8) -> SearchQuery {
    SearchQuery::Hotels {
        city: City::parse("PAR").unwrap(),
        check_in: check_in(),
        check_out: check_in() + chrono::Duration::days(3),
        guests,
        currency: Currency::parse("EUR").unwrap(),
    }
}

fn traveller(given: &str, family: &str) -> Traveller {
    serde_json::from_value(serde_json::json!({
        "given_name": given,
        "family_name": family,
        "email": format!("{}@example.com", given.to_lowercase()),
        "phone": "+33 6 12 34 56 78",
        "title": "ms",
    }))
    .unwrap()
}

fn guests() -> [Traveller; 2] {
    [
        traveller("Ada", "Lovelace"),
        traveller("Mary", "Somerville"),
    ]
}

/// The fake's refundable Paris hotel, three nights for two: 420.00 EUR.
async fn lumiere(amadeus: &AmadeusHotels) -> Offer {
    amadeus
        .search(&paris(2))
        .await
        .unwrap()
        .into_iter()
        .find(|offer| offer.price == eur("420.00"))
        .unwrap()
}

/// The message of a booking the hotel may still hold, not counted as booked.
fn held(result: Result<impl std::fmt::Debug, BookingError>) -> String {
    match result {
        Err(BookingError::MayHoldABooking { provider, message }) => {
            assert_eq!(provider, "amadeus");
            message
        }
        other => panic!("expected a booking the hotel may hold, got {other:?}"),
    }
}

#[tokio::test]
async fn a_search_prices_the_city_s_hotels_paid_when_booked_with_one_token_reused() {
    let fake = FakeAmadeus::start().await;
    let amadeus = adapter(&fake);
    let offers = amadeus.search(&paris(2)).await.unwrap();

    let prices: Vec<Money> = offers.iter().map(|o| o.price).collect();
    assert_eq!(
        prices,
        [eur("420.00"), eur("330.00")],
        "the Marais Inn (285.00) is paid at the hotel: selling it would charge the traveller twice"
    );
    let deadline = check_in() - chrono::Duration::days(2);
    for offer in &offers {
        assert_eq!(offer.provider, "amadeus");
        assert!(offer.id.as_str().starts_with("FAKEOFFER"));
        assert_eq!(offer.starts_on, check_in());
        assert_eq!(offer.ends_on, check_in() + chrono::Duration::days(3));
        assert_eq!(
            offer.cancellation,
            CancellationPolicy::NonRefundable,
            "Amadeus cannot cancel, and the hotel refunds the agency's card: nothing is promised back"
        );
        assert!(
            offer
                .title
                .contains("no refund through Itinera; cancel with the hotel"),
            "{}",
            offer.title
        );
    }
    assert!(
        offers[0]
            .title
            .starts_with("HOTEL LUMIERE FAKE, Classic King Room, breakfast")
    );
    assert!(
        offers[0].title.ends_with(&format!(
            "free until {deadline} 22:59 UTC, a penalty after)"
        )),
        "the hotel's deadline in its own offset, told in UTC: {}",
        offers[0].title
    );
    assert!(
        offers[1]
            .title
            .ends_with("cancel with the hotel: non-refundable)")
    );

    let token = &fake.received_on("POST", "/v1/security/oauth2/token")[0];
    assert_eq!(token.field("grant_type"), Some("client_credentials"));
    assert_eq!(token.field("client_id"), Some(CLIENT_ID));
    assert_eq!(token.field("client_secret"), Some(CLIENT_SECRET));
    let listed = &fake.received_on("GET", "/v1/reference-data/locations/hotels/by-city")[0];
    assert_eq!(listed.field("cityCode"), Some("PAR"));
    let searched = &fake.received_on("GET", "/v3/shopping/hotel-offers")[0];
    assert_eq!(
        searched.field("hotelIds"),
        Some("FKPARLUM,FKPARMAR,FKPARBAS")
    );
    assert_eq!(searched.field("adults"), Some("2"));
    assert_eq!(searched.field("currency"), Some("EUR"));
    assert_eq!(searched.field("roomQuantity"), Some("1"));
    assert_eq!(
        searched.field("checkInDate"),
        Some(check_in().to_string().as_str())
    );
    assert!(
        searched
            .header("authorization")
            .unwrap()
            .starts_with("Bearer FAKETOKEN")
    );
    assert!(
        searched
            .header("user-agent")
            .unwrap()
            .starts_with("itinera/")
    );

    amadeus.quote(&offers[0]).await.unwrap();
    amadeus.search(&paris(1)).await.unwrap();
    assert_eq!(
        fake.received_on("GET", "/v1/reference-data/locations/hotels/by-city")
            .len(),
        1,
        "a city's hotels are listed once"
    );
    assert_eq!(
        fake.received_on("POST", "/v1/security/oauth2/token").len(),
        1,
        "the token is reused until it nears expiry"
    );
}

#[tokio::test]
async fn a_booking_re_prices_the_offer_then_orders_the_room_with_the_agency_s_card() {
    let fake = FakeAmadeus::start().await;
    let amadeus = adapter(&fake);
    let offer = lumiere(&amadeus).await;
    let booked = Booking::new()
        .book(&amadeus, &offer, &guests())
        .await
        .unwrap();

    let orders = fake.orders();
    assert_eq!(orders.len(), 1);
    assert_eq!(booked.reference, orders[0]["id"]);
    assert_eq!(
        booked.confirmation,
        orders[0]["hotelBookings"][0]["hotelProviderInformation"][0]["confirmationNumber"],
        "the traveller shows the hotel's confirmation number"
    );

    let calls: Vec<(String, String)> = fake
        .received()
        .into_iter()
        .map(|r| (r.method, r.path))
        .collect();
    let repriced = calls
        .iter()
        .position(|(m, p)| {
            m == "GET" && p == &format!("/v3/shopping/hotel-offers/{}", offer.id.as_str())
        })
        .expect("the offer is priced again");
    let ordered = calls
        .iter()
        .position(|(m, p)| m == "POST" && p == "/v2/booking/hotel-orders")
        .unwrap();
    assert!(repriced < ordered);

    let sent = &fake.received_on("POST", "/v2/booking/hotel-orders")[0];
    assert_eq!(
        sent.header("content-type"),
        Some("application/vnd.amadeus+json")
    );
    let data = &sent.json.as_ref().unwrap()["data"];
    assert_eq!(data["type"], "hotel-order");
    assert_eq!(data["travelAgent"]["contact"]["email"], AGENCY_EMAIL);
    assert_eq!(data["guests"][0]["tid"], 1);
    assert_eq!(data["guests"][0]["firstName"], "ADA");
    assert_eq!(data["guests"][0]["lastName"], "LOVELACE");
    assert_eq!(data["guests"][0]["title"], "MS");
    assert_eq!(data["guests"][0]["phone"], "+33612345678");
    assert_eq!(data["guests"][1]["lastName"], "SOMERVILLE");
    assert_eq!(
        data["roomAssociations"],
        serde_json::json!([{"guestReferences": [{"guestReference": "1"}, {"guestReference": "2"}], "hotelOfferId": offer.id.as_str()}])
    );
    assert_eq!(
        data["payment"],
        serde_json::json!({"method": "CREDIT_CARD", "paymentCard": {"paymentCardInfo": {
            "vendorCode": "VI", "cardNumber": CARD_NUMBER, "expiryDate": "2027-08",
            "holderName": "AGENCY DESK", "securityCode": "123"}}})
    );
}

#[tokio::test]
async fn cancelling_tells_the_person_to_contact_the_hotel_and_never_pretends() {
    let fake = FakeAmadeus::start().await;
    let amadeus = adapter(&fake);
    let offer = lumiere(&amadeus).await;
    let booking = Booking::new();
    let booked = booking.book(&amadeus, &offer, &guests()).await.unwrap();
    let before = fake.received().len();

    let (code, message) = rejected(
        amadeus
            .cancel(cancelling(
                &booked.reference,
                &booking.key(Operation::Cancel),
            ))
            .await,
    );
    assert_eq!(code, "cancel_with_hotel");
    assert!(message.contains("contact the hotel"), "{message}");
    assert!(message.contains(&booked.reference), "{message}");
    assert_eq!(
        fake.received().len(),
        before,
        "nothing was sent: there is no API"
    );
}

#[tokio::test]
async fn an_offer_sold_since_is_no_longer_available_and_nothing_is_ordered() {
    let fake = FakeAmadeus::start().await;
    let amadeus = adapter(&fake);
    let offer = lumiere(&amadeus).await;
    fake.withdraw(offer.id.as_str());

    assert!(matches!(
        amadeus.quote(&offer).await,
        Err(BookingError::NoLongerAvailable { .. })
    ));
    assert!(matches!(
        Booking::new().book(&amadeus, &offer, &guests()).await,
        Err(BookingError::NoLongerAvailable { .. })
    ));
    assert!(fake.orders().is_empty());
}

#[tokio::test]
async fn a_changed_price_is_refused_before_anything_is_ordered() {
    let fake = FakeAmadeus::start().await;
    let amadeus = adapter(&fake);
    let offer = lumiere(&amadeus).await;
    fake.reprice(offer.id.as_str(), "468.00");

    assert_eq!(amadeus.quote(&offer).await.unwrap().price, eur("468.00"));
    let (code, message) = rejected(Booking::new().book(&amadeus, &offer, &guests()).await);
    assert_eq!(code, "price_changed");
    assert!(message.contains("EUR 468.00"), "{message}");
    assert!(fake.orders().is_empty());
}

#[tokio::test]
async fn amadeus_s_validation_errors_keep_its_code_and_words() {
    let fake = FakeAmadeus::start().await;
    let amadeus = adapter(&fake);
    let yesterday = Utc::now().date_naive() - chrono::Duration::days(1);
    let past = SearchQuery::Hotels {
        city: City::parse("PAR").unwrap(),
        check_in: yesterday,
        check_out: yesterday + chrono::Duration::days(2),
        guests: 1,
        currency: Currency::parse("EUR").unwrap(),
    };
    let (code, message) = rejected(amadeus.search(&past).await);
    assert_eq!(code, "381");
    assert!(message.contains("INVALID CHECK-IN DATE"), "{message}");

    // Guests the offer was not priced for: Amadeus's own check, its code kept.
    let offer = lumiere(&amadeus).await;
    let (code, message) = rejected(Booking::new().book(&amadeus, &offer, &guests()[..1]).await);
    assert_eq!(code, "1503");
    assert!(message.contains("INVALID NUMBER OF GUESTS"), "{message}");
}

#[tokio::test]
async fn a_rate_limit_says_when_to_come_back_and_an_outage_is_unavailable() {
    let fake = FakeAmadeus::start().await;
    let amadeus = adapter(&fake);
    // The token call is not rate limited by the fake; the hotel list is.
    fake.fail_next(429, Some(3));
    assert_eq!(
        amadeus.search(&paris(1)).await.unwrap_err(),
        BookingError::Provider(ProviderError::RateLimited {
            provider: "amadeus".into(),
            retry_after: Some(Duration::from_secs(3)),
        })
    );
    fake.fail_next(503, None);
    assert!(matches!(
        amadeus.search(&paris(1)).await,
        Err(BookingError::Provider(ProviderError::Unavailable { .. }))
    ));
    assert_eq!(amadeus.search(&paris(1)).await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_booking_whose_answer_was_lost_is_never_sent_again() {
    let fake = FakeAmadeus::start().await;
    let amadeus = adapter(&fake);
    let offer = lumiere(&amadeus).await;
    let booking = Booking::new();
    fake.lose_next_order_answer();

    let lost = booking.book(&amadeus, &offer, &guests()).await;
    assert!(
        matches!(
            lost,
            Err(BookingError::Provider(ProviderError::OutcomeUnknown { .. }))
        ),
        "{lost:?}"
    );
    let message = held(booking.book(&amadeus, &offer, &guests()).await);
    assert!(message.contains("HOTEL LUMIERE FAKE"), "{message}");
    assert!(
        message.contains("under the lead traveller's name"),
        "{message}"
    );
    assert!(
        !message.contains("Lovelace"),
        "no name in what is logged: {message}"
    );
    assert!(message.contains("ask the hotel"), "{message}");
    assert_eq!(
        fake.orders().len(),
        1,
        "the room was booked once, not twice"
    );

    // After a restart the saga log says it was sent: still never sent again.
    let restarted = adapter(&fake);
    let after_restart = Booking::new();
    after_restart.first_sent_ago(chrono::Duration::minutes(5));
    held(after_restart.book(&restarted, &offer, &guests()).await);
    assert_eq!(fake.orders().len(), 1);
}

#[tokio::test]
async fn a_hotel_order_amadeus_refused_is_sent_again_and_books_once() {
    let fake = FakeAmadeus::start().await;
    let amadeus = adapter(&fake);
    let offer = lumiere(&amadeus).await;
    let booking = Booking::new();
    fake.fail_next_order(429);

    assert!(matches!(
        booking.book(&amadeus, &offer, &guests()).await,
        Err(BookingError::Provider(ProviderError::RateLimited { .. }))
    ));
    assert_eq!(
        fake.received_on("POST", "/v2/booking/hotel-orders").len(),
        1
    );
    booking.book(&amadeus, &offer, &guests()).await.unwrap();
    assert_eq!(fake.orders().len(), 1);
}

#[tokio::test]
async fn no_answer_to_the_re_pricing_is_an_outage_and_the_booking_goes_through_after() {
    let fake = FakeAmadeus::start().await;
    let amadeus = adapter(&fake);
    let offer = lumiere(&amadeus).await;
    let booking = Booking::new();
    fake.fail_next(500, None);

    let first = booking.book(&amadeus, &offer, &guests()).await;
    assert!(
        matches!(
            first,
            Err(BookingError::Provider(ProviderError::Unavailable { .. }))
        ),
        "the hotel order was never sent, so nothing can be booked: {first:?}"
    );
    assert!(
        fake.received_on("POST", "/v2/booking/hotel-orders")
            .is_empty()
    );
    booking.book(&amadeus, &offer, &guests()).await.unwrap();
    assert_eq!(fake.orders().len(), 1);
}

#[tokio::test]
async fn an_offer_the_hotel_now_wants_paid_at_the_stay_is_not_booked() {
    let fake = FakeAmadeus::start().await;
    let amadeus = adapter(&fake);
    let offer = lumiere(&amadeus).await;
    fake.pay_at_hotel(offer.id.as_str());
    let (code, message) = rejected(amadeus.quote(&offer).await);
    assert_eq!(code, "paid_at_hotel");
    assert!(message.contains("pay twice"), "{message}");
    rejected(Booking::new().book(&amadeus, &offer, &guests()).await);
    assert!(fake.orders().is_empty());
}

#[tokio::test]
async fn an_on_request_booking_is_not_counted_as_booked_and_says_what_to_release() {
    let fake = FakeAmadeus::start().await;
    let amadeus = adapter(&fake);
    let offer = lumiere(&amadeus).await;
    fake.next_order_status("PENDING");

    let message = held(Booking::new().book(&amadeus, &offer, &guests()).await);
    let order = &fake.orders()[0];
    assert!(message.contains(order["id"].as_str().unwrap()), "{message}");
    assert!(message.contains("ask the hotel to release it"), "{message}");
}

#[tokio::test]
async fn wrong_credentials_name_the_variables_to_fix() {
    let fake = FakeAmadeus::start().await;
    let amadeus = adapter_with(&fake, "not-the-secret");
    let (code, message) = rejected(amadeus.search(&paris(1)).await);
    assert_eq!(code, "invalid_client");
    assert!(
        message.contains("Client credentials are invalid"),
        "{message}"
    );
    assert!(
        message.contains("ITINERA_AMADEUS_CLIENT_SECRET"),
        "{message}"
    );
    assert!(
        fake.received_on("GET", "/v1/reference-data/locations/hotels/by-city")
            .is_empty()
    );
}

#[tokio::test]
async fn a_token_amadeus_stopped_taking_is_replaced_and_the_call_goes_through() {
    let fake = FakeAmadeus::start().await;
    let amadeus = adapter(&fake);
    amadeus.search(&paris(1)).await.unwrap();
    fake.revoke_tokens();

    assert_eq!(amadeus.search(&paris(1)).await.unwrap().len(), 2);
    assert_eq!(
        fake.received_on("POST", "/v1/security/oauth2/token").len(),
        2
    );
}
