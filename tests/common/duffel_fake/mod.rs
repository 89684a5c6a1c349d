//! A local Duffel, following the wire contract in `shared/provider-apis.md` §1: a bearer
//! `duffel_test_…` token and `Duffel-Version: v2` on every call, bodies and answers wrapped in
//! `{"data": …}`, decimal-string amounts, offers with passenger ids an order must echo and an
//! `expires_at`, instant orders paid from the balance for exactly the offer's total, list pages
//! with `meta.after`, cancellation as a quote (`refund_amount`) then its confirmation, errors
//! as `{"meta": …, "errors": [{type, code, title, message}]}`, rate limits as 429 with
//! `ratelimit-*` headers. It records every request, and can be told to fail the next ones.
//!
//! Its own wording where the contract is silent (the error codes below, a 404 as
//! `invalid_request_error`/`not_found`): tests assert the error types and the adapter's reading,
//! not these strings. Like Duffel's create-order schema, it requires each passenger's `title`
//! and `gender`.

mod cars;
mod stays;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;
use axum::routing::{get, post};
use chrono::{Duration, Utc};
use rust_decimal::Decimal;
use serde_json::{Value, json};

pub use super::fake_http::Received;
use super::fake_http::{Recorder, json_response};

pub const TOKEN: &str = "duffel_test_fake_itinera";
/// The account's billing currency: every price is in it, whatever the search asked.
pub const CURRENCY: &str = "EUR";

/// What cancelling an order of this offer gives back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refund {
    /// `refund_before_departure: {allowed: true, penalty_amount: "0.00"}`.
    Free,
    /// Allowed, with this penalty in the billing currency.
    Fee(&'static str),
    /// `{allowed: false}`.
    None,
}

#[derive(Debug, Clone)]
struct StoredOffer {
    body: Value,
    total: Decimal,
    refund: Refund,
}

#[derive(Debug, Clone)]
struct StoredOrder {
    body: Value,
    total: Decimal,
    refund: Refund,
}

/// An error Duffel answers instead of acting: (path end, status, type, code).
type Refusal = (&'static str, u16, &'static str, &'static str);

#[derive(Default)]
struct Books {
    offers: HashMap<String, StoredOffer>,
    orders: Vec<StoredOrder>,
    cancellations: Vec<Value>,
    stays: stays::StaysBooks,
    cars: cars::CarsBooks,
    recorder: Recorder,
    next_id: u64,
    /// The next POST to a path ending so acts, but a 500 goes back instead of its answer.
    lose_answer_to: Option<&'static str>,
    /// The next request is refused with 429 and a reset this many seconds ahead.
    rate_limit_next: Option<i64>,
    /// The next request to a path ending so is refused with this error, doing nothing.
    refuse_next: Option<Refusal>,
    /// Cancellation quotes made before this many were made are refused at confirmation, as
    /// when their time ran out by Duffel's clock.
    quotes_refused_below: usize,
}

impl Books {
    fn id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}_0000FAKE{:08}", self.next_id)
    }
}

#[derive(Clone)]
pub struct FakeDuffel {
    books: Arc<Mutex<Books>>,
    pub base_url: String,
}

impl FakeDuffel {
    pub async fn start() -> FakeDuffel {
        let (listener, base_url) = super::fake_http::bind().await;
        let fake = FakeDuffel {
            books: Arc::default(),
            base_url,
        };
        let app = Router::new()
            .route("/air/airlines", get(handle))
            .route("/cars/search", post(handle))
            .route("/cars/quotes", post(handle))
            .route("/cars/bookings", post(handle))
            .route("/cars/bookings/{id}", get(handle))
            .route("/cars/bookings/{id}/actions/cancel", post(handle))
            .route("/stays/search", post(handle))
            .route(
                "/stays/search_results/{id}/actions/fetch_all_rates",
                post(handle),
            )
            .route("/stays/quotes", post(handle))
            .route("/stays/bookings", post(handle).get(handle))
            .route("/stays/bookings/{id}", get(handle))
            .route("/stays/bookings/{id}/actions/cancel", post(handle))
            .route("/air/offer_requests", post(handle))
            .route("/air/offers/{id}", get(handle))
            .route("/air/orders", post(handle).get(handle))
            .route("/air/order_cancellations", post(handle).get(handle))
            .route(
                "/air/order_cancellations/{id}/actions/confirm",
                post(handle),
            )
            .with_state(fake.clone());
        super::fake_http::serve(listener, app);
        fake
    }

    /// Itinera's settings for this fake, signing in with `token`, selling flights.
    pub fn settings(&self, token: &str) -> itinera::adapters::booking::duffel::DuffelSettings {
        itinera::adapters::booking::duffel::DuffelSettings {
            access_token: token.to_string(),
            base_url: self.base_url.clone(),
            supplier_timeout: std::time::Duration::from_millis(6500),
            products: vec![itinera::adapters::booking::duffel::DuffelProduct::Flights],
        }
    }

    /// Every request received, oldest first.
    pub fn received(&self) -> Vec<Received> {
        self.books.lock().unwrap().recorder.received.clone()
    }

    /// Requests received on this method and path.
    pub fn received_on(&self, method: &str, path: &str) -> Vec<Received> {
        self.books
            .lock()
            .unwrap()
            .recorder
            .received_on(method, path)
    }

    /// The next request is answered with this status and Duffel's error body, without acting.
    pub fn fail_next(&self, status: u16) {
        self.books.lock().unwrap().recorder.fail_next(status, None);
    }

    /// The next request is rate limited; the window reopens in `seconds`.
    pub fn rate_limit_next(&self, seconds: i64) {
        self.books.lock().unwrap().rate_limit_next = Some(seconds);
    }

    /// The next POST to a path ending in `path_end` acts, but its answer is lost (a 500 goes
    /// back).
    pub fn lose_answer_to(&self, path_end: &'static str) {
        self.books.lock().unwrap().lose_answer_to = Some(path_end);
    }

    /// The next request to a path ending in `path_end` does nothing and is answered with
    /// Duffel's error of this status, type and code.
    pub fn refuse_next(
        &self,
        path_end: &'static str,
        status: u16,
        kind: &'static str,
        code: &'static str,
    ) {
        self.books.lock().unwrap().refuse_next = Some((path_end, status, kind, code));
    }

    /// The car rate is no longer sold.
    pub fn withdraw_car(&self, rate: &str) {
        self.books.lock().unwrap().cars.withdraw(rate);
    }

    /// Every cancellation quote made so far is refused when confirmed (expired by Duffel's
    /// clock though its `expires_at` still reads ahead).
    pub fn withdraw_quotes(&self) {
        let mut books = self.books.lock().unwrap();
        books.quotes_refused_below = books.cancellations.len();
    }

    /// The offer's `expires_at` moves into the past, as when its time is up.
    pub fn expire_offer(&self, id: &str) {
        let mut books = self.books.lock().unwrap();
        let offer = books.offers.get_mut(id).unwrap();
        offer.body["expires_at"] = json!(timestamp(Utc::now() - Duration::minutes(1)));
    }

    /// Every stay booking made, oldest first, as Duffel shows it.
    pub fn stay_bookings(&self) -> Vec<Value> {
        self.books.lock().unwrap().stays.bookings.clone()
    }

    /// What the stay bookings took from the balance.
    pub fn stays_charged(&self) -> Decimal {
        self.books.lock().unwrap().stays.charged
    }

    /// The stay rate now costs `total`.
    pub fn reprice_stay(&self, rate: &str, total: &str) {
        self.books.lock().unwrap().stays.reprice(rate, total);
    }

    /// Every car booking made, oldest first, as Duffel shows it.
    pub fn car_bookings(&self) -> Vec<Value> {
        self.books.lock().unwrap().cars.bookings.clone()
    }

    /// What the car bookings took from the balance.
    pub fn cars_charged(&self) -> Decimal {
        self.books.lock().unwrap().cars.charged
    }

    /// The drivers the car searches were for.
    pub fn car_search_drivers(&self) -> Vec<Value> {
        self.books.lock().unwrap().cars.drivers.clone()
    }

    /// The car rate now costs `total`.
    pub fn reprice_car(&self, rate: &str, total: &str) {
        self.books.lock().unwrap().cars.reprice(rate, total);
    }

    /// Stay bookings are shown without their rooms and rates.
    pub fn hide_stay_rates(&self) {
        self.books.lock().unwrap().stays.hide_rates = true;
    }

    /// The stay rate is sold out.
    pub fn withdraw_stay(&self, rate: &str) {
        self.books.lock().unwrap().stays.withdraw(rate);
    }

    /// Every order made, oldest first: (id, cancelled).
    pub fn orders(&self) -> Vec<(String, bool)> {
        self.books
            .lock()
            .unwrap()
            .orders
            .iter()
            .map(|o| {
                (
                    o.body["id"].as_str().unwrap().to_string(),
                    !o.body["cancelled_at"].is_null(),
                )
            })
            .collect()
    }
}

fn timestamp(at: chrono::DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

fn error(status: u16, kind: &str, code: &str, message: &str) -> Response {
    json_response(
        status,
        &json!({
            "meta": {"status": status, "request_id": "FakeRequestId"},
            "errors": [{
                "type": kind,
                "code": code,
                "title": message,
                "message": message,
                "documentation_url": "https://duffel.com/docs/api/overview/errors",
            }],
        }),
    )
}

fn invalid(message: &str) -> Response {
    error(422, "validation_error", "invalid_parameters", message)
}

fn not_found(what: &str) -> Response {
    error(
        404,
        "invalid_request_error",
        "not_found",
        &format!("{what} was not found"),
    )
}

async fn handle(
    State(fake): State<FakeDuffel>,
    method: Method,
    uri: Uri,
    path: Option<Path<String>>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let query: Vec<(String, String)> =
        serde_urlencoded::from_str(uri.query().unwrap_or_default()).unwrap_or_default();
    let json: Option<Value> = serde_json::from_str(&body).ok();
    let mut books = fake.books.lock().unwrap();
    books.recorder.record(
        method.as_str(),
        uri.path(),
        &headers,
        query.clone(),
        json.clone(),
    );
    if let Some(refused) = check_headers(&method, &headers, &body, json.as_ref()) {
        return refused;
    }
    if let Some(seconds) = books.rate_limit_next.take() {
        let mut response = error(
            429,
            "rate_limit_error",
            "rate_limit_exceeded",
            "Too many requests",
        );
        let reset = (Utc::now() + Duration::seconds(seconds)).to_rfc2822();
        let headers = response.headers_mut();
        headers.insert("ratelimit-limit", "60".parse().unwrap());
        headers.insert("ratelimit-remaining", "0".parse().unwrap());
        headers.insert("ratelimit-reset", reset.parse().unwrap());
        return response;
    }
    if let Some(forced) = books.recorder.forced_failure(|status| {
        let kind = if status >= 500 { "api_error" } else { "invalid_request_error" };
        json!({"meta": {"status": status}, "errors": [{"type": kind, "code": "forced", "title": "Forced", "message": format!("forced HTTP {status}")}]})
    }) {
        return forced;
    }
    if let Some((_, status, kind, code)) = books
        .refuse_next
        .take_if(|(end, ..)| uri.path().ends_with(*end))
    {
        return error(status, kind, code, &format!("refused: {code}"));
    }
    let data = json.as_ref().map(|body| &body["data"]);
    let id = path.map(|Path(id)| id);
    let answer = if uri.path().starts_with("/stays/") || uri.path().starts_with("/cars/") {
        let Books {
            stays,
            cars,
            next_id,
            ..
        } = &mut *books;
        let mut mint = |prefix: &str| {
            *next_id += 1;
            format!("{prefix}_0000FAKE{:08}", *next_id)
        };
        if uri.path().starts_with("/cars/") {
            cars::handle(
                cars,
                &mut mint,
                method.as_str(),
                uri.path(),
                id.as_deref(),
                data,
            )
        } else {
            stays::handle(
                stays,
                &mut mint,
                method.as_str(),
                uri.path(),
                id.as_deref(),
                data,
                &query,
            )
        }
    } else {
        match (method.as_str(), uri.path()) {
            ("POST", "/air/offer_requests") => offer_request(&mut books, &query, data),
            ("GET", p) if p.starts_with("/air/offers/") => offer(&books, id.as_deref().unwrap()),
            ("POST", "/air/orders") => create_order(&mut books, data),
            ("GET", "/air/orders") => list_orders(&books, &query),
            ("GET", "/air/airlines") => json_response(
                200,
                &json!({"meta": {"limit": 1, "after": null, "before": null}, "data": [{"id": "arl_00009VME7DAGiJjwomhv32", "name": "Duffel Airways", "iata_code": "ZZ"}]}),
            ),
            ("POST", "/air/order_cancellations") => create_cancellation(&mut books, data),
            ("GET", "/air/order_cancellations") => list_cancellations(&books, &query),
            ("POST", _) => confirm_cancellation(&mut books, id.as_deref().unwrap()),
            _ => not_found("the route"),
        }
    };
    if method == Method::POST
        && books
            .lose_answer_to
            .is_some_and(|end| uri.path().ends_with(end))
    {
        books.lose_answer_to = None;
        return error(500, "api_error", "internal_server_error", "lost answer");
    }
    answer
}

/// Every call: the token, the version, JSON both ways; a body only inside `data`.
fn check_headers(
    method: &Method,
    headers: &HeaderMap,
    body: &str,
    json: Option<&Value>,
) -> Option<Response> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if header("authorization") != Some(&format!("Bearer {TOKEN}")) {
        return Some(error(
            401,
            "authentication_error",
            "invalid_authentication",
            "The access token used is not valid",
        ));
    }
    if header("duffel-version") != Some("v2") {
        return Some(error(
            400,
            "invalid_request_error",
            "unsupported_version",
            "Duffel-Version must be v2",
        ));
    }
    if header("accept") != Some("application/json") {
        return Some(error(
            406,
            "invalid_request_error",
            "not_acceptable",
            "Accept must be application/json",
        ));
    }
    if *method == Method::POST && !body.is_empty() {
        let is_json = header("content-type").is_some_and(|v| v.starts_with("application/json"));
        if !is_json || json.and_then(|j| j.get("data")).is_none() {
            return Some(invalid("the body must be JSON wrapped in a data object"));
        }
    }
    None
}

fn offer_request(books: &mut Books, query: &[(String, String)], data: Option<&Value>) -> Response {
    let data = data.cloned().unwrap_or_default();
    let slice = &data["slices"][0];
    let (Some(origin), Some(destination), Some(date)) = (
        slice["origin"].as_str(),
        slice["destination"].as_str(),
        slice["departure_date"].as_str(),
    ) else {
        return invalid("slices[0] needs origin, destination and departure_date");
    };
    let passengers = data["passengers"].as_array().cloned().unwrap_or_default();
    if passengers.is_empty()
        || passengers
            .iter()
            .any(|p| p["type"] != "adult" && !p["age"].is_u64())
    {
        return invalid("each passenger needs a type of adult, or an age");
    }
    let cabin = data["cabin_class"].as_str().unwrap_or("economy");
    if !["first", "business", "premium_economy", "economy"].contains(&cabin) {
        return invalid("cabin_class is not one of first, business, premium_economy, economy");
    }
    let passenger_ids: Vec<String> = passengers.iter().map(|_| books.id("pas")).collect();
    let count = Decimal::from(passenger_ids.len());
    let mut offers = Vec::new();
    for (index, (fare, refund)) in [
        ("294.40", Refund::Free),
        ("189.99", Refund::None),
        ("350.00", Refund::Fee("50.00")),
    ]
    .into_iter()
    .enumerate()
    {
        let id = books.id("off");
        let total = fare.parse::<Decimal>().unwrap() * count;
        let departs = format!("{date}T{:02}:05:00", 7 + index * 4);
        let arrives = format!("{date}T{:02}:25:00", 9 + index * 4);
        let conditions = match refund {
            Refund::Free => {
                json!({"allowed": true, "penalty_amount": "0.00", "penalty_currency": CURRENCY})
            }
            Refund::Fee(fee) => {
                json!({"allowed": true, "penalty_amount": fee, "penalty_currency": CURRENCY})
            }
            Refund::None => {
                json!({"allowed": false, "penalty_amount": null, "penalty_currency": null})
            }
        };
        let body = json!({
            "id": id,
            "live_mode": false,
            "expires_at": timestamp(Utc::now() + Duration::minutes(30)),
            "total_amount": format!("{total:.2}"),
            "total_currency": CURRENCY,
            "base_amount": format!("{:.2}", total * Decimal::new(8, 1)),
            "base_currency": CURRENCY,
            "tax_amount": format!("{:.2}", total - total * Decimal::new(8, 1)),
            "tax_currency": CURRENCY,
            "owner": {"iata_code": "ZZ", "name": "Duffel Airways"},
            "slices": [{"segments": [{
                "departing_at": departs,
                "arriving_at": arrives,
                "origin": {"iata_code": origin, "type": "airport"},
                "destination": {"iata_code": destination, "type": "airport"},
                "marketing_carrier": {"iata_code": "ZZ", "name": "Duffel Airways"},
                "marketing_carrier_flight_number": format!("{}", 100 + index),
                "operating_carrier": {"iata_code": "ZZ", "name": "Duffel Airways"},
                "passengers": passenger_ids.iter().map(|p| json!({"passenger_id": p, "cabin_class": cabin})).collect::<Vec<_>>(),
            }]}],
            "passengers": passenger_ids.iter().map(|p| json!({"id": p, "type": "adult", "age": null})).collect::<Vec<_>>(),
            "payment_requirements": {"requires_instant_payment": true, "payment_required_by": null, "price_guarantee_expires_at": null},
            "passenger_identity_documents_required": false,
            "conditions": {"refund_before_departure": conditions, "change_before_departure": null},
        });
        books.offers.insert(
            id,
            StoredOffer {
                body: body.clone(),
                total,
                refund,
            },
        );
        offers.push(body);
    }
    let return_offers = query
        .iter()
        .any(|(k, v)| k == "return_offers" && v == "true");
    let mut request = json!({
        "id": books.id("orq"),
        "live_mode": false,
        "cabin_class": cabin,
        "slices": data["slices"],
        "passengers": passenger_ids.iter().map(|p| json!({"id": p, "type": "adult"})).collect::<Vec<_>>(),
    });
    if return_offers {
        request["offers"] = json!(offers);
    }
    json_response(201, &json!({"data": request}))
}

fn offer(books: &Books, id: &str) -> Response {
    match books.offers.get(id) {
        Some(offer) => json_response(200, &json!({"data": offer.body})),
        None => not_found(&format!("offer {id}")),
    }
}

fn is_expired(offer: &Value) -> bool {
    let expires = offer["expires_at"].as_str().unwrap();
    chrono::DateTime::parse_from_rfc3339(expires).unwrap() <= Utc::now()
}

fn create_order(books: &mut Books, data: Option<&Value>) -> Response {
    let data = data.cloned().unwrap_or_default();
    if data["type"] != "instant" {
        return invalid("type must be instant (hold orders are not served here)");
    }
    let selected = data["selected_offers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let [offer_id] = selected.as_slice() else {
        return invalid("selected_offers must hold exactly one offer id");
    };
    let Some(offer) = offer_id
        .as_str()
        .and_then(|id| books.offers.get(id))
        .cloned()
    else {
        return not_found("the selected offer");
    };
    if is_expired(&offer.body) {
        return error(
            422,
            "validation_error",
            "offer_expired",
            "The selected offer has expired: search again",
        );
    }
    let offered: Vec<&str> = offer.body["passengers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    let passengers = data["passengers"].as_array().cloned().unwrap_or_default();
    if passengers.len() != offered.len() {
        return invalid(&format!(
            "the offer has {} passengers, the order {}",
            offered.len(),
            passengers.len()
        ));
    }
    for passenger in &passengers {
        if let Some(problem) = passenger_problem(passenger, &offered) {
            return invalid(&problem);
        }
    }
    let payments = data["payments"].as_array().cloned().unwrap_or_default();
    let [payment] = payments.as_slice() else {
        return invalid("an instant order needs exactly one payment");
    };
    let amount = payment["amount"]
        .as_str()
        .and_then(|a| a.parse::<Decimal>().ok());
    if payment["type"] != "balance" {
        return invalid("payments[0].type must be balance");
    }
    if amount != Some(offer.total) || payment["currency"] != CURRENCY {
        return invalid(&format!(
            "payments[0] must be the offer's total_amount as a decimal string, \"{:.2}\" {CURRENCY}",
            offer.total
        ));
    }
    let id = books.id("ord");
    let body = json!({
        "id": id,
        "live_mode": false,
        "booking_reference": format!("ZZ{:04}", books.next_id),
        "total_amount": format!("{:.2}", offer.total),
        "total_currency": CURRENCY,
        "passengers": passengers,
        "slices": offer.body["slices"],
        "conditions": offer.body["conditions"],
        "owner": offer.body["owner"],
        "metadata": data["metadata"],
        "payment_status": {"awaiting_payment": false, "paid_at": timestamp(Utc::now())},
        "documents": [{"type": "electronic_ticket", "unique_identifier": format!("1251{:09}", books.next_id)}],
        "available_actions": ["cancel", "update"],
        "cancelled_at": null,
        "cancellation": null,
        "created_at": timestamp(Utc::now()),
    });
    books.orders.push(StoredOrder {
        body: body.clone(),
        total: offer.total,
        refund: offer.refund,
    });
    json_response(201, &json!({"data": body}))
}

/// What Duffel checks of a passenger an order names.
fn passenger_problem(passenger: &Value, offered: &[&str]) -> Option<String> {
    let text = |field: &str| passenger[field].as_str().unwrap_or_default();
    if !["mr", "ms", "mrs", "miss", "dr"].contains(&text("title")) {
        return Some("title must be one of mr, ms, mrs, miss, dr".into());
    }
    if !["m", "f"].contains(&text("gender")) {
        return Some("gender must be m or f".into());
    }
    if !offered.contains(&text("id")) {
        return Some(format!(
            "passenger id '{}' is not one of the offer's",
            text("id")
        ));
    }
    if text("given_name").is_empty() || text("family_name").is_empty() {
        return Some("given_name and family_name are required".into());
    }
    if chrono::NaiveDate::parse_from_str(text("born_on"), "%Y-%m-%d").is_err() {
        return Some("born_on must be a date, YYYY-MM-DD".into());
    }
    if !text("email").contains('@') {
        return Some("email must be an e-mail address".into());
    }
    let phone = text("phone_number");
    let digits = phone.strip_prefix('+').unwrap_or_default();
    if !(7..=15).contains(&digits.len()) || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Some("phone_number must be in E.164 format, e.g. +442080160509".into());
    }
    None
}

/// `passenger_name[]` matches given or family names, in part; pages by `limit` and `after`.
fn list_orders(books: &Books, query: &[(String, String)]) -> Response {
    let names: Vec<String> = query
        .iter()
        .filter(|(k, _)| k == "passenger_name[]")
        .map(|(_, v)| v.to_lowercase())
        .collect();
    let matching: Vec<&Value> = books
        .orders
        .iter()
        .map(|o| &o.body)
        .filter(|order| {
            names.is_empty()
                || order["passengers"].as_array().unwrap().iter().any(|p| {
                    names.iter().any(|name| {
                        ["given_name", "family_name"].iter().any(|field| {
                            p[field]
                                .as_str()
                                .unwrap_or_default()
                                .to_lowercase()
                                .contains(name)
                        })
                    })
                })
        })
        .collect();
    page(&matching, query)
}

fn page(items: &[&Value], query: &[(String, String)]) -> Response {
    let param = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let limit: usize = param("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(50)
        .min(200);
    let start: usize = param("after")
        .and_then(|a| a.strip_prefix("cursor_"))
        .and_then(|a| a.parse().ok())
        .unwrap_or(0);
    let end = (start + limit).min(items.len());
    let after = (end < items.len()).then(|| format!("cursor_{end}"));
    json_response(
        200,
        &json!({"data": items[start.min(end)..end], "meta": {"after": after, "before": null, "limit": limit}}),
    )
}

fn create_cancellation(books: &mut Books, data: Option<&Value>) -> Response {
    let order_id = data
        .and_then(|d| d["order_id"].as_str())
        .unwrap_or_default()
        .to_string();
    let Some(order) = books
        .orders
        .iter()
        .find(|o| o.body["id"] == order_id.as_str())
        .cloned()
    else {
        return not_found(&format!("order {order_id}"));
    };
    if !order.body["cancelled_at"].is_null() {
        return error(
            422,
            "invalid_state_error",
            "already_cancelled",
            "The order is already cancelled",
        );
    }
    let refund = match order.refund {
        Refund::Free => order.total,
        Refund::Fee(fee) => order.total - fee.parse::<Decimal>().unwrap(),
        Refund::None => Decimal::ZERO,
    };
    let cancellation = json!({
        "id": books.id("ore"),
        "order_id": order_id,
        "refund_amount": format!("{refund:.2}"),
        "refund_currency": CURRENCY,
        "refund_to": "balance",
        "airline_credits": [],
        "expires_at": timestamp(Utc::now() + Duration::minutes(10)),
        "confirmed_at": null,
        "created_at": timestamp(Utc::now()),
        "live_mode": false,
    });
    books.cancellations.push(cancellation.clone());
    json_response(201, &json!({"data": cancellation}))
}

fn list_cancellations(books: &Books, query: &[(String, String)]) -> Response {
    let order_id = query
        .iter()
        .find(|(k, _)| k == "order_id")
        .map(|(_, v)| v.as_str());
    let matching: Vec<&Value> = books
        .cancellations
        .iter()
        .filter(|c| order_id.is_none_or(|id| c["order_id"] == id))
        .collect();
    page(&matching, query)
}

fn confirm_cancellation(books: &mut Books, id: &str) -> Response {
    let Some(index) = books.cancellations.iter().position(|c| c["id"] == id) else {
        return not_found(&format!("order cancellation {id}"));
    };
    if !books.cancellations[index]["confirmed_at"].is_null() {
        return error(
            422,
            "invalid_state_error",
            "already_confirmed",
            "The cancellation is already confirmed",
        );
    }
    if index < books.quotes_refused_below {
        return error(
            422,
            "invalid_state_error",
            "quote_expired",
            "The order cancellation quote has expired",
        );
    }
    let now = timestamp(Utc::now());
    books.cancellations[index]["confirmed_at"] = json!(now);
    let confirmed = books.cancellations[index].clone();
    let order = books
        .orders
        .iter_mut()
        .find(|o| o.body["id"] == confirmed["order_id"])
        .unwrap();
    order.body["cancelled_at"] = json!(now);
    order.body["cancellation"] = confirmed.clone();
    json_response(200, &json!({"data": confirmed}))
}
