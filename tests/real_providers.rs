//! The core flow run against the fakes of real providers instead of the sandbox's travel
//! inventory: Duffel sells the flight, Amadeus the hotel and Viator the activity, over HTTP in
//! their wire formats; the sandbox only takes the payment. A trip books at all three, a
//! cancellation refunds what Duffel and Viator give back and says to contact the hotel for
//! Amadeus's, and a hotel that fails after the flight was booked rolls back by cancelling the
//! real (fake) Duffel order.

mod common;

use common::amadeus_fake::{self, FakeAmadeus};
use common::duffel_fake::{self, FakeDuffel};
use common::getyourguide_fake::FakeGetYourGuide;
use common::viator_fake::{self, FakeViator};
use common::{Harness, Options, money};
use serde_json::{Value, json};

struct Trip {
    h: Harness,
    duffel: FakeDuffel,
    amadeus: FakeAmadeus,
    viator: FakeViator,
}

async fn with_real_providers() -> Trip {
    let duffel = FakeDuffel::start().await;
    let amadeus = FakeAmadeus::start().await;
    let viator = FakeViator::start().await;
    let h = Harness::with(Options {
        duffel: Some(duffel.settings(duffel_fake::TOKEN)),
        amadeus: Some(amadeus.settings(amadeus_fake::CLIENT_SECRET)),
        viator: Some(viator.settings(viator_fake::API_KEY)),
        ..Options::default()
    })
    .await;
    Trip {
        h,
        duffel,
        amadeus,
        viator,
    }
}

/// A Duffel flight to Paris, an Amadeus hotel there for two nights and the Eiffel Tower at
/// Viator the day after the stay (so it waits for the flight only, booked beside the hotel),
/// approved: the plan id and the offers.
async fn approved_trip(h: &Harness) -> (String, Value, Value, Value) {
    let flights = h
        .ok(
            "search_flights",
            json!({"origin": "LHR", "destination": "CDG", "date": h.day(20), "currency": "EUR"}),
        )
        .await;
    let flight = flights["offers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["price"]["amount"] == "294.40")
        .unwrap()
        .clone();
    assert_eq!(flight["provider"], "duffel");
    let hotels = h
        .ok(
            "search_hotels",
            json!({"city": "Paris", "check_in": h.day(20), "check_out": h.day(22), "currency": "EUR"}),
        )
        .await;
    let offers = hotels["offers"].as_array().unwrap();
    assert!(
        offers.iter().all(|o| o["provider"] == "amadeus"),
        "hotels come from Amadeus only: {hotels}"
    );
    let hotel = offers
        .iter()
        .find(|o| {
            o["title"]
                .as_str()
                .unwrap()
                .starts_with("HOTEL LUMIERE FAKE")
        })
        .unwrap()
        .clone();
    assert_eq!(hotel["price"]["amount"], "280.00", "two nights at 140.00");
    let activities = h
        .ok(
            "search_activities",
            json!({"city": "Paris", "date": h.day(23), "participants": 1, "currency": "EUR"}),
        )
        .await;
    let activity = activities["offers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["title"].as_str().unwrap().starts_with("Eiffel"))
        .unwrap()
        .clone();
    assert_eq!(activity["provider"], "viator");
    let plan_id = h
        .approved_plan(json!({
                "title": "Paris, really",
                "travellers": [{"given_name": "Ada", "family_name": "Lovelace", "date_of_birth": "1990-05-17", "email": "ada@example.com", "phone": "+33 6 12 34 56 78", "title": "ms", "gender": "f"}],
                "payment_method": "pm_sandbox_visa",
                "items": [{"offer_id": flight["id"]}, {"offer_id": hotel["id"]}, {"offer_id": activity["id"]}],
            }))
        .await;
    (plan_id, flight, hotel, activity)
}

fn item<'a>(order: &'a Value, kind: &str) -> &'a Value {
    order["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["kind"] == kind)
        .unwrap()
}

#[tokio::test]
async fn a_trip_books_at_duffel_amadeus_and_viator_and_charges_the_total() {
    let Trip {
        h,
        duffel,
        amadeus,
        viator,
    } = with_real_providers().await;
    let (plan_id, flight, hotel, activity) = approved_trip(&h).await;
    let order = h
        .ok("execute_travel_plan", json!({"plan_id": plan_id}))
        .await;
    assert_eq!(order["status"], "confirmed", "{order}");

    let duffel_orders = duffel.orders();
    let [(duffel_order, false)] = duffel_orders.as_slice() else {
        panic!("one live order at Duffel: {duffel_orders:?}");
    };
    let hotel_orders = amadeus.orders();
    assert_eq!(hotel_orders.len(), 1, "one hotel order at Amadeus");
    let status = h
        .ok("get_booking_status", json!({"order_id": order["order_id"]}))
        .await;
    let documents = status["documents"].as_array().unwrap();
    let confirmation =
        |kind: &str| documents.iter().find(|d| d["kind"] == kind).unwrap()["confirmation"].clone();
    assert_eq!(
        confirmation("hotel"),
        hotel_orders[0]["hotelBookings"][0]["hotelProviderInformation"][0]["confirmationNumber"],
        "{status}"
    );
    assert!(confirmation("flight").as_str().unwrap().starts_with("ZZ"));
    assert!(!duffel_order.is_empty());
    let tours = viator.bookings();
    assert_eq!(tours.len(), 1, "one booking at Viator");
    assert_eq!(tours[0].status, "CONFIRMED");
    assert_eq!(confirmation("activity"), tours[0].booking_ref.as_str());
    let total = money(&flight["price"])
        .checked_add(&money(&hotel["price"]))
        .and_then(|sum| sum.checked_add(&money(&activity["price"])))
        .unwrap();
    assert_eq!(money(&status["captured"]), total, "{status}");
    let guest = &hotel_orders[0]["guests"][0];
    assert_eq!(guest["lastName"], "LOVELACE");
}

#[tokio::test]
async fn cancelling_the_trip_refunds_flight_and_tour_and_says_the_hotel_must_be_cancelled_with_it()
{
    let Trip {
        h,
        duffel,
        amadeus,
        viator,
    } = with_real_providers().await;
    let (plan_id, flight, _, activity) = approved_trip(&h).await;
    let order = h
        .ok("execute_travel_plan", json!({"plan_id": plan_id}))
        .await;
    assert_eq!(order["status"], "confirmed", "{order}");

    let cancelled = h
        .call("cancel_booking", json!({"order_id": order["order_id"]}))
        .await;
    let status = h
        .ok("get_booking_status", json!({"order_id": order["order_id"]}))
        .await;
    assert!(duffel.orders()[0].1, "the flight is cancelled at Duffel");
    assert_eq!(
        viator.bookings()[0].status,
        "CANCELED",
        "the tour at Viator"
    );
    let given_back = money(&flight["price"])
        .checked_add(&money(&activity["price"]))
        .unwrap();
    assert_eq!(
        money(&status["refunded"]),
        given_back,
        "what Duffel and Viator gave back (both free to cancel 20 days ahead), not the hotel: {cancelled:?} {status}"
    );
    let hotel = item(&status, "hotel");
    assert_eq!(hotel["status"], "cancellation_failed", "{status}");
    let why = hotel["failure"].as_str().unwrap();
    assert!(why.contains("contact the hotel"), "{why}");
    assert!(
        why.contains(amadeus.orders()[0]["id"].as_str().unwrap()),
        "names the Amadeus order: {why}"
    );
}

#[tokio::test]
async fn a_hotel_the_hotel_denies_rolls_back_the_flight_booked_at_duffel() {
    let Trip {
        h,
        duffel,
        amadeus,
        viator,
    } = with_real_providers().await;
    let (plan_id, _, _, _) = approved_trip(&h).await;
    amadeus.next_order_status("DENIED");
    let failure = h.failed_execution(&plan_id).await;
    assert!(failure.contains("did not confirm the booking"), "{failure}");
    assert!(failure.contains("nothing was charged"), "{failure}");

    let orders = duffel.orders();
    assert_eq!(orders.len(), 1, "the flight was booked first: {orders:?}");
    assert!(orders[0].1, "and cancelled at Duffel in the rollback");
    assert_eq!(
        duffel.received_on("POST", "/air/order_cancellations")[0]
            .json
            .as_ref()
            .unwrap()["data"]["order_id"],
        orders[0].0.as_str()
    );
    assert!(
        viator
            .bookings()
            .iter()
            .all(|tour| tour.status == "CANCELED"),
        "a tour booked beside the hotel is cancelled at Viator too"
    );
}

#[tokio::test]
async fn a_room_taken_only_on_request_is_not_charged_and_itinera_doctor_says_to_release_it() {
    let Trip {
        h, amadeus, duffel, ..
    } = with_real_providers().await;
    let (plan_id, _, _, _) = approved_trip(&h).await;
    amadeus.next_order_status("PENDING");
    let failure = h.failed_execution(&plan_id).await;
    assert!(failure.contains("nothing was charged"), "{failure}");
    assert!(duffel.orders()[0].1, "the flight is rolled back");

    let output = std::process::Command::new(env!("CARGO_BIN_EXE_itinera"))
        .arg("doctor")
        .env("ITINERA_DATA_DIR", h.dir.path())
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let report = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert!(
        report.contains("amadeus may still hold a booking"),
        "{report}"
    );
    assert!(
        report.contains("only took the booking on request"),
        "{report}"
    );
    assert!(
        report.contains("Ask amadeus whether it holds a booking for this order"),
        "{report}"
    );
}

/// Providers and prices of a search answer's offers, in the order shown.
fn shown(found: &Value) -> Vec<(String, String)> {
    found["offers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["provider"].as_str().unwrap().to_string(),
                o["price"]["amount"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_search_asks_every_provider_of_the_kind_ranks_them_together_and_names_one_that_failed() {
    let duffel = FakeDuffel::start().await;
    let amadeus = FakeAmadeus::start().await;
    let viator = FakeViator::start().await;
    let gyg = FakeGetYourGuide::start().await;
    let mut stays = duffel.settings(duffel_fake::TOKEN);
    stays.products = vec![itinera::adapters::booking::duffel::DuffelProduct::Stays];
    let h = Harness::with(Options {
        duffel: Some(stays),
        amadeus: Some(amadeus.settings(amadeus_fake::CLIENT_SECRET)),
        viator: Some(viator.settings(viator_fake::API_KEY)),
        gyg: Some(gyg.settings("gyg-token-it-refuses")),
        ..Options::default()
    })
    .await;
    let search =
        json!({"city": "Paris", "check_in": h.day(20), "check_out": h.day(23), "currency": "EUR"});

    let hotels = h.ok("search_hotels", search.clone()).await;
    let offers = shown(&hotels);
    let providers: std::collections::BTreeSet<&str> =
        offers.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        providers.into_iter().collect::<Vec<_>>(),
        ["amadeus", "duffel_stays"],
        "{hotels}"
    );
    let prices: Vec<rust_decimal::Decimal> =
        offers.iter().map(|(_, p)| p.parse().unwrap()).collect();
    assert!(
        prices.is_sorted(),
        "both providers' hotels in one order, cheapest first: {offers:?}"
    );
    assert!(
        hotels.get("providers_missing").is_none(),
        "every provider answered: {hotels}"
    );

    duffel.refuse_next("/stays/search", 503, "api_error", "service_unavailable");
    let without_duffel = h.ok("search_hotels", search).await;
    assert!(
        shown(&without_duffel).iter().all(|(p, _)| p == "amadeus")
            && !shown(&without_duffel).is_empty(),
        "Amadeus's hotels are still shown: {without_duffel}"
    );
    let missing = &without_duffel["providers_missing"];
    assert_eq!(missing.as_array().unwrap().len(), 1, "{missing}");
    assert_eq!(missing[0]["provider"], "duffel_stays");
    assert!(
        missing[0]["reason"]
            .as_str()
            .unwrap()
            .contains("unavailable: HTTP 503"),
        "{missing}"
    );
    assert!(
        missing[0]["reason"]
            .as_str()
            .unwrap()
            .starts_with("duffel_stays "),
        "the reason names the product that failed, not Duffel's flights: {missing}"
    );
    assert!(
        without_duffel["next_step"]
            .as_str()
            .unwrap()
            .contains("search again later"),
        "{without_duffel}"
    );

    let activities = h
        .ok(
            "search_activities",
            json!({"city": "Paris", "date": h.day(21), "participants": 1, "currency": "EUR"}),
        )
        .await;
    assert!(
        !shown(&activities).is_empty() && shown(&activities).iter().all(|(p, _)| p == "viator"),
        "{activities}"
    );
    let missing = &activities["providers_missing"];
    assert_eq!(missing[0]["provider"], "getyourguide", "{missing}");
    assert!(
        missing[0]["reason"]
            .as_str()
            .unwrap()
            .contains("ITINERA_GETYOURGUIDE"),
        "the operator is told which setting to fix: {missing}"
    );
}
