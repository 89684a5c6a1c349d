//! The real binary over stdio: initialize, tools/list and one full booking, with the approval
//! answered by the client and the outcome checked in the sandbox ledger the binary wrote.

mod common;

use common::{Answer, Person, money};
use itinera::adapters::sandbox::ledger::SandboxLedger;
use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::TokioChildProcess;
use serde_json::{Value, json};

async fn call(
    client: &rmcp::service::RunningService<rmcp::RoleClient, Person>,
    tool: &str,
    args: Value,
) -> Value {
    let Value::Object(args) = args else {
        unreachable!()
    };
    let result = client
        .call_tool(CallToolRequestParams::new(tool.to_string()).with_arguments(args))
        .await
        .unwrap();
    assert_ne!(
        result.is_error,
        Some(true),
        "{tool}: {}",
        common::text(&result)
    );
    result.structured_content.unwrap()
}

#[tokio::test]
async fn the_binary_serves_mcp_and_books_a_trip() {
    let dir = tempfile::tempdir().unwrap();
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_itinera"));
    command
        .env("ITINERA_DATA_DIR", dir.path())
        .env("RUST_LOG", "warn");
    let client = Person::new(Answer::Approve)
        .serve(TokioChildProcess::new(command).unwrap())
        .await
        .unwrap();

    let info = client.peer_info().unwrap();
    let server = info.server_info.clone().unwrap();
    assert_eq!(server.name, "itinera");
    assert_eq!(server.version, env!("CARGO_PKG_VERSION"));
    assert!(
        info.instructions
            .as_deref()
            .unwrap_or_default()
            .contains("confirm_travel_plan")
    );
    let tools = client.list_all_tools().await.unwrap();
    assert_eq!(tools.len(), 22);

    let date = (chrono::Utc::now().date_naive() + chrono::Duration::days(30)).to_string();
    let flights = call(
        &client,
        "search_flights",
        json!({"origin": "JFK", "destination": "HND", "date": date, "passengers": 2}),
    )
    .await;
    let flight = &flights["offers"][0];
    let plan = call(
        &client,
        "create_travel_plan",
        json!({
            "title": "Tokyo",
            "travellers": [{"given_name": "Ada", "family_name": "Lovelace"}, {"given_name": "Charles", "family_name": "Babbage"}],
            "payment_method": "pm_sandbox_visa",
            "items": [{"offer_id": flight["id"]}],
        }),
    )
    .await;
    let approval = call(
        &client,
        "confirm_travel_plan",
        json!({"plan_id": plan["plan_id"]}),
    )
    .await;
    assert_eq!(approval["status"], "approved");
    let order = call(
        &client,
        "execute_travel_plan",
        json!({"plan_id": plan["plan_id"]}),
    )
    .await;
    assert_eq!(order["status"], "confirmed", "{order}");
    client.cancel().await.unwrap();

    let ledger_url = format!(
        "sqlite://{}",
        dir.path().join("sandbox-ledger.db").display()
    );
    let ledger = SandboxLedger::open(&ledger_url).await.unwrap();
    let payment = ledger
        .payment(order["payment"]["reference"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(payment.captured, money(&flight["price"]));
    assert_eq!(ledger.bookings().await.unwrap().len(), 1);
}

#[test]
fn help_documents_every_environment_variable() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_itinera"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8(output.stdout).unwrap();
    for variable in [
        "ITINERA_DATABASE_URL",
        "ITINERA_DATA_DIR",
        "ITINERA_PROFILE",
        "ITINERA_MASTER_KEY",
        "ITINERA_MODE",
        "ITINERA_SANDBOX_LEDGER_URL",
        "ITINERA_SANDBOX_FAULTS",
        "ITINERA_SANDBOX_ACTION_ADDR",
        "ITINERA_AUTO_APPROVE_LIMIT",
        "ITINERA_APPROVAL_TTL_MINUTES",
        "ITINERA_SANDBOX_FAULT_SEED",
        "ITINERA_RECOVERY_INTERVAL_SECONDS",
        "ITINERA_PAUSE_AT_STEP",
        "ITINERA_POLICY_MAX_PER_ORDER",
        "ITINERA_POLICY_MAX_PER_DAY",
        "ITINERA_POLICY_MAX_PER_30_DAYS",
        "ITINERA_POLICY_MAX_ITEM",
        "ITINERA_POLICY_PROVIDERS",
        "ITINERA_POLICY_CURRENCIES",
        "ITINERA_POLICY_REFUNDABLE_ONLY",
        "ITINERA_APPROVAL_PAGE_ADDR",
        "ITINERA_PAYMENT_PROVIDER",
        "ITINERA_STRIPE_SECRET_KEY",
        "ITINERA_STRIPE_BASE_URL",
        "ITINERA_STRIPE_WEBHOOK_SECRET",
        "ITINERA_PAYPAL_WEBHOOK_ID",
        "ITINERA_WEBHOOK_PUBLIC_URL",
        "ITINERA_ANTOM_CLIENT_ID",
        "ITINERA_ANTOM_PRIVATE_KEY",
        "ITINERA_ANTOM_PUBLIC_KEY",
        "ITINERA_ANTOM_BASE_URL",
        "ITINERA_WECHAT_MCH_ID",
        "ITINERA_WECHAT_APP_ID",
        "ITINERA_WECHAT_PRIVATE_KEY",
        "ITINERA_WECHAT_MERCHANT_SERIAL_NO",
        "ITINERA_WECHAT_PUBLIC_KEY",
        "ITINERA_WECHAT_PUBLIC_KEY_ID",
        "ITINERA_WECHAT_API_V3_KEY",
        "ITINERA_WECHAT_BASE_URL",
        "ITINERA_PAYPAL_CLIENT_ID",
        "ITINERA_PAYPAL_CLIENT_SECRET",
        "ITINERA_PAYPAL_BASE_URL",
        "ITINERA_DUFFEL_ACCESS_TOKEN",
        "ITINERA_DUFFEL_BASE_URL",
        "ITINERA_BOOKINGCOM_API_KEY",
        "ITINERA_BOOKINGCOM_AFFILIATE_ID",
        "ITINERA_BOOKINGCOM_BASE_URL",
        "ITINERA_BOOKINGCOM_BOOKER_COUNTRY",
        "ITINERA_BOOKINGCOM_CARD_NUMBER",
        "ITINERA_BOOKINGCOM_CARD_EXPIRY",
        "ITINERA_BOOKINGCOM_CARD_HOLDER",
        "ITINERA_BOOKINGCOM_CARD_CVC",
        "ITINERA_BOOKINGCOM_OAUTH_CLIENT_ID",
        "ITINERA_BOOKINGCOM_OAUTH_AUTHORIZE_URL",
        "ITINERA_BOOKINGCOM_OAUTH_TOKEN_URL",
        "ITINERA_BOOKINGCOM_OAUTH_REVOKE_URL",
        "ITINERA_BOOKINGCOM_OAUTH_CLIENT_SECRET",
        "ITINERA_BOOKINGCOM_OAUTH_SCOPES",
        "ITINERA_NEW_MASTER_KEY",
        "ITINERA_RISK_VELOCITY_MAX_ORDERS",
        "ITINERA_RISK_VELOCITY_WINDOW_MINUTES",
        "ITINERA_RISK_UNUSUAL_MULTIPLE",
        "ITINERA_RISK_NEW_METHOD_AMOUNTS",
        "RUST_LOG",
    ] {
        assert!(
            help.contains(variable),
            "--help does not mention {variable}"
        );
    }
    assert!(
        help.contains("serve")
            && help.contains("doctor")
            && help.contains("audit")
            && help.contains("keys")
    );
}

#[test]
fn a_live_duffel_token_is_refused_in_sandbox_mode() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_itinera"))
        .env("ITINERA_DUFFEL_ACCESS_TOKEN", "duffel_live_not_for_tests")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("ITINERA_DUFFEL_ACCESS_TOKEN is not a test token")
            && !stderr.contains("duffel_live_not_for_tests"),
        "{stderr}"
    );
}

#[test]
fn bad_configuration_stops_with_a_clear_message() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_itinera"))
        .env("ITINERA_SANDBOX_FAULTS", "hotel.book=explode")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("bad ITINERA_SANDBOX_FAULTS entry 'hotel.book=explode'"),
        "{stderr}"
    );
}

/// A raw JSON-RPC session over the binary's stdin and stdout, so the test can hang up mid-call.
struct RawSession {
    child: tokio::process::Child,
    stdin: Option<tokio::process::ChildStdin>,
    stdout: tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStdout>>,
    next_id: u64,
}

impl RawSession {
    async fn send(&mut self, message: Value) {
        use tokio::io::AsyncWriteExt;
        let stdin = self.stdin.as_mut().unwrap();
        stdin
            .write_all(format!("{message}\n").as_bytes())
            .await
            .unwrap();
        stdin.flush().await.unwrap();
    }

    async fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))
            .await;
        loop {
            let line = self
                .stdout
                .next_line()
                .await
                .unwrap()
                .expect("the server closed stdout");
            let message: Value = serde_json::from_str(&line).unwrap();
            if message["id"] == id {
                return message["result"].clone();
            }
        }
    }

    async fn tool(&mut self, name: &str, arguments: Value) -> Value {
        let result = self
            .request("tools/call", json!({"name": name, "arguments": arguments}))
            .await;
        assert_ne!(result["isError"], true, "{name}: {result}");
        result["structuredContent"].clone()
    }
}

#[tokio::test]
async fn an_execution_finishes_after_the_client_hangs_up() {
    use tokio::io::AsyncBufReadExt;
    let dir = tempfile::tempdir().unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_itinera"))
        .env("ITINERA_DATA_DIR", dir.path())
        .env("ITINERA_AUTO_APPROVE_LIMIT", "100000 USD")
        .env("ITINERA_RISK_NEW_METHOD_AMOUNTS", "off")
        .env("ITINERA_SANDBOX_FAULTS", "*.latency=1300ms")
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut session = RawSession {
        stdin: child.stdin.take(),
        stdout: tokio::io::BufReader::new(child.stdout.take().unwrap()).lines(),
        child,
        next_id: 0,
    };
    let init = json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}});
    session.request("initialize", init).await;
    session
        .send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        .await;
    let date = (chrono::Utc::now().date_naive() + chrono::Duration::days(30)).to_string();
    let flights = session
        .tool(
            "search_flights",
            json!({"origin": "SFO", "destination": "JFK", "date": date}),
        )
        .await;
    let hotels = session
        .tool("search_hotels", json!({"city": "NYC", "check_in": date, "check_out": (chrono::Utc::now().date_naive() + chrono::Duration::days(32)).to_string()}))
        .await;
    let plan = session
        .tool(
            "create_travel_plan",
            json!({
                "travellers": [{"given_name": "Ada", "family_name": "Lovelace"}],
                "payment_method": "pm_sandbox_visa",
                "items": [{"offer_id": flights["offers"][0]["id"]}, {"offer_id": hotels["offers"][0]["id"]}],
            }),
        )
        .await;
    assert_eq!(
        session
            .tool("confirm_travel_plan", json!({"plan_id": plan["plan_id"]}))
            .await["status"],
        "approved"
    );

    // Ask for the execution (re-quote, hold, flight, hotel, capture: over 6 s, longer than the
    // 5 s the MCP library itself waits for handlers), then hang up before its answer.
    session
        .send(json!({"jsonrpc": "2.0", "id": 99, "method": "tools/call",
        "params": {"name": "execute_travel_plan", "arguments": {"plan_id": plan["plan_id"]}}}))
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    drop(session.stdin.take());
    let status = tokio::time::timeout(std::time::Duration::from_secs(30), session.child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success());

    // The server finished the order before it exited: no recovery needed.
    let ledger_url = format!(
        "sqlite://{}",
        dir.path().join("sandbox-ledger.db").display()
    );
    let ledger = SandboxLedger::open(&ledger_url).await.unwrap();
    let bookings = ledger.bookings().await.unwrap();
    assert_eq!(bookings.iter().filter(|b| b.status == "booked").count(), 2);
    common::assert_store_matches_ledger(dir.path(), &ledger).await;
}

/// The binary serving a client that cannot prompt, with its log (stderr) line by line. The log
/// is read from the start, so a verbose level never fills the pipe and stalls the server.
async fn headless_with_log(
    dir: &std::path::Path,
    log_level: &str,
    env: &[(&str, &str)],
) -> (
    rmcp::service::RunningService<rmcp::RoleClient, Person>,
    tokio::sync::mpsc::UnboundedReceiver<String>,
) {
    use tokio::io::AsyncBufReadExt;
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_itinera"));
    command
        .env("ITINERA_DATA_DIR", dir)
        .env("RUST_LOG", log_level)
        .envs(env.iter().copied());
    let (transport, stderr) = TokioChildProcess::builder(command)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (sender, log) = tokio::sync::mpsc::unbounded_channel();
    let mut lines = tokio::io::BufReader::new(stderr.unwrap()).lines();
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            let _ = sender.send(line);
        }
    });
    let client = Person::headless().serve(transport).await.unwrap();
    (client, log)
}

/// Every line the binary logged, once it has exited.
async fn whole_log(lines: &mut tokio::sync::mpsc::UnboundedReceiver<String>) -> String {
    let mut log = String::new();
    while let Some(line) = lines.recv().await {
        log.push_str(&line);
        log.push('\n');
    }
    log
}

/// A client that cannot prompt: the person reads the one-time code from the server's log
/// (stderr, where a desktop client keeps it) and gives it to the assistant.
#[tokio::test]
async fn the_binary_sends_the_approval_code_to_its_log_and_accepts_it() {
    let dir = tempfile::tempdir().unwrap();
    let (client, mut log) = headless_with_log(dir.path(), "warn", &[]).await;
    let date = (chrono::Utc::now().date_naive() + chrono::Duration::days(30)).to_string();
    let hotels = call(
        &client,
        "search_hotels",
        json!({"city": "Lisbon", "check_in": date, "check_out": (chrono::Utc::now().date_naive() + chrono::Duration::days(32)).to_string()}),
    )
    .await;
    let plan = call(
        &client,
        "create_travel_plan",
        json!({
            "title": "Lisbon",
            "travellers": [{"given_name": "Ada", "family_name": "Lovelace"}],
            "payment_method": "pm_sandbox_visa",
            "items": [{"offer_id": hotels["offers"][0]["id"]}],
        }),
    )
    .await;
    let approval = call(
        &client,
        "confirm_travel_plan",
        json!({"plan_id": plan["plan_id"]}),
    )
    .await;
    assert_eq!(approval["status"], "pending");

    let code = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while let Some(line) = log.recv().await {
            if let Some(rest) = line.split("code ").nth(1) {
                return rest[..9].to_string();
            }
        }
        panic!("the server exited without sending a code")
    })
    .await
    .expect("no approval code in the server's log");
    assert!(!approval.to_string().contains(&code));
    let order = call(
        &client,
        "execute_travel_plan",
        json!({"plan_id": plan["plan_id"], "approval_code": code}),
    )
    .await;
    assert_eq!(order["status"], "confirmed", "{order}");
    client.cancel().await.unwrap();
}

/// A quiet level is quiet for rmcp too: `RUST_LOG=error` logs none of its info lines.
#[tokio::test]
async fn a_quiet_log_level_quiets_the_mcp_library_too() {
    let dir = tempfile::tempdir().unwrap();
    let (client, mut lines) = headless_with_log(dir.path(), "error", &[]).await;
    let tools = client.list_all_tools().await.unwrap();
    assert!(!tools.is_empty());
    client.cancel().await.unwrap();
    let log = whole_log(&mut lines).await;
    assert!(!log.contains("rmcp::"), "{log}");
}

/// Whatever the log level, a card number typed into a tool never reaches the log: rmcp's
/// request dumps are held at info, and the refusal does not repeat the number.
#[tokio::test]
async fn a_card_number_never_reaches_the_log_even_at_trace_level() {
    let dir = tempfile::tempdir().unwrap();
    let (client, mut lines) = headless_with_log(dir.path(), "trace,rmcp=trace", &[]).await;
    let Value::Object(args) = json!({
        "title": "Pay with 4111 1111 1111 1111",
        "travellers": [{"given_name": "Ada", "family_name": "Lovelace"}],
        "payment_method": "4111-1111-1111-1111",
        "items": [],
    }) else {
        unreachable!()
    };
    let result = client
        .call_tool(CallToolRequestParams::new("create_travel_plan").with_arguments(args))
        .await
        .unwrap();
    assert_eq!(result.is_error, Some(true));
    client.cancel().await.unwrap();
    let log = whole_log(&mut lines).await;
    assert!(
        log.contains("refused input"),
        "the refusal is logged: {log}"
    );
    for written in [
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "4111111111111111",
    ] {
        assert!(!log.contains(written), "the card number is in the log");
    }
}

/// A platform sign-in, refresh and sign-out with the log at trace level: no token, no code and
/// no PKCE verifier reaches the log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn platform_tokens_never_reach_the_log_even_at_trace_level() {
    use common::oauth_server::{CLIENT_ID, FakeAuthServer};
    let server = FakeAuthServer::start().await;
    server.tokens_last(60);
    let settings = server.settings();
    let revoke_url = settings.revoke_url.clone().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("ITINERA_BOOKINGCOM_OAUTH_CLIENT_ID", CLIENT_ID),
        (
            "ITINERA_BOOKINGCOM_OAUTH_AUTHORIZE_URL",
            &settings.authorize_url,
        ),
        ("ITINERA_BOOKINGCOM_OAUTH_TOKEN_URL", &settings.token_url),
        ("ITINERA_BOOKINGCOM_OAUTH_REVOKE_URL", &revoke_url),
    ];
    let (client, mut lines) = headless_with_log(dir.path(), "trace,rmcp=trace", &env).await;

    let login = call(
        &client,
        "login_to_platform",
        json!({"platform": "booking_com"}),
    )
    .await;
    let back = server
        .consent(login["authorization_url"].as_str().unwrap())
        .await;
    let (status, page) = FakeAuthServer::follow(&back).await;
    assert_eq!(status, 200, "{page}");
    // A minute-long token: this check refreshes it.
    let status = call(
        &client,
        "check_auth_status",
        json!({"platform": "booking_com"}),
    )
    .await;
    assert_eq!(status["status"], "authenticated", "{status}");
    call(
        &client,
        "logout_platform",
        json!({"platform": "booking_com"}),
    )
    .await;
    client.cancel().await.unwrap();

    let log = whole_log(&mut lines).await;
    assert!(
        log.contains("tokens refreshed"),
        "the refresh is logged: {log}"
    );
    let code = reqwest::Url::parse(&back)
        .unwrap()
        .query_pairs()
        .find(|(key, _)| key == "code")
        .unwrap()
        .1
        .to_string();
    let verifier = server.received_on("POST", "/token")[0]
        .field("code_verifier")
        .unwrap()
        .to_string();
    let issued = server.issued_tokens();
    assert_eq!(issued.len(), 4, "signed in, then refreshed");
    for secret in issued.iter().chain([&code, &verifier]) {
        assert!(!log.contains(secret.as_str()), "a secret reached the log");
    }
}
