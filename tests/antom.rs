//! The Alipay+ (Antom) adapter against a local fake that checks the merchant's RSA signature on
//! every request and signs every answer: holds completed in the wallet, capture, cancel and
//! refunds in minor-unit strings keyed by request ids; S/F/U results; forged answers not
//! believed; then the whole flow with Antom paying.

mod common;

use common::antom_fake::{ANTOM_PRIVATE, ANTOM_PUBLIC, CLIENT_ID, FakeAntom};
use itinera::adapters::payments::antom::{AntomPayments, AntomSettings, Keys};
use itinera::domain::idempotency::{IdempotencyKey, Operation};
use itinera::domain::ids::{OrderId, PaymentMethodToken};
use itinera::domain::money::Money;
use itinera::ports::payment::{AuthorizeRequest, PaymentError, PaymentHandle, PaymentState};
use itinera::ports::{PaymentProvider, ProviderError};

fn cny(amount: &str) -> Money {
    Money::parse(amount, "CNY").unwrap()
}

fn adapter(fake: &FakeAntom, keys: Keys) -> AntomPayments {
    AntomPayments::new(AntomSettings {
        client_id: CLIENT_ID.into(),
        keys,
        base_url: fake.base_url.clone(),
        notify_url: Some("https://pay.example.com/itinera/webhooks/antom".into()),
    })
    .unwrap()
}

fn key(order: &OrderId, operation: Operation, group: &str) -> IdempotencyKey {
    IdempotencyKey::derive(order, None, operation, group)
}

async fn hold(
    antom: &AntomPayments,
    order: &OrderId,
    amount: Money,
) -> Result<PaymentHandle, PaymentError> {
    let method = PaymentMethodToken::parse("antom_ALIPAY_CN").unwrap();
    antom
        .authorize(AuthorizeRequest {
            order_id: order,
            amount,
            payment_method: &method,
            description: "Shanghai in spring",
            idempotency_key: &key(order, Operation::Authorize, "0"),
            return_url: "http://127.0.0.1:9/payment-complete",
            pay_by: None,
            customer: None,
        })
        .await
}

/// A hold the customer paid in the wallet: (order, payment id).
async fn paid_hold(fake: &FakeAntom, antom: &AntomPayments, amount: Money) -> (OrderId, String) {
    let order = OrderId::generate();
    let handle = hold(antom, &order, amount).await.unwrap();
    let PaymentState::ActionRequired { url } = handle.state else {
        panic!("{:?}", handle.state)
    };
    assert!(url.starts_with(&fake.base_url), "{url}");
    reqwest::get(&url).await.unwrap();
    (order, handle.payment_id)
}

#[tokio::test]
async fn a_signed_authorization_in_minor_units_waits_for_the_wallet() {
    let fake = FakeAntom::start().await;
    let antom = adapter(&fake, FakeAntom::merchant_keys());
    let order = OrderId::generate();
    let handle = hold(&antom, &order, cny("1234.50")).await.unwrap();
    assert!(
        matches!(handle.state, PaymentState::ActionRequired { .. }),
        "{:?}",
        handle.state
    );
    let sent = &fake.received()[0];
    assert_eq!(sent.path, "/ams/sandbox/api/v1/payments/pay");
    assert_eq!(sent.header("client-id"), Some(CLIENT_ID));
    assert!(
        sent.header("signature")
            .unwrap()
            .starts_with("algorithm=RSA256,keyVersion=1,signature=")
    );
    let body = sent.json.as_ref().unwrap();
    assert_eq!(
        body["paymentAmount"],
        serde_json::json!({"currency": "CNY", "value": "123450"})
    );
    assert_eq!(
        body["paymentRequestId"],
        key(&order, Operation::Authorize, "0").as_str()
    );
    assert_eq!(body["paymentMethod"]["paymentMethodType"], "ALIPAY_CN");
    assert_eq!(body["paymentFactor"]["isAuthorization"], true);
    assert_eq!(
        body["paymentNotifyUrl"], "https://pay.example.com/itinera/webhooks/antom",
        "Antom is told where to notify"
    );

    let again = hold(&antom, &order, cny("1234.50")).await.unwrap();
    assert_eq!(
        again.payment_id, handle.payment_id,
        "the same request id gives the same payment"
    );
    assert_eq!(fake.payment_count(), 1);
    // Reused with another amount: Antom refuses, and that is never taken as "nothing happened".
    let other = hold(&antom, &order, cny("1")).await;
    assert!(
        matches!(
            &other,
            Err(PaymentError::Provider(ProviderError::OutcomeUnknown { .. }))
        ),
        "{other:?}"
    );
}

#[tokio::test]
async fn a_paid_hold_is_captured_refunded_or_cancelled() {
    let fake = FakeAntom::start().await;
    let antom = adapter(&fake, FakeAntom::merchant_keys());
    let (order, id) = paid_hold(&fake, &antom, cny("300")).await;
    assert_eq!(
        antom.status(&id).await.unwrap(),
        PaymentState::Authorized { amount: cny("300") }
    );
    let captured = antom
        .capture(&id, cny("250"), &key(&order, Operation::Capture, "0"))
        .await
        .unwrap();
    assert_eq!(captured, cny("250"));
    let refund = antom
        .refund(&id, cny("100"), &key(&order, Operation::Refund, "0"))
        .await
        .unwrap();
    assert_eq!(refund.amount, cny("100"));
    assert_eq!(
        antom.status(&id).await.unwrap(),
        PaymentState::Captured {
            amount: cny("250"),
            refunded: cny("100")
        }
    );
    assert_eq!(fake.payment(&id), ("SUCCESS".into(), 25000, 10000));
    let over = antom
        .refund(&id, cny("150.01"), &key(&order, Operation::Refund, "1"))
        .await;
    assert!(
        matches!(&over, Err(PaymentError::Provider(ProviderError::Rejected { code, .. })) if code == "REFUND_AMOUNT_EXCEED"),
        "{over:?}"
    );

    let (other, id) = paid_hold(&fake, &antom, cny("40")).await;
    antom
        .void(&id, &key(&other, Operation::Void, "0"))
        .await
        .unwrap();
    assert_eq!(antom.status(&id).await.unwrap(), PaymentState::Voided);
}

#[tokio::test]
async fn a_refusal_in_the_wallet_fails_the_payment() {
    let fake = FakeAntom::start().await;
    let antom = adapter(&fake, FakeAntom::merchant_keys());
    let handle = hold(&antom, &OrderId::generate(), cny("80")).await.unwrap();
    reqwest::get(format!(
        "{}/fake/wallet-refuses/{}",
        fake.base_url, handle.payment_id
    ))
    .await
    .unwrap();
    assert!(matches!(
        antom.status(&handle.payment_id).await.unwrap(),
        PaymentState::Failed { .. }
    ));
}

#[tokio::test]
async fn unknown_results_and_forged_answers_are_not_taken_as_done() {
    let fake = FakeAntom::start().await;
    let antom = adapter(&fake, FakeAntom::merchant_keys());
    fake.unknown_next();
    let unknown = hold(&antom, &OrderId::generate(), cny("10")).await;
    assert!(
        matches!(
            unknown,
            Err(PaymentError::Provider(ProviderError::OutcomeUnknown { .. }))
        ),
        "{unknown:?}"
    );
    fake.forge_next();
    let forged = hold(&antom, &OrderId::generate(), cny("10")).await;
    assert!(
        matches!(
            forged,
            Err(PaymentError::Provider(ProviderError::OutcomeUnknown { .. }))
        ),
        "{forged:?}"
    );
    assert_eq!(
        fake.payment_count(),
        1,
        "the forged answer's payment exists at Antom"
    );
}

#[tokio::test]
async fn a_request_signed_with_another_key_is_refused_by_antom() {
    let fake = FakeAntom::start().await;
    let signer_antom_does_not_know = Keys::parse(ANTOM_PRIVATE, ANTOM_PUBLIC).unwrap();
    let antom = adapter(&fake, signer_antom_does_not_know);
    let refused = hold(&antom, &OrderId::generate(), cny("10")).await;
    assert!(
        matches!(&refused, Err(PaymentError::Provider(ProviderError::Rejected { code, .. })) if code == "INVALID_SIGNATURE"),
        "{refused:?}"
    );
    assert_eq!(fake.payment_count(), 0);
}

/// The whole flow with Alipay+ holding and charging the money.
mod flow {
    use super::*;
    use common::{Harness, Options, expected_refund, money, sum};
    use itinera::config::PaymentSettings;
    use serde_json::json;

    /// The app paying through the Alipay+ fake.
    async fn with_antom() -> (Harness, FakeAntom) {
        let fake = FakeAntom::start().await;
        let h = Harness::with(Options {
            payment: PaymentSettings::Antom {
                client_id: CLIENT_ID.into(),
                keys: FakeAntom::merchant_keys(),
                base_url: fake.base_url.clone(),
                notify_url: None,
            },
            ..Options::default()
        })
        .await;
        (h, fake)
    }

    #[tokio::test]
    async fn the_customer_pays_in_the_wallet_then_the_trip_is_booked_charged_and_refunded() {
        let (h, fake) = with_antom().await;
        let (plan_id, offers) = h.approved_paris_plan("antom_ALIPAY_CN").await;
        let waiting = h
            .ok("execute_travel_plan", json!({"plan_id": plan_id}))
            .await;
        assert_eq!(waiting["status"], "payment_action_required", "{waiting}");
        reqwest::get(waiting["payment"]["action_url"].as_str().unwrap())
            .await
            .unwrap();
        let order = h
            .ok("execute_travel_plan", json!({"plan_id": plan_id}))
            .await;
        assert_eq!(order["status"], "confirmed", "{order}");
        let id = order["payment"]["reference"].as_str().unwrap().to_string();
        let total = sum(offers.iter().map(|o| money(&o["price"])));
        assert_eq!(fake.payment(&id).1, total.minor_units().unwrap());

        let now = chrono::Utc::now();
        let expected = sum(offers.iter().map(|o| expected_refund(o, now)));
        let cancelled = h
            .ok("cancel_booking", json!({"order_id": order["order_id"]}))
            .await;
        assert_eq!(money(&cancelled["refunded"]), expected);
        assert_eq!(fake.payment(&id).2, expected.minor_units().unwrap());
    }

    #[tokio::test]
    async fn auto_from_hong_kong_in_hong_kong_dollars_pays_with_alipay_hk_and_the_list_says_so() {
        let (h, _fake) = with_antom().await;
        let listed = h.ok("list_payment_methods", json!({})).await;
        let methods = listed["providers"][0]["methods"].as_array().unwrap();
        let hk = methods
            .iter()
            .find(|m| m["method"] == "antom_ALIPAY_HK")
            .unwrap();
        assert_eq!(hk["used_by_auto_for"], json!(["HK paying HKD"]), "{listed}");

        let offers = h.paris_offers_in("HKD").await;
        let plan = h
            .ok(
                "create_travel_plan",
                json!({
                    "travellers": [{"given_name": "Ada", "family_name": "Lovelace"}],
                    "payment_method": "auto",
                    "payment_preference": {"region": "HK"},
                    "items": [{"offer_id": offers[1]["id"]}],
                }),
            )
            .await;
        let approval = h
            .ok("confirm_travel_plan", json!({"plan_id": plan["plan_id"]}))
            .await;
        let choice = &approval["payment_route"]["choices"][0];
        assert_eq!(
            choice["method_shown"], "AlipayHK: the payer pays in the wallet",
            "{approval}"
        );
    }
}
