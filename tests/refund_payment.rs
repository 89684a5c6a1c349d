//! refund_payment: the owner refunds part of a captured payment outside any cancellation. Never
//! more than captured minus refunded; a refused request changes nothing; a later cancellation
//! still refunds what the policies owe, up to what is left.

mod common;

use common::{Harness, expected_refund, money};
use itinera::domain::money::Money;
use serde_json::{Value, json};

fn eur(amount: &str) -> Money {
    Money::parse(amount, "EUR").unwrap()
}

async fn ledger_refunded(h: &Harness, order: &Value) -> Money {
    let reference = order["payment"]["reference"].as_str().unwrap();
    h.sandbox()
        .ledger()
        .payment(reference)
        .await
        .unwrap()
        .unwrap()
        .refunded
}

#[tokio::test]
async fn the_owner_refunds_part_of_the_payment_and_a_later_cancellation_still_gets_its_due() {
    let h = Harness::start().await;
    let (plan_id, offers) = h.approved_paris_plan("pm_sandbox_visa").await;
    let order = h
        .ok("execute_travel_plan", json!({"plan_id": plan_id}))
        .await;
    assert_eq!(order["status"], "confirmed", "{order}");
    let captured = money(&order["captured"]);

    let refund = h
        .ok(
            "refund_payment",
            json!({"order_id": order["order_id"], "amount": {"amount": "50.00", "currency": "EUR"}, "reason": "hotel room was not as described"}),
        )
        .await;
    assert_eq!(money(&refund["refunded"]), eur("50.00"));
    assert_eq!(
        money(&refund["refundable"]),
        captured.saturating_sub(&eur("50.00")).unwrap()
    );
    assert_eq!(
        ledger_refunded(&h, &order).await,
        eur("50.00"),
        "the money went back"
    );
    let status = h
        .ok("get_booking_status", json!({"order_id": order["order_id"]}))
        .await;
    assert_eq!(status["status"], "confirmed", "the bookings stay: {status}");
    let audit = h.ok("get_audit_log", json!({})).await.to_string();
    assert!(
        audit.contains("payment.refund") && audit.contains("not as described"),
        "{audit}"
    );

    // Cancelling an item refunds what its policy gives, not reduced by the goodwill refund.
    let now = chrono::Utc::now();
    let (item, owed) = order["items"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|item| {
            let offer = offers.iter().find(|o| o["id"] == item["offer_id"])?;
            let owed = expected_refund(offer, now);
            (!owed.is_zero()).then(|| (item["item_id"].clone(), owed))
        })
        .expect("an item whose policy refunds something");
    let cancelled = h
        .ok(
            "cancel_booking",
            json!({"order_id": order["order_id"], "item_ids": [item]}),
        )
        .await;
    let expected = eur("50.00").checked_add(&owed).unwrap();
    assert_eq!(money(&cancelled["refunded"]), expected, "{cancelled}");
    assert_eq!(ledger_refunded(&h, &order).await, expected);
}

#[tokio::test]
async fn more_than_is_left_another_currency_or_another_order_is_refused_and_nothing_moves() {
    let h = Harness::start().await;
    let (plan_id, _) = h.approved_paris_plan("pm_sandbox_visa").await;
    let order = h
        .ok("execute_travel_plan", json!({"plan_id": plan_id}))
        .await;
    let captured = money(&order["captured"]);
    let too_much = captured.checked_add(&eur("0.01")).unwrap();
    let refuse = |amount: Value, order_id: Value| json!({"order_id": order_id, "amount": amount, "reason": "test"});
    let error = h
        .err(
            "refund_payment",
            refuse(json!(too_much), order["order_id"].clone()),
        )
        .await;
    assert!(
        error.contains(&format!("can be refunded at most {captured}")),
        "{error}"
    );
    let error = h
        .err(
            "refund_payment",
            refuse(
                json!({"amount": "10.00", "currency": "USD"}),
                order["order_id"].clone(),
            ),
        )
        .await;
    assert!(error.contains("in EUR"), "{error}");
    let error = h
        .err(
            "refund_payment",
            refuse(
                json!({"amount": "10.00", "currency": "EUR"}),
                json!("ord_00000000000000000000000000000000"),
            ),
        )
        .await;
    assert!(error.contains("no order"), "{error}");
    let error = h
        .err(
            "refund_payment",
            json!({"order_id": order["order_id"], "amount": {"amount": "10.00", "currency": "EUR"}, "reason": "  "}),
        )
        .await;
    assert!(error.contains("give the reason"), "{error}");
    assert_eq!(
        ledger_refunded(&h, &order).await,
        eur("0"),
        "nothing was refunded"
    );
}
