//! Booking metrics checked against a known set of orders: one confirmed, one partly confirmed
//! (an optional activity the provider refused), one failed (a declined card), one confirmed then
//! cancelled and refunded, and one approved plan never executed. Read through the
//! get_booking_metrics tool, `itinera report` (the real binary) and, in tests/http.rs, `/metrics`.

mod common;

use common::{Harness, Options};
use serde_json::{Value, json};

fn amount(money: &Value) -> rust_decimal::Decimal {
    money["amount"].as_str().unwrap().parse().unwrap()
}

/// Executes a Paris plan of the sandbox's four kinds, the activity with `activity_priority`.
async fn paris_order(h: &Harness, activity_priority: &str, payment_method: &str) -> Value {
    let offers = h.paris_offers().await;
    let with_priority: Vec<(Value, &str)> = offers
        .iter()
        .map(|offer| {
            let priority = if offer["kind"] == "activity" {
                activity_priority
            } else {
                "must_have"
            };
            (offer.clone(), priority)
        })
        .collect();
    h.execute(&with_priority, payment_method).await
}

#[tokio::test]
async fn metrics_match_a_known_set_of_orders() {
    metrics_of_known_orders(Harness::with(Options::default()).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_match_a_known_set_of_orders_on_postgres() {
    let Some(options) = Options::default().on_postgres().await else {
        return;
    };
    metrics_of_known_orders(Harness::with(options).await).await;
}

async fn metrics_of_known_orders(h: Harness) {
    let confirmed = paris_order(&h, "must_have", "pm_sandbox_visa").await;
    assert_eq!(confirmed["status"], "confirmed", "{confirmed}");
    h.set_faults("activity.book=fail");
    let partial = paris_order(&h, "optional", "pm_sandbox_visa").await;
    assert_eq!(partial["status"], "partially_confirmed", "{partial}");
    h.set_faults("");
    let declined = paris_order(&h, "must_have", "pm_sandbox_declined").await;
    assert_eq!(declined["status"], "failed", "{declined}");
    let refunded = paris_order(&h, "must_have", "pm_sandbox_visa").await;
    let cancelled = h
        .ok("cancel_booking", json!({"order_id": refunded["order_id"]}))
        .await;
    let (_abandoned_plan, _) = h.approved_paris_plan("pm_sandbox_visa").await;
    // The approval (30 minutes) runs out unused.
    h.clock.advance(chrono::Duration::minutes(31));

    let metrics = h.ok("get_booking_metrics", json!({})).await;
    assert_eq!(metrics["orders"], 4);
    assert_eq!(metrics["settled_orders"], 4);
    // Bookings: 4 + 3 of 4 (the activity refused) + none (the card declined first) + 4.
    assert_eq!(
        metrics["booking_success_rate"],
        json!(0.9167),
        "{metrics:#}"
    );
    // Payments: hold and capture of three orders; the declined card's hold refused.
    assert_eq!(
        metrics["payment_success_rate"],
        json!(0.8571),
        "{metrics:#}"
    );
    // Confirmed, partly confirmed, and the refunded one was confirmed first: 3 of 4.
    assert_eq!(metrics["end_to_end_success_rate"], json!(0.75));
    assert_eq!(metrics["abandoned_plans"], 1);
    assert_eq!(metrics["abandonment_rate"], json!(0.2));
    assert_eq!(metrics["retry_rate"], json!(0.0));
    assert!(metrics["average_booking_seconds"].as_f64().unwrap() >= 0.0);

    let revenue: rust_decimal::Decimal = [&confirmed, &partial, &declined, &cancelled]
        .iter()
        .map(|order| amount(&order["captured"]) - amount(&order["refunded"]))
        .sum();
    assert_eq!(
        metrics["revenue"],
        json!([{"amount": format!("{revenue:.2}"), "currency": "EUR"}])
    );
    let average = (revenue / rust_decimal::Decimal::from(3)).round_dp(2);
    assert_eq!(
        metrics["average_order_value"],
        json!([{"amount": format!("{average:.2}"), "currency": "EUR"}]),
        "three orders were charged"
    );
    let sandbox = metrics["providers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["provider"] == "sandbox")
        .unwrap_or_else(|| panic!("{metrics:#}"));
    assert_eq!(sandbox["errors"], 1, "the refused activity: {metrics:#}");
    let payments = metrics["providers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["provider"] != "sandbox")
        .unwrap_or_else(|| panic!("{metrics:#}"));
    assert_eq!(payments["errors"], 1, "the declined hold: {metrics:#}");

    // Someone else's metrics know nothing of these orders.
    let bob = h.another_person("bob").await;
    let theirs = bob.ok("get_booking_metrics", json!({"days": 7})).await;
    assert_eq!(theirs["orders"], 0);
    assert_eq!(theirs["booking_success_rate"], Value::Null);
    assert_eq!(theirs["revenue"], json!([]));
    let refused = h.err("get_booking_metrics", json!({"days": 0})).await;
    assert!(
        refused.contains("days must be 1 to 366, not 0"),
        "{refused}"
    );

    // The operator's report over the same store, from the real binary.
    let report = std::process::Command::new(env!("CARGO_BIN_EXE_itinera"))
        .args(["report", "--format", "json"])
        .env("ITINERA_DATA_DIR", h.dir.path())
        .env("ITINERA_DATABASE_URL", h.store_url())
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        report.status.success(),
        "{}",
        String::from_utf8_lossy(&report.stderr)
    );
    let operator: Value = serde_json::from_slice(&report.stdout).unwrap();
    // It counts every person's orders by the wall clock; here, the same four.
    assert_eq!(operator["orders"], 4);
    assert_eq!(operator["revenue"], metrics["revenue"]);
    let table = std::process::Command::new(env!("CARGO_BIN_EXE_itinera"))
        .args(["report"])
        .env("ITINERA_DATA_DIR", h.dir.path())
        .env("ITINERA_DATABASE_URL", h.store_url())
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let table = String::from_utf8(table.stdout).unwrap();
    assert!(table.contains("End-to-end success     75.0 %"), "{table}");
    assert!(
        table.contains(&format!("Revenue                EUR {revenue:.2}")),
        "{table}"
    );
}
