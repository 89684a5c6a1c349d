//! A plan paid with several methods: part on a Stripe card (standing in for a voucher or a
//! second card), the rest on a sandbox card. Each part is held first; one refused releases the
//! others; captures fill the parts in order and refunds go back last part first.

mod common;

use common::stripe_fake::{FakeStripe, KEY};
use common::{Harness, Options, money, sum};
use itinera::config::PaymentSettings;
use itinera::domain::money::Money;
use serde_json::{Value, json};

/// The sandbox pays first in the operator's order; Stripe is configured beside it.
async fn sandbox_and_stripe() -> (Harness, FakeStripe) {
    let fake = FakeStripe::start().await;
    let h = Harness::with(Options {
        fallback_payments: vec![PaymentSettings::Stripe {
            secret_key: KEY.to_string().into(),
            base_url: fake.base_url.clone(),
            webhook_secret: None,
        }],
        ..Options::default()
    })
    .await;
    (h, fake)
}

fn eur(amount: &str) -> Money {
    Money::parse(amount, "EUR").unwrap()
}

const ALL_MUST: [&str; 4] = ["must_have"; 4];

/// The split plan, approved by the person and executed: (plan, order, offers).
async fn executed_split(
    h: &Harness,
    priorities: &[&str],
    method: &str,
    split: Value,
) -> (Value, Value, Vec<Value>) {
    let (plan, offers) = h.split_plan(priorities, method, split).await;
    h.ok("confirm_travel_plan", json!({"plan_id": plan["plan_id"]}))
        .await;
    let order = h
        .ok("execute_travel_plan", json!({"plan_id": plan["plan_id"]}))
        .await;
    (plan, order, offers)
}

/// The sandbox ledger's view of one of its payments: (status, held, captured, refunded).
async fn sandbox_payment(h: &Harness, id: &str) -> (String, Money, Money, Money) {
    let payment = h.sandbox().ledger().payment(id).await.unwrap().unwrap();
    (
        payment.status,
        payment.amount,
        payment.captured,
        payment.refunded,
    )
}

/// The parts' own payment ids, in the order's part order.
fn part_references(order: &Value) -> Vec<String> {
    serde_json::from_str(order["payment"]["reference"].as_str().unwrap()).unwrap()
}

#[tokio::test]
async fn the_person_approves_the_split_and_each_method_is_charged_its_part() {
    let (h, fake) = sandbox_and_stripe().await;
    let split =
        json!([{"method": "pm_card_visa", "amount": {"amount": "200.00", "currency": "EUR"}}]);
    let (plan, offers) = h.split_plan(&ALL_MUST, "pm_sandbox_visa", split).await;
    let total = sum(offers.iter().map(|o| money(&o["price"])));
    assert_eq!(plan["payment_split"][0]["amount"]["amount"], "200.00");

    let approval = h
        .ok("confirm_travel_plan", json!({"plan_id": plan["plan_id"]}))
        .await;
    let route = &approval["payment_route"];
    assert_eq!(route["split"][0]["provider"], "stripe", "{route}");
    assert_eq!(route["split"][0]["amount"]["amount"], "200.00", "{route}");
    assert_eq!(
        route["choices"][0]["provider"], "sandbox_payments",
        "{route}"
    );

    let order = h
        .ok("execute_travel_plan", json!({"plan_id": plan["plan_id"]}))
        .await;
    assert_eq!(order["status"], "confirmed", "{order}");
    assert_eq!(money(&order["captured"]), total);
    let parts = order["payment_parts"].as_array().unwrap();
    assert_eq!(parts.len(), 2, "{order}");
    assert_eq!(parts[0]["provider"], "stripe");
    assert_eq!(parts[0]["method"], "pm_…visa", "masked");
    assert_eq!(
        money(&parts[1]["amount"]),
        total.saturating_sub(&eur("200.00")).unwrap()
    );

    let references = part_references(&order);
    assert_eq!(
        fake.intent(&references[0]),
        ("succeeded".into(), 20000, 0),
        "Stripe took its 200.00"
    );
    let rest = total.saturating_sub(&eur("200.00")).unwrap();
    assert_eq!(
        sandbox_payment(&h, &references[1]).await,
        ("captured".into(), rest, rest, eur("0.00")),
        "the sandbox card paid the rest"
    );
    let placing = format!(
        "Placing holds of {total} in all: EUR 200.00 on pm_…visa (stripe), {rest} on pm_…visa (sandbox_payments)"
    );
    assert!(
        order["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .any(|event| event["message"] == placing.as_str()),
        "the timeline says which method holds what: {}",
        order["timeline"]
    );
}

#[tokio::test]
async fn a_refused_part_releases_the_parts_already_held_and_charges_nothing() {
    let (h, fake) = sandbox_and_stripe().await;
    // The sandbox part is held first; Stripe's card is declined after it.
    let split =
        json!([{"method": "pm_sandbox_visa", "amount": {"amount": "150.00", "currency": "EUR"}}]);
    let (_, order, _) = executed_split(&h, &ALL_MUST, "pm_card_visa_chargeDeclined", split).await;
    assert_eq!(order["status"], "failed", "{order}");
    let failure = order["failure"].as_str().unwrap();
    assert!(
        failure.contains("declined") && failure.contains("part 1") && failure.contains("released"),
        "says which part was refused and that the others were released: {failure}"
    );
    assert!(h.ledger_bookings().await.is_empty(), "nothing was booked");

    let payments = h.sandbox().ledger().payments().await.unwrap();
    assert_eq!(payments.len(), 1, "{payments:?}");
    assert_eq!(
        (payments[0].status.as_str(), payments[0].captured),
        ("voided", eur("0.00")),
        "the sandbox hold of 150.00 was released"
    );
    assert_eq!(
        fake.intent_count(),
        0,
        "Stripe holds and took nothing (its fake keeps no declined intent)"
    );
}

#[tokio::test]
async fn what_is_not_booked_comes_off_the_last_part_and_refunds_go_back_last_part_first() {
    let (h, fake) = sandbox_and_stripe().await;
    h.set_faults("activity.book=fail");
    let split =
        json!([{"method": "pm_card_visa", "amount": {"amount": "100.00", "currency": "EUR"}}]);
    let priorities = ["must_have", "must_have", "optional", "must_have"];
    let (_, order, offers) = executed_split(&h, &priorities, "pm_sandbox_visa", split).await;
    assert_eq!(order["status"], "partially_confirmed", "{order}");
    let booked = sum([0, 1, 3].iter().map(|&i| money(&offers[i]["price"])));
    let total = sum(offers.iter().map(|o| money(&o["price"])));
    assert_eq!(money(&order["captured"]), booked);

    let references = part_references(&order);
    assert_eq!(
        fake.intent(&references[0]),
        ("succeeded".into(), 10000, 0),
        "the first part is taken in full"
    );
    let rest_held = total.saturating_sub(&eur("100.00")).unwrap();
    let rest_taken = booked.saturating_sub(&eur("100.00")).unwrap();
    assert_eq!(
        sandbox_payment(&h, &references[1]).await,
        ("captured".into(), rest_held, rest_taken, eur("0.00")),
        "the activity's price is not taken from the last part"
    );

    // A goodwill refund larger than the last part's capture finishes it, then reaches Stripe.
    let refund = rest_taken.checked_add(&eur("30.00")).unwrap();
    let refunded = h
        .ok(
            "refund_payment",
            json!({"order_id": order["order_id"], "amount": refund, "reason": "late hotel check-in"}),
        )
        .await;
    assert_eq!(money(&refunded["refunded"]), refund, "{refunded}");
    assert_eq!(
        sandbox_payment(&h, &references[1]).await.3,
        rest_taken,
        "the sandbox card got back all it paid"
    );
    assert_eq!(
        fake.intent(&references[0]).2,
        3000,
        "Stripe gave back the 30.00 beyond it"
    );
}

#[tokio::test]
async fn a_part_that_needs_three_d_secure_waits_for_the_person_then_the_order_goes_on() {
    let (h, fake) = sandbox_and_stripe().await;
    let split =
        json!([{"method": "pm_sandbox_3ds", "amount": {"amount": "120.00", "currency": "EUR"}}]);
    let (plan, waiting, _) = executed_split(&h, &ALL_MUST, "pm_card_visa", split).await;
    assert_eq!(waiting["status"], "payment_action_required", "{waiting}");
    assert!(h.ledger_bookings().await.is_empty());
    let url = waiting["payment"]["action_url"]
        .as_str()
        .unwrap()
        .to_string();
    reqwest::get(&url).await.unwrap();

    let done = h
        .ok("execute_travel_plan", json!({"plan_id": plan["plan_id"]}))
        .await;
    assert_eq!(done["status"], "confirmed", "{done}");
    let references = part_references(&done);
    assert_eq!(
        sandbox_payment(&h, &references[0]).await.2,
        eur("120.00"),
        "the authenticated part was charged"
    );
    assert_eq!(fake.intent(&references[1]).0, "succeeded");
}

#[tokio::test]
async fn a_split_that_cannot_be_paid_is_refused_when_planned_with_what_to_do() {
    let (h, _fake) = sandbox_and_stripe().await;
    let cases = [
        (
            json!([{"method": "auto", "amount": {"amount": "10.00", "currency": "EUR"}}]),
            "name the method",
        ),
        (
            json!([{"method": "pm_card_visa", "amount": {"amount": "99999.00", "currency": "EUR"}}]),
            "leaving nothing for payment_method",
        ),
        (
            json!([{"method": "pm_sandbox_visa", "amount": {"amount": "10.00", "currency": "EUR"}}]),
            "name each method once",
        ),
        (
            json!([{"method": "pm_card_visa", "amount": {"amount": "10.00", "currency": "USD"}}]),
            "the plan is in EUR",
        ),
        (
            json!([{"method": "voucher_unknown", "amount": {"amount": "10.00", "currency": "EUR"}}]),
            "no payment provider can take part 0",
        ),
    ];
    let offers = h.paris_offers().await;
    for (split, expected) in cases {
        let error = h
            .err(
                "create_travel_plan",
                json!({
                    "travellers": [{"given_name": "Ada", "family_name": "Lovelace"}],
                    "payment_method": "pm_sandbox_visa",
                    "payment_split": split,
                    "items": [{"offer_id": offers[0]["id"]}],
                }),
            )
            .await;
        assert!(error.contains(expected), "{split}: {error}");
    }
    assert_eq!(h.rows("plans").await, 0, "nothing was stored");
}

#[tokio::test]
async fn a_rollback_releases_every_part() {
    let (h, fake) = sandbox_and_stripe().await;
    h.set_faults("hotel.book=fail");
    let split =
        json!([{"method": "pm_card_visa", "amount": {"amount": "100.00", "currency": "EUR"}}]);
    let (_, order, _) = executed_split(&h, &ALL_MUST, "pm_sandbox_visa", split).await;
    assert_eq!(order["status"], "failed", "{order}");
    let references = part_references(&order);
    assert_eq!(fake.intent(&references[0]), ("canceled".into(), 0, 0));
    assert_eq!(sandbox_payment(&h, &references[1]).await.0, "voided");
}

#[tokio::test]
async fn a_part_whose_provider_blinks_is_sent_again_under_its_key_with_one_hold_each() {
    let (h, fake) = sandbox_and_stripe().await;
    let split =
        json!([{"method": "pm_sandbox_visa", "amount": {"amount": "100.00", "currency": "EUR"}}]);
    let (plan, _) = h.split_plan(&ALL_MUST, "pm_card_visa", split).await;
    h.ok("confirm_travel_plan", json!({"plan_id": plan["plan_id"]}))
        .await;
    fake.fail_next(503, None);
    let order = h
        .ok("execute_travel_plan", json!({"plan_id": plan["plan_id"]}))
        .await;
    assert_eq!(order["status"], "confirmed", "{order}");
    assert_eq!(fake.intent_count(), 1);
    let payments = h.sandbox().ledger().payments().await.unwrap();
    assert_eq!(
        payments.len(),
        1,
        "the sandbox part was replayed: {payments:?}"
    );
}

/// The Stripe part is held but its answer lost, then the server restarts: recovery sends the
/// split again, every part is replayed under its key, and the order goes on with one hold each.
#[tokio::test]
async fn a_split_whose_answer_was_lost_is_replayed_after_a_restart_without_a_second_hold() {
    let fake = FakeStripe::start().await;
    let options = || Options {
        fallback_payments: vec![PaymentSettings::Stripe {
            secret_key: KEY.to_string().into(),
            base_url: fake.base_url.clone(),
            webhook_secret: None,
        }],
        ..Options::default()
    };
    let before = Harness::with(options()).await;
    let split =
        json!([{"method": "pm_sandbox_visa", "amount": {"amount": "100.00", "currency": "EUR"}}]);
    let (plan, offers) = before.split_plan(&ALL_MUST, "pm_card_visa", split).await;
    before
        .ok("confirm_travel_plan", json!({"plan_id": plan["plan_id"]}))
        .await;
    fake.lose_next_answer(50);
    before
        .call("execute_travel_plan", json!({"plan_id": plan["plan_id"]}))
        .await;
    assert_eq!(fake.intent_count(), 1);
    fake.clear_failures();

    let after = Harness::start_in(before.dir, options()).await;
    after.app.recover().await.unwrap();
    let orders = after.ok("list_bookings", json!({})).await;
    let order_id = &orders["orders"][0]["order_id"];
    let order = after
        .ok("get_booking_status", json!({"order_id": order_id}))
        .await;
    assert_eq!(order["status"], "confirmed", "{order}");
    assert_eq!(fake.intent_count(), 1, "no second Stripe hold");
    let payments = after.sandbox().ledger().payments().await.unwrap();
    assert_eq!(payments.len(), 1, "no second sandbox hold: {payments:?}");
    let total = sum(offers.iter().map(|o| money(&o["price"])));
    assert_eq!(money(&order["captured"]), total);
}

/// A part paid with a card the person saved on Stripe's page names its customer, as Stripe
/// requires; the rest is paid with the sandbox card, which has none.
#[tokio::test]
async fn a_part_paid_with_a_saved_card_names_the_card_s_customer() {
    let (h, fake) = sandbox_and_stripe().await;
    let setup = h
        .ok("add_payment_method", json!({"provider": "stripe"}))
        .await;
    let url = setup["url"].as_str().unwrap();
    let typed = reqwest::get(format!("{url}?card=visa")).await.unwrap();
    assert_eq!(typed.text().await.unwrap(), "saved");
    let listed = h.ok("list_payment_methods", json!({})).await;
    let token = listed["saved"][0]["token"].as_str().unwrap().to_string();

    let split = json!([{"method": token, "amount": {"amount": "200.00", "currency": "EUR"}}]);
    let (_, order, _) = executed_split(&h, &ALL_MUST, "pm_sandbox_visa", split).await;
    assert_eq!(order["status"], "confirmed", "{order}");
    let holds: Vec<_> = fake
        .received()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == "/v1/payment_intents")
        .collect();
    assert_eq!(holds.len(), 1);
    assert_eq!(holds[0].field("payment_method"), Some(token.as_str()));
    let customer = holds[0].field("customer").unwrap_or_default();
    assert!(customer.starts_with("cus_"), "{customer}");
    assert_eq!(holds[0].field("amount"), Some("20000"));
}

#[tokio::test]
async fn a_rollback_whose_first_release_is_refused_still_releases_the_others_and_comes_back() {
    let (h, fake) = sandbox_and_stripe().await;
    h.set_faults("hotel.book=fail,payment.void=fail");
    let split =
        json!([{"method": "pm_sandbox_visa", "amount": {"amount": "100.00", "currency": "EUR"}}]);
    let (plan, stuck, _) = executed_split(&h, &ALL_MUST, "pm_card_visa", split).await;
    assert_ne!(
        stuck["status"], "failed",
        "not failed while the sandbox part is still held: {stuck}"
    );
    let references = part_references(&stuck);
    assert_eq!(
        fake.intent(&references[1]).0,
        "canceled",
        "the Stripe part was released although the sandbox part refused"
    );
    assert_eq!(sandbox_payment(&h, &references[0]).await.0, "authorized");

    h.set_faults("");
    let done = h
        .ok("execute_travel_plan", json!({"plan_id": plan["plan_id"]}))
        .await;
    assert_eq!(done["status"], "failed", "{done}");
    assert_eq!(sandbox_payment(&h, &references[0]).await.0, "voided");
}

/// The Stripe part is captured, then the sandbox part's capture is refused: the order cannot
/// collect what was booked, so the bookings are cancelled and the Stripe part refunded.
#[tokio::test]
async fn a_capture_refused_on_a_later_part_gives_back_what_earlier_parts_took() {
    let (h, fake) = sandbox_and_stripe().await;
    h.set_faults("payment.capture=fail");
    let split =
        json!([{"method": "pm_card_visa", "amount": {"amount": "200.00", "currency": "EUR"}}]);
    let (_, order, _) = executed_split(&h, &ALL_MUST, "pm_sandbox_visa", split).await;
    assert_eq!(order["status"], "failed", "{order}");
    let references = part_references(&order);
    assert_eq!(
        fake.intent(&references[0]),
        ("succeeded".into(), 20000, 20000),
        "the 200.00 Stripe took was refunded"
    );
    assert_eq!(sandbox_payment(&h, &references[1]).await.0, "voided");
    let bookings = h.ledger_bookings().await;
    assert!(
        bookings.iter().all(|booking| booking.status == "cancelled"),
        "{bookings:?}"
    );
}

#[tokio::test]
async fn a_cancellation_of_a_split_order_refunds_the_last_part_first() {
    let (h, fake) = sandbox_and_stripe().await;
    let split =
        json!([{"method": "pm_card_visa", "amount": {"amount": "300.00", "currency": "EUR"}}]);
    let (_, order, offers) = executed_split(&h, &ALL_MUST, "pm_sandbox_visa", split).await;
    assert_eq!(order["status"], "confirmed", "{order}");
    let now = chrono::Utc::now();
    let expected = sum(offers.iter().map(|o| common::expected_refund(o, now)));
    let cancelled = h
        .ok("cancel_booking", json!({"order_id": order["order_id"]}))
        .await;
    assert_eq!(money(&cancelled["refunded"]), expected, "{cancelled}");
    let references = part_references(&order);
    let total = sum(offers.iter().map(|o| money(&o["price"])));
    let sandbox_paid = total.saturating_sub(&eur("300.00")).unwrap();
    let from_sandbox = expected.min(&sandbox_paid).unwrap();
    let from_stripe = expected.saturating_sub(&from_sandbox).unwrap();
    assert_eq!(sandbox_payment(&h, &references[1]).await.3, from_sandbox);
    assert_eq!(
        fake.intent(&references[0]).2,
        from_stripe.minor_units().unwrap()
    );
}

#[tokio::test]
async fn two_parts_that_need_the_person_show_one_page_after_the_other() {
    let (h, fake) = sandbox_and_stripe().await;
    let split =
        json!([{"method": "pm_sandbox_3ds", "amount": {"amount": "120.00", "currency": "EUR"}}]);
    let (plan, first, _) =
        executed_split(&h, &ALL_MUST, "pm_card_threeDSecure2Required", split).await;
    assert_eq!(first["status"], "payment_action_required", "{first}");
    let sandbox_page = first["payment"]["action_url"].as_str().unwrap().to_string();
    assert!(sandbox_page.contains("/sandbox/3ds/"), "{sandbox_page}");
    reqwest::get(&sandbox_page).await.unwrap();

    let second = h
        .ok("execute_travel_plan", json!({"plan_id": plan["plan_id"]}))
        .await;
    assert_eq!(second["status"], "payment_action_required", "{second}");
    let stripe_page = second["payment"]["action_url"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(stripe_page.starts_with(&fake.base_url), "{stripe_page}");
    assert!(
        second["timeline"]
            .to_string()
            .contains("Another part of the payment needs the customer"),
        "{second}"
    );
    assert!(h.ledger_bookings().await.is_empty(), "nothing booked yet");
    reqwest::get(&stripe_page).await.unwrap();

    let done = h
        .ok("execute_travel_plan", json!({"plan_id": plan["plan_id"]}))
        .await;
    assert_eq!(done["status"], "confirmed", "{done}");
}
