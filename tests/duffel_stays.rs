//! The Duffel Stays adapter against the local Duffel (`tests/common/duffel_fake/stays.rs`): a
//! search around the city's centre with every rate fetched, only rates paid now from the
//! balance offered, the quote a booking pays, the booking found again after a lost answer, the
//! refund read from the booked rate's cancellation timeline.

mod common;

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use common::booking_attempt::{Booking, cancelling, rejected};
use common::duffel_fake::{FakeDuffel, TOKEN};
use itinera::adapters::booking::duffel_stays::DuffelStays;
use itinera::domain::idempotency::Operation;
use itinera::domain::money::{Currency, Money};
use itinera::domain::offer::{CancellationPolicy, Offer};
use itinera::domain::places::City;
use itinera::domain::plan::Traveller;
use itinera::ports::booking::{BookingError, SearchQuery};
use itinera::ports::{BookingProvider, ProviderError, SystemClock};

fn adapter(fake: &FakeDuffel, token: &str) -> DuffelStays {
    DuffelStays::new(&fake.settings(token), Arc::new(SystemClock)).unwrap()
}

fn eur(amount: &str) -> Money {
    Money::parse(amount, "EUR").unwrap()
}

fn check_in() -> NaiveDate {
    Utc::now().date_naive() + chrono::Duration::days(20)
}

fn paris(guests: u8) -> SearchQuery {
    SearchQuery::Hotels {
        city: City::parse("PAR").unwrap(),
        check_in: check_in(),
        check_out: check_in() + chrono::Duration::days(3),
        guests,
        currency: Currency::parse("EUR").unwrap(),
    }
}

fn ada() -> Traveller {
    serde_json::from_value(serde_json::json!({
        "given_name": "Ada",
        "family_name": "Lovelace",
        "email": "ada@example.com",
        "phone": "+33 6 12 34 56 78",
    }))
    .unwrap()
}

/// The fake's offer priced at `amount` for three nights.
async fn stay_at(stays: &DuffelStays, amount: &str) -> Offer {
    stays
        .search(&paris(1))
        .await
        .unwrap()
        .into_iter()
        .find(|offer| offer.price == eur(amount))
        .unwrap()
}

#[tokio::test]
async fn a_search_offers_each_hotel_at_its_cheapest_rate_paid_now() {
    let fake = FakeDuffel::start().await;
    let stays = adapter(&fake, TOKEN);
    let offers = stays.search(&paris(2)).await.unwrap();

    let prices: Vec<Money> = offers.iter().map(|o| o.price).collect();
    assert_eq!(
        prices,
        [eur("240.00"), eur("450.00")],
        "the Opera's cheaper guarantee rate (360.00, charged by the hotel) is not sold"
    );
    let (budget, opera) = (&offers[0], &offers[1]);
    let free_until = DateTime::parse_from_rfc3339(&format!(
        "{}T12:00:00Z",
        check_in() - chrono::Duration::days(3)
    ))
    .unwrap()
    .with_timezone(&Utc);
    assert_eq!(
        opera.cancellation,
        CancellationPolicy::Refundable {
            free_until,
            penalty: eur("450.00")
        }
    );
    assert_eq!(budget.cancellation, CancellationPolicy::NonRefundable);
    assert!(
        budget.title.ends_with("plus EUR 15.00 paid at the hotel"),
        "{}",
        budget.title
    );
    assert!(
        opera
            .title
            .starts_with("Duffel Test Hotel Opera, Double Room")
    );
    assert!(offers.iter().all(|o| o.provider == "duffel_stays"));
    assert!(opera.id.as_str().starts_with("rat_"));

    let searched = &fake.received_on("POST", "/stays/search")[0];
    assert_eq!(searched.header("duffel-version"), Some("v2"));
    assert_eq!(
        searched.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    let data = &searched.json.as_ref().unwrap()["data"];
    assert_eq!(data["rooms"], 1);
    assert_eq!(
        data["guests"],
        serde_json::json!([{"type": "adult"}, {"type": "adult"}])
    );
    assert_eq!(data["location"]["radius"], 5);
    assert_eq!(
        data["location"]["geographic_coordinates"]["latitude"],
        48.8566
    );
    assert_eq!(
        data["location"]["geographic_coordinates"]["longitude"],
        2.3522
    );
    assert_eq!(data["check_in_date"], check_in().to_string());
    let fetched = fake
        .received()
        .into_iter()
        .filter(|r| r.path.ends_with("/actions/fetch_all_rates"))
        .count();
    assert_eq!(fetched, 2, "every rate of each hotel found");
}

#[tokio::test]
async fn a_stay_is_booked_from_a_fresh_quote_and_paid_from_the_balance() {
    let fake = FakeDuffel::start().await;
    let stays = adapter(&fake, TOKEN);
    let offer = stay_at(&stays, "450.00").await;
    let booking = Booking::new();
    let booked = booking.book(&stays, &offer, &[ada()]).await.unwrap();

    let made = fake.stay_bookings();
    assert_eq!(made.len(), 1);
    assert_eq!(booked.reference, made[0]["id"]);
    assert_eq!(booked.confirmation, made[0]["reference"]);
    assert_eq!(fake.stays_charged().to_string(), "450.00");
    let quoted = &fake.received_on("POST", "/stays/quotes")[0];
    assert_eq!(
        quoted.json.as_ref().unwrap()["data"]["rate_id"],
        offer.id.as_str()
    );
    let sent = &fake.received_on("POST", "/stays/bookings")[0];
    let data = &sent.json.as_ref().unwrap()["data"];
    assert!(data["quote_id"].as_str().unwrap().starts_with("quo_"));
    assert_eq!(
        data["guests"],
        serde_json::json!([{"given_name": "Ada", "family_name": "Lovelace"}])
    );
    assert_eq!(data["email"], "ada@example.com");
    assert_eq!(data["phone_number"], "+33612345678");
    assert_eq!(
        data["metadata"]["itinera_key"],
        booking.key(Operation::Book).as_str()
    );
    assert!(data.get("payment").is_none(), "paid from the balance");
}

#[tokio::test]
async fn cancelling_gives_back_what_the_timeline_says_once_even_if_sent_again() {
    let fake = FakeDuffel::start().await;
    let stays = adapter(&fake, TOKEN);
    let refundable = stay_at(&stays, "450.00").await;
    let booking = Booking::new();
    let booked = booking.book(&stays, &refundable, &[ada()]).await.unwrap();
    let key = booking.key(Operation::Cancel);

    let receipt = stays
        .cancel(cancelling(&booked.reference, &key))
        .await
        .unwrap();
    assert_eq!(receipt.refund, eur("450.00"));
    assert_eq!(fake.stay_bookings()[0]["status"], "cancelled");
    let again = stays
        .cancel(cancelling(&booked.reference, &key))
        .await
        .unwrap();
    assert_eq!(
        again.refund,
        eur("450.00"),
        "the earlier cancellation's refund"
    );
    let cancels = fake
        .received()
        .into_iter()
        .filter(|r| r.path.ends_with("/actions/cancel"))
        .count();
    assert_eq!(cancels, 1, "cancelled once");

    let non_refundable = stay_at(&stays, "240.00").await;
    let other = Booking::new();
    let booked = other.book(&stays, &non_refundable, &[ada()]).await.unwrap();
    let receipt = stays
        .cancel(cancelling(&booked.reference, &other.key(Operation::Cancel)))
        .await
        .unwrap();
    assert!(receipt.refund.is_zero());
}

#[tokio::test]
async fn a_stay_whose_answer_was_lost_is_found_again_not_booked_twice() {
    let fake = FakeDuffel::start().await;
    let stays = adapter(&fake, TOKEN);
    let offer = stay_at(&stays, "450.00").await;
    let booking = Booking::new();
    fake.lose_answer_to("/stays/bookings");
    let lost = booking.book(&stays, &offer, &[ada()]).await;
    assert!(
        matches!(
            lost,
            Err(BookingError::Provider(ProviderError::OutcomeUnknown { .. }))
        ),
        "{lost:?}"
    );
    booking.first_sent_ago(chrono::Duration::minutes(5));
    let found = booking.book(&stays, &offer, &[ada()]).await.unwrap();
    assert_eq!(fake.stay_bookings().len(), 1, "booked once");
    assert_eq!(found.reference, fake.stay_bookings()[0]["id"]);
    assert_eq!(fake.stays_charged().to_string(), "450.00");
}

#[tokio::test]
async fn a_sold_out_or_dearer_rate_books_nothing() {
    let fake = FakeDuffel::start().await;
    let stays = adapter(&fake, TOKEN);
    let offer = stay_at(&stays, "450.00").await;
    fake.reprice_stay(offer.id.as_str(), "495.00");
    assert_eq!(stays.quote(&offer).await.unwrap().price, eur("495.00"));
    let (code, message) = rejected(Booking::new().book(&stays, &offer, &[ada()]).await);
    assert_eq!(code, "price_changed");
    assert!(message.contains("EUR 495.00"), "{message}");

    fake.withdraw_stay(offer.id.as_str());
    assert!(matches!(
        stays.quote(&offer).await,
        Err(BookingError::NoLongerAvailable { .. })
    ));
    assert!(matches!(
        Booking::new().book(&stays, &offer, &[ada()]).await,
        Err(BookingError::NoLongerAvailable { .. })
    ));
    assert!(fake.stay_bookings().is_empty());
}

#[tokio::test]
async fn a_guest_without_a_phone_is_asked_for_one_before_anything_is_sent() {
    let fake = FakeDuffel::start().await;
    let stays = adapter(&fake, TOKEN);
    let offer = stay_at(&stays, "450.00").await;
    let mut no_phone = ada();
    no_phone.phone = None;
    let (code, message) = rejected(Booking::new().book(&stays, &offer, &[no_phone]).await);
    assert_eq!(code, "guest_contact");
    assert!(message.contains("update_travel_plan"), "{message}");
    assert!(fake.received_on("POST", "/stays/quotes").is_empty());
}

#[tokio::test]
async fn rate_limits_outages_and_a_refused_token_are_told_apart() {
    let fake = FakeDuffel::start().await;
    let stays = adapter(&fake, TOKEN);
    fake.rate_limit_next(4);
    assert!(matches!(
        stays.search(&paris(1)).await,
        Err(BookingError::Provider(ProviderError::RateLimited { retry_after: Some(wait), .. }))
            if wait >= std::time::Duration::from_secs(3) && wait <= std::time::Duration::from_secs(5)
    ));
    fake.fail_next(503);
    assert!(matches!(
        stays.search(&paris(1)).await,
        Err(BookingError::Provider(ProviderError::Unavailable { .. }))
    ));
    let (code, message) = rejected(adapter(&fake, "duffel_test_wrong").search(&paris(1)).await);
    assert_eq!(code, "invalid_authentication");
    assert!(message.contains("ITINERA_DUFFEL_ACCESS_TOKEN"), "{message}");
    assert_eq!(stays.search(&paris(1)).await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_cancellation_whose_answer_says_nothing_of_the_refund_is_sent_to_a_person() {
    let fake = FakeDuffel::start().await;
    let stays = adapter(&fake, TOKEN);
    let offer = stay_at(&stays, "450.00").await;
    let booking = Booking::new();
    let booked = booking.book(&stays, &offer, &[ada()]).await.unwrap();
    fake.hide_stay_rates();

    let (code, message) = rejected(
        stays
            .cancel(cancelling(
                &booked.reference,
                &booking.key(Operation::Cancel),
            ))
            .await,
    );
    assert_eq!(code, "refund_unknown");
    assert!(message.contains("Duffel dashboard"), "{message}");
    assert_eq!(
        fake.stay_bookings()[0]["status"],
        "cancelled",
        "cancelled once at Duffel, not asked again forever"
    );
}

#[tokio::test]
async fn a_refused_or_failed_booking_send_books_nothing_and_a_later_attempt_books_once() {
    let fake = FakeDuffel::start().await;
    let stays = adapter(&fake, TOKEN);
    let offer = stay_at(&stays, "450.00").await;

    fake.refuse_next(
        "/stays/bookings",
        422,
        "validation_error",
        "invalid_phone_number",
    );
    let (code, message) = rejected(Booking::new().book(&stays, &offer, &[ada()]).await);
    assert_eq!(code, "invalid_phone_number", "Duffel's own code is kept");
    assert!(message.contains("invalid_phone_number"), "{message}");
    assert!(fake.stay_bookings().is_empty());

    // A 500 to the booking itself: Duffel may or may not have booked, so it is unknown until
    // looked up; the lookup finds nothing, and only then is it sent again.
    let booking = Booking::new();
    fake.refuse_next("/stays/bookings", 500, "api_error", "internal_server_error");
    let failed = booking.book(&stays, &offer, &[ada()]).await;
    assert!(
        matches!(
            failed,
            Err(BookingError::Provider(ProviderError::OutcomeUnknown { .. }))
        ),
        "{failed:?}"
    );
    assert!(fake.stay_bookings().is_empty());
    booking.first_sent_ago(chrono::Duration::minutes(5));
    booking.book(&stays, &offer, &[ada()]).await.unwrap();
    assert_eq!(fake.stay_bookings().len(), 1, "booked once");
    assert!(
        !fake.received_on("GET", "/stays/bookings").is_empty(),
        "looked up before sending again"
    );
}
