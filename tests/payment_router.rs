//! The payment router in the whole flow: the person sees who will take the payment and the
//! fallbacks when approving; a provider that is down before any money moved is failed over to
//! the next; with nowhere left to go, the order fails with nothing held.

mod common;

use common::{Harness, Options};
use itinera::config::PaymentSettings;
use serde_json::{Value, json};

/// PayPal at an address where nothing listens: every call is refused before it is sent.
async fn paypal_down() -> PaymentSettings {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    PaymentSettings::PayPal {
        client_id: "itinera-test".into(),
        client_secret: "secret".to_string().into(),
        base_url: format!("http://{address}"),
        webhook_id: None,
    }
}

/// PayPal first in the operator's order, and down; the sandbox after it.
async fn paypal_down_then_sandbox() -> Harness {
    Harness::with(Options {
        payment: paypal_down().await,
        fallback_payments: vec![PaymentSettings::Sandbox],
        ..Options::default()
    })
    .await
}

fn providers_of(route: &Value) -> Vec<&str> {
    route["choices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|choice| choice["provider"].as_str().unwrap())
        .collect()
}

async fn planned(h: &Harness, method: &str) -> String {
    let offers = h.paris_offers().await;
    let with_priority: Vec<(Value, &str)> =
        offers.iter().map(|o| (o.clone(), "must_have")).collect();
    let plan = h.plan_of(&with_priority, method).await;
    plan["plan_id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_provider_down_before_any_money_moved_is_failed_over_to_the_next_shown_at_approval() {
    let h = paypal_down_then_sandbox().await;
    let plan_id = planned(&h, "auto").await;

    let approval = h
        .ok("confirm_travel_plan", json!({"plan_id": plan_id}))
        .await;
    let route = &approval["payment_route"];
    assert_eq!(
        providers_of(route),
        ["paypal", "sandbox_payments"],
        "the operator's order, PayPal first: {route}"
    );
    assert_eq!(
        route["choices"][0]["method_shown"], "PayPal: the payer approves on PayPal's page",
        "a wallet is shown in words, not masked like a card"
    );
    assert!(
        route["choices"][1]["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|reason| reason == "takes EUR"),
        "{route}"
    );

    let order = h
        .ok("execute_travel_plan", json!({"plan_id": plan_id}))
        .await;
    assert_eq!(order["status"], "confirmed", "{order}");
    assert_eq!(order["payment"]["provider"], "sandbox_payments");
    let said = order["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|event| event["message"].as_str())
        .find(|message| message.starts_with("paypal is down"))
        .unwrap_or_else(|| panic!("the failover is in the timeline: {order}"))
        .to_string();
    assert!(
        said.contains("nothing was held there") && said.contains("sandbox_payments"),
        "{said}"
    );
    let reference = order["payment"]["reference"].as_str().unwrap();
    let held = h
        .sandbox()
        .ledger()
        .payment(reference)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (held.method.as_str(), held.status.as_str()),
        ("pm_sandbox_visa", "captured"),
        "the sandbox's open method was charged"
    );
}

#[tokio::test]
async fn with_no_provider_left_the_order_fails_and_nothing_is_held() {
    let h = paypal_down_then_sandbox().await;
    // PayPal is the only provider that takes the method 'paypal'.
    let plan_id = planned(&h, "paypal").await;
    let approval = h
        .ok("confirm_travel_plan", json!({"plan_id": plan_id}))
        .await;
    assert_eq!(providers_of(&approval["payment_route"]), ["paypal"]);
    assert_eq!(
        approval["payment_route"]["passed_over"][0]["provider"],
        "sandbox_payments"
    );

    let order = h
        .ok("execute_travel_plan", json!({"plan_id": plan_id}))
        .await;
    assert_eq!(order["status"], "failed", "{order}");
    let failure = order["failure"].as_str().unwrap_or_default();
    assert!(
        failure.contains("cannot connect"),
        "the reason is the outage: {order}"
    );
    assert!(h.ledger_bookings().await.is_empty(), "nothing was booked");
    assert_eq!(h.rows("orders").await, 1);
}

#[tokio::test]
async fn the_payment_methods_are_listed_by_provider_in_the_operators_order_tokens_only() {
    let h = paypal_down_then_sandbox().await;
    let listed = h.ok("list_payment_methods", json!({})).await;
    let providers = listed["providers"].as_array().unwrap();
    let names: Vec<&str> = providers
        .iter()
        .map(|p| p["provider"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["paypal", "sandbox_payments"]);
    assert_eq!(providers[0]["methods"][0]["method"], "paypal");
    assert_eq!(providers[0]["settlement"], "hold_then_capture");
    assert!(
        providers[0]["currencies"]
            .as_array()
            .unwrap()
            .contains(&json!("EUR"))
    );
    let sandbox: Vec<(&str, bool)> = providers[1]["methods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["method"].as_str().unwrap(), m["used_by_auto"] == true))
        .collect();
    assert_eq!(
        sandbox,
        [
            ("pm_sandbox_visa", true),
            ("pm_sandbox_3ds", false),
            ("pm_sandbox_declined", false),
            ("pm_sandbox_insufficient_funds", false)
        ]
    );
    assert!(providers[1].get("currencies").is_none(), "every currency");
    // Every listed token is one a plan can actually use.
    for (method, _) in sandbox {
        planned(&h, method).await;
    }
}

#[tokio::test]
async fn a_hotel_that_takes_only_some_providers_routes_the_payment_past_the_others() {
    let h = paypal_down_then_sandbox().await;
    let hotels = h
        .ok(
            "search_hotels",
            json!({"city": "Shanghai", "check_in": h.day(20), "check_out": h.day(22), "currency": "EUR"}),
        )
        .await;
    let hotel = hotels["offers"][0].clone();
    assert_eq!(
        hotel["accepted_payments"],
        json!(["antom", "wechat", "sandbox_payments"]),
        "the offer says how the hotel takes payment: {hotel}"
    );
    let plan = h.plan_of(&[(hotel.clone(), "must_have")], "auto").await;
    let approval = h
        .ok("confirm_travel_plan", json!({"plan_id": plan["plan_id"]}))
        .await;
    let route = &approval["payment_route"];
    assert_eq!(providers_of(route), ["sandbox_payments"], "{route}");
    let passed = &route["passed_over"][0];
    assert_eq!(passed["provider"], "paypal");
    assert_eq!(
        passed["reason"],
        format!(
            "{} takes payment only through antom, wechat, sandbox_payments",
            hotel["title"].as_str().unwrap()
        )
    );
}
