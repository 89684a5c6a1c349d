//! `itinera serve --http`: MCP over Streamable HTTP for several users. No valid bearer token, no
//! tool: 401 with a challenge naming the protected-resource metadata. With one, every tool acts
//! for the token's user alone: another user's plans, orders, payments, sign-ins and audit
//! entries stay out of reach, whichever tool is tried.

mod common;

use std::collections::BTreeSet;

use common::auth_server::{self, AuthServer, ISSUER};
use common::{Harness, Options, Person, User, money};
use itinera::domain::money::Money;
use itinera::http::{HttpSettings, JwtSettings, MetricsToken, StaticTokens};
use serde_json::{Value, json};

const ALICE: &str = "alice-0123456789abcdef0123456789";
const OPERATOR: &str = "operator-0123456789abcdef012345";
const METRICS: &str = "metrics-0123456789abcdef0123456";

fn settings(jwks_url: &str) -> HttpSettings {
    HttpSettings {
        listen: "127.0.0.1:0".parse().unwrap(),
        public_url: "http://127.0.0.1".into(),
        allowed_hosts: Vec::new(),
        tokens: StaticTokens::parse(&format!("alice:{ALICE},operator:{OPERATOR}")).unwrap(),
        jwt: Some(JwtSettings {
            jwks_url: jwks_url.into(),
            issuer: ISSUER.into(),
            audience: "http://127.0.0.1/mcp".into(),
        }),
        metrics_token: Some(MetricsToken::parse(METRICS).unwrap()),
    }
}

/// Alice on an HTTP server that also takes the authorization server's tokens.
async fn alice_over_http(auth: &AuthServer) -> Harness {
    Harness::with(Options {
        http: Some((settings(&auth.jwks_url), ALICE.into())),
        ..Options::default()
    })
    .await
}

fn jwt_for(user: &str) -> String {
    auth_server::token(&auth_server::claims(user, "http://127.0.0.1/mcp"))
}

/// A raw MCP initialize request, as a client opening a session sends it.
fn initialize() -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "raw", "version": "0"}}})
}

async fn post(
    url: &str,
    token: Option<&str>,
    session: Option<&str>,
    body: &Value,
) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .post(url)
        .header("accept", "application/json, text/event-stream")
        .json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(session) = session {
        request = request.header("mcp-session-id", session);
    }
    request.send().await.unwrap()
}

fn challenge(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("www-authenticate")
        .map(|value| value.to_str().unwrap().to_string())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_tool_is_reached_without_a_valid_token() {
    let auth = AuthServer::start().await;
    let h = alice_over_http(&auth).await;
    let url = h.http_url().to_string();
    let metadata_url = "http://127.0.0.1/.well-known/oauth-protected-resource/mcp";

    let missing = post(&url, None, None, &initialize()).await;
    assert_eq!(missing.status(), 401);
    assert_eq!(
        challenge(&missing),
        format!("Bearer resource_metadata=\"{metadata_url}\"")
    );

    let audience = "http://127.0.0.1/mcp";
    let expired = {
        let mut claims = auth_server::claims("bob", audience);
        claims["exp"] = json!(chrono::Utc::now().timestamp() - 600);
        auth_server::token(&claims)
    };
    let other_audience =
        auth_server::token(&auth_server::claims("bob", "https://another.example/mcp"));
    let other_issuer = {
        let mut claims = auth_server::claims("bob", audience);
        claims["iss"] = json!("https://impostor.example");
        auth_server::token(&claims)
    };
    let not_yet_valid = {
        let mut claims = auth_server::claims("bob", audience);
        claims["nbf"] = json!(chrono::Utc::now().timestamp() + 600);
        auth_server::token(&claims)
    };
    let no_user = {
        let mut claims = auth_server::claims("bob", audience);
        claims.as_object_mut().unwrap().remove("sub");
        auth_server::token(&claims)
    };
    let unpublished_key =
        auth_server::token_signed_elsewhere(&auth_server::claims("bob", audience), "rotated-away");
    let forged_with_published_kid =
        auth_server::token_signed_elsewhere(&auth_server::claims("bob", audience), "test-key-1");
    let shared_secret = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &auth_server::claims("bob", audience),
        &jsonwebtoken::EncodingKey::from_secret(b"anyone can sign with a secret they chose"),
    )
    .unwrap();
    let cases = [
        (
            "a static token nobody was given",
            "not-a-token-anybody-was-given".to_string(),
            "unknown token",
        ),
        ("an expired token", expired, "expired"),
        (
            "a token for another resource",
            other_audience,
            "not valid here",
        ),
        (
            "a token from another issuer",
            other_issuer,
            "not valid here",
        ),
        ("a token naming no user", no_user, "not valid here"),
        ("a token not valid yet", not_yet_valid, "not valid here"),
        (
            "a token signed with a key not published",
            unpublished_key,
            "does not publish",
        ),
        (
            "a forged signature",
            forged_with_published_kid,
            "not valid here",
        ),
        (
            "a token signed with a shared secret",
            shared_secret,
            "not accepted",
        ),
    ];
    for (case, token, says) in cases {
        let refused = post(&url, Some(&token), None, &initialize()).await;
        assert_eq!(refused.status(), 401, "{case}");
        let challenge = challenge(&refused);
        assert!(
            challenge.starts_with(&format!(
                "Bearer resource_metadata=\"{metadata_url}\", error=\"invalid_token\""
            )),
            "{case}: {challenge}"
        );
        assert!(challenge.contains(says), "{case}: {challenge}");
    }

    // The metadata tells a client where to get a token and for which resource.
    for path in [
        "/.well-known/oauth-protected-resource/mcp",
        "/.well-known/oauth-protected-resource",
    ] {
        let document: Value = reqwest::get(url.replace("/mcp", path))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(document["resource"], "http://127.0.0.1/mcp");
        assert_eq!(document["authorization_servers"], json!([ISSUER]));
        assert_eq!(document["bearer_methods_supported"], json!(["header"]));
    }

    // A good token opens a session; the keys were fetched once for all of the above.
    let welcome = post(&url, Some(&jwt_for("bob")), None, &initialize()).await;
    assert_eq!(welcome.status(), 200);
    assert!(
        auth.fetches() <= 2,
        "the key set was fetched {} times",
        auth.fetches()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_belongs_to_the_user_who_opened_it() {
    let auth = AuthServer::start().await;
    let h = alice_over_http(&auth).await;
    let url = h.http_url().to_string();
    let opened = post(&url, Some(ALICE), None, &initialize()).await;
    assert_eq!(opened.status(), 200);
    let session = opened.headers()["mcp-session-id"]
        .to_str()
        .unwrap()
        .to_string();
    let list = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"});
    let hijack = post(&url, Some(&jwt_for("bob")), Some(&session), &list).await;
    assert_eq!(hijack.status(), 404, "bob's token on alice's session");
}

/// Bob, signed in through the authorization server, tries every tool on what Alice has: her plan,
/// her order, her offers. Nothing of hers comes back and nothing of hers changes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_user_reaches_nothing_of_alices_whichever_tool_is_tried() {
    let auth = AuthServer::start().await;
    let alice = alice_over_http(&auth).await;
    let (plan_id, offers) = alice.approved_paris_plan("pm_sandbox_visa").await;
    let order = alice
        .ok("execute_travel_plan", json!({"plan_id": plan_id}))
        .await;
    assert_eq!(order["status"], "confirmed", "{order}");
    let order_id = order["order_id"].as_str().unwrap().to_string();
    let payment = order["payment"]["reference"].as_str().unwrap().to_string();
    let captured = money(&order["captured"]);
    // What is hers: none of it may come back to bob, unless he sent it himself.
    let hers = [
        plan_id.clone(),
        order_id.clone(),
        payment.clone(),
        "Paris in December".to_string(),
        "Lovelace".to_string(),
    ];

    let bob = alice.http_user(&jwt_for("bob")).await;
    let offer_ids: Vec<Value> = offers
        .iter()
        .map(|offer| json!({"offer_id": offer["id"]}))
        .collect();
    let tries: Vec<(&str, Value)> = vec![
        (
            "search_flights",
            json!({"origin": "LHR", "destination": "CDG", "date": alice.day(30)}),
        ),
        (
            "search_hotels",
            json!({"city": "PAR", "check_in": alice.day(30), "check_out": alice.day(32)}),
        ),
        (
            "search_activities",
            json!({"city": "PAR", "date": alice.day(31)}),
        ),
        (
            "search_car_rentals",
            json!({"city": "PAR", "pick_up_date": alice.day(30), "drop_off_date": alice.day(32)}),
        ),
        (
            "create_travel_plan",
            json!({"title": "Alice's offers", "payment_method": "pm_sandbox_visa",
            "travellers": [{"given_name": "Bob", "family_name": "B"}], "items": offer_ids}),
        ),
        (
            "update_travel_plan",
            json!({"plan_id": plan_id, "title": "Mine now"}),
        ),
        ("get_travel_plan", json!({"plan_id": plan_id})),
        ("confirm_travel_plan", json!({"plan_id": plan_id})),
        ("execute_travel_plan", json!({"plan_id": plan_id})),
        ("get_booking_status", json!({"order_id": order_id})),
        ("list_bookings", json!({})),
        ("get_payment_status", json!({"order_id": order_id})),
        ("list_payment_methods", json!({})),
        ("add_payment_method", json!({})),
        (
            "refund_payment",
            json!({"order_id": order_id, "amount": {"amount": "10.00", "currency": "EUR"}, "reason": "mine"}),
        ),
        ("cancel_booking", json!({"order_id": order_id})),
        ("list_platforms", json!({})),
        ("login_to_platform", json!({"platform": "booking_com"})),
        ("check_auth_status", json!({"platform": "booking_com"})),
        ("logout_platform", json!({"platform": "booking_com"})),
        ("get_audit_log", json!({})),
        ("get_booking_metrics", json!({})),
    ];
    let listed: BTreeSet<String> = bob
        .client
        .list_all_tools()
        .await
        .unwrap()
        .into_iter()
        .map(|tool| tool.name.to_string())
        .collect();
    let tried: BTreeSet<String> = tries.iter().map(|(tool, _)| tool.to_string()).collect();
    assert_eq!(
        tried, listed,
        "every tool is tried: add a new tool to this test"
    );

    for (tool, arguments) in tries {
        let sent = arguments.to_string();
        let result = bob.call(tool, arguments).await;
        let seen = serde_json::to_string(&result).unwrap();
        for secret in hers.iter().filter(|secret| !sent.contains(secret.as_str())) {
            assert!(
                !seen.contains(secret.as_str()),
                "{tool} showed bob alice's {secret}: {seen}"
            );
        }
        if [
            "update_travel_plan",
            "get_travel_plan",
            "confirm_travel_plan",
            "execute_travel_plan",
            "get_booking_status",
            "get_payment_status",
            "refund_payment",
            "cancel_booking",
            "create_travel_plan",
        ]
        .contains(&tool)
        {
            assert_eq!(
                result.is_error,
                Some(true),
                "{tool} on alice's ids must fail for bob: {seen}"
            );
        }
    }
    assert_eq!(
        bob.ok("list_bookings", json!({})).await["orders"],
        json!([])
    );
    assert_eq!(bob.ok("get_booking_metrics", json!({})).await["orders"], 0);
    // Nor as a resource: not listed, not read, not followed.
    let uri = format!("itinera://orders/{order_id}");
    assert!(bob.client.list_all_resources().await.unwrap().is_empty());
    let refused = bob
        .client
        .read_resource(rmcp::model::ReadResourceRequestParams::new(uri.clone()))
        .await
        .unwrap_err()
        .to_string();
    assert!(refused.contains("you have no order"), "{refused}");
    #[allow(deprecated)] // the 2025 lifecycle's subscription
    let followed = bob
        .client
        .subscribe(rmcp::model::SubscribeRequestParams::new(uri))
        .await;
    assert!(followed.is_err(), "bob may not follow alice's order");

    // Alice's order, plan and payment are as she left them.
    let status = alice
        .ok("get_booking_status", json!({"order_id": order_id}))
        .await;
    assert_eq!(status["status"], "confirmed");
    assert_eq!(money(&status["refunded"]), Money::zero(captured.currency()));
    let plan = alice
        .ok("get_travel_plan", json!({"plan_id": plan_id}))
        .await;
    assert_ne!(plan["title"], "Mine now");
    let ledger = alice
        .sandbox()
        .ledger()
        .payment(&payment)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (ledger.captured, ledger.refunded),
        (captured, Money::zero(captured.currency()))
    );
    assert!(
        alice
            .ledger_bookings()
            .await
            .iter()
            .all(|booking| booking.status == "booked")
    );
    // Bob's audit log holds only his own steps; Alice's holds hers.
    let log = alice.ok("get_audit_log", json!({})).await;
    assert!(serde_json::to_string(&log).unwrap().contains(&order_id));
}

/// The authorization server's users and the operator's static-token users never meet, even
/// under one name: a `sub` is chosen over there (a user name, an e-mail), and must not land on
/// someone's orders here.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_from_the_authorization_server_never_acts_for_a_static_token_user() {
    let auth = AuthServer::start().await;
    let h = alice_over_http(&auth).await;
    let (plan_id, _) = h.approved_paris_plan("pm_sandbox_visa").await;
    for impostor in ["alice", "local"] {
        let other: User = h.http_user(&jwt_for(impostor)).await;
        let refused = other
            .err("get_travel_plan", json!({"plan_id": plan_id}))
            .await;
        assert!(
            refused.contains("there is no travel plan"),
            "{impostor}: {refused}"
        );
    }
    // The same user by the same kind of token is the same person.
    let again = h.http_user(ALICE).await;
    let plan = again
        .ok("get_travel_plan", json!({"plan_id": plan_id}))
        .await;
    assert_eq!(plan["plan_id"], plan_id.as_str());
}

/// Over HTTP the server's log is no private channel: a client that cannot prompt the person is
/// told so, and no approval code is sent anywhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_cannot_prompt_gets_no_code_over_http() {
    let auth = AuthServer::start().await;
    let h = Harness::with(Options {
        http: Some((settings(&auth.jwks_url), ALICE.into())),
        person: Person::headless(),
        ..Options::default()
    })
    .await;
    let offers = h.paris_offers().await;
    let with_priority: Vec<(Value, &str)> =
        offers.iter().map(|o| (o.clone(), "must_have")).collect();
    let plan = h.plan_of(&with_priority, "pm_sandbox_visa").await;
    let refused = h
        .err("confirm_travel_plan", json!({"plan_id": plan["plan_id"]}))
        .await;
    assert!(refused.contains("supports elicitation"), "{refused}");
    assert!(h.codes.all().is_empty(), "a code was sent");
    let failed = h
        .err("execute_travel_plan", json!({"plan_id": plan["plan_id"]}))
        .await;
    assert!(failed.contains("approv"), "{failed}");
    assert!(h.ledger_bookings().await.is_empty(), "nothing was booked");
}

/// When the authorization server's keys cannot be fetched, a token is not refused as invalid
/// (the client would throw a good token away): Itinera says it is unavailable for now.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_that_cannot_be_checked_now_is_answered_unavailable() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let nowhere = format!("http://{}/jwks", closed.local_addr().unwrap());
    drop(closed);
    let h = Harness::with(Options {
        http: Some((settings(&nowhere), ALICE.into())),
        ..Options::default()
    })
    .await;
    let checked_later = post(h.http_url(), Some(&jwt_for("bob")), None, &initialize()).await;
    assert_eq!(checked_later.status(), 503);
    assert_eq!(
        checked_later
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap()),
        Some("5")
    );
    assert!(
        challenge(&checked_later).is_empty(),
        "no invalid_token challenge"
    );
    // Static tokens do not depend on the authorization server.
    assert_eq!(
        post(h.http_url(), Some(ALICE), None, &initialize())
            .await
            .status(),
        200
    );
}

/// The real binary: `serve --http` says where it listens, answers health and readiness, takes
/// only tokens, and on SIGTERM stops and exits cleanly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_serves_http_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_itinera"));
    command
        .args(["serve", "--http", "127.0.0.1:0"])
        .env("ITINERA_DATA_DIR", dir.path())
        .env("ITINERA_HTTP_TOKENS", format!("alice:{ALICE}"));
    let (mut child, url) = common::spawn_http_server(command).await;
    let base = url.trim_end_matches("/mcp").to_string();
    assert_eq!(
        reqwest::get(format!("{base}/healthz"))
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        reqwest::get(format!("{base}/readyz"))
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(post(&url, None, None, &initialize()).await.status(), 401);
    assert_eq!(
        post(&url, Some(ALICE), None, &initialize()).await.status(),
        200
    );

    let pid = child.id().unwrap().to_string();
    let signalled = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(signalled.success());
    let exited = tokio::time::timeout(std::time::Duration::from_secs(30), child.wait())
        .await
        .expect("the server stops within 30 s of SIGTERM")
        .unwrap();
    assert!(exited.success(), "{exited}");
}

#[test]
fn the_binary_refuses_http_nobody_could_log_in_to() {
    let dir = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_itinera"))
        .args(["serve", "--http", "127.0.0.1:0"])
        .env("ITINERA_DATA_DIR", dir.path())
        .env_remove("ITINERA_HTTP_TOKENS")
        .env_remove("ITINERA_JWT_JWKS_URL")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(said.contains("ITINERA_HTTP_TOKENS"), "{said}");
}

/// `/metrics` is the operator's: every person's figures, for the metrics token only — not for
/// a user's token, nor for none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_reads_everyones_metrics_with_the_metrics_token_only() {
    let auth = AuthServer::start().await;
    let h = alice_over_http(&auth).await;
    let (plan_id, _) = h.approved_paris_plan("pm_sandbox_visa").await;
    let order = h
        .ok("execute_travel_plan", json!({"plan_id": plan_id}))
        .await;
    assert_eq!(order["status"], "confirmed");
    let url = h.http_url().replace("/mcp", "/metrics");
    let client = reqwest::Client::new();
    for token in [None, Some(ALICE), Some(OPERATOR)] {
        let mut request = client.get(&url);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let answer = request.send().await.unwrap();
        assert_eq!(answer.status(), 401, "{token:?}");
    }
    let answer = client.get(&url).bearer_auth(METRICS).send().await.unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(
        answer.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = answer.text().await.unwrap();
    assert!(
        text.contains("# TYPE itinera_orders gauge\nitinera_orders 1\n"),
        "{text}"
    );
    assert!(
        text.contains("itinera_end_to_end_success_ratio 1\n"),
        "{text}"
    );
    let captured = order["captured"]["amount"].as_str().unwrap();
    let captured: f64 = captured.parse().unwrap();
    assert!(
        text.contains(&format!("itinera_revenue{{currency=\"EUR\"}} {captured}\n")),
        "{text}"
    );
    assert!(
        text.contains("itinera_provider_calls{provider=\"sandbox\"}"),
        "{text}"
    );
}
