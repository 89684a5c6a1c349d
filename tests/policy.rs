//! The spending policy the person configured: each rule refuses a plan on confirmation (and again
//! on execution), naming the rule and the amount over, and nothing is approved or charged.

mod common;

use common::{Harness, Options, money};
use itinera::domain::money::{Currency, Money};
use itinera::domain::offer::ItemKind;
use itinera::domain::policy::SpendingPolicy;
use serde_json::{Value, json};

fn eur(amount: &str) -> Money {
    Money::parse(amount, "EUR").unwrap()
}

async fn with_policy(policy: SpendingPolicy) -> Harness {
    Harness::with(Options {
        policy,
        ..Options::default()
    })
    .await
}

/// Plans the offers and asks for approval; returns the refusal text (or panics if approved).
async fn refused(h: &Harness, offers: &[Value]) -> String {
    let items: Vec<(Value, &str)> = offers.iter().map(|o| (o.clone(), "must_have")).collect();
    let plan = h.plan_of(&items, "pm_sandbox_visa").await;
    let error = h
        .err("confirm_travel_plan", json!({"plan_id": plan["plan_id"]}))
        .await;
    assert_eq!(
        h.rows("approvals").await,
        0,
        "nothing is put in front of the person"
    );
    assert!(h.person.prompts.lock().unwrap().is_empty());
    // The refusal is on the record, with the rule it broke.
    let log = h.ok("get_audit_log", json!({})).await;
    let last = log["entries"].as_array().unwrap().last().cloned().unwrap();
    assert_eq!(last["action"], "policy.refused", "{log}");
    assert_eq!(last["detail"], error.as_str());
    error
}

#[tokio::test]
async fn the_per_order_cap_names_the_amount_over() {
    let h = with_policy(SpendingPolicy {
        max_per_order: Some(eur("100")),
        ..Default::default()
    })
    .await;
    let offers = h.paris_offers().await;
    let over = money(&offers[0]["price"])
        .saturating_sub(&eur("100"))
        .unwrap();
    let error = refused(&h, &offers[..1]).await;
    assert!(
        error.contains("ITINERA_POLICY_MAX_PER_ORDER") && error.contains(&format!("{over} over")),
        "{error}"
    );
}

#[tokio::test]
async fn the_daily_cap_counts_what_was_already_charged_and_execution_checks_again() {
    let h = Harness::start().await;
    let offers = h.paris_offers().await;
    let flight = money(&offers[0]["price"]);
    let hotel = money(&offers[1]["price"]);
    drop(h);
    // Room for either item alone, not for both.
    let cap = flight
        .checked_add(&hotel)
        .unwrap()
        .saturating_sub(&eur("1"))
        .unwrap();
    let h = with_policy(SpendingPolicy {
        max_per_day: Some(cap),
        ..Default::default()
    })
    .await;
    let offers = h.paris_offers().await;
    let first = h
        .plan_of(&[(offers[0].clone(), "must_have")], "pm_sandbox_visa")
        .await;
    let second = h
        .plan_of(&[(offers[1].clone(), "must_have")], "pm_sandbox_visa")
        .await;
    // Both fit on their own, so both are approved...
    h.ok("confirm_travel_plan", json!({"plan_id": first["plan_id"]}))
        .await;
    h.ok("confirm_travel_plan", json!({"plan_id": second["plan_id"]}))
        .await;
    assert_eq!(
        h.ok("execute_travel_plan", json!({"plan_id": first["plan_id"]}))
            .await["status"],
        "confirmed"
    );
    // ...but once the first is charged, the second would go over the day's limit.
    let error = h
        .err("execute_travel_plan", json!({"plan_id": second["plan_id"]}))
        .await;
    assert!(
        error.contains("ITINERA_POLICY_MAX_PER_DAY") && error.contains("already committed"),
        "{error}"
    );
    assert_eq!(h.rows("orders").await, 1, "no order for the refused plan");
}

#[tokio::test]
async fn item_caps_providers_currencies_and_refundability_are_enforced() {
    let h = with_policy(SpendingPolicy {
        max_per_item: [(ItemKind::Hotel, eur("10"))].into(),
        ..Default::default()
    })
    .await;
    let offers = h.paris_offers().await;
    let error = refused(&h, &offers[1..2]).await;
    assert!(
        error.contains("ITINERA_POLICY_MAX_ITEM") && error.contains("for one hotel"),
        "{error}"
    );

    let h = with_policy(SpendingPolicy {
        providers: Some(["duffel".to_string()].into()),
        ..Default::default()
    })
    .await;
    let offers = h.paris_offers().await;
    assert!(
        refused(&h, &offers[..1])
            .await
            .contains("provider 'sandbox'")
    );

    let h = with_policy(SpendingPolicy {
        currencies: Some([Currency::parse("USD").unwrap()].into()),
        ..Default::default()
    })
    .await;
    let offers = h.paris_offers().await;
    assert!(refused(&h, &offers[..1]).await.contains("paying in EUR"));

    let h = with_policy(SpendingPolicy {
        refundable_only: true,
        ..Default::default()
    })
    .await;
    let mut strict = None;
    for day in 20..40 {
        let found = h.ok("search_flights", json!({"origin": "LHR", "destination": "CDG", "date": h.day(day), "currency": "EUR"})).await;
        strict = found["offers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["cancellation"]["type"] == "non_refundable")
            .cloned();
        if strict.is_some() {
            break;
        }
    }
    let strict = strict.expect("the sandbox offers some non-refundable fares");
    assert!(
        refused(&h, &[strict])
            .await
            .contains("refundable items only")
    );
}
