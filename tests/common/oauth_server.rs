//! A local OAuth 2.0 authorization server that enforces what a real one does: the code grant
//! (RFC 6749 §4.1) for a registered client and a loopback redirect URI only (RFC 8252 §7.3),
//! PKCE with S256 (RFC 7636: the verifier's SHA-256 must be the challenge), single-use codes,
//! refresh tokens rotated on use (OAuth 2.1), and revocation (RFC 7009). The test plays the
//! person's browser: it opens the authorization URL and follows the redirect to Itinera.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

pub use super::fake_http::Received;
use super::fake_http::{Recorder, json_response};

pub const CLIENT_ID: &str = "itinera-test-client";

/// A code given at the person's consent.
#[derive(Debug, Clone)]
struct Grant {
    code: String,
    redirect_uri: String,
    challenge: String,
    scope: String,
    used: bool,
}

#[derive(Debug, Clone)]
struct Issued {
    token: String,
    refresh: bool,
    scope: String,
    revoked: bool,
}

#[derive(Default)]
struct Books {
    recorder: Recorder,
    grants: Vec<Grant>,
    issued: Vec<Issued>,
    next: u64,
    /// The person refuses consent on the next authorization.
    deny_next: bool,
    /// Access tokens' lifetime in seconds.
    expires_in: u64,
    /// How long the token endpoint takes to answer.
    token_delay: std::time::Duration,
}

#[derive(Clone)]
pub struct FakeAuthServer {
    books: Arc<Mutex<Books>>,
    pub base_url: String,
}

impl FakeAuthServer {
    pub async fn start() -> FakeAuthServer {
        let (listener, root) = super::fake_http::bind().await;
        let fake = FakeAuthServer {
            books: Arc::new(Mutex::new(Books {
                expires_in: 3600,
                ..Books::default()
            })),
            base_url: root,
        };
        let app = Router::new()
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .route("/revoke", post(revoke))
            .with_state(fake.clone());
        super::fake_http::serve(listener, app);
        fake
    }

    /// Itinera's settings for this server, as the Booking.com account sign-in.
    pub fn settings(&self) -> itinera::platforms::OAuthSettings {
        itinera::platforms::OAuthSettings {
            platform: "booking_com",
            client_id: CLIENT_ID.into(),
            client_secret: None,
            authorize_url: format!("{}/authorize", self.base_url),
            token_url: format!("{}/token", self.base_url),
            revoke_url: Some(format!("{}/revoke", self.base_url)),
            scopes: vec!["reservations".into()],
        }
    }

    /// The next person refuses consent.
    pub fn deny_next_consent(&self) {
        self.books.lock().unwrap().deny_next = true;
    }

    /// Access tokens issued from now on last this long.
    pub fn tokens_last(&self, seconds: u64) {
        self.books.lock().unwrap().expires_in = seconds;
    }

    /// The token endpoint answers only after `delay` (a slow platform: calls overlap).
    pub fn answer_tokens_after(&self, delay: std::time::Duration) {
        self.books.lock().unwrap().token_delay = delay;
    }

    /// The person withdraws Itinera's access at the platform: every token stops working.
    pub fn revoke_everything(&self) {
        for issued in &mut self.books.lock().unwrap().issued {
            issued.revoked = true;
        }
    }

    /// Whether `token` (access or refresh) is issued and not revoked.
    pub fn is_active(&self, token: &str) -> bool {
        self.books
            .lock()
            .unwrap()
            .issued
            .iter()
            .any(|issued| issued.token == token && !issued.revoked)
    }

    /// Every token issued, access and refresh, active or not.
    pub fn issued_tokens(&self) -> Vec<String> {
        self.books
            .lock()
            .unwrap()
            .issued
            .iter()
            .map(|issued| issued.token.clone())
            .collect()
    }

    pub fn received_on(&self, method: &str, path: &str) -> Vec<Received> {
        self.books
            .lock()
            .unwrap()
            .recorder
            .received_on(method, path)
    }

    /// The person's browser at the authorization URL: where the server sends it back (the
    /// `Location` of its redirect).
    pub async fn consent(&self, authorization_url: &str) -> String {
        let answer = no_redirects().get(authorization_url).send().await.unwrap();
        assert_eq!(
            answer.status(),
            reqwest::StatusCode::FOUND,
            "{}",
            answer.text().await.unwrap()
        );
        answer.headers()["location"].to_str().unwrap().to_string()
    }

    /// The browser goes on to `url` (Itinera's callback): its status and page.
    pub async fn follow(url: &str) -> (u16, String) {
        let answer = no_redirects().get(url).send().await.unwrap();
        (answer.status().as_u16(), answer.text().await.unwrap())
    }

    /// Consent, then back to Itinera.
    pub async fn sign_in(&self, authorization_url: &str) -> (u16, String) {
        let back = self.consent(authorization_url).await;
        FakeAuthServer::follow(&back).await
    }
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The S256 challenge of a verifier.
pub fn challenge_of(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

fn fields(text: &str) -> Vec<(String, String)> {
    serde_urlencoded::from_str(text).unwrap_or_default()
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

fn oauth_error(status: u16, error: &str, description: &str) -> Response {
    json_response(
        status,
        &json!({"error": error, "error_description": description}),
    )
}

fn page(status: StatusCode, text: &str) -> Response {
    (status, text.to_string()).into_response()
}

fn redirect(to: String) -> Response {
    (StatusCode::FOUND, [(header::LOCATION, to)]).into_response()
}

fn with_query(uri: &str, fields: &[(&str, &str)]) -> String {
    let query = serde_urlencoded::to_string(fields).unwrap();
    format!("{uri}?{query}")
}

async fn authorize(
    State(fake): State<FakeAuthServer>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let query = fields(uri.query().unwrap_or_default());
    let mut books = fake.books.lock().unwrap();
    books
        .recorder
        .record(method.as_str(), uri.path(), &headers, query.clone(), None);
    let get = |name| field(&query, name);
    // Never redirect to an address not registered: the error is shown to the person.
    if get("client_id") != Some(CLIENT_ID) {
        return page(StatusCode::BAD_REQUEST, "unknown client_id");
    }
    let Some(redirect_uri) = get("redirect_uri")
        .filter(|uri| uri.starts_with("http://127.0.0.1:") || uri.starts_with("http://[::1]:"))
    else {
        return page(
            StatusCode::BAD_REQUEST,
            "redirect_uri must be a loopback URL",
        );
    };
    let Some(state) = get("state").filter(|state| state.len() >= 16) else {
        return page(
            StatusCode::BAD_REQUEST,
            "state is required (16 characters or more)",
        );
    };
    let refuse = |error: &str, description: &str| {
        redirect(with_query(
            redirect_uri,
            &[
                ("error", error),
                ("error_description", description),
                ("state", state),
            ],
        ))
    };
    if get("response_type") != Some("code") {
        return refuse("unsupported_response_type", "response_type must be code");
    }
    let Some(challenge) = get("code_challenge")
        .filter(|challenge| (43..=128).contains(&challenge.len()))
        .filter(|_| get("code_challenge_method") == Some("S256"))
    else {
        return refuse(
            "invalid_request",
            "PKCE is required: code_challenge with code_challenge_method=S256",
        );
    };
    if std::mem::take(&mut books.deny_next) {
        return refuse("access_denied", "The person declined.");
    }
    books.next += 1;
    let code = format!("code-{}-{}", books.next, uuid::Uuid::new_v4().simple());
    books.grants.push(Grant {
        code: code.clone(),
        redirect_uri: redirect_uri.to_string(),
        challenge: challenge.to_string(),
        scope: get("scope").unwrap_or_default().to_string(),
        used: false,
    });
    redirect(with_query(
        redirect_uri,
        &[("code", &code), ("state", state)],
    ))
}

/// A form post recorded: its fields, and the server's books to answer from.
fn record_form<'a>(
    fake: &'a FakeAuthServer,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &str,
) -> (Vec<(String, String)>, std::sync::MutexGuard<'a, Books>) {
    let form = fields(body);
    let mut books = fake.books.lock().unwrap();
    books
        .recorder
        .record(method.as_str(), uri.path(), headers, form.clone(), None);
    (form, books)
}

async fn token(
    State(fake): State<FakeAuthServer>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: String,
) -> Response {
    let delay = fake.books.lock().unwrap().token_delay;
    tokio::time::sleep(delay).await;
    let (form, mut books) = record_form(&fake, &method, &uri, &headers, &body);
    let get = |name| field(&form, name);
    if !headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
    {
        return oauth_error(400, "invalid_request", "the body must be a form");
    }
    if get("client_id") != Some(CLIENT_ID) {
        return oauth_error(401, "invalid_client", "unknown client");
    }
    match get("grant_type") {
        Some("authorization_code") => {
            let code = get("code").unwrap_or_default();
            let Some(index) = books.grants.iter().position(|g| g.code == code) else {
                return oauth_error(400, "invalid_grant", "unknown code");
            };
            let grant = books.grants[index].clone();
            if grant.used {
                return oauth_error(400, "invalid_grant", "the code was used already");
            }
            books.grants[index].used = true;
            if get("redirect_uri") != Some(grant.redirect_uri.as_str()) {
                return oauth_error(400, "invalid_grant", "redirect_uri does not match");
            }
            let verified = get("code_verifier")
                .is_some_and(|verifier| challenge_of(verifier) == grant.challenge);
            if !verified {
                return oauth_error(400, "invalid_grant", "PKCE verification failed");
            }
            issue(&mut books, &grant.scope)
        }
        Some("refresh_token") => {
            let presented = get("refresh_token").unwrap_or_default();
            let Some(index) = books
                .issued
                .iter()
                .position(|i| i.refresh && i.token == presented && !i.revoked)
            else {
                return oauth_error(400, "invalid_grant", "the refresh token is not valid");
            };
            // Rotated: the one presented stops working.
            books.issued[index].revoked = true;
            let scope = books.issued[index].scope.clone();
            issue(&mut books, &scope)
        }
        _ => oauth_error(400, "unsupported_grant_type", "unsupported grant_type"),
    }
}

fn issue(books: &mut Books, scope: &str) -> Response {
    books.next += 1;
    let n = books.next;
    let access = format!("at-{n}-{}", uuid::Uuid::new_v4().simple());
    let refresh = format!("rt-{n}-{}", uuid::Uuid::new_v4().simple());
    for (token, refresh) in [(&access, false), (&refresh, true)] {
        books.issued.push(Issued {
            token: token.clone(),
            refresh,
            scope: scope.to_string(),
            revoked: false,
        });
    }
    let body: Value = json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": books.expires_in,
        "refresh_token": refresh,
        "scope": scope,
    });
    json_response(200, &body)
}

async fn revoke(
    State(fake): State<FakeAuthServer>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: String,
) -> Response {
    let delay = fake.books.lock().unwrap().token_delay;
    tokio::time::sleep(delay).await;
    let (form, mut books) = record_form(&fake, &method, &uri, &headers, &body);
    if field(&form, "client_id") != Some(CLIENT_ID) {
        return oauth_error(401, "invalid_client", "unknown client");
    }
    let token = field(&form, "token").unwrap_or_default().to_string();
    // RFC 7009 §2.2: an unknown token is answered 200 too.
    for issued in &mut books.issued {
        if issued.token == token {
            issued.revoked = true;
        }
    }
    StatusCode::OK.into_response()
}
