//! The Duffel Cars adapter against the local Duffel (`tests/common/duffel_fake/cars.rs`): a
//! search around the city's centre for the searched driver, only cars prepaid to Duffel sold,
//! the quote a booking pays, the driver checked before anything is sent, a lost answer never
//! sent again (Duffel Cars cannot list bookings), a cancellation that promises nothing back.

mod common;

use common::rental::{driver_aged, pick_up, three_days_in};

use std::sync::Arc;

use common::booking_attempt::{Booking, cancelling, rejected};
use common::duffel_fake::{FakeDuffel, TOKEN};
use itinera::adapters::booking::duffel_cars::DuffelCars;
use itinera::domain::idempotency::Operation;
use itinera::domain::money::{Currency, Money};
use itinera::domain::offer::{CancellationPolicy, Offer};
use itinera::ports::booking::BookingError;
use itinera::ports::{BookingProvider, ProviderError, SystemClock};

fn adapter(fake: &FakeDuffel) -> DuffelCars {
    DuffelCars::new(&fake.settings(TOKEN), Arc::new(SystemClock)).unwrap()
}

fn eur(amount: &str) -> Money {
    Money::parse(amount, "EUR").unwrap()
}

async fn peugeot(cars: &DuffelCars) -> Offer {
    cars.search(&three_days_in("PAR"))
        .await
        .unwrap()
        .into_iter()
        .find(|offer| offer.price == eur("135.00"))
        .unwrap()
}

#[tokio::test]
async fn a_search_sells_only_cars_prepaid_to_duffel_and_promises_no_refund() {
    let fake = FakeDuffel::start().await;
    let cars = adapter(&fake);
    let offers = cars.search(&three_days_in("PAR")).await.unwrap();

    let prices: Vec<Money> = offers.iter().map(|o| o.price).collect();
    assert_eq!(
        prices,
        [eur("135.00"), eur("297.00")],
        "the Clio (117.00) is paid at the counter: selling it would charge the traveller twice"
    );
    assert!(
        offers
            .iter()
            .all(|o| o.cancellation == CancellationPolicy::NonRefundable)
    );
    assert!(offers.iter().all(|o| o.provider == "duffel_cars"));
    assert!(
        offers[0]
            .title
            .starts_with("Hertz Peugeot 208 (economy, manual)"),
        "{}",
        offers[0].title
    );
    assert!(offers[0].title.contains("unlimited mileage"));
    assert!(
        offers[1].title.contains("300 kilometres included"),
        "{}",
        offers[1].title
    );

    let searched = &fake.received_on("POST", "/cars/search")[0];
    assert_eq!(searched.header("duffel-version"), Some("v2"));
    let data = &searched.json.as_ref().unwrap()["data"];
    assert_eq!(data["pickup_date"], pick_up().date().to_string());
    assert_eq!(data["pickup_time"], "10:00");
    assert_eq!(data["dropoff_time"], "10:00");
    assert_eq!(data["pickup_location"]["radius"], 30);
    assert_eq!(
        data["pickup_location"]["geographic_coordinates"]["latitude"],
        48.8566
    );
    assert_eq!(
        fake.car_search_drivers(),
        [serde_json::json!({"age": 30, "residence_country_code": "FR"})]
    );
}

#[tokio::test]
async fn a_car_is_booked_from_a_fresh_quote_with_the_driver_and_cancelled_once() {
    let fake = FakeDuffel::start().await;
    let cars = adapter(&fake);
    let offer = peugeot(&cars).await;
    let booking = Booking::new();
    let booked = booking
        .book(&cars, &offer, &[driver_aged(40)])
        .await
        .unwrap();

    let made = fake.car_bookings();
    assert_eq!(made.len(), 1);
    assert_eq!(booked.reference, made[0]["id"]);
    assert_eq!(booked.confirmation, made[0]["reference"]);
    assert_eq!(fake.cars_charged().to_string(), "135.00");
    let sent = &fake.received_on("POST", "/cars/bookings")[0];
    let data = &sent.json.as_ref().unwrap()["data"];
    assert!(data["quote_id"].as_str().unwrap().starts_with("quo_"));
    assert_eq!(data["driver"]["family_name"], "Lovelace");
    assert_eq!(data["driver"]["phone_number"], "+33612345678");
    assert_eq!(
        data["driver"]["date_of_birth"],
        driver_aged(40).date_of_birth.unwrap().to_string()
    );
    assert_eq!(
        data["metadata"]["itinera_key"],
        booking.key(Operation::Book).as_str()
    );
    assert!(data.get("payment").is_none(), "paid from the balance");

    let key = booking.key(Operation::Cancel);
    let receipt = cars
        .cancel(cancelling(&booked.reference, &key))
        .await
        .unwrap();
    assert!(receipt.refund.is_zero(), "non-refundable through Itinera");
    assert_eq!(receipt.refund.currency(), Currency::parse("EUR").unwrap());
    assert_eq!(fake.car_bookings()[0]["status"], "cancelled");
    cars.cancel(cancelling(&booked.reference, &key))
        .await
        .unwrap();
    let cancels = fake
        .received()
        .into_iter()
        .filter(|r| r.path.ends_with("/actions/cancel"))
        .count();
    assert_eq!(cancels, 1, "cancelled once");
}

#[tokio::test]
async fn a_driver_outside_the_searched_ages_or_without_a_birth_date_is_refused_before_any_call() {
    let fake = FakeDuffel::start().await;
    let cars = adapter(&fake);
    let offer = peugeot(&cars).await;
    let (code, message) = rejected(Booking::new().book(&cars, &offer, &[driver_aged(23)]).await);
    assert_eq!(code, "driver_details");
    assert!(message.contains("is 23 at pick-up"), "{message}");
    assert!(
        !message.contains("Lovelace"),
        "no name in what is logged: {message}"
    );
    let mut unborn = driver_aged(40);
    unborn.date_of_birth = None;
    let (code, message) = rejected(Booking::new().book(&cars, &offer, &[unborn]).await);
    assert_eq!(code, "driver_details");
    assert!(message.contains("no date_of_birth"), "{message}");
    assert!(fake.received_on("POST", "/cars/quotes").is_empty());
}

#[tokio::test]
async fn a_car_booking_whose_answer_was_lost_is_never_sent_again() {
    let fake = FakeDuffel::start().await;
    let cars = adapter(&fake);
    let offer = peugeot(&cars).await;
    let booking = Booking::new();
    fake.lose_answer_to("/cars/bookings");
    let lost = booking.book(&cars, &offer, &[driver_aged(40)]).await;
    assert!(
        matches!(
            lost,
            Err(BookingError::Provider(ProviderError::OutcomeUnknown { .. }))
        ),
        "{lost:?}"
    );
    let again = booking.book(&cars, &offer, &[driver_aged(40)]).await;
    let Err(BookingError::MayHoldABooking { message, .. }) = again else {
        panic!("not sent again: {again:?}");
    };
    assert!(message.contains("Duffel dashboard"), "{message}");
    assert_eq!(fake.car_bookings().len(), 1, "booked once");
}

#[tokio::test]
async fn a_dearer_car_books_nothing_and_errors_are_told_apart() {
    let fake = FakeDuffel::start().await;
    let cars = adapter(&fake);
    let offer = peugeot(&cars).await;
    fake.reprice_car(offer.id.as_str(), "150.00");
    let (code, message) = rejected(Booking::new().book(&cars, &offer, &[driver_aged(40)]).await);
    assert_eq!(code, "price_changed");
    assert!(message.contains("EUR 150.00"), "{message}");
    assert!(fake.car_bookings().is_empty());

    fake.rate_limit_next(3);
    assert!(matches!(
        cars.search(&three_days_in("PAR")).await,
        Err(BookingError::Provider(ProviderError::RateLimited { retry_after: Some(wait), .. }))
            if wait >= std::time::Duration::from_secs(2) && wait <= std::time::Duration::from_secs(4)
    ));
    fake.fail_next(503);
    assert!(matches!(
        cars.search(&three_days_in("PAR")).await,
        Err(BookingError::Provider(ProviderError::Unavailable { .. }))
    ));
}

#[tokio::test]
async fn a_gone_rate_a_refused_booking_and_a_refused_token_book_nothing() {
    let fake = FakeDuffel::start().await;
    let cars = adapter(&fake);
    let offer = peugeot(&cars).await;

    fake.withdraw_car(offer.id.as_str());
    let gone = Booking::new().book(&cars, &offer, &[driver_aged(40)]).await;
    assert!(
        matches!(gone, Err(BookingError::NoLongerAvailable { .. })),
        "{gone:?}"
    );

    let offer = peugeot(&cars).await;
    fake.refuse_next("/cars/bookings", 422, "validation_error", "invalid_driver");
    let (code, message) = rejected(Booking::new().book(&cars, &offer, &[driver_aged(40)]).await);
    assert_eq!(code, "invalid_driver", "Duffel's own code is kept");
    assert!(message.contains("invalid_driver"), "{message}");
    assert!(fake.car_bookings().is_empty());
    assert!(fake.cars_charged().is_zero());

    let wrong =
        DuffelCars::new(&fake.settings("duffel_test_wrong"), Arc::new(SystemClock)).unwrap();
    let (code, message) = rejected(wrong.search(&three_days_in("PAR")).await);
    assert_eq!(code, "invalid_authentication");
    assert!(message.contains("ITINERA_DUFFEL_ACCESS_TOKEN"), "{message}");

    // Refused for good, so a new attempt is a new booking, booked once.
    Booking::new()
        .book(&cars, &offer, &[driver_aged(40)])
        .await
        .unwrap();
    assert_eq!(fake.car_bookings().len(), 1);
}
