//! Execution edge cases: rollback, partial confirmation, declines, 3-D Secure, price rises,
//! expiry, edits after approval and repeated execution — each checked against the sandbox ledger.

mod common;

use chrono::Duration;
use common::{Harness, Options, money, sum};
use itinera::domain::order::OrderStatus;
use serde_json::json;

#[tokio::test]
async fn a_failed_must_have_hotel_cancels_the_flight_and_voids_the_hold() {
    let h = Harness::with(Options {
        faults: "hotel.book=fail",
        ..Options::default()
    })
    .await;
    let offers = h.paris_offers().await;
    let order = h
        .execute(
            &[
                (offers[0].clone(), "must_have"),
                (offers[1].clone(), "must_have"),
            ],
            "pm_sandbox_visa",
        )
        .await;

    assert_eq!(order["status"], "failed", "{order}");
    let failure = order["failure"].as_str().unwrap();
    assert!(
        failure.contains("must-have") && failure.contains("nothing was charged"),
        "{failure}"
    );
    let items = order["items"].as_array().unwrap();
    assert_eq!(
        items.iter().find(|i| i["kind"] == "flight").unwrap()["status"],
        "cancelled"
    );
    assert_eq!(
        items.iter().find(|i| i["kind"] == "hotel").unwrap()["status"],
        "failed"
    );

    let ledger = h.sandbox().ledger();
    let bookings = ledger.bookings().await.unwrap();
    assert_eq!(bookings.len(), 1, "only the flight was ever booked");
    assert_eq!(bookings[0].status, "cancelled");
    let payment_id = order["payment"]["reference"].as_str().unwrap();
    let payment = ledger.payment(payment_id).await.unwrap().unwrap();
    assert_eq!(payment.status, "voided");
    assert!(payment.captured.is_zero());
    let kinds: Vec<String> = ledger
        .movements(payment_id)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.kind)
        .collect();
    assert_eq!(kinds, ["hold", "void"]);
}

#[tokio::test]
async fn a_failed_optional_activity_captures_only_what_was_booked() {
    let h = Harness::with(Options {
        faults: "activity.book=fail",
        ..Options::default()
    })
    .await;
    let offers = h.paris_offers().await;
    let order = h
        .execute(
            &[
                (offers[0].clone(), "must_have"),
                (offers[1].clone(), "must_have"),
                (offers[2].clone(), "optional"),
            ],
            "pm_sandbox_visa",
        )
        .await;

    assert_eq!(order["status"], "partially_confirmed", "{order}");
    let booked = sum([money(&offers[0]["price"]), money(&offers[1]["price"])]);
    assert_eq!(money(&order["captured"]), booked);
    let payment = h
        .sandbox()
        .ledger()
        .payment(order["payment"]["reference"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        payment.captured, booked,
        "the ledger charged the booked items only"
    );
    assert_eq!(
        payment.amount,
        sum([booked, money(&offers[2]["price"])]),
        "the hold covered the whole plan"
    );
}

#[tokio::test]
async fn a_declined_card_fails_the_order_and_books_nothing() {
    let h = Harness::start().await;
    for (method, code) in [
        ("pm_sandbox_declined", "card_declined"),
        ("pm_sandbox_insufficient_funds", "insufficient_funds"),
    ] {
        let (plan_id, _) = h.approved_paris_plan(method).await;
        let order = h
            .ok("execute_travel_plan", json!({"plan_id": plan_id}))
            .await;
        assert_eq!(order["status"], "failed");
        let failure = order["failure"].as_str().unwrap();
        assert!(
            failure.contains(code) && failure.contains("another payment method"),
            "{failure}"
        );
    }
    assert!(h.ledger_bookings().await.is_empty());
}

#[tokio::test]
async fn three_d_secure_waits_for_the_customer_then_continues() {
    let h = Harness::start().await;
    let (plan_id, offers) = h.approved_paris_plan("pm_sandbox_3ds").await;
    let waiting = h
        .ok("execute_travel_plan", json!({"plan_id": plan_id}))
        .await;
    assert_eq!(waiting["status"], "payment_action_required", "{waiting}");
    let url = waiting["payment"]["action_url"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(waiting["next_step"].as_str().unwrap().contains(&url));
    assert!(
        h.ledger_bookings().await.is_empty(),
        "nothing is booked before 3-D Secure"
    );

    // Calling again before the customer acts changes nothing.
    let still = h
        .ok("execute_travel_plan", json!({"plan_id": plan_id}))
        .await;
    assert_eq!(
        (still["status"].clone(), still["order_id"].clone()),
        (waiting["status"].clone(), waiting["order_id"].clone())
    );

    let page = reqwest::get(&url).await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("3-D Secure is complete")
    );

    let done = h
        .ok("execute_travel_plan", json!({"plan_id": plan_id}))
        .await;
    assert_eq!(done["status"], "confirmed", "{done}");
    assert_eq!(done["order_id"], waiting["order_id"]);
    assert_eq!(
        money(&done["captured"]),
        sum(offers.iter().map(|o| money(&o["price"])))
    );
}

#[tokio::test]
async fn a_price_rise_after_approval_stops_before_any_money_moves() {
    let h = Harness::start().await;
    let (plan_id, offers) = h.approved_paris_plan("pm_sandbox_visa").await;
    h.set_faults("hotel.quote=price+15%");
    let error = h
        .err("execute_travel_plan", json!({"plan_id": plan_id}))
        .await;
    assert!(
        error.contains("prices rose") && error.contains(offers[1]["title"].as_str().unwrap()),
        "{error}"
    );
    assert_eq!(h.rows("orders").await, 0, "no order, no hold");

    // The plan now carries the new price, so the old approval no longer covers it.
    let plan = h.ok("get_travel_plan", json!({"plan_id": plan_id})).await;
    assert!(money(&plan["total"]) > sum(offers.iter().map(|o| money(&o["price"]))));
    let error = h
        .err("execute_travel_plan", json!({"plan_id": plan_id}))
        .await;
    assert!(error.contains("changed after it was approved"), "{error}");

    // Approved again at the higher price; the provider now quotes the original price, which is charged.
    h.set_faults("");
    h.ok("confirm_travel_plan", json!({"plan_id": plan_id}))
        .await;
    let order = h
        .ok("execute_travel_plan", json!({"plan_id": plan_id}))
        .await;
    assert_eq!(order["status"], "confirmed");
    assert_eq!(
        money(&order["captured"]),
        sum(offers.iter().map(|o| money(&o["price"])))
    );
}

#[tokio::test]
async fn an_expired_approval_is_refused() {
    let h = Harness::start().await;
    let (plan_id, _) = h.approved_paris_plan("pm_sandbox_visa").await;
    h.clock.advance(Duration::minutes(31));
    let error = h
        .err("execute_travel_plan", json!({"plan_id": plan_id}))
        .await;
    assert!(
        error.contains("approval expired") && error.contains("confirm_travel_plan"),
        "{error}"
    );
    assert_eq!(h.rows("orders").await, 0);
}

#[tokio::test]
async fn an_expired_offer_stops_before_any_money_moves() {
    let h = Harness::with(Options {
        approval_ttl_minutes: 120,
        ..Options::default()
    })
    .await;
    let (plan_id, _) = h.approved_paris_plan("pm_sandbox_visa").await;
    h.clock.advance(Duration::minutes(45));
    let error = h
        .err("execute_travel_plan", json!({"plan_id": plan_id}))
        .await;
    assert!(
        error.contains("expired") && error.contains("Search again"),
        "{error}"
    );
    assert_eq!(h.rows("orders").await, 0);
}

#[tokio::test]
async fn a_plan_edited_after_approval_must_be_approved_again() {
    let h = Harness::start().await;
    let (plan_id, _) = h.approved_paris_plan("pm_sandbox_visa").await;
    let plan = h.ok("get_travel_plan", json!({"plan_id": plan_id})).await;
    let car = plan["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["offer"]["kind"] == "car_rental")
        .unwrap()
        .clone();
    h.ok(
        "update_travel_plan",
        json!({"plan_id": plan_id, "remove_item_ids": [car["item_id"]]}),
    )
    .await;
    let error = h
        .err("execute_travel_plan", json!({"plan_id": plan_id}))
        .await;
    assert!(error.contains("changed after it was approved"), "{error}");
    assert_eq!(h.rows("orders").await, 0);
}

#[tokio::test]
async fn executing_twice_returns_the_same_order_and_books_once() {
    let h = Harness::start().await;
    let (plan_id, _) = h.approved_paris_plan("pm_sandbox_visa").await;
    let first = h
        .ok("execute_travel_plan", json!({"plan_id": plan_id}))
        .await;
    let second = h
        .ok("execute_travel_plan", json!({"plan_id": plan_id}))
        .await;
    assert_eq!(first["order_id"], second["order_id"]);
    assert_eq!(second["status"], OrderStatus::Confirmed.as_str());
    assert_eq!(h.ledger_bookings().await.len(), 4);
    assert_eq!(h.rows("orders").await, 1);

    // A booked plan is frozen.
    let error = h
        .err(
            "update_travel_plan",
            json!({"plan_id": plan_id, "title": "Changed"}),
        )
        .await;
    assert!(error.contains("can no longer change"), "{error}");
}

#[tokio::test]
async fn a_cancellation_the_provider_refuses_is_reported_and_can_be_retried() {
    let h = Harness::start().await;
    let (plan_id, _) = h.approved_paris_plan("pm_sandbox_visa").await;
    let order = h
        .ok("execute_travel_plan", json!({"plan_id": plan_id}))
        .await;
    h.set_faults("hotel.cancel=fail");
    let partial = h
        .ok("cancel_booking", json!({"order_id": order["order_id"]}))
        .await;
    assert_eq!(partial["status"], "partially_confirmed", "{partial}");
    let hotel = partial["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["kind"] == "hotel")
        .unwrap()
        .clone();
    assert_eq!(hotel["status"], "cancellation_failed");

    h.set_faults("");
    let done = h
        .ok("cancel_booking", json!({"order_id": order["order_id"]}))
        .await;
    assert!(
        matches!(done["status"].as_str(), Some("refunded" | "cancelled")),
        "{done}"
    );
    assert!(
        h.ledger_bookings()
            .await
            .iter()
            .all(|b| b.status == "cancelled")
    );
}

#[tokio::test]
async fn many_items_of_one_phase_are_booked_together() {
    let h = Harness::start().await;
    let found = h
        .ok(
            "search_activities",
            json!({"city": "Rome", "date": h.day(9), "currency": "EUR"}),
        )
        .await;
    let offers: Vec<_> = found["offers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o.clone(), "must_have"))
        .collect();
    assert!(offers.len() >= 5);
    let plan = h.plan_of(&offers, "pm_sandbox_visa").await;
    assert_eq!(
        plan["phases"].as_array().unwrap().len(),
        1,
        "independent items share one phase"
    );
    h.ok("confirm_travel_plan", json!({"plan_id": plan["plan_id"]}))
        .await;
    let order = h
        .ok("execute_travel_plan", json!({"plan_id": plan["plan_id"]}))
        .await;
    assert_eq!(order["status"], "confirmed", "{order}");
    assert_eq!(h.ledger_bookings().await.len(), offers.len());
}

#[tokio::test]
async fn once_the_customer_authenticates_recovery_finishes_the_order() {
    let h = Harness::start().await;
    let (plan_id, _) = h.approved_paris_plan("pm_sandbox_3ds").await;
    let waiting = h
        .ok("execute_travel_plan", json!({"plan_id": plan_id}))
        .await;
    let report = h.app.recover().await.unwrap();
    assert_eq!(
        (report.examined, report.waiting),
        (1, 1),
        "still waiting for the customer: {:?}",
        report.errors
    );

    let url = waiting["payment"]["action_url"].as_str().unwrap();
    assert_eq!(reqwest::get(url).await.unwrap().status(), 200);
    // The assistant never calls again; recovery carries on.
    let report = h.app.recover().await.unwrap();
    assert_eq!(report.settled, 1);
    let done = h
        .ok(
            "get_booking_status",
            json!({"order_id": waiting["order_id"]}),
        )
        .await;
    assert_eq!(done["status"], "confirmed");
}
