//! Travellers' personal data: shown masked by every tool and in the approval prompt, never in
//! plaintext in the files Itinera writes, and still given in full to the provider that books.

mod common;

use std::sync::Arc;

use common::Harness;
use itinera::adapters::sandbox::ledger::travellers_fingerprint;
use itinera::adapters::store::SqlStore;
use itinera::config::Config;
use itinera::crypto::{CryptoError, KeySource, Keyring, MasterKey};
use itinera::domain::plan::Traveller;
use itinera::ports::StoreError;
use serde_json::{Value, json};

const PASSPORT: &str = "X12345678";
const BORN: &str = "1990-05-17";
/// Eleven digits: too short to be mistaken for a card number by input screening.
const PHONE: &str = "+33 6 12 34 56 78";
const EMAIL: &str = "ada.quillfeather@example.com";
const FAMILY_NAME: &str = "Quillfeather";

fn traveller() -> Value {
    json!({
        "given_name": "Ada",
        "family_name": FAMILY_NAME,
        "passport_number": PASSPORT,
        "date_of_birth": BORN,
        "phone": PHONE,
        "email": EMAIL,
    })
}

/// The details that must never be shown whole (the family name is, for the person to check).
const DETAILS: [&str; 4] = [PASSPORT, BORN, PHONE, EMAIL];

fn assert_masked(what: &str, shown: &str) {
    for detail in DETAILS {
        assert!(!shown.contains(detail), "{what} shows {detail}: {shown}");
    }
}

/// Every byte Itinera keeps in its data directory (order store with its WAL, sandbox ledger),
/// except the key file.
fn data_files(h: &Harness) -> Vec<(String, Vec<u8>)> {
    std::fs::read_dir(h.dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.file_name().is_some_and(|name| name != "master.key"))
        .map(|path| (path.display().to_string(), std::fs::read(&path).unwrap()))
        .collect()
}

fn holds(bytes: &[u8], text: &str) -> bool {
    bytes
        .windows(text.len())
        .any(|window| window == text.as_bytes())
}

#[tokio::test]
async fn personal_data_is_masked_when_shown_sealed_when_stored_and_whole_when_booked() {
    let h = Harness::start().await;
    let offers = h.paris_offers().await;
    let items: Vec<Value> = offers[..2]
        .iter()
        .map(|offer| json!({"offer_id": offer["id"]}))
        .collect();
    let created = h
        .ok(
            "create_travel_plan",
            json!({"title": "Paris", "travellers": [traveller()], "payment_method": "pm_sandbox_visa", "items": items}),
        )
        .await;
    let plan_id = created["plan_id"].as_str().unwrap().to_string();

    // Every tool result shows the details masked: structured content and text alike.
    let read = h.call("get_travel_plan", json!({"plan_id": plan_id})).await;
    let shown = read.structured_content.clone().unwrap();
    assert_eq!(
        shown["travellers"],
        json!([{
            "given_name": "Ada",
            "family_name": FAMILY_NAME,
            "kind": "adult",
            "passport_number": "•••••5678",
            "date_of_birth": "1990-••-••",
            "phone": "+33 ••••••78",
            "email": "a•••@example.com",
        }])
    );
    assert_masked("create_travel_plan", &created.to_string());
    assert_masked("get_travel_plan", &serde_json::to_string(&read).unwrap());

    // So does the approval prompt the person reads.
    h.ok("confirm_travel_plan", json!({"plan_id": plan_id}))
        .await;
    let prompt = h.person.prompts.lock().unwrap()[0].clone();
    assert!(
        prompt.contains(&format!(
            "Ada {FAMILY_NAME} (passport •••••5678, born 1990-••-••"
        )),
        "{prompt}"
    );
    assert_masked("the approval prompt", &prompt);

    // The provider gets the traveller whole.
    let order = h
        .ok("execute_travel_plan", json!({"plan_id": plan_id}))
        .await;
    assert_eq!(order["status"], "confirmed", "{order}");
    let sent: Traveller = serde_json::from_value(traveller()).unwrap();
    let bookings = h.ledger_bookings().await;
    assert_eq!(bookings.len(), 2);
    for booking in &bookings {
        assert_eq!(
            booking.travellers,
            travellers_fingerprint(std::slice::from_ref(&sent)),
            "{} was not booked for the traveller as given",
            booking.offer_id
        );
    }
    assert_masked(
        "get_booking_status",
        &h.ok("get_booking_status", json!({"order_id": order["order_id"]}))
            .await
            .to_string(),
    );

    // No file Itinera wrote holds a detail, or the family name, in plaintext: not the order
    // store, not its write-ahead log, not the sandbox ledger.
    let files = data_files(&h);
    assert!(
        files.iter().any(|(_, bytes)| holds(bytes, &plan_id)),
        "the scan reads what was stored: the plan id is there"
    );
    for (file, bytes) in &files {
        for secret in DETAILS.into_iter().chain([FAMILY_NAME, "33612345678"]) {
            assert!(!holds(bytes, secret), "{file} holds {secret} in plaintext");
        }
    }
}

#[tokio::test]
async fn a_store_opened_with_another_key_names_the_key_it_needs() {
    let h = Harness::start().await;
    let offers = h.paris_offers().await;
    h.ok(
        "create_travel_plan",
        json!({"travellers": [traveller()], "payment_method": "pm_sandbox_visa", "items": [{"offer_id": offers[0]["id"]}]}),
    )
    .await;
    let key_file = h.dir.path().join("master.key");
    let key = MasterKey::parse(&std::fs::read_to_string(&key_file).unwrap()).unwrap();

    // As ITINERA_MASTER_KEY would give it: the wrong key is refused at start.
    let mut config = Config::in_dir(h.dir.path());
    let other = MasterKey::generate().unwrap();
    config.master_key = KeySource::Given(other.clone());
    let error = itinera::app::open_store(&config)
        .await
        .err()
        .expect("another key must be refused");
    let message = error.to_string();
    assert!(
        message.contains(&format!("sealed with key {}", key.id()))
            && message.contains(&format!("this server has key {}", other.id()))
            && message.contains("ITINERA_MASTER_KEY"),
        "{message}"
    );

    // The right one opens it, from the key file the first run created.
    let store = SqlStore::open(&h.store_url(), Arc::new(Keyring::new(&key))).await;
    assert!(store.is_ok());
    match SqlStore::open(&h.store_url(), Arc::new(Keyring::new(&other))).await {
        Err(StoreError::Sealed {
            source: CryptoError::UnknownKey { needed, .. },
            ..
        }) => assert_eq!(needed, key.id()),
        Err(error) => panic!("expected an unknown key, got {error}"),
        Ok(_) => panic!("expected an unknown key"),
    }
}

#[tokio::test]
async fn debug_logs_of_the_binary_never_show_personal_data() {
    use rmcp::ServiceExt;
    use rmcp::model::CallToolRequestParams;
    use rmcp::transport::TokioChildProcess;
    use tokio::io::AsyncReadExt;

    let dir = tempfile::tempdir().unwrap();
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_itinera"));
    command
        .env("ITINERA_DATA_DIR", dir.path())
        .env("RUST_LOG", "debug");
    let (transport, stderr) = TokioChildProcess::builder(command)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = stderr.unwrap();
    let logs = tokio::spawn(async move {
        let mut text = String::new();
        stderr.read_to_string(&mut text).await.unwrap();
        text
    });
    let client = ().serve(transport).await.unwrap();
    let call = |tool: &str, arguments: Value| {
        let Value::Object(arguments) = arguments else {
            unreachable!()
        };
        client.call_tool(CallToolRequestParams::new(tool.to_string()).with_arguments(arguments))
    };
    let date = (chrono::Utc::now().date_naive() + chrono::Duration::days(30)).to_string();
    let flights = call(
        "search_flights",
        json!({"origin": "LHR", "destination": "CDG", "date": date}),
    )
    .await
    .unwrap();
    let offer = &flights.structured_content.unwrap()["offers"][0]["id"];
    let plan = call(
        "create_travel_plan",
        json!({"travellers": [traveller()], "payment_method": "pm_sandbox_visa", "items": [{"offer_id": offer}]}),
    )
    .await
    .unwrap();
    assert_ne!(plan.is_error, Some(true), "{plan:?}");
    client.cancel().await.unwrap();

    let logs = logs.await.unwrap();
    assert!(
        logs.contains("INSERT INTO plans"),
        "debug logs are on (the store's statements are there): {logs}"
    );
    for secret in DETAILS.into_iter().chain([FAMILY_NAME]) {
        assert!(!logs.contains(secret), "the logs show {secret}");
    }
}
