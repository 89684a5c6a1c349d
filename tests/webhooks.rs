//! Provider webhooks: a verified event moves its order on without another execute call; forged,
//! stale and replayed deliveries are refused or change nothing.

mod common;

use common::paypal_fake::{CLIENT_ID, CLIENT_SECRET, FakePayPal};
use common::stripe_fake::{FakeStripe, KEY};
use common::{Harness, Options};
use itinera::config::PaymentSettings;
use itinera::webhooks::stripe::{TOLERANCE_SECONDS, sign};
use serde_json::{Value, json};

const STRIPE_SECRET: &str = "whsec_itinera_test";
const PAYPAL_WEBHOOK_ID: &str = "WH-ITINERA";

/// Serves the app's webhook endpoint; its base URL.
async fn endpoint(h: &Harness) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(itinera::webhooks::serve(listener, h.app.webhooks()));
    base
}

async fn deliver(url: &str, headers: &[(&str, String)], body: &str) -> (u16, String) {
    let mut request = reqwest::Client::new().post(url).body(body.to_string());
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// An order waiting for the customer at the provider: (plan id, order as the tool shows it).
async fn waiting_order(h: &Harness, payment_method: &str) -> (String, Value) {
    let (plan_id, _) = h.approved_paris_plan(payment_method).await;
    let order = h
        .ok("execute_travel_plan", json!({"plan_id": plan_id}))
        .await;
    assert_eq!(order["status"], "payment_action_required", "{order}");
    (plan_id, order)
}

async fn status(h: &Harness, order: &Value) -> String {
    let now = h
        .ok("get_booking_status", json!({"order_id": order["order_id"]}))
        .await;
    now["status"].as_str().unwrap().to_string()
}

fn stripe_event(id: &str, intent: &str) -> String {
    json!({
        "id": id,
        "object": "event",
        "type": "payment_intent.amount_capturable_updated",
        "data": {"object": {"id": intent, "object": "payment_intent", "status": "requires_capture"}},
    })
    .to_string()
}

#[tokio::test]
async fn a_signed_stripe_event_continues_the_order_and_nothing_else_does() {
    let fake = FakeStripe::start().await;
    let h = Harness::with(Options {
        payment: PaymentSettings::Stripe {
            secret_key: KEY.to_string().into(),
            base_url: fake.base_url.clone(),
            webhook_secret: Some(STRIPE_SECRET.to_string().into()),
        },
        ..Options::default()
    })
    .await;
    let url = format!("{}/webhooks/stripe", endpoint(&h).await);
    let (_, order) = waiting_order(&h, "pm_card_threeDSecure2Required").await;
    let intent = order["payment"]["reference"].as_str().unwrap().to_string();
    reqwest::get(order["payment"]["action_url"].as_str().unwrap())
        .await
        .unwrap();

    let body = stripe_event("evt_1", &intent);
    let now = chrono::Utc::now().timestamp();
    let forged = [
        (
            "stripe-signature",
            sign(body.as_bytes(), "whsec_someone_else", now),
        ),
        (
            "stripe-signature",
            sign(
                stripe_event("evt_1", "pi_other").as_bytes(),
                STRIPE_SECRET,
                now,
            ),
        ),
        (
            "stripe-signature",
            sign(body.as_bytes(), STRIPE_SECRET, now - TOLERANCE_SECONDS - 60),
        ),
        ("stripe-signature", "t=1,v1=00".to_string()),
    ];
    for header in forged {
        let (code, said) = deliver(&url, std::slice::from_ref(&header), &body).await;
        assert_eq!(code, 400, "{header:?}: {said}");
        assert_eq!(
            status(&h, &order).await,
            "payment_action_required",
            "a refused delivery changes nothing"
        );
    }
    let (code, _) = deliver(&url, &[], &body).await;
    assert_eq!(code, 400, "no signature at all");

    let signed = [(
        "stripe-signature",
        sign(body.as_bytes(), STRIPE_SECRET, now),
    )];
    let (code, said) = deliver(&url, &signed, &body).await;
    assert_eq!(code, 200, "{said}");
    assert!(said.ends_with("confirmed"), "{said}");
    assert_eq!(
        status(&h, &order).await,
        "confirmed",
        "no execute call was needed"
    );
    let log = h.ok("get_audit_log", json!({})).await.to_string();
    assert!(log.contains("payment.event"), "{log}");

    // The same delivery again, or replayed later with a fresh signature: nothing happens.
    let bookings = h.ledger_bookings().await.len();
    let (code, said) = deliver(&url, &signed, &body).await;
    assert_eq!((code, said.as_str()), (200, "duplicate"));
    let resigned = [(
        "stripe-signature",
        sign(body.as_bytes(), STRIPE_SECRET, now + 5),
    )];
    let (code, said) = deliver(&url, &resigned, &body).await;
    assert_eq!((code, said.as_str()), (200, "duplicate"));
    assert_eq!(h.ledger_bookings().await.len(), bookings);

    let stranger = stripe_event("evt_2", "pi_not_ours");
    let (code, said) = deliver(
        &url,
        &[(
            "stripe-signature",
            sign(stranger.as_bytes(), STRIPE_SECRET, now),
        )],
        &stranger,
    )
    .await;
    assert_eq!((code, said.as_str()), (200, "no_order"));
    let customer = json!({"id": "evt_3", "type": "customer.created", "data": {"object": {"id": "cus_1", "object": "customer"}}}).to_string();
    let (code, said) = deliver(
        &url,
        &[(
            "stripe-signature",
            sign(customer.as_bytes(), STRIPE_SECRET, now),
        )],
        &customer,
    )
    .await;
    assert_eq!((code, said.as_str()), (200, "ignored"));
}

#[tokio::test]
async fn webhooks_of_a_provider_not_set_up_are_refused() {
    let h = Harness::start().await;
    let base = endpoint(&h).await;
    let (code, said) = deliver(&format!("{base}/webhooks/stripe"), &[], "{}").await;
    assert_eq!(code, 404);
    assert!(said.contains("ITINERA_STRIPE_WEBHOOK_SECRET"), "{said}");
    let (code, _) = deliver(&format!("{base}/webhooks/acme"), &[], "{}").await;
    assert_eq!(code, 404);
}

#[tokio::test]
async fn wechat_pay_is_refused_in_the_shape_it_reads() {
    let h = Harness::start().await;
    let base = endpoint(&h).await;
    let (code, said) = deliver(&format!("{base}/webhooks/wechat"), &[], "{}").await;
    assert_eq!(code, 404);
    let refusal: Value = serde_json::from_str(&said).unwrap();
    assert_eq!(refusal["code"], "FAIL", "{said}");
    assert!(
        refusal["message"].as_str().unwrap().contains("wechat"),
        "{said}"
    );
}

#[tokio::test]
async fn a_paypal_event_verified_by_paypal_continues_the_order() {
    let fake = FakePayPal::start().await;
    let h = Harness::with(Options {
        payment: PaymentSettings::PayPal {
            client_id: CLIENT_ID.into(),
            client_secret: CLIENT_SECRET.to_string().into(),
            base_url: fake.base_url.clone(),
            webhook_id: Some(PAYPAL_WEBHOOK_ID.into()),
        },
        ..Options::default()
    })
    .await;
    let url = format!("{}/webhooks/paypal", endpoint(&h).await);
    let (_, order) = waiting_order(&h, "paypal").await;
    let paypal_order = order["payment"]["reference"].as_str().unwrap().to_string();
    reqwest::get(order["payment"]["action_url"].as_str().unwrap())
        .await
        .unwrap();
    // As PayPal sends it: its own key order and spacing, which it signed byte for byte.
    let body = format!(
        r#"{{"id": "WH-1", "event_type": "CHECKOUT.ORDER.APPROVED", "resource_type": "checkout-order", "resource": {{"status": "APPROVED", "id": "{paypal_order}"}}}}"#
    );

    let mut forged = fake.sign_event(&body, PAYPAL_WEBHOOK_ID);
    forged[3].1 = "0".repeat(64);
    let (code, said) = deliver(&url, &forged, &body).await;
    assert_eq!(code, 400, "{said}");
    let for_someone_else = fake.sign_event(&body, "WH-OTHER");
    assert_eq!(deliver(&url, &for_someone_else, &body).await.0, 400);
    assert_eq!(status(&h, &order).await, "payment_action_required");

    let signed = fake.sign_event(&body, PAYPAL_WEBHOOK_ID);
    let (code, said) = deliver(&url, &signed, &body).await;
    assert_eq!(code, 200, "{said}");
    assert_eq!(status(&h, &order).await, "confirmed");
    let (code, said) = deliver(&url, &signed, &body).await;
    assert_eq!((code, said.as_str()), (200, "duplicate"));
}

#[tokio::test]
async fn an_antom_notification_signed_by_antom_continues_the_order() {
    use common::antom_fake::{
        ANTOM_PRIVATE, ANTOM_PUBLIC, CLIENT_ID as ANTOM_CLIENT, FakeAntom, MERCHANT_PRIVATE,
        MERCHANT_PUBLIC,
    };
    use itinera::adapters::payments::antom::Keys;
    let fake = FakeAntom::start().await;
    let h = Harness::with(Options {
        payment: PaymentSettings::Antom {
            client_id: ANTOM_CLIENT.into(),
            keys: FakeAntom::merchant_keys(),
            base_url: fake.base_url.clone(),
            notify_url: None,
        },
        ..Options::default()
    })
    .await;
    let url = format!("{}/webhooks/antom", endpoint(&h).await);
    let (_, order) = waiting_order(&h, "antom_ALIPAY_CN").await;
    let payment_id = order["payment"]["reference"].as_str().unwrap().to_string();
    reqwest::get(order["payment"]["action_url"].as_str().unwrap())
        .await
        .unwrap();
    let body = json!({
        "notifyType": "PAYMENT_RESULT",
        "result": {"resultCode": "SUCCESS", "resultStatus": "S", "resultMessage": "success"},
        "paymentRequestId": "whatever",
        "paymentId": payment_id,
        "paymentAmount": {"currency": "EUR", "value": "100"},
    })
    .to_string();
    let signed_by = |keys: Keys| {
        vec![
            ("client-id", ANTOM_CLIENT.to_string()),
            ("request-time", "1764072000000".to_string()),
            (
                "signature",
                keys.sign("/webhooks/antom", ANTOM_CLIENT, "1764072000000", &body),
            ),
        ]
    };
    let forged = signed_by(Keys::parse(MERCHANT_PRIVATE, ANTOM_PUBLIC).unwrap());
    let (code, said) = deliver(&url, &forged, &body).await;
    assert_eq!(code, 400, "{said}");
    assert_eq!(status(&h, &order).await, "payment_action_required");

    let antoms = signed_by(Keys::parse(ANTOM_PRIVATE, MERCHANT_PUBLIC).unwrap());
    let (code, said) = deliver(&url, &antoms, &body).await;
    assert_eq!(code, 200, "{said}");
    let ack: Value = serde_json::from_str(&said).unwrap();
    assert_eq!(
        ack["result"]["resultStatus"], "S",
        "Antom is told it was received"
    );
    assert_eq!(status(&h, &order).await, "confirmed");
    let (code, _) = deliver(&url, &antoms, &body).await;
    assert_eq!(
        code, 200,
        "a redelivery is acknowledged and changes nothing"
    );
}

/// An event for one part of a split payment finds its order through the part.
#[tokio::test]
async fn a_stripe_event_for_one_part_of_a_split_continues_its_order() {
    let fake = FakeStripe::start().await;
    let h = Harness::with(Options {
        fallback_payments: vec![PaymentSettings::Stripe {
            secret_key: KEY.to_string().into(),
            base_url: fake.base_url.clone(),
            webhook_secret: Some(STRIPE_SECRET.to_string().into()),
        }],
        ..Options::default()
    })
    .await;
    let url = format!("{}/webhooks/stripe", endpoint(&h).await);
    let (plan, _) = h
        .split_plan(&["must_have"; 4], "pm_sandbox_visa", json!([{"method": "pm_card_threeDSecure2Required", "amount": {"amount": "100.00", "currency": "EUR"}}]))
        .await;
    h.ok("confirm_travel_plan", json!({"plan_id": plan["plan_id"]}))
        .await;
    let order = h
        .ok("execute_travel_plan", json!({"plan_id": plan["plan_id"]}))
        .await;
    assert_eq!(order["status"], "payment_action_required", "{order}");
    let parts: Vec<String> =
        serde_json::from_str(order["payment"]["reference"].as_str().unwrap()).unwrap();
    reqwest::get(order["payment"]["action_url"].as_str().unwrap())
        .await
        .unwrap();

    let body = stripe_event("evt_split", &parts[0]);
    let now = chrono::Utc::now().timestamp();
    let signed = [(
        "stripe-signature",
        sign(body.as_bytes(), STRIPE_SECRET, now),
    )];
    let (code, said) = deliver(&url, &signed, &body).await;
    assert_eq!(code, 200, "{said}");
    assert_eq!(status(&h, &order).await, "confirmed");
}
