//! The person's platform sign-ins through the MCP tools, against a local OAuth 2.0 server that
//! enforces PKCE and state (`tests/common/oauth_server.rs`): the test plays the person's browser,
//! opening the link Itinera gives and following the platform back to Itinera's loopback page.

mod common;

use common::oauth_server::{CLIENT_ID, FakeAuthServer, challenge_of};
use common::{Harness, Options};
use serde_json::{Value, json};

async fn with_sign_in() -> (Harness, FakeAuthServer) {
    let server = FakeAuthServer::start().await;
    let h = Harness::with(Options {
        platform_logins: vec![server.settings()],
        ..Options::default()
    })
    .await;
    (h, server)
}

async fn open_login(h: &Harness) -> (String, String) {
    let login = h
        .ok("login_to_platform", json!({"platform": "booking_com"}))
        .await;
    assert_eq!(login["status"], "auth_required", "{login}");
    (
        login["login_id"].as_str().unwrap().to_string(),
        login["authorization_url"].as_str().unwrap().to_string(),
    )
}

async fn status_of(h: &Harness, login_id: &str) -> Value {
    h.ok("check_auth_status", json!({"login_id": login_id}))
        .await
}

async fn platform_status(h: &Harness) -> Value {
    h.ok("check_auth_status", json!({"platform": "booking_com"}))
        .await
}

fn query(url: &str) -> Vec<(String, String)> {
    let parsed = reqwest::Url::parse(url).unwrap();
    parsed.query_pairs().into_owned().collect()
}

fn param(url: &str, name: &str) -> String {
    query(url)
        .into_iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value)
        .unwrap_or_else(|| panic!("no {name} in {url}"))
}

/// `url` with one query parameter replaced.
fn with_param(url: &str, name: &str, value: &str) -> String {
    let mut parsed = reqwest::Url::parse(url).unwrap();
    let pairs: Vec<(String, String)> = query(url)
        .into_iter()
        .map(|(key, old)| {
            let new = if key == name { value.to_string() } else { old };
            (key, new)
        })
        .collect();
    parsed.query_pairs_mut().clear().extend_pairs(pairs);
    parsed.to_string()
}

/// Every byte of the store: the database and its write-ahead log.
fn store_bytes(h: &Harness) -> Vec<u8> {
    ["itinera.db", "itinera.db-wal"]
        .iter()
        .filter_map(|name| std::fs::read(h.dir.path().join(name)).ok())
        .flatten()
        .collect()
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_in_keeps_the_tokens_sealed_and_shows_only_the_status() {
    let (h, server) = with_sign_in().await;
    let (login_id, url) = open_login(&h).await;

    assert!(url.starts_with(&format!("{}/authorize?", server.base_url)));
    assert_eq!(param(&url, "response_type"), "code");
    assert_eq!(param(&url, "client_id"), CLIENT_ID);
    assert_eq!(param(&url, "code_challenge_method"), "S256");
    assert_eq!(param(&url, "scope"), "reservations");
    let redirect = param(&url, "redirect_uri");
    assert!(
        redirect.starts_with("http://127.0.0.1:") && redirect.ends_with("/oauth/callback"),
        "{redirect}"
    );
    assert_eq!(status_of(&h, &login_id).await["status"], "pending");

    let (status, page) = server.sign_in(&url).await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("signed in to your Booking.com account"),
        "{page}"
    );

    let signed_in = status_of(&h, &login_id).await;
    assert_eq!(signed_in["status"], "authenticated", "{signed_in}");
    assert_eq!(signed_in["scopes"], json!(["reservations"]));
    let [exchange] = server.received_on("POST", "/token").try_into().unwrap();
    assert_eq!(exchange.field("grant_type"), Some("authorization_code"));
    assert_eq!(exchange.field("redirect_uri"), Some(redirect.as_str()));
    assert_eq!(
        challenge_of(exchange.field("code_verifier").unwrap()),
        param(&url, "code_challenge"),
        "the verifier behind the challenge, sent only with the code"
    );

    let platforms = h.ok("list_platforms", json!({})).await;
    let booking = platforms["platforms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "booking_com")
        .unwrap()
        .clone();
    assert_eq!(booking["status"], "authenticated", "{platforms}");
    assert_eq!(booking["signed_in_by"], "person");
    let duffel = platforms["platforms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "duffel")
        .unwrap()
        .clone();
    assert_eq!(duffel["signed_in_by"], "operator", "{duffel}");

    let tokens = server.issued_tokens();
    assert_eq!(tokens.len(), 2, "an access and a refresh token");
    let stored = store_bytes(&h);
    assert!(
        contains(&stored, "reservations"),
        "the files read hold the sign-in's row"
    );
    let outputs = format!("{signed_in}{platforms}");
    for token in &tokens {
        assert!(
            !contains(&stored, token),
            "a token in plaintext in the store"
        );
        assert!(
            !outputs.contains(token.as_str()),
            "a token in a tool's output"
        );
    }
    let audit = h.ok("get_audit_log", json!({})).await.to_string();
    assert!(audit.contains("platform.connected"), "{audit}");
    for token in &tokens {
        assert!(!audit.contains(token.as_str()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callback_carrying_another_state_signs_nobody_in() {
    let (h, server) = with_sign_in().await;
    let (login_id, url) = open_login(&h).await;

    let back = server.consent(&url).await;
    let forged = with_param(&back, "state", "an-attacker-s-own-state-value");
    let (status, page) = FakeAuthServer::follow(&forged).await;

    assert_eq!(status, 400);
    assert!(page.contains("not one Itinera opened"), "{page}");
    assert_eq!(status_of(&h, &login_id).await["status"], "pending");
    assert!(
        server.received_on("POST", "/token").is_empty(),
        "the code was never exchanged"
    );
    assert_eq!(platform_status(&h).await["status"], "not_connected");

    // The real answer still works, once.
    let (status, _) = FakeAuthServer::follow(&back).await;
    assert_eq!(status, 200);
    let (again, page) = FakeAuthServer::follow(&back).await;
    assert_eq!(again, 400, "a callback is used once: {page}");
    assert_eq!(server.received_on("POST", "/token").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_obtained_with_another_verifier_s_challenge_is_refused_by_pkce() {
    let (h, server) = with_sign_in().await;
    let (login_id, url) = open_login(&h).await;

    // An attacker's authorization, answered to our callback under our state: only the
    // verifier shows the code is not ours.
    let attackers = challenge_of("an-attacker-s-verifier-of-at-least-forty-three-characters");
    let back = server
        .consent(&with_param(&url, "code_challenge", &attackers))
        .await;
    let (status, page) = FakeAuthServer::follow(&back).await;

    assert_eq!(status, 400);
    assert!(page.contains("PKCE verification failed"), "{page}");
    let failed = status_of(&h, &login_id).await;
    assert_eq!(failed["status"], "failed", "{failed}");
    assert!(
        failed["reason"].as_str().unwrap().contains("invalid_grant"),
        "{failed}"
    );
    assert_eq!(platform_status(&h).await["status"], "not_connected");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_who_declines_is_not_signed_in() {
    let (h, server) = with_sign_in().await;
    let (login_id, url) = open_login(&h).await;
    server.deny_next_consent();

    let (status, page) = server.sign_in(&url).await;

    assert_eq!(status, 400);
    assert!(page.contains("declined"), "{page}");
    let failed = status_of(&h, &login_id).await;
    assert_eq!(failed["status"], "failed");
    assert!(
        failed["reason"].as_str().unwrap().contains("declined"),
        "{failed}"
    );
    assert!(
        failed["message"]
            .as_str()
            .unwrap()
            .contains("login_to_platform")
    );
    assert!(server.received_on("POST", "/token").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_left_for_more_than_an_hour_expires() {
    let (h, server) = with_sign_in().await;
    let (login_id, url) = open_login(&h).await;
    h.clock.advance(chrono::Duration::minutes(61));

    assert_eq!(status_of(&h, &login_id).await["status"], "expired");
    let (status, page) = server.sign_in(&url).await;

    assert_eq!(status, 400);
    assert!(page.contains("expired"), "{page}");
    assert!(server.received_on("POST", "/token").is_empty());
    assert_eq!(platform_status(&h).await["status"], "not_connected");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_refreshed_before_they_expire_and_a_revoked_grant_asks_for_a_new_sign_in() {
    let (h, server) = with_sign_in().await;
    let (_, url) = open_login(&h).await;
    server.sign_in(&url).await;
    let first = server.issued_tokens();

    h.clock.advance(chrono::Duration::minutes(50));
    assert_eq!(platform_status(&h).await["status"], "authenticated");
    assert_eq!(
        server.received_on("POST", "/token").len(),
        1,
        "ten minutes left: no refresh yet"
    );

    h.clock.advance(chrono::Duration::minutes(6));
    assert_eq!(platform_status(&h).await["status"], "authenticated");
    let refreshes = server.received_on("POST", "/token");
    assert_eq!(refreshes.len(), 2, "four minutes left: refreshed");
    assert_eq!(refreshes[1].field("grant_type"), Some("refresh_token"));
    assert_eq!(refreshes[1].field("refresh_token"), Some(first[1].as_str()));
    assert!(!server.is_active(&first[1]), "the platform rotated it");

    // The rotated refresh token is the one kept: a later refresh works.
    h.clock.advance(chrono::Duration::minutes(56));
    assert_eq!(platform_status(&h).await["status"], "authenticated");
    assert_eq!(server.received_on("POST", "/token").len(), 3);

    // The person withdraws Itinera's access at the platform.
    server.revoke_everything();
    h.clock.advance(chrono::Duration::minutes(56));
    let expired = platform_status(&h).await;
    assert_eq!(expired["status"], "expired", "{expired}");
    assert!(
        expired["reason"]
            .as_str()
            .unwrap()
            .contains("sign in again"),
        "{expired}"
    );
    assert_eq!(
        platform_status(&h).await["status"],
        "not_connected",
        "the dead tokens are forgotten"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_checks_at_once_refresh_the_tokens_once() {
    let (h, server) = with_sign_in().await;
    let (_, url) = open_login(&h).await;
    server.sign_in(&url).await;
    h.clock.advance(chrono::Duration::minutes(58));

    let (first, second) = tokio::join!(platform_status(&h), platform_status(&h));

    assert_eq!(first["status"], "authenticated", "{first}");
    assert_eq!(second["status"], "authenticated", "{second}");
    let refreshes = server.received_on("POST", "/token");
    assert_eq!(
        refreshes.len(),
        2,
        "the code, then one refresh: a second would present the rotated-out refresh token"
    );
}

/// The same across two servers sharing the store (two instances): the lease on the person's
/// account lets one refresh, and the other reads its result.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_checking_at_once_refresh_the_tokens_once() {
    let (h, server) = with_sign_in().await;
    let (_, url) = open_login(&h).await;
    server.sign_in(&url).await;
    let other = h
        .beside(Options {
            platform_logins: vec![server.settings()],
            ..Options::default()
        })
        .await;
    h.clock.advance(chrono::Duration::minutes(58));
    other.clock.advance(chrono::Duration::minutes(58));
    server.answer_tokens_after(std::time::Duration::from_millis(300));

    let (first, second) = tokio::join!(platform_status(&h), platform_status(&other));

    assert_eq!(first["status"], "authenticated", "{first}");
    assert_eq!(second["status"], "authenticated", "{second}");
    assert_eq!(
        server.received_on("POST", "/token").len(),
        2,
        "the code, then one refresh"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_revokes_at_the_platform_and_forgets_the_tokens() {
    let (h, server) = with_sign_in().await;
    let (_, url) = open_login(&h).await;
    server.sign_in(&url).await;
    let tokens = server.issued_tokens();

    let out = h
        .ok("logout_platform", json!({"platform": "booking_com"}))
        .await;

    assert_eq!(out["was_connected"], true, "{out}");
    assert_eq!(out["revoked"], true, "{out}");
    assert!(tokens.iter().all(|token| !server.is_active(token)));
    let revocations = server.received_on("POST", "/revoke");
    assert_eq!(
        revocations[0].field("token_type_hint"),
        Some("refresh_token")
    );
    assert_eq!(revocations[0].field("client_id"), Some(CLIENT_ID));
    assert_eq!(platform_status(&h).await["status"], "not_connected");
    let again = h
        .ok("logout_platform", json!({"platform": "booking_com"}))
        .await;
    assert_eq!(again["was_connected"], false);

    // A sign-in opened before signing out no longer connects anyone.
    let (login_id, url) = open_login(&h).await;
    h.ok("logout_platform", json!({"platform": "booking_com"}))
        .await;
    let (status, page) = server.sign_in(&url).await;
    assert_eq!(status, 400, "{page}");
    let closed = status_of(&h, &login_id).await;
    assert_eq!(closed["status"], "failed", "{closed}");
    assert!(closed["reason"].as_str().unwrap().contains("signed out"));
    assert_eq!(platform_status(&h).await["status"], "not_connected");
}

#[tokio::test]
async fn sign_ins_that_cannot_be_made_say_why_and_what_to_set() {
    let h = Harness::start().await;
    let not_set_up = h
        .err("login_to_platform", json!({"platform": "booking_com"}))
        .await;
    assert!(
        not_set_up.contains("ITINERA_BOOKINGCOM_OAUTH_CLIENT_ID"),
        "{not_set_up}"
    );
    let unknown = h
        .err("login_to_platform", json!({"platform": "expedia"}))
        .await;
    assert!(
        unknown.contains("booking_com, turkish_airlines"),
        "{unknown}"
    );
    let operators = h
        .err("login_to_platform", json!({"platform": "duffel"}))
        .await;
    assert!(
        operators.contains("ITINERA_DUFFEL_ACCESS_TOKEN"),
        "{operators}"
    );
    let undocumented = h
        .err("login_to_platform", json!({"platform": "turkish_airlines"}))
        .await;
    assert!(
        undocumented.contains("documents no Miles&Smiles sign-in"),
        "{undocumented}"
    );
    let neither = h.err("check_auth_status", json!({})).await;
    assert!(neither.contains("login_id"), "{neither}");
    let unknown_login = h
        .err(
            "check_auth_status",
            json!({"login_id": "login_8f14e45fceea167a5a36dedd4bea2543"}),
        )
        .await;
    assert!(
        unknown_login.contains("call login_to_platform again"),
        "{unknown_login}"
    );
}
