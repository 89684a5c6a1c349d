//! Travellers' personal data never shows in the logs.

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
