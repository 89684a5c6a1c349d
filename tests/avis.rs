//! The Avis adapter against the local ABG gateway (`tests/common/avis_fake.rs`): a search at the
//! city's airport location for the searched driver, only prepaid cars sold; the car priced
//! again before it is reserved with the driver and the agency's card; a lost answer never sent
//! again (Avis cannot look a reservation up without its number); a car only on request given
//! back; a cancellation naming the driver's last name, promising nothing back; and the whole
//! trip through the MCP tools.

mod common;

use common::rental::{driver_aged, pick_up, three_days_in};

use std::sync::Arc;
use std::time::Duration;

use common::avis_fake::{AIRPORT, CARD_NUMBER, CLIENT_SECRET, FakeAvis, PAY_NOW};
use common::booking_attempt::{Booking, rejected};
use common::{Harness, Options};
use itinera::adapters::booking::avis::AvisCars;
use itinera::domain::idempotency::Operation;
use itinera::domain::money::{Currency, Money};
use itinera::domain::offer::{CancellationPolicy, Offer};
use itinera::ports::booking::{BookingError, CancelRequest};
use itinera::ports::{BookingProvider, ProviderError, SystemClock};
use serde_json::json;

fn adapter(fake: &FakeAvis) -> AvisCars {
    AvisCars::new(&fake.settings(CLIENT_SECRET), Arc::new(SystemClock)).unwrap()
}

fn eur(amount: &str) -> Money {
    Money::parse(amount, "EUR").unwrap()
}

async fn peugeot(cars: &AvisCars) -> Offer {
    cars.search(&three_days_in("PAR"))
        .await
        .unwrap()
        .into_iter()
        .find(|offer| offer.title.contains("Peugeot"))
        .unwrap()
}

/// The one element of `items`.
fn only<T: std::fmt::Debug>(items: Vec<T>) -> T {
    let [one] = <[T; 1]>::try_from(items).unwrap();
    one
}

#[tokio::test]
async fn a_search_sells_only_prepaid_cars_at_the_city_s_airport_and_promises_no_refund() {
    let fake = FakeAvis::start().await;
    let cars = adapter(&fake);
    let offers = cars.search(&three_days_in("PAR")).await.unwrap();

    let prices: Vec<Money> = offers.iter().map(|o| o.price).collect();
    assert_eq!(
        prices,
        [eur("150.00"), eur("210.75")],
        "the Fiat is sold only paid at the counter (selling it would charge the traveller twice), and the 3008 only on request"
    );
    assert!(
        offers
            .iter()
            .all(|o| o.cancellation == CancellationPolicy::NonRefundable && o.provider == "avis")
    );
    let title = &offers[0].title;
    assert!(
        title.starts_with("Avis Peugeot 208 or similar (Economy, manual)"),
        "{title}"
    );
    assert!(title.contains("unlimited mileage"), "{title}");
    assert!(title.contains("Paris Charles de Gaulle Airport"), "{title}");
    assert!(
        offers[1].title.contains("300 kilometers included"),
        "{}",
        offers[1].title
    );

    let token = only(fake.received_on("GET", "/oauth/token/v2"));
    assert_eq!(
        token.header("client_id"),
        Some(common::avis_fake::CLIENT_ID)
    );
    assert_eq!(token.header("client_secret"), Some(CLIENT_SECRET));
    let keyword = &fake.received_on("GET", "/cars/locations/v2/keyword")[0];
    assert_eq!(keyword.field("brand"), Some("Avis"));
    assert_eq!(keyword.field("keyword"), Some("Paris"));
    let searched = &fake.received_on("GET", "/cars/catalog/v2/vehicles")[0];
    assert_eq!(
        searched
            .header("authorization")
            .map(|a| a.starts_with("Bearer fake-abg-token-")),
        Some(true)
    );
    assert_eq!(
        searched.header("client_id"),
        Some(common::avis_fake::CLIENT_ID)
    );
    assert_eq!(
        searched.field("pickup_location"),
        Some(AIRPORT),
        "the airport, not downtown"
    );
    assert_eq!(searched.field("dropoff_location"), Some(AIRPORT));
    let pick_up_sent = format!("{}T10:00:00", pick_up().date());
    assert_eq!(searched.field("pickup_date"), Some(pick_up_sent.as_str()));
    assert_eq!(searched.field("country_code"), Some("FR"));
    assert_eq!(searched.field("age"), Some("30"));
}

#[tokio::test]
async fn a_city_without_an_avis_location_has_no_cars_and_no_error() {
    let fake = FakeAvis::start().await;
    let offers = adapter(&fake).search(&three_days_in("TYO")).await.unwrap();
    assert!(offers.is_empty());
    assert!(
        fake.received_on("GET", "/cars/catalog/v2/vehicles")
            .is_empty()
    );
}

#[tokio::test]
async fn a_car_is_reserved_at_its_fresh_price_with_the_agency_card_and_cancelled_by_the_driver_s_name()
 {
    let fake = FakeAvis::start().await;
    let cars = adapter(&fake);
    let offer = peugeot(&cars).await;
    let booking = Booking::new();
    let ada = [driver_aged(40)];
    let booked = booking.book(&cars, &offer, &ada).await.unwrap();

    let made = only(fake.reservations());
    assert_eq!(booked.confirmation, made.number);
    assert_eq!(booked.reference, format!("Avis.{}.EUR", made.number));
    assert_eq!(made.total, 150.0);
    assert_eq!(made.card_number, CARD_NUMBER);
    assert_eq!(
        fake.received_on("POST", "/cars/catalog/v2/vehicles/rates")
            .len(),
        1
    );
    let sent = fake.received_on("POST", "/cars/reservation/v2")[0]
        .json
        .clone()
        .unwrap();
    let ours = format!("itinera-{}", booking.key(Operation::Book).as_str());
    assert_eq!(sent["reservation"]["remark"], ours.as_str());
    assert_eq!(sent["transaction"]["transaction_id"], ours.as_str());
    assert_eq!(sent["reservation"]["email_notification"], false);
    assert_eq!(sent["reservation"]["vehicle_sipp_code"], "ECMR");
    assert_eq!(
        sent["reservation"]["pickup_date"],
        format!("{}T10:00:00", pick_up().date())
    );
    assert_eq!(sent["rate_totals"]["rate"]["rate_code"], PAY_NOW);
    assert_eq!(sent["rate_totals"]["rate"]["country_code"], "FR");
    assert_eq!(sent["rate_totals"]["rate"]["quote_id"], "Q-ECMR-150");
    let payment = &sent["payment_preference"];
    assert_eq!(payment["type"], "CustomerPaymentCard");
    assert!(payment["amount"].is_number(), "money is a JSON number");
    assert_eq!(payment["amount"].as_f64(), Some(150.0));
    assert_eq!(payment["currency"], "EUR");
    assert_eq!(payment["payment_method"]["card_type"], "VI");
    assert_eq!(payment["payment_method"]["expiry_date"], "0827");
    let contact = &sent["customer"]["contact"];
    assert_eq!(contact["last_name"], "Lovelace");
    assert_eq!(contact["telephone"], "+33612345678");
    assert_eq!(contact["age"], 40);
    assert_eq!(
        contact["date_of_birth"],
        ada[0].date_of_birth.unwrap().to_string()
    );

    let key = booking.key(Operation::Cancel);
    let cancelling = CancelRequest {
        reference: &booked.reference,
        idempotency_key: &key,
        travellers: &ada,
    };
    let receipt = cars.cancel(cancelling).await.unwrap();
    assert!(receipt.refund.is_zero(), "non-refundable through Itinera");
    assert_eq!(receipt.refund.currency(), Currency::parse("EUR").unwrap());
    assert!(fake.reservations()[0].cancelled);
    let put = fake.received_on("PUT", "/cars/reservation/v2")[0]
        .json
        .clone()
        .unwrap();
    assert_eq!(put["reservation"]["confirmation"]["number"], made.number);
    assert_eq!(put["customer"]["contact"]["last_name"], "Lovelace");
    // Sent again after a lost answer: Avis says it is already cancelled, which is done.
    cars.cancel(cancelling).await.unwrap();
    let (code, _) = rejected(
        cars.cancel(CancelRequest {
            travellers: &[],
            ..cancelling
        })
        .await,
    );
    assert_eq!(code, "no_travellers", "no name, nothing to find it by");
}

#[tokio::test]
async fn a_driver_outside_the_searched_ages_or_without_a_birth_date_is_refused_before_any_call() {
    let fake = FakeAvis::start().await;
    let cars = adapter(&fake);
    let offer = peugeot(&cars).await;
    let (code, message) = rejected(Booking::new().book(&cars, &offer, &[driver_aged(23)]).await);
    assert_eq!(code, "driver_details");
    assert!(message.contains("is 23 at pick-up"), "{message}");
    assert!(!message.contains("Lovelace"), "no name in what is logged");
    let mut unborn = driver_aged(40);
    unborn.date_of_birth = None;
    let (_, message) = rejected(Booking::new().book(&cars, &offer, &[unborn]).await);
    assert!(message.contains("no date_of_birth"), "{message}");
    assert!(
        fake.received_on("POST", "/cars/catalog/v2/vehicles/rates")
            .is_empty()
    );
}

#[tokio::test]
async fn a_reservation_whose_answer_was_lost_is_never_sent_again() {
    let fake = FakeAvis::start().await;
    let cars = adapter(&fake);
    let offer = peugeot(&cars).await;
    let booking = Booking::new();
    fake.lose_next_answer();
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
    let ours = format!("itinera-{}", booking.key(Operation::Book).as_str());
    assert!(
        message.contains(&ours),
        "names the remark to ask for: {message}"
    );
    assert_eq!(fake.reservations().len(), 1, "reserved once");
    assert_eq!(fake.reservations()[0].remark, ours);
}

#[tokio::test]
async fn a_car_avis_takes_only_on_request_is_given_back_unless_avis_confirmed_it() {
    let fake = FakeAvis::start().await;
    let cars = adapter(&fake);
    let offer = peugeot(&cars).await;
    fake.next_vehicle("OnRequest", "Pending");
    let (code, message) = rejected(Booking::new().book(&cars, &offer, &[driver_aged(40)]).await);
    assert_eq!(code, "on_request");
    assert!(message.contains("choose another car"), "{message}");
    let held = only(fake.reservations());
    assert!(
        held.cancelled,
        "the reservation on request was cancelled at once"
    );

    fake.next_vehicle("OnRequest", "Confirmed");
    let booked = Booking::new()
        .book(&cars, &offer, &[driver_aged(40)])
        .await
        .unwrap();
    let kept = fake.reservations().pop().unwrap();
    assert_eq!(booked.confirmation, kept.number);
    assert!(!kept.cancelled, "Avis confirmed the car it had to find");

    fake.next_vehicle("OnRequest", "Pending");
    fake.fail_next_cancel(503);
    let left = Booking::new().book(&cars, &offer, &[driver_aged(40)]).await;
    let Err(BookingError::MayHoldABooking { message, .. }) = left else {
        panic!("a reservation that could not be given back is said to be held: {left:?}");
    };
    let held = fake.reservations().pop().unwrap();
    assert!(!held.cancelled);
    assert!(message.contains(&held.number), "{message}");
}

#[tokio::test]
async fn a_reservation_made_at_another_total_is_given_back() {
    let fake = FakeAvis::start().await;
    let cars = adapter(&fake);
    let offer = peugeot(&cars).await;
    fake.next_booked_total(180.0);
    let (code, message) = rejected(Booking::new().book(&cars, &offer, &[driver_aged(40)]).await);
    assert_eq!(code, "price_changed");
    assert!(message.contains("EUR 180"), "{message}");
    assert!(
        only(fake.reservations()).cancelled,
        "not kept at a price nobody approved"
    );
}

#[tokio::test]
async fn a_token_refused_at_the_reservation_is_renewed_and_the_car_reserved_once() {
    let fake = FakeAvis::start().await;
    let cars = adapter(&fake);
    let offer = peugeot(&cars).await;
    fake.revoke_at_next_reservation();
    Booking::new()
        .book(&cars, &offer, &[driver_aged(40)])
        .await
        .unwrap();
    assert_eq!(fake.received_on("POST", "/cars/reservation/v2").len(), 2);
    assert_eq!(
        fake.reservations().len(),
        1,
        "the refused send made nothing"
    );
}

#[tokio::test]
async fn a_cancellation_under_another_name_is_refused_with_avis_s_code() {
    let fake = FakeAvis::start().await;
    let cars = adapter(&fake);
    let offer = peugeot(&cars).await;
    let booking = Booking::new();
    let booked = booking
        .book(&cars, &offer, &[driver_aged(40)])
        .await
        .unwrap();
    let mut someone_else = driver_aged(40);
    someone_else.family_name = "Somerville".into();
    let key = booking.key(Operation::Cancel);
    let (code, _) = rejected(
        cars.cancel(CancelRequest {
            reference: &booked.reference,
            idempotency_key: &key,
            travellers: &[someone_else],
        })
        .await,
    );
    assert_eq!(code, "150004");
    assert!(!only(fake.reservations()).cancelled);
}

#[tokio::test]
async fn a_dearer_or_sold_out_car_books_nothing_and_errors_are_told_apart() {
    let fake = FakeAvis::start().await;
    let cars = adapter(&fake);
    let offer = peugeot(&cars).await;
    fake.reprice("ECMR", 55.0);
    let (code, message) = rejected(Booking::new().book(&cars, &offer, &[driver_aged(40)]).await);
    assert_eq!(code, "price_changed");
    assert!(message.contains("EUR 165"), "{message}");
    assert_eq!(cars.quote(&offer).await.unwrap().price, eur("165.00"));

    fake.withdraw("ECMR");
    let gone = Booking::new().book(&cars, &offer, &[driver_aged(40)]).await;
    assert!(
        matches!(gone, Err(BookingError::NoLongerAvailable { .. })),
        "{gone:?}"
    );
    assert!(fake.reservations().is_empty());

    let golf = cars.search(&three_days_in("PAR")).await.unwrap().remove(0);
    fake.refuse_next_reservation(400, "212", "last_name is required");
    let (code, message) = rejected(Booking::new().book(&cars, &golf, &[driver_aged(40)]).await);
    assert_eq!(code, "212", "Avis's own code is kept");
    assert!(message.contains("last_name is required"), "{message}");
    assert!(fake.reservations().is_empty());

    fake.fail_next(429, Some(3));
    assert!(matches!(
        cars.search(&three_days_in("PAR")).await,
        Err(BookingError::Provider(ProviderError::RateLimited { retry_after: Some(wait), .. }))
            if wait == Duration::from_secs(3)
    ));
    fake.fail_next(503, None);
    assert!(matches!(
        cars.search(&three_days_in("PAR")).await,
        Err(BookingError::Provider(ProviderError::Unavailable { .. }))
    ));
    // Refused for good, so a new attempt is a new reservation, made once.
    Booking::new()
        .book(&cars, &golf, &[driver_aged(40)])
        .await
        .unwrap();
    assert_eq!(fake.reservations().len(), 1);
}

#[tokio::test]
async fn wrong_credentials_name_the_settings_and_a_revoked_token_is_replaced() {
    let fake = FakeAvis::start().await;
    let wrong = AvisCars::new(&fake.settings("not-the-secret"), Arc::new(SystemClock)).unwrap();
    let (code, message) = rejected(wrong.search(&three_days_in("PAR")).await);
    assert_eq!(code, "invalid_client");
    assert!(
        message.contains("ITINERA_AVIS_CLIENT_ID and ITINERA_AVIS_CLIENT_SECRET"),
        "{message}"
    );
    assert!(wrong.probe().await.is_err(), "itinera doctor sees it");
    assert!(
        fake.received_on("GET", "/cars/locations/v2/keyword")
            .is_empty()
    );

    let cars = adapter(&fake);
    cars.probe().await.unwrap();
    fake.revoke_tokens();
    assert_eq!(cars.search(&three_days_in("PAR")).await.unwrap().len(), 2);
    assert_eq!(
        fake.received_on("GET", "/oauth/token/v2").len(),
        4,
        "the wrong client's two, the probe's, and one more after the gateway refused the revoked token"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trip_rents_its_car_at_avis_and_cancelling_releases_it_by_the_driver_s_name() {
    let fake = FakeAvis::start().await;
    let h = Harness::with(Options {
        avis: Some(fake.settings(CLIENT_SECRET)),
        ..Options::default()
    })
    .await;
    let found = h
        .ok(
            "search_car_rentals",
            json!({"city": "Paris", "pick_up_date": h.day(20), "drop_off_date": h.day(23), "currency": "EUR"}),
        )
        .await;
    let car = found["offers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["title"].as_str().unwrap().contains("Peugeot"))
        .unwrap()
        .clone();
    assert_eq!(car["provider"], "avis", "{found}");
    let born = (h.today() - chrono::Months::new(12 * 40)).to_string();
    let plan_id = h
        .approved_plan(json!({
            "title": "Paris by car",
            "travellers": [{"given_name": "Ada", "family_name": "Lovelace", "date_of_birth": born, "email": "ada@example.com"}],
            "payment_method": "pm_sandbox_visa",
            "items": [{"offer_id": car["id"]}],
        }))
        .await;
    let order = h
        .ok("execute_travel_plan", json!({"plan_id": plan_id}))
        .await;
    assert_eq!(order["status"], "confirmed", "{order}");
    let made = only(fake.reservations());
    assert_eq!(made.last_name, "Lovelace");
    let status = h
        .ok("get_booking_status", json!({"order_id": order["order_id"]}))
        .await;
    assert!(status.to_string().contains(&made.number), "{status}");
    assert_eq!(
        common::money(&status["captured"]),
        eur("150.00"),
        "{status}"
    );

    let cancelled = h
        .ok("cancel_booking", json!({"order_id": order["order_id"]}))
        .await;
    assert!(fake.reservations()[0].cancelled, "{cancelled}");
    assert!(
        common::money(&cancelled["refunded"]).is_zero(),
        "the offer promised nothing back: {cancelled}"
    );
    let put = fake.received_on("PUT", "/cars/reservation/v2")[0]
        .json
        .clone()
        .unwrap();
    assert_eq!(put["customer"]["contact"]["last_name"], "Lovelace");
}
