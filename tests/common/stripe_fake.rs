//! A local Stripe, following the wire contract in `shared/provider-apis.md` §2: bearer auth,
//! form-encoded bodies with bracket keys, integer minor units and lowercase currencies, manual
//! capture, 402 `card_error` for the decline test cards, 3-D Secure by redirect, `Idempotency-Key`
//! replays (and refusal of a key reused with other parameters), refunds bounded by what was
//! captured. It records every request so tests can check what the adapter sent, and can be told
//! to answer the next requests with an error status.
//!
//! Saving a card: Customers, Checkout Sessions in `mode=setup` (open → complete | expired) with
//! their SetupIntent, and PaymentMethods attached to the Customer. `/fake/checkout/{id}?card=…`
//! stands in for the person typing a card on Stripe's page. A PaymentIntent with a method
//! attached to a Customer is refused unless it names that Customer, as Stripe refuses it ("The
//! customer does not have a payment method with the ID …" for another customer; the wording for
//! no customer at all is the fake's own).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::{Value, json};

pub use super::fake_http::Received;
use super::fake_http::{Recorder, Replay, json_response};

pub const KEY: &str = "sk_test_fake_itinera";

#[derive(Debug, Clone)]
struct Intent {
    amount: i64,
    capturable: i64,
    received: i64,
    refunded: i64,
    currency: String,
    status: &'static str,
}

/// A Checkout Session in setup mode.
#[derive(Debug, Clone)]
struct Session {
    customer: String,
    status: &'static str,
    setup_intent: String,
    expires_at: i64,
}

/// A card saved on the Checkout page, attached to its Customer.
#[derive(Debug, Clone)]
struct SavedCard {
    customer: String,
    /// The test method whose behaviour it has when charged.
    behaves_as: &'static str,
    last4: &'static str,
}

#[derive(Default)]
struct Books {
    intents: HashMap<String, Intent>,
    /// Customer id → `metadata[itinera_owner]`.
    customers: HashMap<String, String>,
    sessions: HashMap<String, Session>,
    /// SetupIntent id → the PaymentMethod saved with it, once the page is complete.
    setup_intents: HashMap<String, Option<String>>,
    saved: HashMap<String, SavedCard>,
    recorder: Recorder,
    next_id: u64,
    /// The next POST acts (and is stored for replay) but its answer is lost: a 500 goes back,
    /// and then this many requests fail with 503 (an outage right after).
    lose_next_answer: Option<u32>,
    /// The next capture is made, but answered with `payment_intent_unexpected_state`, as when
    /// Stripe no longer remembers the key of a capture it already made.
    refuse_next_capture_after_acting: bool,
}

#[derive(Clone)]
pub struct FakeStripe {
    books: Arc<Mutex<Books>>,
    pub base_url: String,
}

impl FakeStripe {
    pub async fn start() -> FakeStripe {
        let (listener, base_url) = super::fake_http::bind().await;
        let fake = FakeStripe {
            books: Arc::default(),
            base_url,
        };
        let app = Router::new()
            .route("/v1/payment_intents", post(handle))
            .route("/v1/payment_intents/{id}", get(handle_get))
            .route("/v1/payment_intents/{id}/{action}", post(handle))
            .route("/v1/refunds", post(handle))
            .route("/v1/customers", post(handle))
            .route("/v1/checkout/sessions", post(handle))
            .route("/v1/checkout/sessions/{id}", get(handle_get))
            .route("/v1/setup_intents/{id}", get(handle_get))
            .route("/v1/payment_methods/{id}", get(handle_get))
            .route("/fake/3ds/{id}", get(complete_3ds))
            .route("/fake/checkout/{id}", get(complete_checkout))
            .with_state(fake.clone());
        super::fake_http::serve(listener, app);
        fake
    }

    /// Every request received, oldest first.
    pub fn received(&self) -> Vec<Received> {
        self.books.lock().unwrap().recorder.received.clone()
    }

    /// The next request is answered with this status (and `Retry-After`), without acting.
    pub fn fail_next(&self, status: u16, retry_after: Option<u64>) {
        self.books
            .lock()
            .unwrap()
            .recorder
            .fail_next(status, retry_after);
    }

    /// The next POST acts, but its answer never arrives; then `outage` requests get a 503.
    pub fn lose_next_answer(&self, outage: u32) {
        self.books.lock().unwrap().lose_next_answer = Some(outage);
    }

    /// The next capture is made, then refused as if it had not been asked before.
    pub fn refuse_next_capture_after_acting(&self) {
        self.books.lock().unwrap().refuse_next_capture_after_acting = true;
    }

    /// Forced failures still queued are dropped.
    pub fn clear_failures(&self) {
        self.books.lock().unwrap().recorder.clear_failures();
    }

    /// (status, captured, refunded) of an intent, in minor units.
    pub fn intent(&self, id: &str) -> (String, i64, i64) {
        let books = self.books.lock().unwrap();
        let intent = &books.intents[id];
        (intent.status.to_string(), intent.received, intent.refunded)
    }

    pub fn intent_count(&self) -> usize {
        self.books.lock().unwrap().intents.len()
    }

    /// The session expires unused, as after 24 hours or when the person leaves the page.
    pub fn expire_session(&self, id: &str) {
        let mut books = self.books.lock().unwrap();
        let session = books.sessions.get_mut(id).unwrap();
        assert_eq!(session.status, "open");
        session.status = "expired";
    }

    /// The id the next card saved on a Checkout page will get (ids here are sequential).
    pub fn next_saved_method(&self) -> String {
        format!("pm_fakesaved{}", self.books.lock().unwrap().next_id + 1)
    }

    /// The `metadata[itinera_owner]` of each customer created.
    pub fn customers(&self) -> Vec<String> {
        self.books
            .lock()
            .unwrap()
            .customers
            .values()
            .cloned()
            .collect()
    }
}

fn error(status: u16, kind: &str, code: &str, message: &str) -> (u16, Value) {
    (
        status,
        json!({"error": {"type": kind, "code": code, "message": message}}),
    )
}

fn intent_json(id: &str, intent: &Intent, base_url: &str, expand: bool) -> Value {
    let mut body = json!({
        "id": id,
        "object": "payment_intent",
        "amount": intent.amount,
        "amount_capturable": intent.capturable,
        "amount_received": intent.received,
        "currency": intent.currency,
        "status": intent.status,
        "capture_method": "manual",
        "latest_charge": format!("ch_{id}"),
        "next_action": null,
        "last_payment_error": null,
    });
    if intent.status == "requires_action" {
        body["next_action"] = json!({"type": "redirect_to_url", "redirect_to_url": {"url": format!("{base_url}/fake/3ds/{id}"), "return_url": "x"}});
    }
    if expand {
        body["latest_charge"] = json!({"id": format!("ch_{id}"), "object": "charge", "amount_refunded": intent.refunded});
    }
    body
}

fn respond(status: u16, body: Value, replayed: bool) -> Response {
    let mut response = json_response(status, &body);
    response
        .headers_mut()
        .insert("request-id", "req_fake".parse().unwrap());
    if replayed {
        response
            .headers_mut()
            .insert("idempotent-replayed", "true".parse().unwrap());
    }
    response
}

/// Records the request; answers now (a bad key, a forced failure) or lets it through (`None`).
fn answer_early(
    fake: &FakeStripe,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    form: Vec<(String, String)>,
) -> Option<Response> {
    let mut books = fake.books.lock().unwrap();
    books
        .recorder
        .record(method.as_str(), uri.path(), headers, form, None);
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(&format!("Bearer {KEY}"))
    {
        let (status, body) = error(
            401,
            "invalid_request_error",
            "api_key_invalid",
            "Invalid API Key provided",
        );
        return Some(respond(status, body, false));
    }
    books
        .recorder
        .forced_failure(|status| error(status, "api_error", "fake_failure", "forced by the test").1)
}

async fn handle_get(
    State(fake): State<FakeStripe>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let query: Vec<(String, String)> =
        serde_urlencoded::from_str(uri.query().unwrap_or_default()).unwrap_or_default();
    if let Some(response) = answer_early(&fake, &method, &uri, &headers, query.clone()) {
        return response;
    }
    let books = fake.books.lock().unwrap();
    let expand = query
        .iter()
        .any(|(k, v)| k.starts_with("expand") && v == "latest_charge");
    let found = match uri.path().trim_start_matches("/v1/").split('/').next() {
        Some("payment_intents") => books
            .intents
            .get(&id)
            .map(|intent| intent_json(&id, intent, &fake.base_url, expand)),
        Some("checkout") => books
            .sessions
            .get(&id)
            .map(|session| session_json(&id, session, &fake.base_url)),
        Some("setup_intents") => books.setup_intents.get(&id).map(|method| {
            json!({"id": id, "object": "setup_intent", "status": if method.is_some() { "succeeded" } else { "requires_payment_method" }, "payment_method": method})
        }),
        Some("payment_methods") => books.saved.get(&id).map(|card| {
            json!({"id": id, "object": "payment_method", "type": "card", "customer": card.customer,
                   "card": {"brand": "visa", "last4": card.last4, "exp_month": 12, "exp_year": 2030}})
        }),
        _ => None,
    };
    match found {
        Some(body) => respond(200, body, false),
        None => {
            let (status, body) = error(
                404,
                "invalid_request_error",
                "resource_missing",
                &format!("No such object: '{id}'"),
            );
            respond(status, body, false)
        }
    }
}

fn session_json(id: &str, session: &Session, base_url: &str) -> Value {
    json!({
        "id": id,
        "object": "checkout.session",
        "mode": "setup",
        "status": session.status,
        "url": (session.status == "open").then(|| format!("{base_url}/fake/checkout/{id}")),
        "customer": session.customer,
        "setup_intent": session.setup_intent,
        "expires_at": session.expires_at,
    })
}

async fn handle(
    State(fake): State<FakeStripe>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: String,
) -> Response {
    let is_form = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let form: Vec<(String, String)> = serde_urlencoded::from_str(&body).unwrap_or_default();
    if let Some(response) = answer_early(&fake, &method, &uri, &headers, form.clone()) {
        return response;
    }
    if !is_form {
        let (status, body) = error(
            400,
            "invalid_request_error",
            "parameter_invalid",
            "bodies are form-encoded",
        );
        return respond(status, body, false);
    }
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let fingerprint = format!("{} {} {form:?}", method, uri.path());
    let mut books = fake.books.lock().unwrap();
    if let Some(key) = &key {
        match books.recorder.replay(key, &fingerprint) {
            Replay::New => {}
            Replay::Same(status, body) => return respond(status, body, true),
            Replay::Conflict => {
                let (status, body) = error(
                    400,
                    "idempotency_error",
                    "idempotency_key_in_use",
                    "Keys for idempotent requests can only be used with the same parameters they were first used with.",
                );
                return respond(status, body, false);
            }
        }
    }
    let (status, body) = act(&mut books, uri.path(), &form, &fake.base_url);
    if let Some(key) = key {
        books.recorder.store(key, fingerprint, status, body.clone());
    }
    if uri.path().ends_with("/capture")
        && std::mem::take(&mut books.refuse_next_capture_after_acting)
    {
        let (status, body) = error(
            400,
            "invalid_request_error",
            "payment_intent_unexpected_state",
            "This PaymentIntent could not be captured because it has a status of succeeded.",
        );
        return respond(status, body, false);
    }
    if let Some(outage) = books.lose_next_answer.take() {
        for _ in 0..outage {
            books.recorder.fail_next(503, None);
        }
        let (status, body) = error(500, "api_error", "lost", "the answer was lost on the way");
        return respond(status, body, false);
    }
    respond(status, body, false)
}

fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn act(books: &mut Books, path: &str, form: &[(String, String)], base_url: &str) -> (u16, Value) {
    let parts: Vec<&str> = path.trim_start_matches("/v1/").split('/').collect();
    match parts.as_slice() {
        ["payment_intents"] => create(books, form, base_url),
        ["payment_intents", id, "capture"] => capture(books, id, form, base_url),
        ["payment_intents", id, "cancel"] => cancel(books, id, base_url),
        ["refunds"] => refund(books, form),
        ["customers"] => create_customer(books, form),
        ["checkout", "sessions"] => create_session(books, form, base_url),
        _ => error(
            404,
            "invalid_request_error",
            "resource_missing",
            "Unrecognized request URL",
        ),
    }
}

fn create(books: &mut Books, form: &[(String, String)], base_url: &str) -> (u16, Value) {
    let Some(amount) = field(form, "amount")
        .and_then(|a| a.parse::<i64>().ok())
        .filter(|a| *a > 0)
    else {
        return error(
            400,
            "invalid_request_error",
            "parameter_invalid_integer",
            "amount must be a positive integer in minor units",
        );
    };
    let currency = field(form, "currency").unwrap_or_default().to_string();
    if currency.len() != 3 || currency.chars().any(|c| !c.is_ascii_lowercase()) {
        return error(
            400,
            "invalid_request_error",
            "parameter_invalid",
            "currency must be a lowercase ISO code",
        );
    }
    if field(form, "capture_method") != Some("manual") || field(form, "confirm") != Some("true") {
        return error(
            400,
            "invalid_request_error",
            "parameter_invalid",
            "this fake only does confirmed manual-capture intents",
        );
    }
    let method = field(form, "payment_method").unwrap_or_default();
    let method = match books.saved.get(method) {
        None => method,
        Some(card) => match field(form, "customer") {
            Some(customer) if customer == card.customer => card.behaves_as,
            Some(_) => {
                return error(
                    400,
                    "invalid_request_error",
                    "resource_missing",
                    &format!(
                        "The customer does not have a payment method with the ID {method}. The payment method must be attached to the customer."
                    ),
                );
            }
            None => {
                return error(
                    400,
                    "invalid_request_error",
                    "payment_method_unexpected_state",
                    "This PaymentMethod is attached to a Customer: pass that Customer in `customer`.",
                );
            }
        },
    };
    let status = match method {
        "pm_card_visa" => "requires_capture",
        "pm_card_threeDSecure2Required" => "requires_action",
        "pm_card_visa_chargeDeclined" => {
            return card_error("generic_decline", "Your card was declined.");
        }
        "pm_card_visa_chargeDeclinedInsufficientFunds" => {
            return card_error("insufficient_funds", "Your card has insufficient funds.");
        }
        other => {
            return error(
                400,
                "invalid_request_error",
                "resource_missing",
                &format!("No such PaymentMethod: '{other}'"),
            );
        }
    };
    books.next_id += 1;
    let id = format!("pi_fake{}", books.next_id);
    let intent = Intent {
        amount,
        capturable: if status == "requires_capture" {
            amount
        } else {
            0
        },
        received: 0,
        refunded: 0,
        currency,
        status,
    };
    let body = intent_json(&id, &intent, base_url, false);
    books.intents.insert(id, intent);
    (200, body)
}

fn card_error(decline_code: &str, message: &str) -> (u16, Value) {
    (
        402,
        json!({"error": {"type": "card_error", "code": "card_declined", "decline_code": decline_code, "message": message}}),
    )
}

fn capture(books: &mut Books, id: &str, form: &[(String, String)], base_url: &str) -> (u16, Value) {
    let Some(intent) = books.intents.get_mut(id) else {
        return error(
            404,
            "invalid_request_error",
            "resource_missing",
            "No such payment_intent",
        );
    };
    if intent.status != "requires_capture" {
        return error(
            400,
            "invalid_request_error",
            "payment_intent_unexpected_state",
            "This PaymentIntent could not be captured because it has a status other than requires_capture.",
        );
    }
    let amount = field(form, "amount_to_capture")
        .and_then(|a| a.parse::<i64>().ok())
        .unwrap_or(intent.capturable);
    if amount > intent.capturable || amount <= 0 {
        return error(
            400,
            "invalid_request_error",
            "amount_too_large",
            "amount_to_capture is larger than amount_capturable",
        );
    }
    intent.status = "succeeded";
    intent.received = amount;
    intent.capturable = 0;
    (200, intent_json(id, intent, base_url, false))
}

fn cancel(books: &mut Books, id: &str, base_url: &str) -> (u16, Value) {
    let Some(intent) = books.intents.get_mut(id) else {
        return error(
            404,
            "invalid_request_error",
            "resource_missing",
            "No such payment_intent",
        );
    };
    if !matches!(
        intent.status,
        "requires_capture" | "requires_action" | "requires_payment_method"
    ) {
        return error(
            400,
            "invalid_request_error",
            "payment_intent_unexpected_state",
            "You cannot cancel this PaymentIntent because it has a status of succeeded.",
        );
    }
    intent.status = "canceled";
    intent.capturable = 0;
    (200, intent_json(id, intent, base_url, false))
}

fn refund(books: &mut Books, form: &[(String, String)]) -> (u16, Value) {
    let id = field(form, "payment_intent")
        .unwrap_or_default()
        .to_string();
    let Some(intent) = books.intents.get_mut(&id) else {
        return error(
            404,
            "invalid_request_error",
            "resource_missing",
            "No such payment_intent",
        );
    };
    if intent.status != "succeeded" {
        return error(
            400,
            "invalid_request_error",
            "charge_not_captured",
            "This PaymentIntent has no captured charge to refund.",
        );
    }
    let left = intent.received - intent.refunded;
    let amount = field(form, "amount")
        .and_then(|a| a.parse::<i64>().ok())
        .unwrap_or(left);
    if amount > left || amount <= 0 {
        return error(
            400,
            "invalid_request_error",
            "amount_too_large",
            "Refund amount is greater than the unrefunded amount on the charge.",
        );
    }
    intent.refunded += amount;
    books.next_id += 1;
    (
        200,
        json!({"id": format!("re_fake{}", books.next_id), "object": "refund", "amount": amount, "currency": intent.currency, "status": "succeeded", "payment_intent": id}),
    )
}

async fn complete_3ds(State(fake): State<FakeStripe>, Path(id): Path<String>) -> &'static str {
    let mut books = fake.books.lock().unwrap();
    match books.intents.get_mut(&id) {
        Some(intent) if intent.status == "requires_action" => {
            intent.status = "requires_capture";
            intent.capturable = intent.amount;
            "authenticated"
        }
        _ => "nothing to authenticate",
    }
}

fn create_customer(books: &mut Books, form: &[(String, String)]) -> (u16, Value) {
    books.next_id += 1;
    let id = format!("cus_fake{}", books.next_id);
    let owner = field(form, "metadata[itinera_owner]")
        .unwrap_or_default()
        .to_string();
    books.customers.insert(id.clone(), owner.clone());
    (
        200,
        json!({"id": id, "object": "customer", "metadata": {"itinera_owner": owner}}),
    )
}

fn create_session(books: &mut Books, form: &[(String, String)], base_url: &str) -> (u16, Value) {
    if field(form, "mode") != Some("setup") {
        return error(
            400,
            "invalid_request_error",
            "parameter_invalid",
            "this fake only opens sessions in setup mode",
        );
    }
    let Some(customer) = field(form, "customer").filter(|c| books.customers.contains_key(*c))
    else {
        return error(
            400,
            "invalid_request_error",
            "resource_missing",
            "No such customer",
        );
    };
    // Setup mode needs the method types or a currency (dynamic payment methods).
    if field(form, "payment_method_types[0]").is_none() && field(form, "currency").is_none() {
        return error(
            400,
            "invalid_request_error",
            "parameter_missing",
            "Missing required param: currency.",
        );
    }
    if field(form, "success_url").is_none() {
        return error(
            400,
            "invalid_request_error",
            "parameter_missing",
            "Missing required param: success_url.",
        );
    }
    books.next_id += 1;
    let id = format!("cs_test_fake{}", books.next_id);
    let setup_intent = format!("seti_fake{}", books.next_id);
    let session = Session {
        customer: customer.to_string(),
        status: "open",
        setup_intent: setup_intent.clone(),
        expires_at: chrono::Utc::now().timestamp() + 24 * 3600,
    };
    let body = session_json(&id, &session, base_url);
    books.setup_intents.insert(setup_intent, None);
    books.sessions.insert(id, session);
    (200, body)
}

/// The person types a card on Stripe's Checkout page and saves it: `?card=visa` (approves) or
/// `?card=declined`.
async fn complete_checkout(
    State(fake): State<FakeStripe>,
    Path(id): Path<String>,
    uri: Uri,
) -> &'static str {
    let typed: Vec<(String, String)> =
        serde_urlencoded::from_str(uri.query().unwrap_or_default()).unwrap_or_default();
    let (behaves_as, last4) = match field(&typed, "card").unwrap_or_default() {
        "visa" => ("pm_card_visa", "4242"),
        "declined" => ("pm_card_visa_chargeDeclined", "0002"),
        _ => return "unknown test card",
    };
    let mut books = fake.books.lock().unwrap();
    books.next_id += 1;
    let method = format!("pm_fakesaved{}", books.next_id);
    let Some(session) = books.sessions.get_mut(&id).filter(|s| s.status == "open") else {
        return "this page is no longer open";
    };
    session.status = "complete";
    let (customer, setup_intent) = (session.customer.clone(), session.setup_intent.clone());
    books
        .setup_intents
        .insert(setup_intent, Some(method.clone()));
    books.saved.insert(
        method,
        SavedCard {
            customer,
            behaves_as,
            last4,
        },
    );
    "saved"
}
