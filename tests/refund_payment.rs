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

/// The provider refunds but its answer is lost: the order keeps the refund as unsettled, nothing
/// else may be refunded or cancelled until it is settled, and asking again with the same amount
/// settles it once.
#[tokio::test]
async fn a_refund_whose_answer_was_lost_stays_on_the_order_until_it_is_settled_once() {
    let h = Harness::start().await;
    let (plan_id, _) = h.approved_paris_plan("pm_sandbox_visa").await;
    let order = h
        .ok("execute_travel_plan", json!({"plan_id": plan_id}))
        .await;
    let order_id = order["order_id"].clone();
    let forty = json!({"amount": "40.00", "currency": "EUR"});

    h.set_faults("payment.refund=lost");
    let unclear = h
        .err(
            "refund_payment",
            json!({"order_id": order_id, "amount": forty, "reason": "noisy room"}),
        )
        .await;
    assert!(
        unclear.contains("may or may not have gone through"),
        "{unclear}"
    );
    h.set_faults("");
    assert_eq!(
        ledger_refunded(&h, &order).await,
        eur("40.00"),
        "the sandbox did refund"
    );
    let status = h
        .ok("get_booking_status", json!({"order_id": order_id}))
        .await;
    assert!(
        status["timeline"]
            .to_string()
            .contains("Refunding EUR 40.00"),
        "the attempt is on the order: {status}"
    );

    let other = h
        .err(
            "refund_payment",
            json!({"order_id": order_id, "amount": {"amount": "10.00", "currency": "EUR"}, "reason": "more"}),
        )
        .await;
    assert!(other.contains("amount EUR 40.00 first"), "{other}");
    let cancel = h.err("cancel_booking", json!({"order_id": order_id})).await;
    assert!(cancel.contains("amount EUR 40.00 first"), "{cancel}");

    let settled = h
        .ok(
            "refund_payment",
            json!({"order_id": order_id, "amount": forty, "reason": "noisy room"}),
        )
        .await;
    assert_eq!(money(&settled["refunded"]), eur("40.00"), "{settled}");
    assert_eq!(
        ledger_refunded(&h, &order).await,
        eur("40.00"),
        "refunded once, not twice"
    );
    let cancelled = h.ok("cancel_booking", json!({"order_id": order_id})).await;
    assert_eq!(cancelled["status"], "refunded", "{cancelled}");
}

#[tokio::test]
async fn another_person_cannot_refund_someone_s_order() {
    let ada = Harness::start().await;
    let (plan_id, _) = ada.approved_paris_plan("pm_sandbox_visa").await;
    let order = ada
        .ok("execute_travel_plan", json!({"plan_id": plan_id}))
        .await;
    let bob = ada.another_person("bob").await;
    let refused = bob
        .err(
            "refund_payment",
            json!({"order_id": order["order_id"], "amount": {"amount": "10.00", "currency": "EUR"}, "reason": "mine now"}),
        )
        .await;
    assert!(refused.contains("there is no order"), "{refused}");
    assert_eq!(ledger_refunded(&ada, &order).await, eur("0.00"));
    let after = ada
        .ok("get_booking_status", json!({"order_id": order["order_id"]}))
        .await;
    assert_eq!(money(&after["refunded"]), eur("0.00"));
}

#[tokio::test]
async fn after_a_refused_refund_another_amount_goes_through_on_its_own() {
    let h = Harness::start().await;
    let (plan_id, _) = h.approved_paris_plan("pm_sandbox_visa").await;
    let order = h
        .ok("execute_travel_plan", json!({"plan_id": plan_id}))
        .await;
    h.set_faults("payment.refund=fail");
    let refused = h
        .err(
            "refund_payment",
            json!({"order_id": order["order_id"], "amount": {"amount": "50.00", "currency": "EUR"}, "reason": "first try"}),
        )
        .await;
    assert!(refused.contains("Nothing was refunded"), "{refused}");
    h.set_faults("");
    let refunded = h
        .ok(
            "refund_payment",
            json!({"order_id": order["order_id"], "amount": {"amount": "30.00", "currency": "EUR"}, "reason": "settled for less"}),
        )
        .await;
    assert_eq!(money(&refunded["refunded"]), eur("30.00"), "{refunded}");
    assert_eq!(ledger_refunded(&h, &order).await, eur("30.00"));
}
