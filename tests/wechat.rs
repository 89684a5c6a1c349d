//! The WeChat Pay (API v3) adapter against a local fake that checks the merchant's signature on
//! every request and signs every answer: Native orders paid by scanning, charged after booking;
//! replays by merchant number; CNY only; closing unpaid orders; refunds by refund number; forged,
//! stale and other-key answers not believed; WeChat Pay's errors mapped; JSAPI client parameters;
//! and the fake's notification read by the webhook.

mod common;

use std::time::Duration;

use common::wechat_fake::{
    APP_ID, FakeWeChat, MCH_ID, MERCHANT_PUBLIC, MERCHANT_SERIAL, NOTIFY_URL, PLATFORM_PRIVATE,
    PLATFORM_PUBLIC, PLATFORM_SERIAL, Tamper,
};
use itinera::adapters::payments::wechat::{
    ApiV3Key, NATIVE, Signer, Verifier, WeChatPayments, WeChatSettings, merchant_number,
};
use itinera::domain::idempotency::{IdempotencyKey, Operation};
use itinera::domain::ids::{OrderId, PaymentMethodToken};
use itinera::domain::money::Money;
use itinera::ports::payment::{
    AuthorizeRequest, PaymentError, PaymentHandle, PaymentState, Settlement,
};
use itinera::ports::{PaymentProvider, ProviderError};
use serde_json::json;

fn cny(amount: &str) -> Money {
    Money::parse(amount, "CNY").unwrap()
}

fn adapter(settings: WeChatSettings) -> WeChatPayments {
    WeChatPayments::new(settings).unwrap()
}

fn key(order: &OrderId, operation: Operation, group: &str) -> IdempotencyKey {
    IdempotencyKey::derive(order, None, operation, group)
}

fn request<'a>(
    order: &'a OrderId,
    amount: Money,
    method: &'a PaymentMethodToken,
    key: &'a IdempotencyKey,
) -> AuthorizeRequest<'a> {
    AuthorizeRequest {
        order_id: order,
        amount,
        payment_method: method,
        description: "Shanghai in spring",
        idempotency_key: key,
        return_url: "http://127.0.0.1:9/payment-complete",
        pay_by: None,
        customer: None,
    }
}

/// Charges `amount` for `order` with a Native order.
async fn charge(
    wechat: &WeChatPayments,
    order: &OrderId,
    amount: Money,
) -> Result<PaymentHandle, PaymentError> {
    let method = PaymentMethodToken::parse(NATIVE).unwrap();
    let key = key(order, Operation::Authorize, "1");
    wechat
        .authorize(request(order, amount, &method, &key))
        .await
}

/// An order the customer paid by scanning its code: (order, payment id).
async fn paid(fake: &FakeWeChat, wechat: &WeChatPayments, amount: Money) -> (OrderId, String) {
    let order = OrderId::generate();
    let handle = charge(wechat, &order, amount).await.unwrap();
    let PaymentState::ActionRequired { url } = handle.state else {
        panic!("{:?}", handle.state)
    };
    assert!(fake.scan(&url), "the code was payable");
    (order, handle.payment_id)
}

fn rejected(result: &Result<impl std::fmt::Debug, PaymentError>) -> (String, String) {
    match result {
        Err(PaymentError::Provider(ProviderError::Rejected { code, message, .. })) => {
            (code.clone(), message.clone())
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn is_unknown(result: &Result<impl std::fmt::Debug, PaymentError>) -> bool {
    matches!(
        result,
        Err(PaymentError::Provider(ProviderError::OutcomeUnknown { .. }))
    )
}

#[tokio::test]
async fn a_native_order_in_fen_is_signed_and_captured_once_the_customer_scans() {
    let fake = FakeWeChat::start().await;
    let wechat = adapter(fake.settings());
    assert_eq!(wechat.settlement(), Settlement::ChargeAfterBooking);
    let order = OrderId::generate();
    let handle = charge(&wechat, &order, cny("1234.50")).await.unwrap();
    let expected_number = merchant_number(&key(&order, Operation::Authorize, "1"));
    assert_eq!(handle.payment_id, expected_number);
    let PaymentState::ActionRequired { url: code_url } = &handle.state else {
        panic!("{:?}", handle.state)
    };
    assert!(
        code_url.starts_with("weixin://wxpay/bizpayurl?pr="),
        "{code_url}"
    );

    let sent = &fake.received()[0];
    assert_eq!(
        (sent.method.as_str(), sent.path.as_str()),
        ("POST", "/v3/pay/transactions/native")
    );
    let authorization = sent.header("authorization").unwrap();
    assert!(
        authorization.starts_with("WECHATPAY2-SHA256-RSA2048 mchid=\""),
        "{authorization}"
    );
    for field in ["nonce_str=\"", "timestamp=\"", "signature=\""] {
        assert!(authorization.contains(field), "{authorization}");
    }
    assert!(authorization.contains(&format!("serial_no=\"{MERCHANT_SERIAL}\"")));
    assert!(authorization.contains(&format!("mchid=\"{MCH_ID}\"")));
    assert_eq!(sent.header("wechatpay-serial"), Some(PLATFORM_SERIAL));
    assert_eq!(sent.header("accept"), Some("application/json"));
    assert_eq!(sent.header("content-type"), Some("application/json"));
    assert!(sent.header("user-agent").unwrap().starts_with("itinera/"));
    assert_eq!(
        sent.json.as_ref().unwrap(),
        &json!({
            "appid": APP_ID,
            "mchid": MCH_ID,
            "description": "Shanghai in spring",
            "out_trade_no": expected_number,
            "notify_url": NOTIFY_URL,
            "amount": {"total": 123450, "currency": "CNY"},
        })
    );

    assert_eq!(
        wechat.status(&handle.payment_id).await.unwrap(),
        PaymentState::ActionRequired { url: String::new() },
        "unpaid: still with the customer"
    );
    let query = fake.received().pop().unwrap();
    assert_eq!(
        query.path,
        format!("/v3/pay/transactions/out-trade-no/{expected_number}")
    );
    assert_eq!(query.field("mchid"), Some(MCH_ID));

    assert!(fake.scan(code_url));
    assert_eq!(
        wechat.status(&handle.payment_id).await.unwrap(),
        PaymentState::Captured {
            amount: cny("1234.50"),
            refunded: cny("0")
        }
    );
}

#[tokio::test]
async fn an_order_cannot_be_paid_after_the_deadline_it_was_given() {
    let fake = FakeWeChat::start().await;
    let wechat = adapter(fake.settings());
    let order = OrderId::generate();
    let method = PaymentMethodToken::parse(NATIVE).unwrap();
    let key = key(&order, Operation::Authorize, "1");
    let pay_by = "2025-11-25T02:15:00Z".parse().unwrap();
    let handle = wechat
        .authorize(AuthorizeRequest {
            pay_by: Some(pay_by),
            customer: None,
            ..request(&order, cny("10"), &method, &key)
        })
        .await
        .unwrap();
    let sent = fake.received().pop().unwrap().json.unwrap();
    assert_eq!(
        sent["time_expire"], "2025-11-25T10:15:00+08:00",
        "in Beijing time, to the second"
    );
    assert!(
        !fake.pay(&handle.payment_id),
        "the fake refuses a payment after time_expire"
    );
}

#[tokio::test]
async fn the_same_key_places_one_order_and_a_paid_one_is_looked_up() {
    let fake = FakeWeChat::start().await;
    let wechat = adapter(fake.settings());
    let order = OrderId::generate();
    let first = charge(&wechat, &order, cny("88")).await.unwrap();
    let again = charge(&wechat, &order, cny("88")).await.unwrap();
    assert_eq!(again, first, "the same number answers the same code");
    assert_eq!(fake.trade_count(), 1);

    let other = charge(&wechat, &order, cny("1")).await;
    assert_eq!(rejected(&other).0, "INVALID_REQUEST");

    assert!(fake.pay(&first.payment_id));
    let after_paying = charge(&wechat, &order, cny("88")).await.unwrap();
    assert_eq!(
        after_paying,
        PaymentHandle {
            payment_id: first.payment_id.clone(),
            state: PaymentState::Captured {
                amount: cny("88"),
                refunded: cny("0")
            },
        },
        "ORDERPAID: the order is looked up"
    );
    assert_eq!(fake.trade_count(), 1);
}

#[tokio::test]
async fn only_cny_and_wechat_native_are_taken_and_nothing_is_sent_otherwise() {
    let fake = FakeWeChat::start().await;
    let wechat = adapter(fake.settings());
    let euros = charge(
        &wechat,
        &OrderId::generate(),
        Money::parse("10", "EUR").unwrap(),
    )
    .await;
    let (code, message) = rejected(&euros);
    assert_eq!(code, "currency");
    assert!(message.contains("CNY only"), "{message}");
    let refund = wechat
        .refund(
            "0123456789abcdef",
            Money::parse("1", "USD").unwrap(),
            &key(&OrderId::generate(), Operation::Refund, "1"),
        )
        .await;
    assert_eq!(rejected(&refund).0, "currency");
    assert!(fake.received().is_empty(), "nothing reached WeChat Pay");
    let profile = wechat.profile();
    assert!(profile.takes(cny("1").currency()));
    assert!(!profile.takes(Money::parse("1", "EUR").unwrap().currency()));
    assert_eq!(profile.open_method, Some(NATIVE));

    assert!(
        wechat
            .check_method(&PaymentMethodToken::parse(NATIVE).unwrap())
            .is_ok()
    );
    let card = wechat.check_method(&PaymentMethodToken::parse("pm_card_visa").unwrap());
    assert!(card.unwrap_err().contains("wechat_native"));
}

#[tokio::test]
async fn an_unpaid_order_is_closed_and_a_paid_one_must_be_refunded() {
    let fake = FakeWeChat::start().await;
    let wechat = adapter(fake.settings());
    let order = OrderId::generate();
    let handle = charge(&wechat, &order, cny("40")).await.unwrap();
    wechat
        .void(&handle.payment_id, &key(&order, Operation::Void, "1"))
        .await
        .unwrap();
    let close = fake.received().pop().unwrap();
    assert_eq!(
        close.path,
        format!(
            "/v3/pay/transactions/out-trade-no/{}/close",
            handle.payment_id
        )
    );
    assert_eq!(close.json, Some(json!({"mchid": MCH_ID})));
    assert_eq!(
        wechat.status(&handle.payment_id).await.unwrap(),
        PaymentState::Voided
    );
    assert!(
        !fake.pay(&handle.payment_id),
        "a closed order cannot be paid"
    );
    let never_placed = OrderId::generate();
    wechat
        .void(
            &merchant_number(&key(&never_placed, Operation::Authorize, "1")),
            &key(&never_placed, Operation::Void, "1"),
        )
        .await
        .expect("an order WeChat Pay never had has nothing to close");

    let (order, id) = paid(&fake, &wechat, cny("40")).await;
    let refused = wechat.void(&id, &key(&order, Operation::Void, "1")).await;
    let (code, message) = rejected(&refused);
    assert_eq!(code, "ORDERPAID");
    assert!(message.contains("refunded"), "{message}");
}

#[tokio::test]
async fn refunds_are_keyed_by_their_number_and_never_exceed_what_was_paid() {
    let fake = FakeWeChat::start().await;
    let wechat = adapter(fake.settings());
    let (order, id) = paid(&fake, &wechat, cny("300")).await;
    let first_key = key(&order, Operation::Refund, "a");
    let receipt = wechat.refund(&id, cny("100"), &first_key).await.unwrap();
    assert_eq!(receipt.amount, cny("100"));
    assert_eq!(receipt.refund_id, merchant_number(&first_key));
    let sent = fake.received().pop().unwrap();
    assert_eq!(sent.path, "/v3/refund/domestic/refunds");
    assert_eq!(
        sent.json.unwrap(),
        json!({
            "out_trade_no": id,
            "out_refund_no": merchant_number(&first_key),
            "notify_url": NOTIFY_URL,
            "amount": {"refund": 10000, "total": 30000, "currency": "CNY"},
        })
    );

    let replay = wechat.refund(&id, cny("100"), &first_key).await.unwrap();
    assert_eq!(replay, receipt);
    assert_eq!(fake.refund_count(), 1, "a replay refunds nothing more");

    let over = wechat
        .refund(&id, cny("200.01"), &key(&order, Operation::Refund, "b"))
        .await;
    assert_eq!(rejected(&over).0, "INVALID_REQUEST");
    assert_eq!(
        wechat.status(&id).await.unwrap(),
        PaymentState::Captured {
            amount: cny("300"),
            refunded: cny("100")
        }
    );
    wechat
        .refund(&id, cny("200"), &key(&order, Operation::Refund, "c"))
        .await
        .unwrap();
    assert_eq!(
        wechat.status(&id).await.unwrap(),
        PaymentState::Captured {
            amount: cny("300"),
            refunded: cny("300")
        }
    );
    assert_eq!(fake.trade(&id), ("REFUND".into(), 30000, 30000));
}

#[tokio::test]
async fn a_refund_the_merchant_cannot_cover_or_the_bank_cannot_return_is_an_error() {
    let fake = FakeWeChat::start().await;
    let wechat = adapter(fake.settings());
    let (order, id) = paid(&fake, &wechat, cny("50")).await;
    fake.set_balance(500);
    let short = wechat
        .refund(&id, cny("10"), &key(&order, Operation::Refund, "1"))
        .await;
    let (code, message) = rejected(&short);
    assert_eq!(code, "NOT_ENOUGH");
    assert!(message.contains("top up"), "{message}");

    fake.next_refund_ends("ABNORMAL");
    let abnormal = wechat
        .refund(&id, cny("1"), &key(&order, Operation::Refund, "2"))
        .await;
    let (code, message) = rejected(&abnormal);
    assert_eq!(code, "ABNORMAL");
    assert!(message.contains("by hand"), "{message}");
    assert_eq!(
        wechat.status(&id).await.unwrap(),
        PaymentState::Captured {
            amount: cny("50"),
            refunded: cny("0")
        },
        "an abnormal refund returned nothing"
    );
}

#[tokio::test]
async fn a_payment_that_fails_at_the_payer_is_failed() {
    let fake = FakeWeChat::start().await;
    let wechat = adapter(fake.settings());
    let handle = charge(&wechat, &OrderId::generate(), cny("80"))
        .await
        .unwrap();
    let said = reqwest::get(format!("{}/fake/fail/{}", fake.base_url, handle.payment_id))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(said, "failed");
    assert!(matches!(
        wechat.status(&handle.payment_id).await.unwrap(),
        PaymentState::Failed { reason } if !reason.is_empty()
    ));
}

#[tokio::test]
async fn forged_other_key_and_stale_answers_are_not_believed() {
    let fake = FakeWeChat::start().await;
    let wechat = adapter(fake.settings());
    for (tamper, expected_orders) in [
        (Tamper::Forged, 1),
        (Tamper::OtherSerial, 2),
        (Tamper::Stale, 3),
    ] {
        fake.tamper_next(tamper);
        let answer = charge(&wechat, &OrderId::generate(), cny("10")).await;
        assert!(is_unknown(&answer), "{tamper:?}: {answer:?}");
        assert_eq!(
            fake.trade_count(),
            expected_orders,
            "the order exists at WeChat Pay all the same"
        );
    }
    let genuine = charge(&wechat, &OrderId::generate(), cny("10")).await;
    assert!(genuine.is_ok(), "{genuine:?}");
}

#[tokio::test]
async fn a_request_not_signed_with_the_merchants_key_is_refused_by_wechat_pay() {
    let fake = FakeWeChat::start().await;
    let mut settings = fake.settings();
    settings.merchant = Signer::parse(PLATFORM_PRIVATE, MERCHANT_SERIAL).unwrap();
    let wechat = adapter(settings);
    let refused = charge(&wechat, &OrderId::generate(), cny("10")).await;
    let (code, message) = rejected(&refused);
    assert_eq!(code, "SIGN_ERROR");
    assert!(message.contains("serial number"), "{message}");
    assert_eq!(fake.trade_count(), 0);

    let mut settings = fake.settings();
    settings.merchant = Signer::parse(
        include_str!("fixtures/wechat/merchant-private.pem"),
        "ANOTHER_SERIAL",
    )
    .unwrap();
    let refused = charge(&adapter(settings), &OrderId::generate(), cny("10")).await;
    assert_eq!(rejected(&refused).0, "SIGN_ERROR");
}

#[tokio::test]
async fn wechat_pays_errors_become_ours() {
    let fake = FakeWeChat::start().await;
    let wechat = adapter(fake.settings());
    fake.recorder(|r| r.fail_next(429, Some(3)));
    let limited = charge(&wechat, &OrderId::generate(), cny("10")).await;
    assert!(
        matches!(
            limited,
            Err(PaymentError::Provider(ProviderError::RateLimited { retry_after: Some(d), .. })) if d == Duration::from_secs(3)
        ),
        "{limited:?}"
    );
    fake.recorder(|r| r.fail_next(500, None));
    assert!(is_unknown(
        &charge(&wechat, &OrderId::generate(), cny("10")).await
    ));
    fake.recorder(|r| r.fail_next(503, None));
    assert!(matches!(
        charge(&wechat, &OrderId::generate(), cny("10")).await,
        Err(PaymentError::Provider(ProviderError::Unavailable { .. }))
    ));
    fake.recorder(|r| r.fail_next(400, None));
    let invalid = charge(&wechat, &OrderId::generate(), cny("10")).await;
    assert_eq!(rejected(&invalid).0, "PARAM_ERROR");
    assert_eq!(fake.trade_count(), 0, "forced failures act on nothing");

    let missing = wechat.status("0123456789abcdef0123456789abcdef").await;
    assert_eq!(rejected(&missing).0, "ORDER_NOT_EXIST");
    let not_a_number = wechat.status("../../v3/other").await;
    assert_eq!(rejected(&not_a_number).0, "out_trade_no");
    let capture = wechat
        .capture(
            "0123456789abcdef",
            cny("1"),
            &key(&OrderId::generate(), Operation::Capture, "1"),
        )
        .await;
    assert_eq!(rejected(&capture).0, "capture_unsupported");
}

#[tokio::test]
async fn a_jsapi_order_gives_the_page_signed_parameters() {
    let fake = FakeWeChat::start().await;
    let wechat = adapter(fake.settings());
    let order = OrderId::generate();
    let method = PaymentMethodToken::parse(NATIVE).unwrap();
    let key = key(&order, Operation::Authorize, "1");
    let openid = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o";
    let payment = wechat
        .jsapi(request(&order, cny("66.60"), &method, &key), openid)
        .await
        .unwrap();
    let sent = fake.received().pop().unwrap();
    assert_eq!(sent.path, "/v3/pay/transactions/jsapi");
    let body = sent.json.unwrap();
    assert_eq!(body["payer"], json!({"openid": openid}));
    assert_eq!(body["amount"], json!({"total": 6660, "currency": "CNY"}));

    let client = &payment.client;
    assert_eq!(client.package, format!("prepay_id={}", payment.prepay_id));
    assert_eq!(
        (client.app_id.as_str(), client.sign_type.as_str()),
        (APP_ID, "RSA")
    );
    let message = format!(
        "{}\n{}\n{}\n{}\n",
        client.app_id, client.time_stamp, client.nonce_str, client.package
    );
    let merchant = Verifier::parse(MERCHANT_PUBLIC, MERCHANT_SERIAL).unwrap();
    assert!(merchant.verify(&message, &client.pay_sign));
    let shown = serde_json::to_value(client).unwrap();
    for name in [
        "appId",
        "timeStamp",
        "nonceStr",
        "package",
        "signType",
        "paySign",
    ] {
        assert!(shown.get(name).is_some(), "{name} in {shown}");
    }

    assert!(fake.pay(&payment.payment_id));
    assert!(matches!(
        wechat.status(&payment.payment_id).await.unwrap(),
        PaymentState::Captured { .. }
    ));
}

#[tokio::test]
async fn the_fakes_payment_notification_is_read_by_the_webhook() {
    use itinera::webhooks::wechat::{parse, verify};
    let fake = FakeWeChat::start().await;
    let wechat = adapter(fake.settings());
    let (_, id) = paid(&fake, &wechat, cny("20")).await;
    let now = chrono::Utc::now();
    let (headers, body) = fake.payment_notification(&id, now.timestamp());
    let header = |name: &str| {
        headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.clone())
    };
    let platform = Verifier::parse(PLATFORM_PUBLIC, PLATFORM_SERIAL).unwrap();
    verify(&platform, header, body.as_bytes(), now).unwrap();
    let key = ApiV3Key::parse(common::wechat_fake::API_V3_KEY).unwrap();
    let event = parse(body.as_bytes(), &key).unwrap();
    assert_eq!(event.kind, "TRANSACTION.SUCCESS");
    assert_eq!(event.payment, Some(id));
}
