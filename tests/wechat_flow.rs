//! The whole flow paid through WeChat Pay, which cannot hold money: the items are booked first,
//! then exactly what was booked is charged by a Native order the customer pays by QR code. Paid
//! (by a later look-up or by WeChat Pay's notification) → confirmed, and a cancellation is
//! refunded; not paid by the deadline, or cancelled while waiting → the order is closed so it can
//! no longer be paid, and every booking is cancelled.

mod common;

use common::wechat_fake::{API_V3_KEY, FakeWeChat};
use common::{Harness, Options, expected_refund, money, sum};
use itinera::adapters::payments::wechat::ApiV3Key;
use itinera::config::PaymentSettings;
use itinera::orchestrator::payment_window;
use itinera::ports::Clock;
use serde_json::{Value, json};

async fn with_wechat() -> (Harness, FakeWeChat) {
    let fake = FakeWeChat::start().await;
    let h = Harness::with(Options {
        payment: PaymentSettings::WeChat {
            settings: Box::new(fake.settings()),
            api_v3_key: Box::new(ApiV3Key::parse(API_V3_KEY).unwrap()),
        },
        ..Options::default()
    })
    .await;
    (h, fake)
}

/// Plans the Paris offers in yuan, approved, and executes: the order waiting to be paid.
async fn booked_and_waiting(h: &Harness) -> (String, Vec<Value>, Value) {
    let (plan_id, offers) = h.approved_paris_plan_in("wechat_native", "CNY").await;
    let order = h
        .ok("execute_travel_plan", json!({"plan_id": plan_id}))
        .await;
    assert_eq!(order["status"], "payment_action_required", "{order}");
    (plan_id, offers, order)
}

fn fen(amount: &Value) -> i64 {
    money(amount).minor_units().unwrap()
}

async fn booking_statuses(h: &Harness) -> Vec<String> {
    h.ledger_bookings()
        .await
        .into_iter()
        .map(|booking| booking.status)
        .collect()
}

#[tokio::test]
async fn everything_is_booked_first_then_the_customer_pays_what_was_booked_and_a_cancellation_is_refunded()
 {
    let (h, fake) = with_wechat().await;
    let (plan_id, offers, waiting) = booked_and_waiting(&h).await;
    assert_eq!(
        booking_statuses(&h).await,
        ["booked"; 4],
        "booked before any money moved"
    );
    let code_url = waiting["payment"]["action_url"].as_str().unwrap();
    assert!(
        code_url.starts_with("weixin://wxpay/bizpayurl"),
        "{waiting}"
    );
    let total = sum(offers.iter().map(|o| money(&o["price"])));
    let prepay = fake
        .received()
        .into_iter()
        .find(|r| r.path == "/v3/pay/transactions/native")
        .expect("a Native order was placed");
    let sent = prepay.json.unwrap();
    assert_eq!(sent["amount"]["total"], total.minor_units().unwrap());
    assert_eq!(sent["amount"]["currency"], "CNY");
    assert!(
        sent["time_expire"]
            .as_str()
            .is_some_and(|t| t.ends_with("+08:00")),
        "the deadline goes to WeChat Pay: {sent}"
    );

    assert!(fake.scan(code_url), "the customer pays");
    let order = h
        .ok("execute_travel_plan", json!({"plan_id": plan_id}))
        .await;
    assert_eq!(order["status"], "confirmed", "{order}");
    assert_eq!(money(&order["captured"]), total);
    let number = order["payment"]["reference"].as_str().unwrap().to_string();
    assert_eq!(
        fake.trade(&number),
        ("SUCCESS".to_string(), total.minor_units().unwrap(), 0)
    );

    let now = chrono::Utc::now();
    let expected = sum(offers.iter().map(|o| expected_refund(o, now)));
    let cancelled = h
        .ok("cancel_booking", json!({"order_id": order["order_id"]}))
        .await;
    assert_eq!(money(&cancelled["refunded"]), expected, "{cancelled}");
    assert_eq!(fake.trade(&number).2, fen(&cancelled["refunded"]));
}

#[tokio::test]
async fn not_paid_by_the_deadline_the_payment_is_closed_and_every_booking_cancelled() {
    let (h, fake) = with_wechat().await;
    let (plan_id, _, waiting) = booked_and_waiting(&h).await;
    let number = waiting["payment"]["reference"]
        .as_str()
        .unwrap()
        .to_string();

    h.clock
        .advance(payment_window() - chrono::Duration::minutes(1));
    let still = h
        .ok("execute_travel_plan", json!({"plan_id": plan_id}))
        .await;
    assert_eq!(still["status"], "payment_action_required", "not yet due");

    h.clock.advance(chrono::Duration::minutes(2));
    let order = h
        .ok("execute_travel_plan", json!({"plan_id": plan_id}))
        .await;
    assert_eq!(order["status"], "failed", "{order}");
    let failure = order["failure"].as_str().unwrap();
    assert!(
        failure.contains("did not pay by") && failure.contains("the payment was closed"),
        "{failure}"
    );
    assert_eq!(booking_statuses(&h).await, ["cancelled"; 4]);
    assert_eq!(fake.trade(&number).0, "CLOSED");
    assert!(!fake.pay(&number), "a closed order can no longer be paid");
    assert_eq!(
        money(&order["captured"]),
        money(&json!({"amount": "0", "currency": "CNY"}))
    );
}

#[tokio::test]
async fn cancelled_while_waiting_to_be_paid_the_bookings_are_cancelled_and_nothing_is_charged() {
    let (h, fake) = with_wechat().await;
    let (_, _, waiting) = booked_and_waiting(&h).await;
    let number = waiting["payment"]["reference"]
        .as_str()
        .unwrap()
        .to_string();

    let order = h
        .ok("cancel_booking", json!({"order_id": waiting["order_id"]}))
        .await;
    assert_eq!(order["status"], "failed", "{order}");
    assert!(
        order["failure"]
            .as_str()
            .unwrap()
            .contains("the customer cancelled before paying"),
        "{order}"
    );
    assert_eq!(booking_statuses(&h).await, ["cancelled"; 4]);
    assert_eq!(fake.trade(&number).0, "CLOSED");
}

#[tokio::test]
async fn wechat_pays_notification_confirms_the_order_at_once_and_a_duplicate_changes_nothing() {
    let (h, fake) = with_wechat().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhooks/wechat", listener.local_addr().unwrap());
    tokio::spawn(itinera::webhooks::serve(listener, h.app.webhooks()));
    let (_, _, waiting) = booked_and_waiting(&h).await;
    let number = waiting["payment"]["reference"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(fake.pay(&number));

    let (headers, body) = fake.payment_notification(&number, h.clock.now().timestamp());
    let deliver = || async {
        let mut request = reqwest::Client::new().post(&url).body(body.clone());
        for (name, value) in &headers {
            request = request.header(*name, value);
        }
        request.send().await.unwrap().status().as_u16()
    };
    assert_eq!(deliver().await, 204, "WeChat Pay reads 204 as received");
    let order = h
        .ok(
            "get_booking_status",
            json!({"order_id": waiting["order_id"]}),
        )
        .await;
    assert_eq!(
        order["status"], "confirmed",
        "no execute call was needed: {order}"
    );
    let events = order["timeline"].as_array().unwrap().len();

    assert_eq!(deliver().await, 204, "a duplicate is acknowledged");
    let again = h
        .ok(
            "get_booking_status",
            json!({"order_id": waiting["order_id"]}),
        )
        .await;
    assert_eq!(again["timeline"].as_array().unwrap().len(), events);

    let (forged_headers, _) = fake.payment_notification(&number, h.clock.now().timestamp());
    let mut forged = reqwest::Client::new()
        .post(&url)
        .body(body.replace("TRANSACTION", "TRANSACTI0N"));
    for (name, value) in &forged_headers {
        forged = forged.header(*name, value);
    }
    assert_eq!(
        forged.send().await.unwrap().status().as_u16(),
        400,
        "a body that is not what was signed is refused"
    );
}

#[tokio::test]
async fn wechat_pay_is_listed_as_charged_after_booking_in_yuan_for_payers_in_china() {
    let (h, _fake) = with_wechat().await;
    let listed = h.ok("list_payment_methods", json!({})).await;
    let wechat = &listed["providers"][0];
    assert_eq!(wechat["provider"], "wechat");
    assert_eq!(wechat["settlement"], "charge_after_booking");
    assert_eq!(wechat["currencies"], json!(["CNY"]));
    assert_eq!(wechat["home_regions"], json!(["CN"]));
    assert_eq!(wechat["methods"][0]["method"], "wechat_native");
    assert_eq!(wechat["working"], true);
}

#[tokio::test]
async fn a_customer_who_pays_while_the_order_is_being_cancelled_gets_the_money_back() {
    let (h, fake) = with_wechat().await;
    let (_, offers, waiting) = booked_and_waiting(&h).await;
    let number = waiting["payment"]["reference"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        fake.pay(&number),
        "the customer pays just as the order is cancelled"
    );

    let order = h
        .ok("cancel_booking", json!({"order_id": waiting["order_id"]}))
        .await;
    assert_eq!(order["status"], "failed", "{order}");
    let total = sum(offers.iter().map(|o| money(&o["price"])));
    assert!(
        order["failure"].as_str().unwrap().contains(&format!(
            "the customer had paid {total}, which was refunded"
        )),
        "{order}"
    );
    assert_eq!(money(&order["captured"]), total);
    assert_eq!(money(&order["refunded"]), total);
    assert_eq!(booking_statuses(&h).await, ["cancelled"; 4]);
    assert_eq!(
        fake.trade(&number),
        (
            "REFUND".to_string(),
            fen(&order["captured"]),
            fen(&order["refunded"])
        ),
        "WeChat Pay returned all of it"
    );
}

#[tokio::test]
async fn only_what_was_booked_is_charged_when_an_optional_item_fails() {
    let (h, fake) = with_wechat().await;
    h.set_faults("activity.book=fail");
    let offers = h.paris_offers_in("CNY").await;
    let priorities = ["must_have", "must_have", "optional", "must_have"];
    let planned: Vec<(Value, &str)> = offers.iter().cloned().zip(priorities).collect();
    let plan = h.plan_of(&planned, "wechat_native").await;
    h.ok("confirm_travel_plan", json!({"plan_id": plan["plan_id"]}))
        .await;
    let waiting = h
        .ok("execute_travel_plan", json!({"plan_id": plan["plan_id"]}))
        .await;
    assert_eq!(waiting["status"], "payment_action_required", "{waiting}");
    let booked = sum([&offers[0], &offers[1], &offers[3]].map(|o| money(&o["price"])));
    let all = sum(offers.iter().map(|o| money(&o["price"])));
    assert_ne!(booked, all);

    let number = waiting["payment"]["reference"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        fake.trade(&number).1,
        booked.minor_units().unwrap(),
        "the activity that failed is not charged"
    );
    assert!(fake.pay(&number));
    let order = h
        .ok("execute_travel_plan", json!({"plan_id": plan["plan_id"]}))
        .await;
    assert_eq!(order["status"], "partially_confirmed", "{order}");
    assert_eq!(money(&order["captured"]), booked);
}

/// WeChat Pay has no list of an order's refunds: after a restart, Itinera tells the adapter the
/// refunds its saga log holds, so the provider's account still agrees with the order's.
#[tokio::test]
async fn a_refund_is_still_seen_at_wechat_pay_after_a_restart() {
    let fake = FakeWeChat::start().await;
    let options = || Options {
        payment: PaymentSettings::WeChat {
            settings: Box::new(fake.settings()),
            api_v3_key: Box::new(ApiV3Key::parse(API_V3_KEY).unwrap()),
        },
        ..Options::default()
    };
    let before = Harness::with(options()).await;
    let (plan_id, _, waiting) = booked_and_waiting(&before).await;
    assert!(fake.scan(waiting["payment"]["action_url"].as_str().unwrap()));
    let order = before
        .ok("execute_travel_plan", json!({"plan_id": plan_id}))
        .await;
    let cancelled = before
        .ok("cancel_booking", json!({"order_id": order["order_id"]}))
        .await;
    assert!(!money(&cancelled["refunded"]).is_zero(), "{cancelled}");

    let after = Harness::start_in(before.dir, options()).await;
    let status = after
        .ok("get_payment_status", json!({"order_id": order["order_id"]}))
        .await;
    assert_eq!(status["agrees"], true, "{status}");
    assert_eq!(
        status["provider_amounts"]["refunded"], cancelled["refunded"],
        "{status}"
    );
}
