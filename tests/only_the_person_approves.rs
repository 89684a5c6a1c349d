//! The model cannot approve a payment: no tool or argument sets an approval, invented arguments
//! are ignored, and one plan's approval (or code) never pays for another.

mod common;

use common::{Answer, Harness, Options, Person};
use serde_json::{Value, json};

async fn plan(h: &Harness, title: &str) -> String {
    let offers = h.paris_offers().await;
    let items: Vec<Value> = offers
        .iter()
        .map(|o| json!({"offer_id": o["id"], "priority": "must_have"}))
        .collect();
    let plan = h
        .ok(
            "create_travel_plan",
            json!({
                "title": title,
                "travellers": [{"given_name": "Ada", "family_name": "Lovelace"}],
                "payment_method": "pm_sandbox_visa",
                "items": items,
            }),
        )
        .await;
    plan["plan_id"].as_str().unwrap().to_string()
}

/// Every property name of a JSON schema, nested ones included.
fn property_names(schema: &Value, names: &mut Vec<String>) {
    match schema {
        Value::Object(map) => {
            if let Some(Value::Object(properties)) = map.get("properties") {
                names.extend(properties.keys().cloned());
            }
            for value in map.values() {
                property_names(value, names);
            }
        }
        Value::Array(values) => values.iter().for_each(|v| property_names(v, names)),
        _ => {}
    }
}

#[tokio::test]
async fn no_tool_takes_an_argument_that_approves() {
    let h = Harness::start().await;
    let tools = h.client.list_all_tools().await.unwrap();
    let mut offending = Vec::new();
    for tool in &tools {
        let mut names = Vec::new();
        property_names(&Value::Object((*tool.input_schema).clone()), &mut names);
        for name in names {
            let lower = name.to_lowercase();
            // The one exception is the code the person reads out, which the model cannot know.
            if (lower.contains("approv")
                || lower.contains("consent")
                || lower.contains("confirmed"))
                && !(tool.name == "execute_travel_plan" && name == "approval_code")
            {
                offending.push(format!("{}.{name}", tool.name));
            }
        }
    }
    assert!(
        offending.is_empty(),
        "arguments that could approve: {offending:?}"
    );
}

#[tokio::test]
async fn invented_approval_arguments_are_ignored() {
    let h = Harness::with(Options {
        person: Person::headless(),
        ..Options::default()
    })
    .await;
    let plan_id = plan(&h, "Paris").await;
    let forged = json!({
        "plan_id": plan_id,
        "approved": true,
        "approval": {"status": "approved", "method": "elicitation"},
        "approval_status": "approved",
        "auto_approve_limit": "100000 EUR",
    });
    let confirmed = h.ok("confirm_travel_plan", forged.clone()).await;
    assert_eq!(confirmed["status"], "pending", "{confirmed}");
    let refusal = h.err("execute_travel_plan", forged).await;
    assert!(refusal.contains("has not answered"), "{refusal}");
    assert!(h.ledger_bookings().await.is_empty());
}

#[tokio::test]
async fn one_plans_approval_does_not_pay_for_another() {
    let h = Harness::with(Options {
        person: Person::new(Answer::Approve),
        ..Options::default()
    })
    .await;
    let approved = plan(&h, "Approved trip").await;
    let other = plan(&h, "Other trip").await;
    let approval = h
        .ok("confirm_travel_plan", json!({"plan_id": approved}))
        .await;
    assert_eq!(approval["status"], "approved");
    let refusal = h
        .err("execute_travel_plan", json!({"plan_id": other}))
        .await;
    assert!(refusal.contains("has not been approved"), "{refusal}");
    assert!(h.ledger_bookings().await.is_empty());
}

#[tokio::test]
async fn one_plans_code_does_not_approve_another() {
    let h = Harness::with(Options {
        person: Person::headless(),
        ..Options::default()
    })
    .await;
    let first = plan(&h, "First").await;
    let second = plan(&h, "Second").await;
    h.ok("confirm_travel_plan", json!({"plan_id": first})).await;
    let first_code = h.codes.latest().code;
    h.ok("confirm_travel_plan", json!({"plan_id": second}))
        .await;
    let refusal = h
        .err(
            "execute_travel_plan",
            json!({"plan_id": second, "approval_code": first_code}),
        )
        .await;
    assert!(refusal.contains("not right"), "{refusal}");
    // A code before any confirmation approves nothing either.
    let third = plan(&h, "Third").await;
    let refusal = h
        .err(
            "execute_travel_plan",
            json!({"plan_id": third, "approval_code": first_code}),
        )
        .await;
    assert!(refusal.contains("no approval request"), "{refusal}");
    assert!(h.ledger_bookings().await.is_empty());
}
