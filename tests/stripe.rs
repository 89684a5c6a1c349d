//! The Stripe adapter against a local fake that speaks Stripe's wire format: what it sends
//! (form encoding, minor units, lowercase currency, bearer key, API version, idempotency key)
//! and how it reads every answer (holds, 3-D Secure, declines, captures, voids, refunds,
//! rate limits, outages, a bad key).

mod common;

use std::time::Duration;

use common::stripe_fake::{FakeStripe, KEY};
use itinera::adapters::payments::stripe::{API_VERSION, StripePayments, StripeSettings};
use itinera::domain::idempotency::{IdempotencyKey, Operation};
use itinera::domain::ids::{OrderId, PaymentMethodToken};
use itinera::domain::money::Money;
use itinera::ports::payment::{AuthorizeRequest, PaymentError, PaymentState};
use itinera::ports::{PaymentProvider, ProviderError};

fn eur(amount: &str) -> Money {
    Money::parse(amount, "EUR").unwrap()
}

fn adapter(fake: &FakeStripe, key: &str) -> StripePayments {
    StripePayments::new(StripeSettings {
        secret_key: key.to_string(),
        base_url: fake.base_url.clone(),
    })
    .unwrap()
}

/// A server (sandbox bookings) paying through the fake Stripe, acting for `profile`.
fn paying_with(fake: &FakeStripe, profile: &'static str) -> common::Options {
    common::Options {
        payment: itinera::config::PaymentSettings::Stripe {
            secret_key: KEY.to_string().into(),
            base_url: fake.base_url.clone(),
            webhook_secret: None,
        },
        profile,
        ..common::Options::default()
    }
}

struct Call {
    order: OrderId,
}

impl Call {
    fn new() -> Call {
        Call {
            order: OrderId::generate(),
        }
    }

    fn key(&self, operation: Operation) -> IdempotencyKey {
        IdempotencyKey::derive(&self.order, None, operation, "0")
    }

    async fn authorize(
        &self,
        stripe: &StripePayments,
        amount: Money,
        card: &str,
    ) -> Result<itinera::ports::payment::PaymentHandle, PaymentError> {
        let token = PaymentMethodToken::parse(card).unwrap();
        let key = self.key(Operation::Authorize);
        stripe
            .authorize(AuthorizeRequest {
                order_id: &self.order,
                amount,
                payment_method: &token,
                description: "Paris in December",
                idempotency_key: &key,
                return_url: "http://127.0.0.1:9/payment-complete",
                pay_by: None,
                customer: None,
            })
            .await
    }
}

#[tokio::test]
async fn a_hold_is_a_confirmed_manual_capture_intent_in_minor_units() {
    let fake = FakeStripe::start().await;
    let stripe = adapter(&fake, KEY);
    let call = Call::new();
    let handle = call
        .authorize(&stripe, eur("1234.50"), "pm_card_visa")
        .await
        .unwrap();
    assert_eq!(
        handle.state,
        PaymentState::Authorized {
            amount: eur("1234.50")
        }
    );
    let sent = &fake.received()[0];
    assert_eq!(
        (sent.method.as_str(), sent.path.as_str()),
        ("POST", "/v1/payment_intents")
    );
    assert_eq!(sent.field("amount"), Some("123450"));
    assert_eq!(sent.field("currency"), Some("eur"));
    assert_eq!(sent.field("capture_method"), Some("manual"));
    assert_eq!(sent.field("confirm"), Some("true"));
    assert_eq!(sent.field("payment_method"), Some("pm_card_visa"));
    assert_eq!(sent.field("metadata[order_id]"), Some(call.order.as_str()));
    assert_eq!(
        sent.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(sent.header("stripe-version"), Some(API_VERSION));
    assert_eq!(
        sent.header("idempotency-key"),
        Some(call.key(Operation::Authorize).as_str())
    );
    assert!(sent.header("user-agent").unwrap().starts_with("itinera/"));
    assert!(
        sent.header("content-type")
            .unwrap()
            .starts_with("application/x-www-form-urlencoded")
    );
}

#[tokio::test]
async fn icelandic_kronur_go_in_stripe_s_hundredths_and_kuwaiti_fils_stripe_cannot_take_are_refused()
 {
    let fake = FakeStripe::start().await;
    let stripe = adapter(&fake, KEY);
    let isk = Money::parse("45000", "ISK").unwrap();
    let handle = Call::new()
        .authorize(&stripe, isk, "pm_card_visa")
        .await
        .unwrap();
    assert_eq!(
        handle.state,
        PaymentState::Authorized { amount: isk },
        "read back in krónur"
    );
    assert_eq!(fake.received()[0].field("amount"), Some("4500000"));
    assert_eq!(fake.received()[0].field("currency"), Some("isk"));

    let refused = Call::new()
        .authorize(
            &stripe,
            Money::parse("12.345", "KWD").unwrap(),
            "pm_card_visa",
        )
        .await
        .unwrap_err();
    assert!(
        refused.to_string().contains("whole hundredths"),
        "{refused}"
    );
    assert_eq!(fake.received().len(), 1, "refused before any call");
}

#[tokio::test]
async fn a_lost_answer_sent_again_under_the_same_key_holds_once() {
    let fake = FakeStripe::start().await;
    let stripe = adapter(&fake, KEY);
    let call = Call::new();
    let first = call
        .authorize(&stripe, eur("80"), "pm_card_visa")
        .await
        .unwrap();
    let again = call
        .authorize(&stripe, eur("80"), "pm_card_visa")
        .await
        .unwrap();
    assert_eq!(first.payment_id, again.payment_id);
    assert_eq!(fake.intent_count(), 1, "one hold, not two");
    // The same key with other parameters: the first request placed a hold, so this must never
    // read as a refusal the saga could move on from; it is left for reconciliation.
    let other = call.authorize(&stripe, eur("81"), "pm_card_visa").await;
    assert!(
        matches!(
            &other,
            Err(PaymentError::Provider(ProviderError::OutcomeUnknown { .. }))
        ),
        "{other:?}"
    );
    assert_eq!(fake.intent_count(), 1);
}

#[tokio::test]
async fn capture_void_refund_and_status_read_the_intent() {
    let fake = FakeStripe::start().await;
    let stripe = adapter(&fake, KEY);
    let call = Call::new();
    let held = call
        .authorize(&stripe, eur("300"), "pm_card_visa")
        .await
        .unwrap();
    let captured = stripe
        .capture(&held.payment_id, eur("250"), &call.key(Operation::Capture))
        .await
        .unwrap();
    assert_eq!(captured, eur("250"));
    assert_eq!(fake.received()[1].field("amount_to_capture"), Some("25000"));
    let refund = stripe
        .refund(&held.payment_id, eur("100"), &call.key(Operation::Refund))
        .await
        .unwrap();
    assert_eq!(refund.amount, eur("100"));
    assert!(refund.refund_id.starts_with("re_"));
    assert_eq!(
        stripe.status(&held.payment_id).await.unwrap(),
        PaymentState::Captured {
            amount: eur("250"),
            refunded: eur("100")
        }
    );
    assert_eq!(
        fake.intent(&held.payment_id),
        ("succeeded".into(), 25000, 10000)
    );
    // Never more than what is left: Stripe refuses, and so the adapter reports a refusal.
    let over = stripe
        .refund(
            &held.payment_id,
            eur("150.01"),
            &IdempotencyKey::derive(&call.order, None, Operation::Refund, "1"),
        )
        .await;
    assert!(
        matches!(&over, Err(PaymentError::Provider(ProviderError::Rejected { code, .. })) if code == "amount_too_large"),
        "{over:?}"
    );

    let other = Call::new();
    let held = other
        .authorize(&stripe, eur("40"), "pm_card_visa")
        .await
        .unwrap();
    stripe
        .void(&held.payment_id, &other.key(Operation::Void))
        .await
        .unwrap();
    assert_eq!(
        stripe.status(&held.payment_id).await.unwrap(),
        PaymentState::Voided
    );
}

#[tokio::test]
async fn a_declined_card_keeps_its_decline_code_and_holds_nothing() {
    let fake = FakeStripe::start().await;
    let stripe = adapter(&fake, KEY);
    for (card, code) in [
        ("pm_card_visa_chargeDeclined", "generic_decline"),
        (
            "pm_card_visa_chargeDeclinedInsufficientFunds",
            "insufficient_funds",
        ),
    ] {
        let declined = Call::new().authorize(&stripe, eur("50"), card).await;
        match declined {
            Err(PaymentError::Declined { code: got, message }) => {
                assert_eq!(got, code);
                assert!(!message.is_empty());
            }
            other => panic!("{card}: {other:?}"),
        }
    }
    assert_eq!(fake.intent_count(), 0);
}

#[tokio::test]
async fn three_d_secure_gives_the_banks_page_and_the_hold_follows_it() {
    let fake = FakeStripe::start().await;
    let stripe = adapter(&fake, KEY);
    let call = Call::new();
    let handle = call
        .authorize(&stripe, eur("70"), "pm_card_threeDSecure2Required")
        .await
        .unwrap();
    let PaymentState::ActionRequired { url } = handle.state else {
        panic!("{:?}", handle.state)
    };
    assert_eq!(
        fake.received()[0].field("return_url"),
        Some("http://127.0.0.1:9/payment-complete")
    );
    reqwest::get(&url).await.unwrap();
    assert_eq!(
        stripe.status(&handle.payment_id).await.unwrap(),
        PaymentState::Authorized { amount: eur("70") }
    );
}

#[tokio::test]
async fn rate_limits_outages_and_a_bad_key_are_told_apart() {
    let fake = FakeStripe::start().await;
    let stripe = adapter(&fake, KEY);
    fake.fail_next(429, Some(3));
    let limited = Call::new()
        .authorize(&stripe, eur("10"), "pm_card_visa")
        .await;
    assert_eq!(
        limited,
        Err(PaymentError::Provider(ProviderError::RateLimited {
            provider: "stripe".into(),
            retry_after: Some(Duration::from_secs(3)),
        }))
    );
    fake.fail_next(503, None);
    let down = Call::new()
        .authorize(&stripe, eur("10"), "pm_card_visa")
        .await;
    assert!(
        matches!(
            down,
            Err(PaymentError::Provider(ProviderError::Unavailable { .. }))
        ),
        "{down:?}"
    );
    fake.fail_next(500, None);
    let unknown = Call::new()
        .authorize(&stripe, eur("10"), "pm_card_visa")
        .await;
    assert!(
        matches!(
            unknown,
            Err(PaymentError::Provider(ProviderError::OutcomeUnknown { .. }))
        ),
        "{unknown:?}"
    );
    assert_eq!(fake.intent_count(), 0, "a forced failure acts on nothing");

    let wrong_key = adapter(&fake, "sk_test_wrong");
    let refused = Call::new()
        .authorize(&wrong_key, eur("10"), "pm_card_visa")
        .await;
    match refused {
        Err(PaymentError::Provider(ProviderError::Rejected { message, .. })) => {
            assert!(message.contains("ITINERA_STRIPE_SECRET_KEY"), "{message}");
            assert!(
                !message.contains("sk_test_wrong"),
                "the key is never echoed"
            );
        }
        other => panic!("{other:?}"),
    }
    let unreachable = StripePayments::new(StripeSettings {
        secret_key: KEY.into(),
        base_url: "http://127.0.0.1:9".into(),
    })
    .unwrap();
    let offline = Call::new()
        .authorize(&unreachable, eur("10"), "pm_card_visa")
        .await;
    assert!(
        matches!(
            offline,
            Err(PaymentError::Provider(ProviderError::Unavailable { .. }))
        ),
        "{offline:?}"
    );
}

/// The whole flow with Stripe holding and charging the money (bookings in the sandbox).
mod flow {
    use super::*;
    use common::{Harness, expected_refund, money, sum};
    use serde_json::json;

    async fn with_stripe() -> (Harness, FakeStripe) {
        let fake = FakeStripe::start().await;
        let h = Harness::with(paying_with(&fake, "local")).await;
        (h, fake)
    }

    fn minor(amount: Money) -> i64 {
        amount.minor_units().unwrap()
    }

    #[tokio::test]
    async fn stripe_holds_the_total_charges_what_was_booked_and_refunds_a_cancellation() {
        let (h, fake) = with_stripe().await;
        let (plan_id, offers) = h.approved_paris_plan("pm_card_visa").await;
        let order = h
            .ok("execute_travel_plan", json!({"plan_id": plan_id}))
            .await;
        assert_eq!(order["status"], "confirmed", "{order}");
        assert_eq!(order["payment"]["provider"], "stripe");
        let intent = order["payment"]["reference"].as_str().unwrap().to_string();
        let total = sum(offers.iter().map(|o| money(&o["price"])));
        assert_eq!(fake.intent(&intent), ("succeeded".into(), minor(total), 0));

        let now = chrono::Utc::now();
        let expected = sum(offers.iter().map(|o| expected_refund(o, now)));
        let cancelled = h
            .ok("cancel_booking", json!({"order_id": order["order_id"]}))
            .await;
        assert_eq!(money(&cancelled["refunded"]), expected);
        assert_eq!(
            fake.intent(&intent).2,
            minor(expected),
            "Stripe refunded the same"
        );
    }

    #[tokio::test]
    async fn a_capture_refused_after_it_was_made_keeps_the_bookings() {
        let (h, fake) = with_stripe().await;
        let (plan_id, offers) = h.approved_paris_plan("pm_card_visa").await;
        fake.refuse_next_capture_after_acting();
        let order = h
            .ok("execute_travel_plan", json!({"plan_id": plan_id}))
            .await;
        assert_eq!(order["status"], "confirmed", "{order}");
        let total = sum(offers.iter().map(|o| money(&o["price"])));
        assert_eq!(money(&order["captured"]), total);
        assert_eq!(
            h.ledger_bookings().await.len(),
            4,
            "nothing was rolled back"
        );
        assert!(
            order.to_string().contains("keeping the bookings"),
            "the timeline says why: {order}"
        );
    }

    #[tokio::test]
    async fn a_failed_must_have_cancels_the_stripe_hold() {
        let (h, fake) = with_stripe().await;
        h.set_faults("hotel.book=fail");
        let (plan_id, _) = h.approved_paris_plan("pm_card_visa").await;
        let order = h
            .ok("execute_travel_plan", json!({"plan_id": plan_id}))
            .await;
        assert_eq!(order["status"], "failed", "{order}");
        let intent = order["payment"]["reference"].as_str().unwrap();
        assert_eq!(
            fake.intent(intent),
            ("canceled".into(), 0, 0),
            "the hold was released"
        );
    }

    #[tokio::test]
    async fn three_d_secure_at_stripe_waits_for_the_bank_then_continues() {
        let (h, fake) = with_stripe().await;
        let (plan_id, _) = h.approved_paris_plan("pm_card_threeDSecure2Required").await;
        let waiting = h
            .ok("execute_travel_plan", json!({"plan_id": plan_id}))
            .await;
        assert_eq!(waiting["status"], "payment_action_required", "{waiting}");
        let url = waiting["payment"]["action_url"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(url.starts_with(&fake.base_url), "the bank's page: {url}");
        assert!(h.ledger_bookings().await.is_empty());
        reqwest::get(&url).await.unwrap();
        let done = h
            .ok("execute_travel_plan", json!({"plan_id": plan_id}))
            .await;
        assert_eq!(done["status"], "confirmed", "{done}");
        let return_url = fake.received()[0].field("return_url").unwrap().to_string();
        let back = reqwest::get(&return_url)
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(back.contains("Go back to your assistant"), "{back}");
    }

    #[tokio::test]
    async fn a_payment_method_stripe_cannot_charge_is_refused_when_the_plan_is_made() {
        let (h, fake) = with_stripe().await;
        let offers = h.paris_offers().await;
        let refused = h
            .err(
                "create_travel_plan",
                json!({
                    "travellers": [{"given_name": "Ada", "family_name": "Lovelace"}],
                    "payment_method": "pm_sandbox_visa",
                    "items": [{"offer_id": offers[0]["id"]}],
                }),
            )
            .await;
        assert!(
            refused.contains("Stripe charges Stripe payment methods"),
            "{refused}"
        );
        assert_eq!(h.rows("plans").await, 0);
        assert!(fake.received().is_empty());
    }

    #[tokio::test]
    async fn a_declined_card_at_stripe_books_nothing_and_says_what_to_do() {
        let (h, _fake) = with_stripe().await;
        let (plan_id, _) = h.approved_paris_plan("pm_card_visa_chargeDeclined").await;
        let order = h
            .ok("execute_travel_plan", json!({"plan_id": plan_id}))
            .await;
        assert_eq!(order["status"], "failed", "{order}");
        assert!(
            order["failure"]
                .as_str()
                .unwrap()
                .contains("generic_decline"),
            "{order}"
        );
        assert!(h.ledger_bookings().await.is_empty());
    }
}

/// Saving a card on Stripe Checkout's setup page, then paying with it.
mod saving {
    use super::*;
    use common::Harness;
    use serde_json::{Value, json};

    async fn with_stripe() -> (Harness, FakeStripe) {
        let fake = FakeStripe::start().await;
        let h = Harness::with(paying_with(&fake, "local")).await;
        (h, fake)
    }

    fn sent(fake: &FakeStripe, path: &str) -> Vec<common::stripe_fake::Received> {
        fake.received()
            .into_iter()
            .filter(|r| r.method == "POST" && r.path == path)
            .collect()
    }

    /// add_payment_method, then the person types `card` on Stripe's page: the setup.
    async fn save(h: &Harness, card: &str) -> Value {
        let setup = h
            .ok("add_payment_method", json!({"provider": "stripe"}))
            .await;
        assert_eq!(setup["provider"], "stripe", "{setup}");
        let url = setup["url"].as_str().unwrap();
        let typed = reqwest::get(format!("{url}?card={card}"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(typed, "saved");
        setup
    }

    #[tokio::test]
    async fn a_card_saved_on_the_checkout_page_pays_for_a_trip_with_its_customer() {
        let (h, fake) = with_stripe().await;
        let setup = h
            .ok("add_payment_method", json!({"provider": "stripe"}))
            .await;
        let sessions = sent(&fake, "/v1/checkout/sessions");
        assert_eq!(sessions.len(), 1);
        let session = &sessions[0];
        assert_eq!(session.field("mode"), Some("setup"));
        assert_eq!(session.field("payment_method_types[0]"), Some("card"));
        assert!(session.header("idempotency-key").is_some());
        let customer = session.field("customer").unwrap().to_string();
        assert!(customer.starts_with("cus_"), "{customer}");
        assert_eq!(fake.customers(), ["local"], "one customer, for this person");

        let before = h.ok("list_payment_methods", json!({})).await;
        assert_eq!(before["saved"], json!([]), "{before}");
        assert_eq!(before["setups"][0]["status"], "pending", "{before}");

        let url = setup["url"].as_str().unwrap();
        let typed = reqwest::get(format!("{url}?card=visa")).await.unwrap();
        assert_eq!(typed.text().await.unwrap(), "saved");
        let listed = h.ok("list_payment_methods", json!({})).await;
        let saved = listed["saved"].as_array().unwrap();
        assert_eq!(saved.len(), 1, "{listed}");
        assert_eq!(saved[0]["label"], "Visa •••• 4242, expires 12/2030");
        let token = saved[0]["token"].as_str().unwrap();

        // A second card goes to the same customer.
        save(&h, "visa").await;
        h.ok("list_payment_methods", json!({})).await;
        assert_eq!(sent(&fake, "/v1/customers").len(), 1);
        assert_eq!(
            sent(&fake, "/v1/checkout/sessions")[1].field("customer"),
            Some(customer.as_str())
        );

        let (plan_id, _) = h.approved_paris_plan(token).await;
        let order = h
            .ok("execute_travel_plan", json!({"plan_id": plan_id}))
            .await;
        assert_eq!(order["status"], "confirmed", "{order}");
        let holds = sent(&fake, "/v1/payment_intents");
        assert_eq!(holds.len(), 1);
        assert_eq!(holds[0].field("payment_method"), Some(token));
        assert_eq!(holds[0].field("customer"), Some(customer.as_str()));
    }

    #[tokio::test]
    async fn a_saved_method_is_refused_by_stripe_without_its_customer() {
        let (h, fake) = with_stripe().await;
        save(&h, "visa").await;
        let listed = h.ok("list_payment_methods", json!({})).await;
        let token =
            PaymentMethodToken::parse(listed["saved"][0]["token"].as_str().unwrap()).unwrap();
        let stripe = adapter(&fake, KEY);
        let call = Call::new();
        let key = call.key(Operation::Authorize);
        let refused = stripe
            .authorize(AuthorizeRequest {
                order_id: &call.order,
                amount: eur("10.00"),
                payment_method: &token,
                description: "Trip",
                idempotency_key: &key,
                return_url: "http://127.0.0.1/back",
                pay_by: None,
                customer: Some("cus_someone_else"),
            })
            .await
            .unwrap_err();
        assert!(
            refused
                .to_string()
                .contains("customer does not have a payment method"),
            "{refused}"
        );
    }

    #[tokio::test]
    async fn a_plan_made_before_someone_else_saved_its_method_is_not_charged_with_it() {
        let (ada, fake) = with_stripe().await;
        let setup = ada
            .ok("add_payment_method", json!({"provider": "stripe"}))
            .await;
        let coming = fake.next_saved_method();
        // Bob names the method before it is anyone's: planning has nothing to refuse yet.
        let bob = ada.beside(paying_with(&fake, "bob")).await;
        let (plan_id, _) = bob.approved_paris_plan(&coming).await;

        let url = setup["url"].as_str().unwrap();
        reqwest::get(format!("{url}?card=visa")).await.unwrap();
        let listed = ada.ok("list_payment_methods", json!({})).await;
        assert_eq!(listed["saved"][0]["token"], coming.as_str(), "{listed}");

        let failure = bob.failed_execution(&plan_id).await;
        assert!(failure.contains("saved by someone else"), "{failure}");
        assert!(
            sent(&fake, "/v1/payment_intents").is_empty(),
            "nothing was sent to Stripe"
        );
        assert!(bob.ledger_bookings().await.is_empty());
    }

    #[tokio::test]
    async fn an_expired_checkout_page_is_reported_and_saves_nothing() {
        let (h, fake) = with_stripe().await;
        let setup = h
            .ok("add_payment_method", json!({"provider": "stripe"}))
            .await;
        let id = setup["url"].as_str().unwrap().rsplit('/').next().unwrap();
        fake.expire_session(id);
        let listed = h.ok("list_payment_methods", json!({})).await;
        assert_eq!(listed["saved"], json!([]), "{listed}");
        assert_eq!(listed["setups"][0]["status"], "abandoned", "{listed}");
        assert!(
            listed["setups"][0]["reason"]
                .as_str()
                .unwrap()
                .contains("expired"),
            "{listed}"
        );
        assert_eq!(h.rows("saved_payment_methods").await, 0);
    }
}

/// Orders keep paying through the provider they were created with.
mod switching {
    use super::*;
    use common::{Harness, Options, money};
    use serde_json::json;

    fn stripe(fake: &FakeStripe) -> Options {
        paying_with(fake, "local")
    }

    #[tokio::test]
    async fn a_sandbox_order_is_still_refunded_by_the_sandbox_after_switching_to_stripe() {
        let fake = FakeStripe::start().await;
        let before = Harness::start().await;
        let (plan_id, _) = before.approved_paris_plan("pm_sandbox_visa").await;
        let order = before
            .ok("execute_travel_plan", json!({"plan_id": plan_id}))
            .await;
        assert_eq!(order["status"], "confirmed");
        let after = Harness::start_in(before.dir, stripe(&fake)).await;
        let cancelled = after
            .ok("cancel_booking", json!({"order_id": order["order_id"]}))
            .await;
        assert!(!money(&cancelled["refunded"]).is_zero(), "{cancelled}");
        assert_eq!(
            fake.received().len(),
            0,
            "nothing of the old order went to Stripe"
        );
    }

    /// A hold placed but its answer lost, then the server restarted (the approval page on
    /// another port): recovery sends the same request again, Stripe replays the hold, and the
    /// order goes on. With a return page that changed, Stripe would refuse the key instead.
    #[tokio::test]
    async fn a_hold_whose_answer_was_lost_is_found_again_after_a_restart() {
        let fake = FakeStripe::start().await;
        let before = Harness::with(stripe(&fake)).await;
        let (plan_id, _) = before.approved_paris_plan("pm_card_visa").await;
        fake.lose_next_answer(50);
        let interrupted = before
            .call("execute_travel_plan", json!({"plan_id": plan_id}))
            .await;
        assert_eq!(
            fake.intent_count(),
            1,
            "the hold was placed once: {interrupted:?}"
        );
        fake.clear_failures();
        let after = Harness::start_in(before.dir, stripe(&fake)).await;
        after.app.recover().await.unwrap();
        let orders = after.ok("list_bookings", json!({})).await;
        let order = &orders["orders"][0];
        assert_eq!(order["status"], "confirmed", "{orders}");
        assert_eq!(fake.intent_count(), 1, "no second hold");
        let authorizations: Vec<_> = fake
            .received()
            .into_iter()
            .filter(|r| r.path == "/v1/payment_intents" && r.method == "POST")
            .map(|r| r.field("return_url").unwrap_or_default().to_string())
            .collect();
        assert!(authorizations.len() >= 2, "sent again after the restart");
        assert!(
            authorizations.windows(2).all(|w| w[0] == w[1]),
            "every send carried the same parameters: {authorizations:?}"
        );
    }

    #[tokio::test]
    async fn a_stripe_order_says_what_to_configure_when_stripe_is_gone() {
        let fake = FakeStripe::start().await;
        let before = Harness::with(stripe(&fake)).await;
        let (plan_id, _) = before.approved_paris_plan("pm_card_visa").await;
        let order = before
            .ok("execute_travel_plan", json!({"plan_id": plan_id}))
            .await;
        assert_eq!(order["status"], "confirmed");
        let after = Harness::start_in(before.dir, Options::default()).await;
        let refused = after
            .err("cancel_booking", json!({"order_id": order["order_id"]}))
            .await;
        assert!(
            refused.contains("pays through 'stripe'")
                && refused.contains("ITINERA_PAYMENT_PROVIDER"),
            "{refused}"
        );
        let status = after
            .err("get_payment_status", json!({"order_id": order["order_id"]}))
            .await;
        assert!(status.contains("not configured now"), "{status}");
    }
}
