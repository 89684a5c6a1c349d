//! The PayPal adapter against a local fake that speaks PayPal's wire format: the OAuth token
//! (cached, fetched again when PayPal stops taking it), orders the payer approves, authorization
//! on approval, capture, void and refund by decimal-string amounts under `PayPal-Request-Id`;
//! then the whole flow with PayPal paying.

mod common;

use common::paypal_fake::{CLIENT_ID, CLIENT_SECRET, FakePayPal};
use itinera::adapters::payments::paypal::{PayPalPayments, PayPalSettings};
use itinera::domain::idempotency::{IdempotencyKey, Operation};
use itinera::domain::ids::{OrderId, PaymentMethodToken};
use itinera::domain::money::Money;
use itinera::ports::payment::{AuthorizeRequest, PaymentError, PaymentHandle, PaymentState};
use itinera::ports::{PaymentProvider, ProviderError};

fn eur(amount: &str) -> Money {
    Money::parse(amount, "EUR").unwrap()
}

fn adapter(fake: &FakePayPal, secret: &str) -> PayPalPayments {
    PayPalPayments::new(PayPalSettings {
        client_id: CLIENT_ID.into(),
        client_secret: secret.into(),
        base_url: fake.base_url.clone(),
    })
    .unwrap()
}

fn key(order: &OrderId, operation: Operation, group: &str) -> IdempotencyKey {
    IdempotencyKey::derive(order, None, operation, group)
}

async fn hold(
    paypal: &PayPalPayments,
    order: &OrderId,
    amount: Money,
) -> Result<PaymentHandle, PaymentError> {
    let token = PaymentMethodToken::parse("paypal").unwrap();
    paypal
        .authorize(AuthorizeRequest {
            order_id: order,
            amount,
            payment_method: &token,
            description: "Paris in December",
            idempotency_key: &key(order, Operation::Authorize, "0"),
            return_url: "http://127.0.0.1:9/payment-complete",
            pay_by: None,
            customer: None,
        })
        .await
}

/// Holds, and has the payer approve on PayPal: the approval URL.
async fn approved_hold(
    fake: &FakePayPal,
    paypal: &PayPalPayments,
    amount: Money,
) -> (OrderId, String) {
    let order = OrderId::generate();
    let handle = hold(paypal, &order, amount).await.unwrap();
    let PaymentState::ActionRequired { url } = handle.state else {
        panic!("{:?}", handle.state)
    };
    assert!(url.starts_with(&fake.base_url));
    reqwest::get(&url).await.unwrap();
    (order, handle.payment_id)
}

#[tokio::test]
async fn an_order_to_authorize_is_created_for_the_payer_to_approve() {
    let fake = FakePayPal::start().await;
    let paypal = adapter(&fake, CLIENT_SECRET);
    let order = OrderId::generate();
    let handle = hold(&paypal, &order, eur("1234.5")).await.unwrap();
    assert!(
        matches!(handle.state, PaymentState::ActionRequired { .. }),
        "{:?}",
        handle.state
    );
    let sent = fake.received();
    assert_eq!(sent[0].path, "/v1/oauth2/token");
    assert_eq!(sent[0].field("grant_type"), Some("client_credentials"));
    assert!(
        sent[0]
            .header("authorization")
            .unwrap()
            .starts_with("Basic ")
    );
    let create = &sent[1];
    assert_eq!(create.path, "/v2/checkout/orders");
    assert_eq!(create.header("authorization"), Some("Bearer A21fake1"));
    assert_eq!(
        create.header("paypal-request-id"),
        Some(key(&order, Operation::Authorize, "0").as_str())
    );
    let body = create.json.as_ref().unwrap();
    assert_eq!(body["intent"], "AUTHORIZE");
    assert_eq!(body["purchase_units"][0]["amount"]["value"], "1234.50");
    assert_eq!(body["purchase_units"][0]["amount"]["currency_code"], "EUR");
    assert_eq!(body["purchase_units"][0]["custom_id"], order.as_str());

    // Sent again under the same id: the same PayPal order, not a second one.
    let again = hold(&paypal, &order, eur("1234.5")).await.unwrap();
    assert_eq!(again.payment_id, handle.payment_id);
    assert_eq!(fake.order_count(), 1);
    assert_eq!(fake.tokens_issued(), 1, "the token is reused while valid");
}

#[tokio::test]
async fn once_approved_the_order_is_authorized_once_and_captured_refunded_or_voided() {
    let fake = FakePayPal::start().await;
    let paypal = adapter(&fake, CLIENT_SECRET);
    let (order, id) = approved_hold(&fake, &paypal, eur("300")).await;
    // A lookup (get_payment_status) places no hold; only the order's driver does.
    assert!(matches!(
        paypal.status(&id).await.unwrap(),
        PaymentState::ActionRequired { .. }
    ));
    assert!(
        !fake
            .received()
            .iter()
            .any(|r| r.path.ends_with("/authorize"))
    );
    for _ in 0..2 {
        assert_eq!(
            paypal.complete_action(&id).await.unwrap(),
            PaymentState::Authorized { amount: eur("300") }
        );
    }
    assert_eq!(
        paypal.status(&id).await.unwrap(),
        PaymentState::Authorized { amount: eur("300") }
    );
    let authorizations = fake
        .received()
        .iter()
        .filter(|r| r.path.ends_with("/authorize"))
        .map(|r| r.header("paypal-request-id").unwrap().to_string())
        .collect::<Vec<_>>();
    assert_eq!(
        authorizations.len(),
        1,
        "authorized on the first lookup only"
    );

    let captured = paypal
        .capture(&id, eur("250"), &key(&order, Operation::Capture, "0"))
        .await
        .unwrap();
    assert_eq!(captured, eur("250"));
    let refund = paypal
        .refund(&id, eur("100"), &key(&order, Operation::Refund, "0"))
        .await
        .unwrap();
    assert_eq!(refund.amount, eur("100"));
    assert_eq!(
        paypal.status(&id).await.unwrap(),
        PaymentState::Captured {
            amount: eur("250"),
            refunded: eur("100")
        }
    );
    assert_eq!(
        fake.order(&id),
        (
            "COMPLETED".into(),
            "PARTIALLY_CAPTURED".into(),
            25000,
            10000
        )
    );
    let over = paypal
        .refund(&id, eur("150.01"), &key(&order, Operation::Refund, "1"))
        .await;
    assert!(
        matches!(&over, Err(PaymentError::Provider(ProviderError::Rejected { code, .. })) if code == "REFUND_AMOUNT_EXCEEDED"),
        "{over:?}"
    );

    let (other, id) = approved_hold(&fake, &paypal, eur("40")).await;
    paypal.complete_action(&id).await.unwrap();
    paypal
        .void(&id, &key(&other, Operation::Void, "0"))
        .await
        .unwrap();
    assert_eq!(paypal.status(&id).await.unwrap(), PaymentState::Voided);
}

#[tokio::test]
async fn a_capture_paypal_declines_is_not_taken_for_money_collected() {
    let fake = FakePayPal::start().await;
    let paypal = adapter(&fake, CLIENT_SECRET);
    let (order, id) = approved_hold(&fake, &paypal, eur("90")).await;
    paypal.complete_action(&id).await.unwrap();
    fake.decline_next_capture();
    let captured = paypal
        .capture(&id, eur("90"), &key(&order, Operation::Capture, "0"))
        .await;
    assert!(
        matches!(&captured, Err(PaymentError::Declined { code, .. }) if code == "CAPTURE_DECLINED"),
        "{captured:?}"
    );
}

#[tokio::test]
async fn a_declined_instrument_fails_the_payment_with_paypals_reason() {
    let fake = FakePayPal::start().await;
    let paypal = adapter(&fake, CLIENT_SECRET);
    let order = OrderId::generate();
    let handle = hold(&paypal, &order, eur("80")).await.unwrap();
    reqwest::get(format!(
        "{}/fake/approve-declining/{}",
        fake.base_url, handle.payment_id
    ))
    .await
    .unwrap();
    match paypal.complete_action(&handle.payment_id).await.unwrap() {
        PaymentState::Failed { reason } => {
            assert!(reason.contains("INSTRUMENT_DECLINED"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn an_expired_token_is_replaced_and_bad_credentials_say_which_setting() {
    let fake = FakePayPal::start().await;
    let paypal = adapter(&fake, CLIENT_SECRET);
    let first = OrderId::generate();
    hold(&paypal, &first, eur("10")).await.unwrap();
    fake.expire_tokens();
    let second = OrderId::generate();
    hold(&paypal, &second, eur("10")).await.unwrap();
    assert_eq!(
        fake.tokens_issued(),
        2,
        "a new token after PayPal refused the old one"
    );

    let wrong = adapter(&fake, "not-the-secret");
    match hold(&wrong, &OrderId::generate(), eur("10")).await {
        Err(PaymentError::Provider(ProviderError::Rejected { message, .. })) => {
            assert!(
                message.contains("ITINERA_PAYPAL_CLIENT_SECRET"),
                "{message}"
            );
            assert!(!message.contains("not-the-secret"));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn rate_limits_and_outages_are_reported_as_such() {
    let fake = FakePayPal::start().await;
    let paypal = adapter(&fake, CLIENT_SECRET);
    hold(&paypal, &OrderId::generate(), eur("10"))
        .await
        .unwrap();
    fake.fail_next(429, Some(2));
    let limited = hold(&paypal, &OrderId::generate(), eur("10")).await;
    assert_eq!(
        limited,
        Err(PaymentError::Provider(ProviderError::RateLimited {
            provider: "paypal".into(),
            retry_after: Some(std::time::Duration::from_secs(2)),
        }))
    );
    fake.fail_next(503, None);
    let down = hold(&paypal, &OrderId::generate(), eur("10")).await;
    assert!(
        matches!(
            down,
            Err(PaymentError::Provider(ProviderError::Unavailable { .. }))
        ),
        "{down:?}"
    );
    assert_eq!(fake.order_count(), 1);
}

/// The whole flow with PayPal holding and charging the money.
/// A server (sandbox bookings) paying through a fresh fake PayPal.
async fn with_paypal() -> (common::Harness, FakePayPal) {
    let fake = FakePayPal::start().await;
    let h = common::Harness::with(common::Options {
        payment: itinera::config::PaymentSettings::PayPal {
            client_id: CLIENT_ID.into(),
            client_secret: CLIENT_SECRET.to_string().into(),
            base_url: fake.base_url.clone(),
            webhook_id: None,
        },
        ..common::Options::default()
    })
    .await;
    (h, fake)
}

mod flow {
    use super::*;
    use common::{expected_refund, money, sum};
    use serde_json::json;

    #[tokio::test]
    async fn the_payer_approves_on_paypal_then_the_trip_is_booked_charged_and_refunded() {
        let (h, fake) = with_paypal().await;
        let (plan_id, offers) = h.approved_paris_plan("paypal").await;
        let waiting = h
            .ok("execute_travel_plan", json!({"plan_id": plan_id}))
            .await;
        assert_eq!(waiting["status"], "payment_action_required", "{waiting}");
        assert!(
            h.ledger_bookings().await.is_empty(),
            "nothing booked before the payer approves"
        );
        let url = waiting["payment"]["action_url"].as_str().unwrap();
        reqwest::get(url).await.unwrap();
        let order = h
            .ok("execute_travel_plan", json!({"plan_id": plan_id}))
            .await;
        assert_eq!(order["status"], "confirmed", "{order}");
        let id = order["payment"]["reference"].as_str().unwrap().to_string();
        let total = sum(offers.iter().map(|o| money(&o["price"])));
        assert_eq!(fake.order(&id).2, total.minor_units().unwrap());

        let now = chrono::Utc::now();
        let expected = sum(offers.iter().map(|o| expected_refund(o, now)));
        let cancelled = h
            .ok("cancel_booking", json!({"order_id": order["order_id"]}))
            .await;
        assert_eq!(money(&cancelled["refunded"]), expected);
        assert_eq!(fake.order(&id).3, expected.minor_units().unwrap());
    }
}

/// Saving a PayPal account with Vault v3, then paying with it without the payer.
mod saving {
    use super::*;
    use common::{money, sum};
    use serde_json::json;

    #[tokio::test]
    async fn an_account_saved_in_the_vault_pays_without_the_payer_and_is_captured() {
        let (h, fake) = with_paypal().await;
        let setup = h.ok("add_payment_method", json!({})).await;
        assert_eq!(setup["provider"], "paypal", "{setup}");
        let asked = fake
            .received()
            .into_iter()
            .find(|r| r.path == "/v3/vault/setup-tokens")
            .unwrap();
        let source = &asked.json.as_ref().unwrap()["payment_source"]["paypal"];
        assert_eq!(source["usage_type"], "MERCHANT");
        assert!(source["experience_context"]["return_url"].is_string());
        assert!(asked.header("paypal-request-id").is_some());

        let before = h.ok("list_payment_methods", json!({})).await;
        assert_eq!(
            before["saved"],
            json!([]),
            "not saved before the payer approves"
        );

        let url = setup["url"].as_str().unwrap();
        assert_eq!(
            reqwest::get(url).await.unwrap().text().await.unwrap(),
            "approved"
        );
        let listed = h.ok("list_payment_methods", json!({})).await;
        let saved = listed["saved"].as_array().unwrap();
        assert_eq!(saved.len(), 1, "{listed}");
        assert_eq!(saved[0]["label"], "PayPal a•••@example.com");
        let token = saved[0]["token"].as_str().unwrap();
        assert!(token.starts_with("paypal_vault_"), "{token}");
        h.ok("list_payment_methods", json!({})).await;
        let vaulted = fake
            .received()
            .into_iter()
            .filter(|r| r.path == "/v3/vault/payment-tokens")
            .count();
        assert_eq!(vaulted, 1, "the payment token is made once");

        let (plan_id, offers) = h.approved_paris_plan(token).await;
        let order = h
            .ok("execute_travel_plan", json!({"plan_id": plan_id}))
            .await;
        assert_eq!(order["status"], "confirmed", "no payer step: {order}");
        let created = fake
            .received()
            .into_iter()
            .find(|r| r.path == "/v2/checkout/orders")
            .unwrap();
        assert_eq!(
            created.json.as_ref().unwrap()["payment_source"]["paypal"]["vault_id"],
            token.trim_start_matches("paypal_vault_")
        );
        let id = order["payment"]["reference"].as_str().unwrap();
        let total = sum(offers.iter().map(|o| money(&o["price"])));
        let (_, authorization, captured, _) = fake.order(id);
        assert_eq!(authorization, "CAPTURED");
        assert_eq!(captured, total.minor_units().unwrap());
    }
}
