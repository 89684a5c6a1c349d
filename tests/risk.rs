//! Risk checks before payment: velocity, an amount far above the person's history, and a high
//! amount on a new payment method each take the payment back to the person, with the reason.

mod common;

use common::{Answer, Harness, Options, Person};
use itinera::domain::money::Money;
use itinera::domain::risk::RiskRules;
use serde_json::{Value, json};

async fn harness(risk: RiskRules, person: Person) -> Harness {
    Harness::with(Options {
        risk,
        person,
        auto_approve_limit: Some("100000 EUR"),
        ..Options::default()
    })
    .await
}

/// A plan of one refundable hotel night.
async fn hotel_plan(h: &Harness, payment_method: &str) -> String {
    let hotels = h
        .ok("search_hotels", json!({"city": "Paris", "check_in": h.day(20), "check_out": h.day(21), "currency": "EUR"}))
        .await;
    let offer = hotels["offers"][0].clone();
    let plan = h.plan_of(&[(offer, "must_have")], payment_method).await;
    plan["plan_id"].as_str().unwrap().to_string()
}

async fn execute(h: &Harness, plan_id: &str) -> Value {
    h.ok("execute_travel_plan", json!({"plan_id": plan_id}))
        .await
}

fn kinds(approval: &Value) -> Vec<String> {
    approval["risks"]
        .as_array()
        .map(|risks| {
            risks
                .iter()
                .map(|r| r["kind"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn many_orders_in_a_short_time_go_back_to_the_person() {
    let rules = RiskRules {
        velocity_max_orders: Some(2),
        ..RiskRules::off()
    };
    let h = harness(rules, Person::new(Answer::Approve)).await;
    for _ in 0..2 {
        let plan_id = hotel_plan(&h, "pm_sandbox_visa").await;
        let approval = h
            .ok("confirm_travel_plan", json!({"plan_id": plan_id}))
            .await;
        assert_eq!(approval["method"], "auto_approve_limit", "{approval}");
        assert_eq!(execute(&h, &plan_id).await["status"], "confirmed");
    }
    // The third is not auto-approved: the person is asked, and shown why.
    let plan_id = hotel_plan(&h, "pm_sandbox_visa").await;
    let approval = h
        .ok("confirm_travel_plan", json!({"plan_id": plan_id}))
        .await;
    assert_eq!(approval["method"], "elicitation", "{approval}");
    assert_eq!(kinds(&approval), ["velocity"]);
    let prompt = h.person.prompts.lock().unwrap().last().cloned().unwrap();
    assert!(
        prompt.contains("2 orders were started in the last 60 minutes"),
        "{prompt}"
    );
    assert_eq!(execute(&h, &plan_id).await["status"], "confirmed");
}

#[tokio::test]
async fn a_risk_that_appears_after_approval_needs_a_fresh_approval() {
    let rules = RiskRules {
        velocity_max_orders: Some(1),
        ..RiskRules::off()
    };
    let h = harness(rules, Person::new(Answer::Approve)).await;
    let first = hotel_plan(&h, "pm_sandbox_visa").await;
    let second = hotel_plan(&h, "pm_sandbox_visa").await;
    for plan_id in [&first, &second] {
        let approval = h
            .ok("confirm_travel_plan", json!({"plan_id": plan_id}))
            .await;
        assert_eq!(approval["method"], "auto_approve_limit");
    }
    assert_eq!(execute(&h, &first).await["status"], "confirmed");
    let refusal = h
        .err("execute_travel_plan", json!({"plan_id": second}))
        .await;
    assert!(refusal.contains("fresh approval"), "{refusal}");
    assert!(refusal.contains("1 orders were started"), "{refusal}");
    assert_eq!(
        h.ledger_bookings().await.len(),
        1,
        "nothing booked for the second"
    );
    let log = h.ok("get_audit_log", json!({})).await.to_string();
    assert!(log.contains("risk.fresh_approval_required"), "{log}");

    let again = h
        .ok("confirm_travel_plan", json!({"plan_id": second}))
        .await;
    assert_eq!(again["method"], "elicitation", "{again}");
    assert_eq!(execute(&h, &second).await["status"], "confirmed");
}

#[tokio::test]
async fn an_amount_far_above_the_persons_history_is_asked_about() {
    let rules = RiskRules {
        unusual_multiple: Some(2),
        unusual_min_history: 1,
        ..RiskRules::off()
    };
    let h = harness(rules, Person::new(Answer::Decline)).await;
    let small = hotel_plan(&h, "pm_sandbox_visa").await;
    h.ok("confirm_travel_plan", json!({"plan_id": small})).await;
    let paid = execute(&h, &small).await;
    let paid_total = common::money(&paid["captured"]);

    let (big, _) = {
        let offers = h.paris_offers().await;
        let items: Vec<(Value, &str)> = offers.iter().map(|o| (o.clone(), "must_have")).collect();
        let plan = h.plan_of(&items, "pm_sandbox_visa").await;
        (plan["plan_id"].as_str().unwrap().to_string(), plan)
    };
    let approval = h.ok("confirm_travel_plan", json!({"plan_id": big})).await;
    let total = common::money(&approval["amount"]);
    assert!(
        total.amount() > paid_total.amount() * rust_decimal::Decimal::from(2),
        "the test needs a plan over twice the first: {total} vs {paid_total}"
    );
    assert_eq!(kinds(&approval), ["unusual_amount"]);
    assert_eq!(
        approval["status"], "declined",
        "the person was asked and said no"
    );
    assert!(
        approval["risks"][0]["reason"]
            .as_str()
            .unwrap()
            .contains(&paid_total.to_string()),
        "{approval}"
    );
}

#[tokio::test]
async fn a_high_amount_on_a_new_payment_method_is_asked_about_once() {
    let rules = RiskRules {
        new_method_amounts: [(
            itinera::domain::money::Currency::parse("EUR").unwrap(),
            Money::parse("1", "EUR").unwrap(),
        )]
        .into_iter()
        .collect(),
        ..RiskRules::off()
    };
    let h = harness(rules, Person::new(Answer::Approve)).await;
    let first = hotel_plan(&h, "pm_sandbox_visa").await;
    let approval = h.ok("confirm_travel_plan", json!({"plan_id": first})).await;
    assert_eq!(kinds(&approval), ["new_payment_method"]);
    assert_eq!(approval["method"], "elicitation");
    assert_eq!(execute(&h, &first).await["status"], "confirmed");

    // Once it has paid, the same method is no longer new; another one is.
    let second = hotel_plan(&h, "pm_sandbox_visa").await;
    let approval = h
        .ok("confirm_travel_plan", json!({"plan_id": second}))
        .await;
    assert_eq!(approval["method"], "auto_approve_limit", "{approval}");
    let third = hotel_plan(&h, "pm_sandbox_3ds").await;
    let approval = h.ok("confirm_travel_plan", json!({"plan_id": third})).await;
    assert_eq!(kinds(&approval), ["new_payment_method"]);
}

#[tokio::test]
async fn parallel_executions_are_checked_one_after_another() {
    let rules = RiskRules {
        velocity_max_orders: Some(1),
        ..RiskRules::off()
    };
    let h = harness(rules, Person::new(Answer::Approve)).await;
    let mut plans = Vec::new();
    for _ in 0..3 {
        let plan_id = hotel_plan(&h, "pm_sandbox_visa").await;
        let approval = h
            .ok("confirm_travel_plan", json!({"plan_id": plan_id}))
            .await;
        assert_eq!(approval["method"], "auto_approve_limit");
        plans.push(plan_id);
    }
    let results = futures::future::join_all(
        plans
            .iter()
            .map(|plan_id| h.call("execute_travel_plan", json!({"plan_id": plan_id}))),
    )
    .await;
    let confirmed = results.iter().filter(|r| r.is_error != Some(true)).count();
    assert_eq!(confirmed, 1, "only the first fits under the velocity rule");
    for refused in results.iter().filter(|r| r.is_error == Some(true)) {
        assert!(
            common::text(refused).contains("fresh approval"),
            "{}",
            common::text(refused)
        );
    }
    assert_eq!(h.ledger_bookings().await.len(), 1);
}

#[tokio::test]
async fn the_person_reading_a_code_is_told_the_risk_too() {
    let rules = RiskRules {
        new_method_amounts: Default::default(),
        velocity_max_orders: Some(0),
        ..RiskRules::off()
    };
    let h = harness(rules, Person::headless()).await;
    let plan_id = hotel_plan(&h, "pm_sandbox_visa").await;
    let approval = h
        .ok("confirm_travel_plan", json!({"plan_id": plan_id}))
        .await;
    assert_eq!(approval["status"], "pending", "{approval}");
    assert_eq!(kinds(&approval), ["velocity"]);
    let notice = h.codes.latest();
    assert!(
        notice
            .message()
            .contains("Please check: 0 orders were started"),
        "{}",
        notice.message()
    );
}
