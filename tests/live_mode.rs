//! Live mode: real providers only. The sandbox sells nothing, so a plan made of sandbox offers
//! before the switch is stopped before any money moves, and a kind no real provider sells says
//! so instead of coming back empty.

mod common;

use common::stripe_fake::{FakeStripe, KEY};
use common::viator_fake::{self, FakeViator};
use common::{Harness, Options};
use serde_json::json;

/// Paying with Stripe (its local fake), in sandbox mode.
fn stripe_paying(stripe: &FakeStripe) -> Options {
    Options {
        payment: itinera::config::PaymentSettings::Stripe {
            secret_key: KEY.to_string().into(),
            base_url: stripe.base_url.clone(),
            webhook_secret: None,
        },
        ..Options::default()
    }
}

/// Live mode: Stripe takes the money and Viator sells the activities.
fn live(stripe: &FakeStripe, viator: &FakeViator) -> Options {
    Options {
        mode: itinera::config::Mode::Live,
        viator: Some(viator.settings(viator_fake::API_KEY)),
        ..stripe_paying(stripe)
    }
}

#[tokio::test]
async fn a_plan_of_sandbox_offers_is_neither_booked_nor_charged_after_switching_to_live_mode() {
    let stripe = FakeStripe::start().await;
    let viator = FakeViator::start().await;
    let before = Harness::with(stripe_paying(&stripe)).await;
    let (plan_id, _) = before.approved_paris_plan("pm_card_visa").await;

    let after = Harness::start_in(before.dir, live(&stripe, &viator)).await;
    let refused = after
        .err("execute_travel_plan", json!({"plan_id": plan_id}))
        .await;
    assert!(
        refused.contains("sandbox offers are not booked in live mode")
            && refused.contains("search again"),
        "{refused}"
    );
    assert_eq!(stripe.intent_count(), 0, "no card was held");
    assert!(
        after
            .sandbox()
            .ledger()
            .bookings()
            .await
            .unwrap()
            .is_empty(),
        "nothing was booked at the sandbox"
    );
    let orders = after.ok("list_bookings", json!({})).await;
    assert!(
        orders["orders"].as_array().is_none_or(Vec::is_empty),
        "no order was made: {orders}"
    );
}

#[tokio::test]
async fn in_live_mode_a_search_asks_the_real_providers_only() {
    let stripe = FakeStripe::start().await;
    let viator = FakeViator::start().await;
    let h = Harness::with(live(&stripe, &viator)).await;
    let activities = h
        .ok(
            "search_activities",
            json!({"city": "Paris", "date": h.day(20), "participants": 1, "currency": "EUR"}),
        )
        .await;
    let offers = activities["offers"].as_array().unwrap();
    assert!(
        !offers.is_empty() && offers.iter().all(|o| o["provider"] == "viator"),
        "{activities}"
    );
    let hotels = h
        .err(
            "search_hotels",
            json!({"city": "Paris", "check_in": h.day(20), "check_out": h.day(22), "currency": "EUR"}),
        )
        .await;
    assert!(
        hotels.contains("no configured provider sells hotel items")
            && hotels.contains("in live mode the sandbox sells nothing"),
        "{hotels}"
    );
}
