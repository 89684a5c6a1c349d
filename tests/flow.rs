//! The whole flow through an in-process MCP client: search → plan → confirm → approve → execute
//! → status → cancel → refund, checked against the sandbox ledger, on both MCP lifecycles.

mod common;

use common::{Answer, Harness, Lifecycle, Options, Person, expected_refund, money, sum};
use itinera::domain::money::Money;
use serde_json::json;

async fn book_and_cancel_a_four_item_trip(options: Options) {
    let h = Harness::with(options).await;
    let (plan_id, offers) = h.approved_paris_plan("pm_sandbox_visa").await;

    // The person saw every item, its price and the total before approving.
    let prompts = h.person.prompts.lock().unwrap().clone();
    assert_eq!(prompts.len(), 1, "the person is asked once");
    for offer in &offers {
        assert!(
            prompts[0].contains(offer["title"].as_str().unwrap()),
            "{}",
            prompts[0]
        );
    }
    let total = sum(offers.iter().map(|o| money(&o["price"])));
    assert!(
        prompts[0].contains(&format!("Total: {total}")),
        "{}",
        prompts[0]
    );

    let order = h
        .ok("execute_travel_plan", json!({"plan_id": plan_id}))
        .await;
    assert_eq!(order["status"], "confirmed", "{order}");
    assert_eq!(money(&order["captured"]), total);
    let order_id = order["order_id"].as_str().unwrap().to_string();

    // Status shows the PNR and every confirmation number.
    let status = h
        .ok("get_booking_status", json!({"order_id": order_id}))
        .await;
    let documents = status["documents"].as_array().unwrap();
    assert_eq!(documents.len(), 4);
    let pnr = documents.iter().find(|d| d["kind"] == "flight").unwrap()["confirmation"]
        .as_str()
        .unwrap();
    assert_eq!(pnr.len(), 6, "a PNR is six characters: {pnr}");
    assert!(documents.iter().any(|d| d["kind"] == "hotel" && d["confirmation"].as_str().unwrap().starts_with("HT-")));
    assert!(
        status["timeline"].as_array().unwrap().len() >= 8,
        "{}",
        status["timeline"]
    );

    // The sandbox really holds the bookings and captured exactly the total.
    let payment_id = order["payment"]["reference"].as_str().unwrap();
    let ledger = h.sandbox().ledger();
    let payment = ledger.payment(payment_id).await.unwrap().unwrap();
    assert_eq!(
        (payment.status.as_str(), payment.captured),
        ("captured", total)
    );
    assert_eq!(
        ledger
            .bookings()
            .await
            .unwrap()
            .iter()
            .filter(|b| b.status == "booked")
            .count(),
        4
    );

    // Cancel everything: the refund is what the policies give back today.
    let now = chrono::Utc::now();
    let expected = sum(offers.iter().map(|o| expected_refund(o, now)));
    let cancelled = h.ok("cancel_booking", json!({"order_id": order_id})).await;
    assert_eq!(money(&cancelled["refunded"]), expected);
    let final_status = if expected.is_zero() {
        "cancelled"
    } else {
        "refunded"
    };
    assert_eq!(cancelled["status"], final_status, "{cancelled}");
    let payment = ledger.payment(payment_id).await.unwrap().unwrap();
    assert_eq!(payment.refunded, expected);
    let refunds: Vec<_> = ledger
        .movements(payment_id)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.kind == "refund")
        .collect();
    assert_eq!(refunds.len(), usize::from(!expected.is_zero()));
    assert!(
        ledger
            .bookings()
            .await
            .unwrap()
            .iter()
            .all(|b| b.status == "cancelled")
    );
}

#[tokio::test]
async fn a_trip_is_booked_paid_and_refunded_on_the_legacy_lifecycle() {
    book_and_cancel_a_four_item_trip(Options {
        lifecycle: Lifecycle::Legacy,
        ..Options::default()
    })
    .await;
}

#[tokio::test]
async fn a_trip_is_booked_paid_and_refunded_on_the_2026_lifecycle() {
    book_and_cancel_a_four_item_trip(Options {
        lifecycle: Lifecycle::Modern,
        ..Options::default()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trip_is_booked_paid_and_refunded_with_the_store_on_postgres() {
    let Some(options) = Options::default().on_postgres().await else {
        return;
    };
    let database = options.database.clone().expect("a PostgreSQL store");
    book_and_cancel_a_four_item_trip(options).await;
    // The order and its timeline are in PostgreSQL.
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&database.url()).await.unwrap();
    let (orders, events): (i64, i64) =
        sqlx::query_as("SELECT (SELECT COUNT(*) FROM orders), (SELECT COUNT(*) FROM order_events)")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(orders, 1);
    assert!(events >= 8, "{events} events");
}

#[tokio::test]
async fn cancelling_one_item_refunds_it_alone_and_keeps_the_rest() {
    let h = Harness::start().await;
    let (plan_id, offers) = h.approved_paris_plan("pm_sandbox_visa").await;
    let order = h
        .ok("execute_travel_plan", json!({"plan_id": plan_id}))
        .await;
    let activity = order["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["kind"] == "activity")
        .unwrap()
        .clone();
    let cancelled = h
        .ok(
            "cancel_booking",
            json!({"order_id": order["order_id"], "item_ids": [activity["item_id"]]}),
        )
        .await;
    let expected = expected_refund(&offers[2], chrono::Utc::now());
    assert_eq!(cancelled["status"], "partially_confirmed", "{cancelled}");
    assert_eq!(money(&cancelled["refunded"]), expected);
    assert_eq!(
        cancelled["documents"].as_array().unwrap().len(),
        3,
        "the other three stay booked"
    );

    let again = h
        .err(
            "cancel_booking",
            json!({"order_id": order["order_id"], "item_ids": [activity["item_id"]]}),
        )
        .await;
    assert!(
        again.contains("is cancelled, so there is nothing to cancel"),
        "{again}"
    );
}

#[tokio::test]
async fn a_declined_approval_blocks_execution() {
    let h = Harness::with(Options {
        person: Person::new(Answer::Decline),
        ..Options::default()
    })
    .await;
    let offers = h.paris_offers().await;
    let plan = h
        .plan_of(&[(offers[0].clone(), "must_have")], "pm_sandbox_visa")
        .await;
    let approval = h
        .ok("confirm_travel_plan", json!({"plan_id": plan["plan_id"]}))
        .await;
    assert_eq!(approval["status"], "declined");
    let error = h
        .err("execute_travel_plan", json!({"plan_id": plan["plan_id"]}))
        .await;
    assert!(error.contains("declined this plan"), "{error}");
    assert_eq!(h.rows("orders").await, 0);
}

#[tokio::test]
async fn a_client_without_elicitation_is_given_the_page_and_cannot_approve_by_itself() {
    let person = Person {
        can_elicit: false,
        ..Person::new(Answer::Approve)
    };
    let h = Harness::with(Options {
        person,
        ..Options::default()
    })
    .await;
    let offers = h.paris_offers().await;
    let plan = h
        .plan_of(&[(offers[0].clone(), "must_have")], "pm_sandbox_visa")
        .await;
    let approval = h
        .ok("confirm_travel_plan", json!({"plan_id": plan["plan_id"]}))
        .await;
    assert_eq!(approval["status"], "pending");
    let message = approval["message"].as_str().unwrap();
    assert!(message.contains("approval_url"), "{approval}");
    assert!(message.contains("approval_code"), "{approval}");
    assert!(
        approval["approval_url"]
            .as_str()
            .unwrap()
            .contains("/approve/")
    );
    let error = h
        .err("execute_travel_plan", json!({"plan_id": plan["plan_id"]}))
        .await;
    assert!(error.contains("has not answered"), "{error}");
}

#[tokio::test]
async fn totals_within_the_auto_approve_limit_skip_the_prompt_and_larger_ones_ask() {
    let limit = Money::parse("400", "EUR").unwrap();
    let h = Harness::with(Options {
        auto_approve_limit: Some("400 EUR"),
        ..Options::default()
    })
    .await;
    let offers = h.paris_offers().await;
    let cheap = h
        .plan_of(&[(offers[2].clone(), "must_have")], "pm_sandbox_visa")
        .await;
    assert!(money(&cheap["total"]) <= limit);
    let approval = h
        .ok("confirm_travel_plan", json!({"plan_id": cheap["plan_id"]}))
        .await;
    assert_eq!(
        (approval["status"].as_str(), approval["method"].as_str()),
        (Some("approved"), Some("auto_approve_limit"))
    );
    assert!(
        h.person.prompts.lock().unwrap().is_empty(),
        "the person was not asked"
    );

    let all: Vec<_> = offers.iter().map(|o| (o.clone(), "must_have")).collect();
    let dear = h.plan_of(&all, "pm_sandbox_visa").await;
    assert!(money(&dear["total"]) > limit);
    let approval = h
        .ok("confirm_travel_plan", json!({"plan_id": dear["plan_id"]}))
        .await;
    assert_eq!(
        (approval["status"].as_str(), approval["method"].as_str()),
        (Some("approved"), Some("elicitation"))
    );
    assert_eq!(h.person.prompts.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn confirming_again_reuses_the_live_approval_and_a_material_edit_voids_it() {
    let h = Harness::start().await;
    let (plan_id, _) = h.approved_paris_plan("pm_sandbox_visa").await;
    let again = h
        .ok("confirm_travel_plan", json!({"plan_id": plan_id}))
        .await;
    assert_eq!(again["status"], "approved");
    assert_eq!(
        h.person.prompts.lock().unwrap().len(),
        1,
        "an unchanged plan is not asked about twice"
    );

    // A new title is cosmetic and keeps the approval; a different traveller does not.
    h.ok(
        "update_travel_plan",
        json!({"plan_id": plan_id, "title": "Paris, renamed"}),
    )
    .await;
    let plan = h.ok("get_travel_plan", json!({"plan_id": plan_id})).await;
    assert_eq!(
        plan["next_step"],
        "Approved: call execute_travel_plan to book and pay."
    );
    let travellers = json!([{"given_name": "Grace", "family_name": "Hopper"}]);
    h.ok(
        "update_travel_plan",
        json!({"plan_id": plan_id, "travellers": travellers}),
    )
    .await;
    let plan = h.ok("get_travel_plan", json!({"plan_id": plan_id})).await;
    assert!(
        plan["approval"]["message"]
            .as_str()
            .unwrap()
            .contains("no longer applies"),
        "{plan}"
    );
    assert!(
        plan["next_step"]
            .as_str()
            .unwrap()
            .contains("confirm_travel_plan")
    );
}

#[tokio::test]
async fn a_late_cancellation_keeps_each_policy_penalty() {
    let h = Harness::start().await;
    let (plan_id, offers) = h.approved_paris_plan("pm_sandbox_visa").await;
    let order = h
        .ok("execute_travel_plan", json!({"plan_id": plan_id}))
        .await;
    // Nineteen days on, the hotel's free cancellation (two days before check-in) has passed.
    h.clock.advance(chrono::Duration::days(19));
    let now = itinera::ports::Clock::now(h.clock.as_ref());
    let expected = sum(offers.iter().map(|o| expected_refund(o, now)));
    let hotel_price = money(&offers[1]["price"]);
    assert!(
        expected < sum(offers.iter().map(|o| money(&o["price"]))),
        "some penalty applies"
    );
    assert!(
        expected_refund(&offers[1], now) < hotel_price,
        "the hotel keeps its penalty"
    );

    let cancelled = h
        .ok("cancel_booking", json!({"order_id": order["order_id"]}))
        .await;
    assert_eq!(money(&cancelled["refunded"]), expected);
    let payment = h
        .sandbox()
        .ledger()
        .payment(order["payment"]["reference"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        payment.refunded, expected,
        "the ledger refunded the same amount"
    );
}
