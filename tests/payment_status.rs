//! get_payment_status: the provider's own account of an order's payment, set beside Itinera's
//! record, and a disagreement said plainly.

mod common;

use common::{Harness, money};
use serde_json::json;

#[tokio::test]
async fn the_providers_figures_are_shown_beside_the_record_through_the_orders_life() {
    let h = Harness::start().await;
    let (plan_id, _) = h.approved_paris_plan("pm_sandbox_visa").await;
    let order = h
        .ok("execute_travel_plan", json!({"plan_id": plan_id}))
        .await;
    let order_id = order["order_id"].clone();
    let status = h
        .ok("get_payment_status", json!({"order_id": order_id}))
        .await;
    assert_eq!(status["provider"], "sandbox_payments");
    assert_eq!(status["provider_state"], "captured", "{status}");
    assert_eq!(
        money(&status["provider_amounts"]["captured"]),
        money(&order["captured"])
    );
    assert_eq!(status["agrees"], true, "{status}");
    assert!(
        status["recorded"]["held"].is_null(),
        "once captured nothing is held: {status}"
    );

    let cancelled = h.ok("cancel_booking", json!({"order_id": order_id})).await;
    let status = h
        .ok("get_payment_status", json!({"order_id": order_id}))
        .await;
    assert_eq!(
        money(&status["provider_amounts"]["refunded"]),
        money(&cancelled["refunded"])
    );
    assert_eq!(status["agrees"], true, "{status}");
}

#[tokio::test]
async fn a_record_that_differs_from_the_provider_is_called_out() {
    let h = Harness::start().await;
    let (plan_id, _) = h.approved_paris_plan("pm_sandbox_visa").await;
    let order = h
        .ok("execute_travel_plan", json!({"plan_id": plan_id}))
        .await;
    let pool = sqlx::SqlitePool::connect(&h.store_url()).await.unwrap();
    sqlx::query("UPDATE orders SET captured = '1.00' WHERE id = ?")
        .bind(order["order_id"].as_str().unwrap())
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let status = h
        .ok("get_payment_status", json!({"order_id": order["order_id"]}))
        .await;
    assert_eq!(status["agrees"], false, "{status}");
    assert!(
        status["message"].as_str().unwrap().contains("differ"),
        "{status}"
    );
}

#[tokio::test]
async fn a_payment_waiting_for_the_customer_and_an_unknown_order_are_told_apart() {
    let h = Harness::start().await;
    let (plan_id, _) = h.approved_paris_plan("pm_sandbox_3ds").await;
    let order = h
        .ok("execute_travel_plan", json!({"plan_id": plan_id}))
        .await;
    let status = h
        .ok("get_payment_status", json!({"order_id": order["order_id"]}))
        .await;
    assert_eq!(status["provider_state"], "action_required", "{status}");
    assert_eq!(status["agrees"], true);
    let unknown = h
        .err(
            "get_payment_status",
            json!({"order_id": "ord_00000000000000000000000000000000"}),
        )
        .await;
    assert!(unknown.contains("no order"), "{unknown}");
    let bad = h.err("get_payment_status", json!({"order_id": "42"})).await;
    assert!(bad.contains("not a valid"), "{bad}");
}

#[tokio::test]
async fn a_hold_waiting_for_its_capture_is_shown_held_on_both_sides() {
    let h = Harness::start().await;
    h.set_faults("payment.capture=lost");
    let (plan_id, _) = h.approved_paris_plan("pm_sandbox_visa").await;
    let order = h
        .ok("execute_travel_plan", json!({"plan_id": plan_id}))
        .await;
    assert_eq!(order["status"], "payment_processing", "{order}");
    let status = h
        .ok("get_payment_status", json!({"order_id": order["order_id"]}))
        .await;
    assert_eq!(
        money(&status["recorded"]["held"]),
        money(&order["authorized"]),
        "{status}"
    );
}
