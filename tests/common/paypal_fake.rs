//! A local PayPal, following the wire contract in `shared/provider-apis.md` §3: an OAuth2
//! client-credentials token endpoint (Basic auth, form body) whose tokens expire, Orders v2 with
//! `intent=AUTHORIZE` that the payer must approve (a `payer-action` link), authorize, capture,
//! void (204, or the authorization with `Prefer: return=representation`) and refund; decimal
//! string amounts with exactly the currency's decimals; `PayPal-Request-Id` replays; the error
//! object with `details[].issue` (`ORDER_NOT_APPROVED`, `INSTRUMENT_DECLINED`).
//!
//! Vault v3: setup tokens (`PAYER_ACTION_REQUIRED` with an `approve` link, then `APPROVED` once
//! the payer approves at `/fake/vault-approve/{id}`), payment tokens made from an approved setup
//! token (`PAYER_ACTION_REQUIRED` before, `SETUP_TOKEN_ALREADY_TOKENIZED` twice), and orders paid
//! with `payment_source.paypal.vault_id`, authorized at creation with no payer step (and refused
//! without a `PayPal-Request-Id`, mandatory for such single-step orders).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

pub use super::fake_http::Received;
use super::fake_http::{Recorder, json_response};

pub const CLIENT_ID: &str = "itinera-fake-client";
pub const CLIENT_SECRET: &str = "itinera-fake-secret";

#[derive(Debug, Clone)]
struct Order {
    currency: String,
    /// Minor units.
    amount: i64,
    status: &'static str,
    /// The payer's instrument will be declined at authorization.
    declines: bool,
    authorization: Option<(String, &'static str)>,
    capture: Option<(String, i64)>,
    refunds: Vec<(String, i64)>,
}

#[derive(Default)]
struct Books {
    orders: HashMap<String, Order>,
    /// Access token → still valid.
    tokens: HashMap<String, bool>,
    tokens_issued: u32,
    /// The next capture comes back DECLINED, as when the funding source fails at capture.
    decline_next_capture: bool,
    recorder: Recorder,
    next_id: u64,
    /// Setup token → (status, customer id).
    setup_tokens: HashMap<String, (&'static str, String)>,
    /// Payment token (vault id) → customer id.
    payment_tokens: HashMap<String, String>,
}

#[derive(Clone)]
pub struct FakePayPal {
    books: Arc<Mutex<Books>>,
    pub base_url: String,
}

impl FakePayPal {
    pub async fn start() -> FakePayPal {
        let (listener, base_url) = super::fake_http::bind().await;
        let fake = FakePayPal {
            books: Arc::default(),
            base_url,
        };
        let app = Router::new()
            .route("/v1/oauth2/token", post(token))
            .route("/v2/checkout/orders", post(api))
            .route("/v2/checkout/orders/{id}", get(api))
            .route("/v2/checkout/orders/{id}/{action}", post(api))
            .route("/v2/payments/{kind}/{id}/{action}", post(api))
            .route("/v3/vault/setup-tokens", post(api))
            .route("/v3/vault/setup-tokens/{id}", get(api))
            .route("/v3/vault/payment-tokens", post(api))
            .route("/fake/vault-approve/{id}", get(approve_vault))
            .route(
                "/v1/notifications/verify-webhook-signature",
                post(verify_webhook),
            )
            .route("/fake/approve/{id}", get(approve))
            .route("/fake/approve-declining/{id}", get(approve_declining))
            .with_state(fake.clone());
        super::fake_http::serve(listener, app);
        fake
    }

    pub fn received(&self) -> Vec<Received> {
        self.books.lock().unwrap().recorder.received.clone()
    }

    pub fn fail_next(&self, status: u16, retry_after: Option<u64>) {
        self.books
            .lock()
            .unwrap()
            .recorder
            .fail_next(status, retry_after);
    }

    /// The next capture is declined by the funding source.
    pub fn decline_next_capture(&self) {
        self.books.lock().unwrap().decline_next_capture = true;
    }

    /// Every token issued so far stops working, as when they expire.
    pub fn expire_tokens(&self) {
        for valid in self.books.lock().unwrap().tokens.values_mut() {
            *valid = false;
        }
    }

    pub fn tokens_issued(&self) -> u32 {
        self.books.lock().unwrap().tokens_issued
    }

    /// (order status, authorization status, captured, refunded) in minor units.
    pub fn order(&self, id: &str) -> (String, String, i64, i64) {
        let books = self.books.lock().unwrap();
        let order = &books.orders[id];
        (
            order.status.to_string(),
            order.authorization.as_ref().map_or("", |a| a.1).to_string(),
            order.capture.as_ref().map_or(0, |c| c.1),
            order.refunds.iter().map(|r| r.1).sum(),
        )
    }

    /// The transmission headers PayPal would send with this event for this webhook id.
    pub fn sign_event(&self, body: &str, webhook_id: &str) -> Vec<(&'static str, String)> {
        let event: Value = serde_json::from_str(body).unwrap();
        let id = format!("TX-{}", event["id"].as_str().unwrap_or_default());
        vec![
            ("paypal-auth-algo", "SHA256withRSA".into()),
            ("paypal-cert-url", format!("{}/fake/cert", self.base_url)),
            ("paypal-transmission-id", id.clone()),
            (
                "paypal-transmission-sig",
                transmission_signature(&id, webhook_id, body),
            ),
            ("paypal-transmission-time", "2026-11-25T12:00:00Z".into()),
        ]
    }

    pub fn order_count(&self) -> usize {
        self.books.lock().unwrap().orders.len()
    }
}

/// Stands in for PayPal's RSA signature: only this fake can make it, and it covers the
/// transmission, the webhook id and the event's exact bytes.
fn transmission_signature(transmission_id: &str, webhook_id: &str, event: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(format!(
        "fake-paypal|{transmission_id}|{webhook_id}|{event}"
    )))
}

/// PayPal's online check of a delivery.
async fn verify_webhook(
    State(fake): State<FakePayPal>,
    headers: HeaderMap,
    body: String,
) -> Response {
    #[derive(serde::Deserialize)]
    struct Raw<'a> {
        #[serde(borrow)]
        webhook_event: &'a serde_json::value::RawValue,
    }
    let request: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let raw_event = serde_json::from_str::<Raw>(&body)
        .map(|raw| raw.webhook_event.get().to_string())
        .unwrap_or_default();
    let mut books = fake.books.lock().unwrap();
    books.recorder.record(
        "POST",
        "/v1/notifications/verify-webhook-signature",
        &headers,
        Vec::new(),
        Some(request.clone()),
    );
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if books.tokens.get(bearer) != Some(&true) {
        let (status, body) = error(
            401,
            "AUTHENTICATION_FAILURE",
            "INVALID_TOKEN",
            "Authentication failed.",
        );
        return json_response(status, &body);
    }
    let expected = transmission_signature(
        request["transmission_id"].as_str().unwrap_or_default(),
        request["webhook_id"].as_str().unwrap_or_default(),
        &raw_event,
    );
    let verdict = if request["transmission_sig"] == expected.as_str() {
        "SUCCESS"
    } else {
        "FAILURE"
    };
    json_response(200, &json!({"verification_status": verdict}))
}

/// PayPal's answer for an id it does not know.
fn not_found() -> (u16, Value) {
    error(
        404,
        "RESOURCE_NOT_FOUND",
        "INVALID_RESOURCE_ID",
        "Specified resource ID does not exist.",
    )
}

fn error(status: u16, name: &str, issue: &str, description: &str) -> (u16, Value) {
    (
        status,
        json!({"name": name, "message": description, "debug_id": "fake", "details": [{"issue": issue, "description": description}]}),
    )
}

/// Decimals of the currencies the fake knows.
fn decimals(currency: &str) -> u32 {
    match currency {
        "JPY" | "KRW" => 0,
        _ => 2,
    }
}

fn value(minor: i64, currency: &str) -> Value {
    let places = decimals(currency);
    let text = if places == 0 {
        minor.to_string()
    } else {
        format!("{}.{:02}", minor / 100, minor % 100)
    };
    json!({"currency_code": currency, "value": text})
}

/// A PayPal amount in minor units, if it is written with exactly the currency's decimals.
fn minor(amount: &Value) -> Option<(i64, String)> {
    let currency = amount["currency_code"].as_str()?.to_string();
    let text = amount["value"].as_str()?;
    let places = decimals(&currency);
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if fraction.len() != places as usize {
        return None;
    }
    let minor = format!("{whole}{fraction}").parse::<i64>().ok()?;
    Some((minor, currency))
}

fn order_json(id: &str, order: &Order, base_url: &str) -> Value {
    let mut payments = json!({});
    if let Some((auth_id, status)) = &order.authorization {
        payments["authorizations"] = json!([{"id": auth_id, "status": status, "amount": value(order.amount, &order.currency)}]);
    }
    if let Some((capture_id, amount)) = &order.capture {
        let refunded: i64 = order.refunds.iter().map(|r| r.1).sum();
        let status = match refunded {
            0 => "COMPLETED",
            r if r == *amount => "REFUNDED",
            _ => "PARTIALLY_REFUNDED",
        };
        payments["captures"] = json!([{"id": capture_id, "status": status, "amount": value(*amount, &order.currency)}]);
    }
    if !order.refunds.is_empty() {
        payments["refunds"] = order
            .refunds
            .iter()
            .map(|(id, amount)| json!({"id": id, "status": "COMPLETED", "amount": value(*amount, &order.currency)}))
            .collect();
    }
    let mut links = vec![
        json!({"href": format!("{base_url}/v2/checkout/orders/{id}"), "rel": "self", "method": "GET"}),
    ];
    if order.status == "PAYER_ACTION_REQUIRED" {
        links.push(json!({"href": format!("{base_url}/fake/approve/{id}"), "rel": "payer-action", "method": "GET"}));
    }
    json!({
        "id": id,
        "intent": "AUTHORIZE",
        "status": order.status,
        "purchase_units": [{"reference_id": "default", "amount": value(order.amount, &order.currency), "payments": payments}],
        "links": links,
    })
}

async fn token(State(fake): State<FakePayPal>, headers: HeaderMap, body: String) -> Response {
    use base64::Engine;
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"))
    );
    let mut books = fake.books.lock().unwrap();
    let form: Vec<(String, String)> = serde_urlencoded::from_str(&body).unwrap_or_default();
    books
        .recorder
        .record("POST", "/v1/oauth2/token", &headers, form.clone(), None);
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
        return json_response(
            401,
            &json!({"error": "invalid_client", "error_description": "Client Authentication failed"}),
        );
    }
    if form != [("grant_type".to_string(), "client_credentials".to_string())] {
        return json_response(
            400,
            &json!({"error": "unsupported_grant_type", "error_description": "grant_type must be client_credentials"}),
        );
    }
    books.tokens_issued += 1;
    let token = format!("A21fake{}", books.tokens_issued);
    books.tokens.insert(token.clone(), true);
    json_response(
        200,
        &json!({"access_token": token, "token_type": "Bearer", "expires_in": 32400, "scope": "https://uri.paypal.com/services/payments"}),
    )
}

async fn api(
    State(fake): State<FakePayPal>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: String,
) -> Response {
    let json: Option<Value> = serde_json::from_str(&body).ok();
    let mut books = fake.books.lock().unwrap();
    books.recorder.record(
        method.as_str(),
        uri.path(),
        &headers,
        Vec::new(),
        json.clone(),
    );
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if books.tokens.get(bearer) != Some(&true) {
        let (status, body) = error(
            401,
            "AUTHENTICATION_FAILURE",
            "INVALID_TOKEN",
            "Authentication failed due to invalid authentication credentials or a missing Authorization header.",
        );
        return json_response(status, &body);
    }
    if let Some(response) = books.recorder.forced_failure(|status| {
        error(
            status,
            "INTERNAL_SERVER_ERROR",
            "FORCED",
            "forced by the test",
        )
        .1
    }) {
        return response;
    }
    let request_id = headers
        .get("paypal-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let fingerprint = format!("{method} {} {body}", uri.path());
    // A reused request id answers the original request's result, whatever the new body says.
    if method == Method::POST
        && let Some(id) = &request_id
        && let Some((status, body)) = books.recorder.stored(id)
    {
        return answer(status, &body);
    }
    if request_id.is_none()
        && json
            .as_ref()
            .is_some_and(|body| body["payment_source"]["paypal"]["vault_id"].is_string())
    {
        let (status, body) = error(
            400,
            "INVALID_REQUEST",
            "PAYPAL_REQUEST_ID_REQUIRED",
            "A PayPal-Request-Id is required if you are trying to process payment for an Order.",
        );
        return json_response(status, &body);
    }
    let representation = headers.get("prefer").is_some_and(|v| {
        v.to_str()
            .unwrap_or_default()
            .contains("return=representation")
    });
    let (status, body) = act(
        &mut books,
        &method,
        uri.path(),
        json.unwrap_or(Value::Null),
        &fake.base_url,
        representation,
    );
    if method == Method::POST
        && let Some(id) = request_id
    {
        books.recorder.store(id, fingerprint, status, body.clone());
    }
    answer(status, &body)
}

fn answer(status: u16, body: &Value) -> Response {
    if status == 204 {
        return axum::http::StatusCode::NO_CONTENT.into_response();
    }
    json_response(status, body)
}

fn act(
    books: &mut Books,
    method: &Method,
    path: &str,
    body: Value,
    base_url: &str,
    representation: bool,
) -> (u16, Value) {
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (method.as_str(), parts.as_slice()) {
        ("POST", ["v2", "checkout", "orders"]) => create(books, &body, base_url),
        ("GET", ["v2", "checkout", "orders", id]) => match books.orders.get(*id) {
            Some(order) => (200, order_json(id, order, base_url)),
            None => not_found(),
        },
        ("POST", ["v2", "checkout", "orders", id, "authorize"]) => authorize(books, id, base_url),
        ("POST", ["v2", "payments", "authorizations", id, "capture"]) => capture(books, id, &body),
        ("POST", ["v2", "payments", "authorizations", id, "void"]) => {
            void(books, id, representation)
        }
        ("POST", ["v2", "payments", "captures", id, "refund"]) => refund(books, id, &body),
        ("POST", ["v3", "vault", "setup-tokens"]) => create_setup_token(books, &body, base_url),
        ("GET", ["v3", "vault", "setup-tokens", id]) => match books.setup_tokens.get(*id) {
            Some((status, customer)) => (200, setup_token_json(id, status, customer, base_url)),
            None => not_found(),
        },
        ("POST", ["v3", "vault", "payment-tokens"]) => create_payment_token(books, &body),
        _ => error(
            404,
            "RESOURCE_NOT_FOUND",
            "NOT_FOUND",
            "no such endpoint in the fake",
        ),
    }
}

fn create(books: &mut Books, body: &Value, base_url: &str) -> (u16, Value) {
    if body["intent"] != "AUTHORIZE" {
        return error(
            400,
            "INVALID_REQUEST",
            "INVALID_PARAMETER_VALUE",
            "this fake only takes intent AUTHORIZE",
        );
    }
    let Some((amount, currency)) = minor(&body["purchase_units"][0]["amount"]) else {
        return error(
            422,
            "UNPROCESSABLE_ENTITY",
            "DECIMAL_PRECISION",
            "If the currency supports decimals, only two decimal place precision is supported.",
        );
    };
    books.next_id += 1;
    let id = format!("ORDER{}", books.next_id);
    // A saved account pays at once: authorized with no payer step.
    let vaulted = match body["payment_source"]["paypal"]["vault_id"].as_str() {
        None => None,
        Some(vault_id) if books.payment_tokens.contains_key(vault_id) => {
            Some(format!("AUTH{}", books.next_id))
        }
        Some(_) => {
            return error(
                422,
                "UNPROCESSABLE_ENTITY",
                "INVALID_RESOURCE_ID",
                "Specified vault id does not exist.",
            );
        }
    };
    let order = Order {
        currency,
        amount,
        status: if vaulted.is_some() {
            "COMPLETED"
        } else {
            "PAYER_ACTION_REQUIRED"
        },
        declines: false,
        authorization: vaulted.map(|auth| (auth, "CREATED")),
        capture: None,
        refunds: Vec::new(),
    };
    let json = order_json(&id, &order, base_url);
    books.orders.insert(id, order);
    (201, json)
}

fn authorize(books: &mut Books, id: &str, base_url: &str) -> (u16, Value) {
    books.next_id += 1;
    let auth_id = format!("AUTH{}", books.next_id);
    let Some(order) = books.orders.get_mut(id) else {
        return not_found();
    };
    if order.status != "APPROVED" {
        return error(
            422,
            "UNPROCESSABLE_ENTITY",
            "ORDER_NOT_APPROVED",
            "Payer has not yet approved the Order for payment.",
        );
    }
    if order.declines {
        return error(
            422,
            "UNPROCESSABLE_ENTITY",
            "INSTRUMENT_DECLINED",
            "The instrument presented was either declined by the processor or bank, or it can't be used for this payment.",
        );
    }
    order.status = "COMPLETED";
    order.authorization = Some((auth_id, "CREATED"));
    (201, order_json(id, order, base_url))
}

fn find_by_authorization<'a>(books: &'a mut Books, auth_id: &str) -> Option<&'a mut Order> {
    books
        .orders
        .values_mut()
        .find(|o| o.authorization.as_ref().is_some_and(|a| a.0 == auth_id))
}

fn capture(books: &mut Books, auth_id: &str, body: &Value) -> (u16, Value) {
    books.next_id += 1;
    let capture_id = format!("CAPTURE{}", books.next_id);
    let declined = std::mem::take(&mut books.decline_next_capture);
    let Some(order) = find_by_authorization(books, auth_id) else {
        return not_found();
    };
    if order.authorization.as_ref().map(|a| a.1) != Some("CREATED") {
        return error(
            422,
            "UNPROCESSABLE_ENTITY",
            "AUTHORIZATION_ALREADY_CAPTURED",
            "Authorization has been previously captured or voided.",
        );
    }
    let amount = match body.get("amount") {
        None => order.amount,
        Some(amount) => match minor(amount) {
            Some((minor, currency)) if currency == order.currency && minor <= order.amount => minor,
            _ => {
                return error(
                    422,
                    "UNPROCESSABLE_ENTITY",
                    "AMOUNT_CANNOT_BE_SPECIFIED",
                    "The capture amount is not valid for this authorization.",
                );
            }
        },
    };
    if declined {
        return (
            201,
            json!({"id": capture_id, "status": "DECLINED", "amount": value(amount, &order.currency), "final_capture": true}),
        );
    }
    order.authorization = order.authorization.take().map(|(id, _)| {
        (
            id,
            if amount == order.amount {
                "CAPTURED"
            } else {
                "PARTIALLY_CAPTURED"
            },
        )
    });
    order.capture = Some((capture_id.clone(), amount));
    (
        201,
        json!({"id": capture_id, "status": "COMPLETED", "amount": value(amount, &order.currency), "final_capture": true}),
    )
}

fn void(books: &mut Books, auth_id: &str, representation: bool) -> (u16, Value) {
    let Some(order) = find_by_authorization(books, auth_id) else {
        return not_found();
    };
    if order.authorization.as_ref().map(|a| a.1) != Some("CREATED") {
        return error(
            422,
            "UNPROCESSABLE_ENTITY",
            "PREVIOUSLY_CAPTURED",
            "Authorization has been previously captured and hence cannot be voided.",
        );
    }
    order.authorization = order.authorization.take().map(|(id, _)| (id, "VOIDED"));
    if representation {
        let (id, status) = order.authorization.clone().unwrap();
        (
            200,
            json!({"id": id, "status": status, "amount": value(order.amount, &order.currency)}),
        )
    } else {
        (204, Value::Null)
    }
}

fn refund(books: &mut Books, capture_id: &str, body: &Value) -> (u16, Value) {
    books.next_id += 1;
    let refund_id = format!("REFUND{}", books.next_id);
    let Some(order) = books
        .orders
        .values_mut()
        .find(|o| o.capture.as_ref().is_some_and(|c| c.0 == capture_id))
    else {
        return not_found();
    };
    let captured = order.capture.as_ref().map_or(0, |c| c.1);
    let left = captured - order.refunds.iter().map(|r| r.1).sum::<i64>();
    let amount = match body.get("amount") {
        None => left,
        Some(amount) => match minor(amount) {
            Some((minor, currency)) if currency == order.currency && minor <= left && minor > 0 => {
                minor
            }
            _ => {
                return error(
                    422,
                    "UNPROCESSABLE_ENTITY",
                    "REFUND_AMOUNT_EXCEEDED",
                    "The refund amount must be less than or equal to the capture amount that has not yet been refunded.",
                );
            }
        },
    };
    order.refunds.push((refund_id.clone(), amount));
    (
        201,
        json!({"id": refund_id, "status": "COMPLETED", "amount": value(amount, &order.currency)}),
    )
}

fn mark_approved(fake: &FakePayPal, id: &str, declines: bool) -> &'static str {
    let mut books = fake.books.lock().unwrap();
    match books.orders.get_mut(id) {
        Some(order) if order.status == "PAYER_ACTION_REQUIRED" => {
            order.status = "APPROVED";
            order.declines = declines;
            "approved"
        }
        _ => "nothing to approve",
    }
}

/// The payer approves on PayPal.
async fn approve(State(fake): State<FakePayPal>, Path(id): Path<String>) -> &'static str {
    mark_approved(&fake, &id, false)
}

/// The payer approves with an instrument the bank will decline.
async fn approve_declining(State(fake): State<FakePayPal>, Path(id): Path<String>) -> &'static str {
    mark_approved(&fake, &id, true)
}

fn setup_token_json(id: &str, status: &str, customer: &str, base_url: &str) -> Value {
    let mut links = vec![
        json!({"href": format!("{base_url}/v3/vault/setup-tokens/{id}"), "rel": "self", "method": "GET"}),
    ];
    if status == "PAYER_ACTION_REQUIRED" {
        links.push(json!({"href": format!("{base_url}/fake/vault-approve/{id}"), "rel": "approve", "method": "GET"}));
    }
    json!({"id": id, "customer": {"id": customer}, "status": status, "payment_source": {"paypal": {}}, "links": links})
}

fn create_setup_token(books: &mut Books, body: &Value, base_url: &str) -> (u16, Value) {
    let paypal = &body["payment_source"]["paypal"];
    let context = &paypal["experience_context"];
    if paypal["usage_type"] != "MERCHANT"
        || !context["return_url"].is_string()
        || !context["cancel_url"].is_string()
    {
        return error(
            400,
            "INVALID_REQUEST",
            "MISSING_REQUIRED_PARAMETER",
            "payment_source.paypal needs usage_type and experience_context return_url and cancel_url",
        );
    }
    books.next_id += 1;
    let id = format!("SETUP{}", books.next_id);
    let customer = body["customer"]["id"]
        .as_str()
        .map_or_else(|| format!("CUSTOMER{}", books.next_id), str::to_string);
    books
        .setup_tokens
        .insert(id.clone(), ("PAYER_ACTION_REQUIRED", customer.clone()));
    (
        200,
        setup_token_json(&id, "PAYER_ACTION_REQUIRED", &customer, base_url),
    )
}

fn create_payment_token(books: &mut Books, body: &Value) -> (u16, Value) {
    let token = &body["payment_source"]["token"];
    if token["type"] != "SETUP_TOKEN" {
        return error(
            400,
            "INVALID_REQUEST",
            "INVALID_PARAMETER_VALUE",
            "payment_source.token.type must be SETUP_TOKEN",
        );
    }
    let setup_id = token["id"].as_str().unwrap_or_default().to_string();
    books.next_id += 1;
    let vault_id = format!("VAULT{}", books.next_id);
    let Some((status, customer)) = books.setup_tokens.get_mut(&setup_id) else {
        return not_found();
    };
    match *status {
        "APPROVED" => {}
        "VAULTED" => {
            return error(
                422,
                "UNPROCESSABLE_ENTITY",
                "SETUP_TOKEN_ALREADY_TOKENIZED",
                "The setup token has been used previously to generate a payment token.",
            );
        }
        _ => {
            return error(
                422,
                "UNPROCESSABLE_ENTITY",
                "PAYER_ACTION_REQUIRED",
                "Please make sure setup up token is approved.",
            );
        }
    }
    *status = "VAULTED";
    let customer = customer.clone();
    books
        .payment_tokens
        .insert(vault_id.clone(), customer.clone());
    (
        200,
        json!({"id": vault_id, "customer": {"id": customer},
               "payment_source": {"paypal": {"email_address": "ada@example.com", "account_id": "FAKEPAYER"}}}),
    )
}

/// The payer approves saving their PayPal account on PayPal's page.
async fn approve_vault(State(fake): State<FakePayPal>, Path(id): Path<String>) -> &'static str {
    let mut books = fake.books.lock().unwrap();
    match books.setup_tokens.get_mut(&id) {
        Some((status, _)) if *status == "PAYER_ACTION_REQUIRED" => {
            *status = "APPROVED";
            "approved"
        }
        _ => "nothing to approve",
    }
}
