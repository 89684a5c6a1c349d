//! Order notices: signed webhooks to subscribers (retried, then dead-lettered, then queued again
//! by the operator), e-mail to the traveller through a local SMTP server, and MCP clients told
//! of their own orders' changes (resource subscriptions on both lifecycles, progress while a plan
//! executes). The dispatcher's passes are run by the tests, with the harness's manual clock.

mod common;

use std::collections::{BTreeSet, HashSet};
use std::time::Duration;

use common::smtp_server::SmtpServer;
use common::webhook_receiver::{Answer as Reply, Received, WebhookReceiver, signature_holds};
use common::{Harness, Lifecycle, Options};
use itinera::adapters::notify::EmailSettings;
use itinera::config::{NotifyConfig, Secret};
use itinera::domain::notice::DeliveryState;
use itinera::notify::NotifySettings;
use rmcp::model::{
    ReadResourceRequestParams, ResourceContents, ServerNotification, SubscribeRequestParams,
    SubscriptionFilter,
};
use serde_json::{Value, json};

const SECRET: &str = "whsec_itinera_test_0123456789abcdef";

fn settings() -> NotifySettings {
    NotifySettings {
        poll: Duration::from_millis(20),
        backoff: Duration::from_secs(60),
        max_attempts: 3,
    }
}

fn to_webhook(url: &str) -> NotifyConfig {
    NotifyConfig {
        webhooks: vec![url.parse().unwrap()],
        webhook_secret: Some(Secret::from(SECRET.to_string())),
        email: None,
        dispatch: settings(),
    }
}

fn to_mail(server: &SmtpServer) -> NotifyConfig {
    NotifyConfig {
        email: Some(EmailSettings {
            url: Secret::from(server.url.clone()),
            from: "Itinera <trips@example.com>".parse().unwrap(),
        }),
        dispatch: settings(),
        ..NotifyConfig::default()
    }
}

/// The statuses an order went through, from its timeline: one notice each.
fn status_changes(order: &Value) -> Vec<String> {
    let mut changes: Vec<String> = Vec::new();
    for event in order["timeline"].as_array().unwrap() {
        let status = format!("order.{}", event["status"].as_str().unwrap());
        if changes.last() != Some(&status) {
            changes.push(status);
        }
    }
    changes
}

fn kinds(received: &[Received]) -> BTreeSet<String> {
    received.iter().map(|r| r.kind().to_string()).collect()
}

/// A Paris trip called `title` for `traveller`, approved and booked: the order.
async fn booked_trip_of(h: &Harness, title: &str, traveller: Value) -> Value {
    let offers = h.paris_offers().await;
    let plan_id = h
        .approved_plan(json!({
            "title": title,
            "travellers": [traveller],
            "payment_method": "pm_sandbox_visa",
            "items": offers.iter().map(|o| json!({"offer_id": o["id"]})).collect::<Vec<_>>(),
        }))
        .await;
    let order = h
        .ok("execute_travel_plan", json!({"plan_id": plan_id}))
        .await;
    assert_eq!(order["status"], "confirmed", "{order}");
    order
}

async fn booked_paris_trip(h: &Harness) -> Value {
    let (plan_id, _) = h.approved_paris_plan("pm_sandbox_visa").await;
    let order = h
        .ok("execute_travel_plan", json!({"plan_id": plan_id}))
        .await;
    assert_eq!(order["status"], "confirmed", "{order}");
    order
}

#[tokio::test]
async fn every_status_change_reaches_the_subscriber_once_signed_and_without_personal_data() {
    let receiver = WebhookReceiver::start(SECRET, Reply::Status(200)).await;
    let h = Harness::with(Options {
        notify: to_webhook(&receiver.url),
        ..Options::default()
    })
    .await;
    let order = booked_trip_of(
        &h,
        "Paris in spring",
        json!({"given_name": "Ada", "family_name": "Lovelace", "email": "ada@example.com",
            "phone": "+33 6 12 34 56 78", "passport_number": "X1234567"}),
    )
    .await;

    let report = h.app.dispatcher().pass().await.unwrap();
    let expected = status_changes(&order);
    assert_eq!(
        expected,
        [
            "order.draft",
            "order.payment_pending",
            "order.payment_processing",
            "order.confirmed"
        ]
    );
    let got = receiver.acknowledged();
    assert_eq!(got.len(), expected.len(), "{got:#?}");
    assert_eq!(report.delivered, expected.len());
    assert_eq!(kinds(&got), expected.iter().cloned().collect());
    assert!(got.iter().all(|r| r.verified));
    let ids: HashSet<&str> = got.iter().map(Received::id).collect();
    assert_eq!(ids.len(), got.len(), "each notice has its own id");

    let confirmed = got.iter().find(|r| r.kind() == "order.confirmed").unwrap();
    assert_eq!(confirmed.body["order_id"], order["order_id"]);
    assert_eq!(confirmed.body["previous_status"], "payment_processing");
    assert_eq!(confirmed.body["captured"], order["captured"]);
    let items = confirmed.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 4);
    assert!(
        items
            .iter()
            .all(|item| item["status"] == "booked" && item["confirmation"].is_string()),
        "{items:#?}"
    );
    let everything =
        serde_json::to_string(&got.iter().map(|r| &r.body).collect::<Vec<_>>()).unwrap();
    for personal in ["Ada", "Lovelace", "ada@example.com", "12 34 56", "X1234567"] {
        assert!(
            !everything.contains(personal),
            "{personal} went to a subscriber"
        );
    }
    // Sent at once, they may arrive in any order: the sequence puts them back in order.
    let mut in_order = got.clone();
    in_order.sort_by_key(|r| r.body["sequence"].as_i64().unwrap());
    let kinds_in_order: Vec<&str> = in_order.iter().map(Received::kind).collect();
    assert_eq!(kinds_in_order, expected);

    // Nothing is sent twice.
    let again = h.app.dispatcher().pass().await.unwrap();
    assert_eq!(again.delivered, 0);
    assert_eq!(receiver.received().len(), got.len());
}

#[tokio::test]
async fn the_receivers_check_refuses_a_delivery_signed_with_another_secret() {
    let body = br#"{"id":"evt_1"}"#;
    let now = chrono::Utc::now();
    let ours = itinera::adapters::notify::sign(SECRET, now, body);
    let forged = itinera::adapters::notify::sign("whsec_someone_else_0123456789abcdef", now, body);
    assert!(signature_holds(&ours, body, SECRET));
    assert!(!signature_holds(&forged, body, SECRET));
    assert!(!signature_holds(&ours, br#"{"id":"evt_2"}"#, SECRET));
    let stale = itinera::adapters::notify::sign(SECRET, now - chrono::Duration::minutes(10), body);
    assert!(
        !signature_holds(&stale, body, SECRET),
        "an old delivery replayed"
    );

    let receiver = WebhookReceiver::start(SECRET, Reply::Status(200)).await;
    let answer = reqwest::Client::new()
        .post(&receiver.url)
        .header("Itinera-Signature", forged)
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 400);
}

#[tokio::test]
async fn a_subscriber_that_is_down_is_retried_with_backoff_then_listed_dead_until_the_operator_queues_it_again()
 {
    let receiver = WebhookReceiver::start(SECRET, Reply::Status(503)).await;
    let h = Harness::with(Options {
        notify: to_webhook(&receiver.url),
        ..Options::default()
    })
    .await;
    let order = booked_paris_trip(&h).await;
    let notices = status_changes(&order).len();
    let dispatcher = h.app.dispatcher();
    let store = h.app.store();

    let first = dispatcher.pass().await.unwrap();
    assert_eq!(first.retrying, notices);
    assert_eq!(receiver.received().len(), notices);
    // Not due again before the backoff (60 s, then 120 s).
    assert_eq!(dispatcher.pass().await.unwrap().retrying, 0);
    h.clock.advance(chrono::Duration::seconds(59));
    assert_eq!(dispatcher.pass().await.unwrap().retrying, 0);
    h.clock.advance(chrono::Duration::seconds(1));
    assert_eq!(dispatcher.pass().await.unwrap().retrying, notices);
    h.clock.advance(chrono::Duration::seconds(119));
    assert_eq!(dispatcher.pass().await.unwrap().dead, 0);
    h.clock.advance(chrono::Duration::seconds(1));
    assert_eq!(
        dispatcher.pass().await.unwrap().dead,
        notices,
        "the third attempt was the last"
    );
    assert_eq!(receiver.received().len(), 3 * notices);

    let (dead, listing) = itinera::notify::operator::list(store.as_ref(), DeliveryState::Dead, 50)
        .await
        .unwrap();
    assert_eq!(dead.len(), notices);
    assert!(
        dead.iter()
            .all(|d| d.attempts == 3 && d.channel == format!("webhook:{}", receiver.url))
    );
    assert!(
        listing
            .contains("the subscriber answered 503 Service Unavailable (gave up after 3 attempts)"),
        "{listing}"
    );
    assert!(
        listing.contains("itinera notifications retry --all"),
        "{listing}"
    );
    // The operator's command says the same, and fails while anything is dead.
    let cli = std::process::Command::new(env!("CARGO_BIN_EXE_itinera"))
        .args(["notifications", "list"])
        .env("ITINERA_DATA_DIR", h.dir.path())
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert_eq!(cli.status.code(), Some(1));
    assert_eq!(String::from_utf8(cli.stdout).unwrap(), listing);
    h.clock.advance(chrono::Duration::hours(5));
    assert_eq!(
        dispatcher.pass().await.unwrap(),
        Default::default(),
        "dead stays dead"
    );

    receiver.answer(Reply::Status(204));
    let one = dead[0].notice_id.clone();
    let said = itinera::notify::operator::retry(store.as_ref(), Some(&one))
        .await
        .unwrap();
    assert!(said.starts_with("Queued 1 deliveries again"), "{said}");
    assert_eq!(dispatcher.pass().await.unwrap().delivered, 1);
    itinera::notify::operator::retry(store.as_ref(), None)
        .await
        .unwrap();
    assert_eq!(dispatcher.pass().await.unwrap().delivered, notices - 1);
    let acknowledged = receiver.acknowledged();
    assert_eq!(acknowledged.len(), notices, "each acknowledged once");
    assert_eq!(
        kinds(&acknowledged),
        status_changes(&order).into_iter().collect()
    );
    let (left, _) = itinera::notify::operator::list(store.as_ref(), DeliveryState::Dead, 50)
        .await
        .unwrap();
    assert!(left.is_empty());
}

#[tokio::test]
async fn the_traveller_is_emailed_the_confirmation_once_in_text_and_html() {
    let smtp = SmtpServer::start().await;
    let h = Harness::with(Options {
        notify: to_mail(&smtp),
        ..Options::default()
    })
    .await;
    let order = booked_trip_of(
        &h,
        "Paris with mail",
        json!({"given_name": "Ada", "family_name": "Lovelace", "email": "ada@example.com"}),
    )
    .await;
    let report = h.app.dispatcher().pass().await.unwrap();
    assert_eq!(
        report.delivered, 1,
        "only the outcome is mailed, not each step: {report:?}"
    );

    let mails = smtp.mails();
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert_eq!(mail.to, ["<ada@example.com>"]);
    assert_eq!(mail.from, "<trips@example.com>");
    let subject = mail.header("Subject").unwrap();
    assert!(
        subject.starts_with("Booking confirmed: Paris with mail"),
        "{subject}"
    );
    assert!(mail.header("Message-ID").unwrap().starts_with("<evt_"));
    assert!(mail.data.contains("multipart/alternative"), "{}", mail.data);
    assert!(mail.data.contains("text/plain") && mail.data.contains("text/html"));
    let confirmation = order["items"][1]["confirmation"].as_str().unwrap();
    assert!(
        mail.data.contains(confirmation),
        "the confirmation number is in the mail"
    );
    assert!(mail.data.contains("Your trip is booked and paid."));

    // A cancellation is a change worth a message too.
    let cancelled = h
        .ok("cancel_booking", json!({"order_id": order["order_id"]}))
        .await;
    h.app.dispatcher().pass().await.unwrap();
    let mails = smtp.mails();
    assert_eq!(mails.len(), 2, "{cancelled}");
    assert!(
        mails[1]
            .header("Subject")
            .unwrap()
            .contains("Paris with mail")
    );
}

#[tokio::test]
async fn a_plan_without_an_email_address_skips_the_mail_instead_of_dead_lettering_it() {
    let smtp = SmtpServer::start().await;
    let h = Harness::with(Options {
        notify: to_mail(&smtp),
        ..Options::default()
    })
    .await;
    booked_paris_trip(&h).await;
    let report = h.app.dispatcher().pass().await.unwrap();
    assert_eq!((report.skipped, report.dead), (1, 0), "{report:?}");
    assert!(smtp.mails().is_empty());
    let (skipped, listing) =
        itinera::notify::operator::list(h.app.store().as_ref(), DeliveryState::Skipped, 10)
            .await
            .unwrap();
    assert_eq!(skipped.len(), 1);
    assert!(
        listing.contains("no traveller of the plan gave an e-mail address"),
        "{listing}"
    );
}

/// Waits (up to 5 s) until the person's client was told `uri` changed `times` times.
async fn told_of(h: &Harness, uri: &str, times: usize) {
    for _ in 0..250 {
        if h.person
            .updated
            .lock()
            .unwrap()
            .iter()
            .filter(|u| *u == uri)
            .count()
            >= times
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("not told of {uri}: {:?}", h.person.updated.lock().unwrap());
}

fn text_of(contents: &[ResourceContents]) -> Value {
    match &contents[0] {
        ResourceContents::TextResourceContents { text, .. } => serde_json::from_str(text).unwrap(),
        other => panic!("not text: {other:?}"),
    }
}

#[tokio::test]
#[allow(deprecated)] // resources/subscribe is the 2025 lifecycle's way, tested as such
async fn a_subscribed_client_is_told_when_its_order_changes_and_nobody_else_reads_it() {
    let h = Harness::start().await;
    let order = booked_paris_trip(&h).await;
    let uri = format!("itinera://orders/{}", order["order_id"].as_str().unwrap());

    let listed = h.client.list_all_resources().await.unwrap();
    assert!(listed.iter().any(|r| r.uri == uri), "{listed:?}");
    let read = h
        .client
        .read_resource(ReadResourceRequestParams::new(uri.clone()))
        .await
        .unwrap();
    let view = text_of(&read.contents);
    assert_eq!(view["status"], "confirmed");
    assert_eq!(view["order_id"], order["order_id"]);

    h.client
        .subscribe(SubscribeRequestParams::new(uri.clone()))
        .await
        .unwrap();
    h.ok("cancel_booking", json!({"order_id": order["order_id"]}))
        .await;
    told_of(&h, &uri, 1).await;
    let read = h
        .client
        .read_resource(ReadResourceRequestParams::new(uri.clone()))
        .await
        .unwrap();
    assert_ne!(text_of(&read.contents)["status"], "confirmed");

    let bob = h.another_person("bob").await;
    assert!(bob.client.list_all_resources().await.unwrap().is_empty());
    let refused = bob
        .client
        .read_resource(ReadResourceRequestParams::new(uri.clone()))
        .await
        .unwrap_err()
        .to_string();
    assert!(refused.contains("you have no order"), "{refused}");
    assert!(
        bob.client
            .subscribe(SubscribeRequestParams::new(uri.clone()))
            .await
            .is_err()
    );
    let bad = h
        .client
        .read_resource(ReadResourceRequestParams::new("itinera://orders/nope"))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        bad.contains("order resources are itinera://orders/<order id>"),
        "{bad}"
    );
}

/// Bob, on another instance over the same store, listens to his own order and to Alice's:
/// he is told of his own change (through the outbox, from another process) and never of hers.
#[tokio::test]
async fn a_2026_client_listening_to_its_order_is_told_when_it_changes_and_never_of_anothers() {
    let h = Harness::start().await;
    let hers = booked_paris_trip(&h).await;
    let bob = h
        .beside(Options {
            profile: "bob",
            lifecycle: Lifecycle::Modern,
            notify: NotifyConfig {
                dispatch: settings(),
                ..NotifyConfig::default()
            },
            ..Options::default()
        })
        .await;
    let order = booked_paris_trip(&bob).await;
    let uri = format!("itinera://orders/{}", order["order_id"].as_str().unwrap());
    let her_uri = format!("itinera://orders/{}", hers["order_id"].as_str().unwrap());
    let mut subscription = bob
        .client
        .listen(
            SubscriptionFilter::builder()
                .resource_subscription(her_uri.clone())
                .resource_subscription(uri.clone())
                .build(),
        )
        .await
        .unwrap();
    assert_eq!(
        subscription.acknowledged().resource_subscriptions,
        Some(vec![her_uri.clone(), uri.clone()])
    );
    // Alice's change comes first; Bob must not hear of it.
    h.ok("cancel_booking", json!({"order_id": hers["order_id"]}))
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    bob.ok("cancel_booking", json!({"order_id": order["order_id"]}))
        .await;
    let told = tokio::time::timeout(Duration::from_secs(5), subscription.next())
        .await
        .expect("told within 5 s")
        .unwrap();
    match told {
        Some(ServerNotification::ResourceUpdatedNotification(n)) => assert_eq!(n.params.uri, uri),
        other => panic!("expected resources/updated, got {other:?}"),
    }
}

#[tokio::test]
async fn executing_a_plan_reports_each_step_as_progress() {
    let h = Harness::start().await;
    booked_paris_trip(&h).await;
    let progress = h.person.progress.lock().unwrap().clone();
    assert!(
        progress.len() >= 8,
        "creation, hold, four bookings, capture: {progress:#?}"
    );
    assert!(
        progress[0].1.starts_with("[draft] Order created"),
        "{progress:#?}"
    );
    assert!(
        progress.last().unwrap().1.starts_with("[confirmed]"),
        "{progress:#?}"
    );
    assert!(
        progress.windows(2).all(|pair| pair[0].0 < pair[1].0),
        "progress only goes up: {progress:#?}"
    );
}
