//! Live mode: real providers only. An order store belongs to the mode it was first used in, so
//! sandbox orders are never resumed with live credentials (nor live ones with test credentials);
//! the sandbox sells nothing, and a kind no real provider sells says so instead of coming back
//! empty.

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

/// Whether the app starts over the order store in `dir` in `mode`; its refusal if not.
async fn starts_over(
    dir: &std::path::Path,
    mode: itinera::config::Mode,
    stripe: &FakeStripe,
) -> Result<(), String> {
    let mut config = itinera::config::Config::in_dir(dir);
    config.mode = mode;
    config.payments = vec![stripe_paying(stripe).payment];
    itinera::app::App::start(&config, std::sync::Arc::new(itinera::ports::SystemClock))
        .await
        .map(|_| ())
        .map_err(|error| error.to_string())
}

#[tokio::test]
async fn sandbox_orders_are_never_driven_in_live_mode_nor_live_ones_in_sandbox_mode() {
    let stripe = FakeStripe::start().await;
    let viator = FakeViator::start().await;
    let sandbox = Harness::with(stripe_paying(&stripe)).await;
    let (plan_id, _) = sandbox.approved_paris_plan("pm_card_visa").await;
    stripe.lose_next_answer(50);
    let _ = sandbox
        .call("execute_travel_plan", json!({"plan_id": plan_id}))
        .await;
    assert_eq!(
        stripe.intent_count(),
        1,
        "a test hold whose answer was lost"
    );
    stripe.clear_failures();

    let refused = starts_over(sandbox.dir.path(), itinera::config::Mode::Live, &stripe)
        .await
        .unwrap_err();
    assert!(
        refused.contains("holds sandbox-mode plans and orders")
            && refused.contains("live mode needs a store of its own")
            && refused.contains("ITINERA_DATA_DIR"),
        "{refused}"
    );
    assert_eq!(
        stripe.intent_count(),
        1,
        "the unfinished sandbox order was not resumed with live credentials"
    );

    let live_store = Harness::with(live(&stripe, &viator)).await;
    let refused = starts_over(
        live_store.dir.path(),
        itinera::config::Mode::Sandbox,
        &stripe,
    )
    .await
    .unwrap_err();
    assert!(
        refused.contains("holds live-mode plans and orders")
            && refused.contains("ITINERA_MODE=live"),
        "{refused}"
    );
    starts_over(live_store.dir.path(), itinera::config::Mode::Live, &stripe)
        .await
        .unwrap();
}

#[tokio::test]
async fn in_live_mode_a_search_asks_the_real_providers_only() {
    let stripe = FakeStripe::start().await;
    let viator = FakeViator::start().await;
    let h = Harness::with(live(&stripe, &viator)).await;
    h.paris_activities_from("viator").await;
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
