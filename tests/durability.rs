//! Durability: lost answers, timeouts, outages and rate limits at random (seeded) rates, and
//! concurrent executions, with the order store checked against the sandbox ledger afterwards.

mod common;

use common::{Harness, Options};
use serde_json::{Value, json};

/// One offer of each kind in `city`, `days` ahead: a flight in, a stay, an activity, a car.
async fn trip(h: &Harness, airport: &str, city: &str, days: i64) -> Vec<Value> {
    let day = |n: i64| h.day(days + n);
    let first = |found: Value| found["offers"][0].clone();
    vec![
        first(h.ok("search_flights", json!({"origin": "LHR", "destination": airport, "date": day(0), "currency": "EUR"})).await),
        first(h.ok("search_hotels", json!({"city": city, "check_in": day(0), "check_out": day(3), "currency": "EUR"})).await),
        first(h.ok("search_activities", json!({"city": city, "date": day(1), "currency": "EUR"})).await),
        first(
            h.ok("search_car_rentals", json!({"city": city, "pick_up_date": day(1), "drop_off_date": day(3), "currency": "EUR"}))
                .await,
        ),
    ]
}

fn fault_schedule() -> Options {
    Options {
        faults: "*.book=lost@25%,flight.book=timeout@15%,hotel.book=unavailable@10%,activity.book=fail@15%,\
                 *.cancel=lost@25%,payment.authorize=lost@20%,payment.capture=lost@30%,payment.void=lost@30%,\
                 payment.*=rate_limited@10%",
        fault_seed: 7,
        ..Options::default()
    }
}

#[tokio::test]
async fn a_schedule_of_faults_never_books_or_charges_twice() {
    twelve_trips_under_faults(fault_schedule()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schedule_of_faults_never_books_or_charges_twice_with_the_store_on_postgres() {
    if let Some(options) = fault_schedule().on_postgres().await {
        twelve_trips_under_faults(options).await;
    }
}

/// Twelve four-item trips booked under `options`' faults, then recovered until all settle.
async fn twelve_trips_under_faults(options: Options) {
    let h = Harness::with(options).await;
    let destinations = [
        ("CDG", "PAR"),
        ("FCO", "ROM"),
        ("BCN", "BCN"),
        ("AMS", "AMS"),
    ];
    let mut outcomes = Vec::new();
    for round in 0..3 {
        for (index, (airport, city)) in destinations.iter().enumerate() {
            let offers = trip(&h, airport, city, 10 + 5 * round + index as i64).await;
            let priorities = ["must_have", "must_have", "optional", "preferred"];
            let with: Vec<_> = offers.into_iter().zip(priorities).collect();
            let order = h.execute(&with, "pm_sandbox_visa").await;
            outcomes.push(order["status"].as_str().unwrap().to_string());
        }
    }
    // Whatever is still waiting for an answer is resumed by recovery, as the server does.
    for _ in 0..10 {
        if h.app.recover().await.unwrap().examined == 0 {
            break;
        }
    }
    // With the faults over (and any open circuit cooled down), everything settles.
    h.set_faults("");
    for _ in 0..5 {
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
        let pass = h.app.recover().await.unwrap();
        assert!(pass.errors.is_empty(), "{:?}", pass.errors);
        if pass.examined == pass.settled {
            break;
        }
    }
    h.assert_store_matches_ledger().await;
    assert!(
        outcomes
            .iter()
            .any(|s| s == "confirmed" || s == "partially_confirmed"),
        "{outcomes:?}"
    );
    // The schedule really struck: calls were sent again, and some answers had to be looked up.
    assert!(
        h.rows("saga_steps WHERE attempts > 1").await > 0,
        "no call was ever retried"
    );
    eprintln!(
        "outcomes {outcomes:?}, retried steps {}",
        h.rows("saga_steps WHERE attempts > 1").await
    );
}

#[tokio::test]
async fn two_concurrent_executions_of_one_plan_book_once() {
    let h = Harness::with(Options {
        faults: "*.latency=30ms",
        ..Options::default()
    })
    .await;
    let (plan_id, _) = h.approved_paris_plan("pm_sandbox_visa").await;
    let (first, second) = tokio::join!(
        h.ok("execute_travel_plan", json!({"plan_id": plan_id})),
        h.ok("execute_travel_plan", json!({"plan_id": plan_id})),
    );
    assert_eq!(first["order_id"], second["order_id"]);
    assert_eq!(first["status"], "confirmed", "{first}");
    assert_eq!(
        second["status"], "confirmed",
        "the second call waits for the first: {second}"
    );
    assert_eq!(h.ledger_bookings().await.len(), 4);
    h.assert_store_matches_ledger().await;
}

#[tokio::test]
async fn a_lost_capture_is_looked_up_not_repeated() {
    let h = Harness::with(Options {
        faults: "payment.capture=lost",
        ..Options::default()
    })
    .await;
    let (plan_id, _) = h.approved_paris_plan("pm_sandbox_visa").await;
    let order = h
        .ok("execute_travel_plan", json!({"plan_id": plan_id}))
        .await;
    assert_eq!(order["status"], "payment_processing", "{order}");
    let timeline = order["timeline"].to_string();
    assert!(
        timeline.contains("Waiting for the payment provider to confirm the capture"),
        "{timeline}"
    );

    h.set_faults("");
    let report = h.app.recover().await.unwrap();
    assert_eq!((report.examined, report.settled), (1, 1));
    let done = h
        .ok("get_booking_status", json!({"order_id": order["order_id"]}))
        .await;
    assert_eq!(done["status"], "confirmed");
    let payment = done["payment"]["reference"].as_str().unwrap();
    let captures = h
        .sandbox()
        .ledger()
        .movements(payment)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.kind == "capture")
        .count();
    assert_eq!(captures, 1, "the retried capture replayed the first one");
    h.assert_store_matches_ledger().await;
}

#[tokio::test]
async fn a_dead_provider_fails_fast_with_a_clear_message() {
    let h = Harness::with(Options {
        faults: "hotel.book=unavailable",
        breaker_cooldown: std::time::Duration::from_secs(60),
        ..Options::default()
    })
    .await;
    let mut failures = Vec::new();
    for days in [10, 11, 12] {
        let found = h
            .ok("search_hotels", json!({"city": "Lisbon", "check_in": h.day(days), "check_out": h.day(days + 2), "currency": "EUR"}))
            .await;
        let order = h
            .execute(
                &[(found["offers"][0].clone(), "must_have")],
                "pm_sandbox_visa",
            )
            .await;
        assert_eq!(order["status"], "failed", "{order}");
        failures.push(order["items"][0]["failure"].as_str().unwrap().to_string());
    }
    assert!(failures[0].contains("service unavailable"), "{failures:?}");
    assert!(
        failures[2].contains("calls to it are paused") && failures[2].contains("try again later"),
        "after repeated failures the circuit opens: {failures:?}"
    );
    assert!(h.ledger_bookings().await.is_empty());
}

#[tokio::test]
async fn status_shows_an_execution_in_progress() {
    let h = Harness::with(Options {
        faults: "*.latency=300ms",
        ..Options::default()
    })
    .await;
    let (plan_id, _) = h.approved_paris_plan("pm_sandbox_visa").await;
    let execution = h.ok("execute_travel_plan", json!({"plan_id": plan_id}));
    let watch = async {
        // Re-quote and hold take two calls (600 ms); capture comes after three phases (1.5 s).
        tokio::time::sleep(std::time::Duration::from_millis(900)).await;
        let list = h.ok("list_bookings", json!({})).await;
        let order_id = list["orders"][0]["order_id"].clone();
        h.ok("get_booking_status", json!({"order_id": order_id}))
            .await
    };
    let (finished, midway) = tokio::join!(execution, watch);
    assert_eq!(midway["status"], "payment_processing", "{midway}");
    assert!(
        midway["timeline"].to_string().contains("Hold of"),
        "{midway}"
    );
    assert_eq!(finished["status"], "confirmed");
}
