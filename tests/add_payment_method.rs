//! Saving a card with add_payment_method, as the person would notice it: the assistant gets a
//! link to the provider's page (here the sandbox's card page), the person chooses a card there,
//! list_payment_methods shows it by label (never a card number) and a plan paid with it is
//! booked and charged; a card saved by one person is refused to another; a page cancelled or
//! left to expire saves nothing and says so; a provider that cannot save is refused with the
//! ones that can.

mod common;

use chrono::Duration;
use common::wechat_fake::{API_V3_KEY, FakeWeChat};
use common::{Harness, Options, page};
use itinera::adapters::payments::wechat::ApiV3Key;
use itinera::config::PaymentSettings;
use serde_json::{Value, json};

/// Opens the card page with add_payment_method and returns its setup.
async fn open_card_page(h: &Harness) -> Value {
    let setup = h.ok("add_payment_method", json!({})).await;
    assert_eq!(setup["provider"], "sandbox_payments", "{setup}");
    assert_eq!(setup["status"], "pending", "{setup}");
    let message = setup["message"].as_str().unwrap();
    assert!(
        message.contains("list_payment_methods") && message.contains("link"),
        "{message}"
    );
    setup
}

/// The person opens the page and presses the button of `card` (or `cancel`).
async fn choose(setup: &Value, card: &str) -> page::Fetched {
    let url = setup["url"].as_str().unwrap();
    let shown = page::get(url, "en").await;
    assert_eq!(shown.status, 200, "{}", shown.body);
    assert!(
        shown.body.contains(&format!("value=\"{card}\"")),
        "{}",
        shown.body
    );
    page::post(url, &[("card", card)], Some(&page::origin(url))).await
}

/// Saves the test card `card` on a fresh page: its token.
async fn save_card(h: &Harness, card: &str) -> String {
    let setup = open_card_page(h).await;
    let chosen = choose(&setup, card).await;
    assert_eq!(chosen.status, 200, "{}", chosen.body);
    assert!(chosen.body.contains("Card saved"), "{}", chosen.body);
    let listed = h.ok("list_payment_methods", json!({})).await;
    let saved = listed["saved"].as_array().unwrap();
    let token = saved.last().unwrap()["token"].as_str().unwrap().to_string();
    assert!(token.starts_with("pm_sandbox_saved_"), "{token}");
    token
}

#[tokio::test]
async fn a_card_saved_on_the_page_is_listed_by_its_label_and_pays_for_a_trip() {
    let h = Harness::start().await;
    let setup = open_card_page(&h).await;
    let before = h.ok("list_payment_methods", json!({})).await;
    assert_eq!(before["saved"], json!([]), "{before}");
    assert_eq!(before["setups"][0]["status"], "pending", "{before}");

    let chosen = choose(&setup, "visa").await;
    assert!(chosen.body.contains("Card saved"), "{}", chosen.body);

    let listed = h.ok("list_payment_methods", json!({})).await;
    let saved = listed["saved"].as_array().unwrap();
    assert_eq!(saved.len(), 1, "{listed}");
    assert_eq!(saved[0]["provider"], "sandbox_payments");
    let label = saved[0]["label"].as_str().unwrap();
    assert!(
        label.contains("4242") && label.contains("12/2030"),
        "{label}"
    );
    assert!(
        !listed.to_string().contains("4242424242424242"),
        "no card number is ever shown: {listed}"
    );
    assert!(listed.get("setups").is_none(), "{listed}");

    // Listing again saves nothing twice.
    let again = h.ok("list_payment_methods", json!({})).await;
    assert_eq!(again["saved"], listed["saved"]);
    assert_eq!(h.rows("saved_payment_methods").await, 1);
    assert_eq!(h.ledger_rows("saved_cards").await, 1);

    let token = saved[0]["token"].as_str().unwrap();
    let offers = h.paris_offers().await;
    let with_priority: Vec<(Value, &str)> =
        offers.iter().map(|o| (o.clone(), "must_have")).collect();
    let order = h.execute(&with_priority, token).await;
    assert_eq!(order["status"], "confirmed", "{order}");
    let payment = order["payment"]["reference"].as_str().unwrap();
    let charged = h
        .sandbox()
        .ledger()
        .payment(payment)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(charged.method, token, "the saved token was charged");
    assert_eq!(charged.status, "captured");
    h.assert_store_matches_ledger().await;
}

#[tokio::test]
async fn a_saved_card_that_declines_fails_the_order_as_declined() {
    let h = Harness::start().await;
    let token = save_card(&h, "declined").await;
    let (plan_id, _) = h.approved_paris_plan(&token).await;
    let failure = h.failed_execution(&plan_id).await;
    assert!(failure.contains("card_declined"), "{failure}");
    assert!(h.ledger_bookings().await.is_empty());
}

#[tokio::test]
async fn another_person_cannot_pay_with_a_card_someone_saved() {
    let ada = Harness::start().await;
    let token = save_card(&ada, "visa").await;
    let bob = ada.another_person("bob").await;

    let theirs = bob.ok("list_payment_methods", json!({})).await;
    assert_eq!(theirs["saved"], json!([]), "{theirs}");
    let offers = bob.paris_offers().await;
    let refused = bob
        .err(
            "create_travel_plan",
            json!({
                "title": "Borrowed card",
                "travellers": [{"given_name": "Bob", "family_name": "Smith"}],
                "payment_method": token,
                "items": [{"offer_id": offers[0]["id"], "priority": "must_have"}],
            }),
        )
        .await;
    assert!(
        refused.contains("saved by someone else") && refused.contains("add_payment_method"),
        "{refused}"
    );
    assert!(
        !refused.contains(&token),
        "the token is not repeated: {refused}"
    );
    let as_a_part = bob
        .err(
            "create_travel_plan",
            json!({
                "title": "Borrowed card for a part",
                "travellers": [{"given_name": "Bob", "family_name": "Smith"}],
                "payment_method": "pm_sandbox_visa",
                "payment_split": [{"method": token, "amount": {"amount": "1.00", "currency": offers[0]["price"]["currency"]}}],
                "items": [{"offer_id": offers[0]["id"], "priority": "must_have"}],
            }),
        )
        .await;
    assert!(
        as_a_part.contains("saved by someone else"),
        "a split part is checked too: {as_a_part}"
    );
    assert_eq!(ada.ledger_rows("payments").await, 0, "nothing was charged");
}

#[tokio::test]
async fn a_cancelled_or_expired_page_saves_nothing_and_says_so() {
    let h = Harness::start().await;
    let cancelled = open_card_page(&h).await;
    let answer = choose(&cancelled, "cancel").await;
    assert!(answer.body.contains("Nothing saved"), "{}", answer.body);

    let left_open = open_card_page(&h).await;
    h.clock.advance(Duration::hours(2));
    let late = page::get(left_open["url"].as_str().unwrap(), "en").await;
    assert_eq!(late.status, 410, "{}", late.body);

    let listed = h.ok("list_payment_methods", json!({})).await;
    assert_eq!(listed["saved"], json!([]), "{listed}");
    let setups = listed["setups"].as_array().unwrap();
    let reason_of = |setup: &Value| {
        let found = setups
            .iter()
            .find(|s| s["setup_id"] == setup["setup_id"])
            .unwrap();
        assert_eq!(found["status"], "abandoned", "{found}");
        found["reason"].as_str().unwrap().to_string()
    };
    assert!(reason_of(&cancelled).contains("cancelled"));
    assert!(reason_of(&left_open).contains("expired"));

    // Choosing a card on the expired page now changes nothing.
    let url = left_open["url"].as_str().unwrap();
    let too_late = page::post(url, &[("card", "visa")], Some(&page::origin(url))).await;
    assert_eq!(too_late.status, 410, "{}", too_late.body);
    assert_eq!(h.ledger_rows("saved_cards").await, 0);
    assert_eq!(h.rows("saved_payment_methods").await, 0);
}

#[tokio::test]
async fn a_provider_that_cannot_save_or_does_not_exist_is_refused_with_the_ones_that_can() {
    let wechat = FakeWeChat::start().await;
    let h = Harness::with(Options {
        fallback_payments: vec![PaymentSettings::WeChat {
            settings: Box::new(wechat.settings()),
            api_v3_key: Box::new(ApiV3Key::parse(API_V3_KEY).unwrap()),
        }],
        ..Options::default()
    })
    .await;
    let cannot = h
        .err("add_payment_method", json!({"provider": "wechat"}))
        .await;
    assert!(
        cannot.contains("'wechat' cannot save") && cannot.contains("sandbox_payments"),
        "{cannot}"
    );
    let unknown = h
        .err("add_payment_method", json!({"provider": "visa"}))
        .await;
    assert!(
        unknown.contains("no payment provider 'visa'") && unknown.contains("sandbox_payments"),
        "{unknown}"
    );
    assert_eq!(h.rows("payment_method_setups").await, 0, "nothing stored");
    assert_eq!(h.ledger_rows("card_setups").await, 0);
}

/// A token shaped like a saved sandbox card that nobody saved here is refused: the sandbox binds
/// it to no customer it would check, so only Itinera's record says whose it is.
#[tokio::test]
async fn a_saved_looking_token_nobody_saved_is_refused() {
    let h = Harness::start().await;
    let offers = h.paris_offers().await;
    let refused = h
        .err(
            "create_travel_plan",
            json!({
                "travellers": [{"given_name": "Ada", "family_name": "Lovelace"}],
                "payment_method": "pm_sandbox_saved_0123456789abcdef",
                "items": [{"offer_id": offers[0]["id"]}],
            }),
        )
        .await;
    assert!(refused.contains("by no one here"), "{refused}");
    assert_eq!(h.rows("plans").await, 0);
}
