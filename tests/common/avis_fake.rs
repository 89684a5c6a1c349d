//! A local Avis Budget Group gateway, following ABG's Rental Cars 2.0.0 contract as
//! `docs/research/avis.md` records it (its fake-server checklist): a client-credentials token
//! asked for by `GET /oauth/token/v2` with `client_id` and `client_secret` headers, every call
//! needing the bearer token and the `client_id` header (the gateway's flat OAuth 401 otherwise),
//! JSON bodies only (415), a keyword search answering 404 `609` when nothing matches, vehicles
//! with pay-later and pay-now totals under different rate codes (money as JSON numbers, counts
//! as strings), the rates call, reservations made (201, a confirmation number, no idempotency)
//! and cancelled by `PUT` with the confirmation number and the renter's last name (`150004`
//! for another name, 404 `14036` when already cancelled). A prepaid rate needs
//! `payment_preference` `CustomerPaymentCard` with the reservation total, its currency and a
//! card (`300100`, `300101`, `300102` otherwise). Errors as
//! `{"status": {"errors": [{code, message, reason, details}]}}`. It records every request, and
//! can be told to fail the next ones.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;
use axum::routing::get;
use chrono::{NaiveDateTime, Utc};
use serde_json::{Value, json};

pub use super::fake_http::Received;
use super::fake_http::{Recorder, json_response};

pub const CLIENT_ID: &str = "fake-abg-client";
pub const CLIENT_SECRET: &str = "fake-abg-secret";
/// The agency card the tests configure.
pub const CARD_NUMBER: &str = "4111111111111111";
/// Paris's locations: the airport one is searched.
pub const AIRPORT: &str = "CDG";
const DOWNTOWN: &str = "PA1";
/// The prepaid rate's code (pay later is `7I`).
pub const PAY_NOW: &str = "2X";
const PAY_LATER: &str = "7I";

/// A car of the fake's fleet, priced per day.
struct Car {
    sipp: &'static str,
    make: &'static str,
    model: &'static str,
    class: &'static str,
    transmission: &'static str,
    pay_now_daily: f64,
    pay_later_daily: f64,
    /// Sold prepaid; otherwise pay-later only.
    prepaid: bool,
    /// Avis must first find one (`vehicle_status: OnRequest`).
    on_request: bool,
    unlimited: bool,
}

const FLEET: [Car; 4] = [
    Car {
        sipp: "ECMR",
        make: "Peugeot",
        model: "208",
        class: "Economy",
        transmission: "Manual",
        pay_now_daily: 50.0,
        pay_later_daily: 56.5,
        prepaid: true,
        on_request: false,
        unlimited: true,
    },
    Car {
        sipp: "CDAR",
        make: "Volkswagen",
        model: "Golf",
        class: "Compact",
        transmission: "Automatic",
        pay_now_daily: 70.25,
        pay_later_daily: 79.0,
        prepaid: true,
        on_request: false,
        unlimited: false,
    },
    Car {
        sipp: "MBMR",
        make: "Fiat",
        model: "500",
        class: "Mini",
        transmission: "Manual",
        pay_now_daily: 0.0,
        pay_later_daily: 39.0,
        prepaid: false,
        on_request: false,
        unlimited: true,
    },
    Car {
        sipp: "IFAR",
        make: "Peugeot",
        model: "3008",
        class: "Intermediate SUV",
        transmission: "Automatic",
        pay_now_daily: 90.0,
        pay_later_daily: 99.0,
        prepaid: true,
        on_request: true,
        unlimited: true,
    },
];

/// One reservation made.
#[derive(Debug, Clone)]
pub struct Reservation {
    pub number: String,
    pub last_name: String,
    pub sipp: String,
    pub total: f64,
    pub remark: String,
    pub card_number: String,
    pub cancelled: bool,
}

#[derive(Default)]
struct Books {
    tokens: HashSet<String>,
    recorder: Recorder,
    reservations: Vec<Reservation>,
    next_id: u64,
    /// Per SIPP code: a new daily prepaid price, or `None` when no longer sold.
    changed: HashMap<String, Option<f64>>,
    /// The next reservation is made, but a 500 goes back instead of its answer.
    lose_next_answer: bool,
    /// The next reservation's car: its `vehicle_status` and `vehicle_onrequest_status`.
    next_vehicle: Option<(&'static str, &'static str)>,
    /// The next reservation is made at this total instead of the one priced.
    next_booked_total: Option<f64>,
    /// The next cancellation is refused with this status, nothing cancelled.
    fail_next_cancel: Option<u16>,
    /// The gateway stops taking the current tokens when the next reservation arrives.
    revoke_at_next_reservation: bool,
    /// The next reservation is refused with this business code, nothing made.
    refuse_next: Option<(u16, &'static str, &'static str)>,
}

impl Books {
    fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }
}

#[derive(Clone)]
pub struct FakeAvis {
    books: Arc<Mutex<Books>>,
    pub base_url: String,
}

impl FakeAvis {
    pub async fn start() -> FakeAvis {
        let (listener, base_url) = super::fake_http::bind().await;
        let fake = FakeAvis {
            books: Arc::default(),
            base_url,
        };
        let app = Router::new()
            .route("/oauth/token/v2", get(token))
            .route("/cars/locations/v2/keyword", get(handle))
            .route("/cars/catalog/v2/vehicles", get(handle))
            .route(
                "/cars/catalog/v2/vehicles/rates",
                axum::routing::post(handle),
            )
            .route(
                "/cars/reservation/v2",
                axum::routing::post(handle).put(handle),
            )
            .with_state(fake.clone());
        super::fake_http::serve(listener, app);
        fake
    }

    /// Itinera's settings for this fake: its client id, the given secret, the agency's card.
    pub fn settings(&self, secret: &str) -> itinera::adapters::booking::avis::AvisSettings {
        use itinera::adapters::booking::avis::{AgencyCard, AvisSettings, Credentials};
        AvisSettings {
            credentials: Credentials {
                client_id: CLIENT_ID.into(),
                client_secret: secret.into(),
            },
            base_url: self.base_url.clone(),
            brand: "Avis".into(),
            card: AgencyCard::parse(
                "ITINERA_AVIS_CARD",
                CARD_NUMBER,
                "2027-08",
                "AGENCY DESK",
                None,
            )
            .unwrap(),
        }
    }

    pub fn received(&self) -> Vec<Received> {
        self.books.lock().unwrap().recorder.received.clone()
    }

    pub fn received_on(&self, method: &str, path: &str) -> Vec<Received> {
        self.books
            .lock()
            .unwrap()
            .recorder
            .received_on(method, path)
    }

    /// The next API call (not the token call) is answered with this status and Avis's error
    /// body, without acting; a 429 carries `Retry-After` if given.
    pub fn fail_next(&self, status: u16, retry_after: Option<u64>) {
        self.books
            .lock()
            .unwrap()
            .recorder
            .fail_next(status, retry_after);
    }

    /// Every token issued so far stops being valid.
    pub fn revoke_tokens(&self) {
        self.books.lock().unwrap().tokens.clear();
    }

    /// The car's prepaid price per day changes.
    pub fn reprice(&self, sipp: &str, daily: f64) {
        self.books
            .lock()
            .unwrap()
            .changed
            .insert(sipp.into(), Some(daily));
    }

    /// The car is sold out.
    pub fn withdraw(&self, sipp: &str) {
        self.books.lock().unwrap().changed.insert(sipp.into(), None);
    }

    pub fn lose_next_answer(&self) {
        self.books.lock().unwrap().lose_next_answer = true;
    }

    /// The next reservation's car comes with this `vehicle_status` and
    /// `vehicle_onrequest_status` (`OnRequest`/`Pending`, or `OnRequest`/`Confirmed`).
    pub fn next_vehicle(&self, status: &'static str, on_request_status: &'static str) {
        self.books.lock().unwrap().next_vehicle = Some((status, on_request_status));
    }

    /// The next reservation is made at `total`, whatever was priced.
    pub fn next_booked_total(&self, total: f64) {
        self.books.lock().unwrap().next_booked_total = Some(total);
    }

    pub fn fail_next_cancel(&self, status: u16) {
        self.books.lock().unwrap().fail_next_cancel = Some(status);
    }

    /// The token in use is refused when the next reservation arrives (it expired early).
    pub fn revoke_at_next_reservation(&self) {
        self.books.lock().unwrap().revoke_at_next_reservation = true;
    }

    /// The next reservation is refused with this status and business code.
    pub fn refuse_next_reservation(&self, status: u16, code: &'static str, reason: &'static str) {
        self.books.lock().unwrap().refuse_next = Some((status, code, reason));
    }

    pub fn reservations(&self) -> Vec<Reservation> {
        self.books.lock().unwrap().reservations.clone()
    }
}

fn error(status: u16, code: &str, reason: &str, details: &str) -> Response {
    let message = match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        415 => "Unsupported Media Type",
        _ => "Internal Server Error",
    };
    json_response(
        status,
        &json!({
            "status": {"request_time": Utc::now().to_rfc3339(), "request_errors": 1,
                       "errors": [{"code": code, "message": message, "reason": reason, "details": details}]},
            "transaction": {"system_id": "fake-system"},
        }),
    )
}

/// `GET /oauth/token/v2`: the credentials as headers.
async fn token(State(fake): State<FakeAvis>, headers: HeaderMap) -> Response {
    let mut books = fake.books.lock().unwrap();
    books
        .recorder
        .record("GET", "/oauth/token/v2", &headers, Vec::new(), None);
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if header("client_id") != Some(CLIENT_ID) || header("client_secret") != Some(CLIENT_SECRET) {
        return json_response(
            401,
            &json!({"error": "invalid_client", "error_description": "Invalid Client Credentials"}),
        );
    }
    let token = format!("fake-abg-token-{}", books.id());
    books.tokens.insert(token.clone());
    json_response(
        200,
        &json!({"access_token": token, "token_type": "Bearer", "expires_in": 7140}),
    )
}

async fn handle(
    State(fake): State<FakeAvis>,
    method: Method,
    uri: Uri,
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
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if method == Method::POST
        && uri.path() == "/cars/reservation/v2"
        && std::mem::take(&mut books.revoke_at_next_reservation)
    {
        books.tokens.clear();
    }
    let bearer = header("authorization").and_then(|v| v.strip_prefix("Bearer "));
    if header("client_id") != Some(CLIENT_ID) || !bearer.is_some_and(|t| books.tokens.contains(t)) {
        let mut refused = json_response(
            401,
            &json!({"error_description": "token not found, expired or invalid", "error": "invalid_grant"}),
        );
        refused.headers_mut().insert(
            "www-authenticate",
            "Bearer realm=\"abg-api-preprod\", error=\"invalid_token\""
                .parse()
                .unwrap(),
        );
        return refused;
    }
    if let Some(forced) = books.recorder.forced_failure(|status| {
        json!({"status": {"request_errors": 1, "errors": [{"code": status.to_string(), "message": "forced", "reason": "throttled", "details": format!("forced HTTP {status}")}]}})
    }) {
        return forced;
    }
    if method != Method::GET
        && !header("content-type").is_some_and(|v| v.starts_with("application/json"))
    {
        return error(
            415,
            "415",
            "Unsupported Media Type",
            "the body must be JSON",
        );
    }
    let field = |name: &str| {
        query
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    };
    let brand = match method {
        Method::GET => field("brand"),
        _ => json
            .as_ref()
            .and_then(|b| b["product"]["brand"].as_str().map(str::to_string)),
    };
    if !brand
        .as_deref()
        .is_some_and(|b| ["Avis", "Budget", "Payless"].contains(&b))
    {
        return error(
            400,
            "400",
            "invalid_request",
            "- Missing required field 'brand'",
        );
    }
    let body = json.unwrap_or(Value::Null);
    match (method.as_str(), uri.path()) {
        ("GET", "/cars/locations/v2/keyword") => locations(field("keyword")),
        ("GET", _) => vehicles(&books, &field),
        ("POST", "/cars/catalog/v2/vehicles/rates") => rates(&books, &body),
        ("POST", _) => reserve(&mut books, &body),
        ("PUT", _) => cancel(&mut books, &body),
        _ => error(404, "404", "resource_failure", "no such route"),
    }
}

fn locations(keyword: Option<String>) -> Response {
    if !keyword.is_some_and(|k| k.eq_ignore_ascii_case("paris")) {
        return error(
            404,
            "609",
            "no_results",
            "No locations found for the given keyword",
        );
    }
    // Paris, Texas first, then downtown Paris: the adapter must keep the trip's country and
    // prefer the airport.
    json_response(
        200,
        &json!({
            "status": {"request_time": Utc::now().to_rfc3339(), "success": [{"code": "200", "message": "Success"}]},
            "transaction": {"transaction_id": "t"},
            "locations": [
                {"brand": "Avis", "code": "PRX", "name": "Paris Cox Field Airport", "airport_location": true,
                 "address": {"city": "Paris", "state_name": "TX", "country_code": "US", "lat": "33.6366", "long": "-95.4508"}},
                {"brand": "Avis", "code": DOWNTOWN, "name": "Paris Gare de Lyon", "airport_location": false,
                 "address": {"city": "Paris", "country_code": "FR", "lat": "48.8443", "long": "2.3744"}},
                {"brand": "Avis", "code": AIRPORT, "name": "Paris Charles de Gaulle Airport", "airport_location": true,
                 "address": {"city": "Roissy", "country_code": "FR", "lat": "49.0097", "long": "2.5479"}},
            ],
        }),
    )
}

fn parse_time(text: Option<&str>) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(text?, "%Y-%m-%dT%H:%M:%S").ok()
}

/// Whole days of a rental, counted as Avis does (a started day is a day).
fn days(pick_up: NaiveDateTime, drop_off: NaiveDateTime) -> f64 {
    let minutes = (drop_off - pick_up).num_minutes();
    ((minutes + 24 * 60 - 1) / (24 * 60)) as f64
}

/// The rental's dates checked as availability checks them; the days, or the refusal.
/// (Refusals boxed: a response is large.)
fn checked_dates(pick_up: Option<&str>, drop_off: Option<&str>) -> Result<f64, Box<Response>> {
    let (Some(pick_up), Some(drop_off)) = (parse_time(pick_up), parse_time(drop_off)) else {
        return Err(Box::new(error(
            400,
            "400",
            "invalid_request",
            "dates must be YYYY-MM-DDTHH:MM:SS",
        )));
    };
    if pick_up < Utc::now().naive_utc() {
        return Err(Box::new(error(
            400,
            "231",
            "Invalid pickup_date.",
            "You selected a date/time prior to the current time",
        )));
    }
    if drop_off <= pick_up {
        return Err(Box::new(error(
            400,
            "232",
            "dropoff_date is prior to pickup_date.",
            "Return Date cannot be prior or same to the Pick-Up Date",
        )));
    }
    Ok(days(pick_up, drop_off))
}

/// The prepaid price per day of a car now, or `None` when it is not sold prepaid any more.
fn daily_now(books: &Books, car: &Car) -> Option<f64> {
    match books.changed.get(car.sipp) {
        Some(changed) => *changed,
        None => car.prepaid.then_some(car.pay_now_daily),
    }
}

fn round(amount: f64) -> f64 {
    (amount * 100.0).round() / 100.0
}

fn vehicles(books: &Books, field: &dyn Fn(&str) -> Option<String>) -> Response {
    if field("country_code").is_none() {
        return error(
            400,
            "219",
            "country_code is required",
            "Country of residence is required",
        );
    }
    for location in ["pickup_location", "dropoff_location"] {
        if !field(location).is_some_and(|l| l == AIRPORT || l == DOWNTOWN) {
            return error(
                400,
                "203",
                "Invalid pickup_location.",
                "Invalid Pick up location",
            );
        }
    }
    let days = match checked_dates(
        field("pickup_date").as_deref(),
        field("dropoff_date").as_deref(),
    ) {
        Ok(days) => days,
        Err(refusal) => return *refusal,
    };
    let vehicles: Vec<Value> = FLEET
        .iter()
        .filter(|car| books.changed.get(car.sipp) != Some(&None))
        .map(|car| {
            let mut totals = json!({
                "rate": {"currency": "EUR", "rate_code": PAY_LATER, "coupon_applied": false},
                "pay_later": {"rate_code": PAY_LATER, "vehicle_total": round(car.pay_later_daily * days * 0.8), "reservation_total": round(car.pay_later_daily * days)},
            });
            if let Some(daily) = daily_now(books, car) {
                totals["pay_now"] = json!({"rate_code": PAY_NOW, "vehicle_total": round(daily * days * 0.8), "reservation_total": round(daily * days)});
            }
            let distance = if car.unlimited {
                json!({"unlimited_distance": true, "distance_unit": "Kilometers"})
            } else {
                json!({"unlimited_distance": false, "distance_unit": "Kilometers", "distance_covered": 300, "distance_overage": 0.25})
            };
            json!({
                "category": {"name": format!("{} {} or similar", car.make, car.model), "make": car.make, "model": car.model,
                             "sipp_code": car.sipp, "vehicle_class_code": "A", "vehicle_class_name": car.class,
                             "vehicle_transmission": car.transmission,
                             "vehicle_status": if car.on_request { "OnRequest" } else { "Available" }},
                "features": {"air_conditioned": true},
                "capacity": {"doors": "5", "seats": "5", "luggage_capacity": {"small_suitcase": "2"}},
                "rate_totals": totals,
                "distance": distance,
            })
        })
        .collect();
    if vehicles.is_empty() {
        return error(
            404,
            "500708",
            "no_results",
            "No vehicles available for the given filter",
        );
    }
    json_response(
        200,
        &json!({
            "status": {"request_time": Utc::now().to_rfc3339(), "success": [{"code": "200", "message": "Success"}]},
            "transaction": {"transaction_id": field("transaction_id")},
            "product": {"brand": "Avis"},
            "vehicles": vehicles,
            "reservation": {"pickup_location": {"location": {"code": AIRPORT}}, "dropoff_location": {"location": {"code": AIRPORT}}},
        }),
    )
}

/// The car and its prepaid total a rates or reservation body asks for, or the refusal.
fn priced(books: &Books, body: &Value) -> Result<(&'static Car, f64), Box<Response>> {
    let reservation = &body["reservation"];
    let rate = &body["rate_totals"]["rate"];
    if rate["country_code"].as_str().is_none_or(|c| c.len() != 2) {
        return Err(Box::new(error(
            400,
            "219",
            "country_code is required",
            "Country of residence is required",
        )));
    }
    let location_ok = |name: &str| {
        reservation[name]
            .as_str()
            .is_some_and(|l| l == AIRPORT || l == DOWNTOWN)
    };
    if !location_ok("pickup_location") || !location_ok("dropoff_location") {
        return Err(Box::new(error(
            400,
            "203",
            "Invalid pickup_location.",
            "Invalid Pick up location",
        )));
    }
    let days = checked_dates(
        reservation["pickup_date"].as_str(),
        reservation["dropoff_date"].as_str(),
    )?;
    let Some(car) = FLEET
        .iter()
        .find(|car| reservation["vehicle_sipp_code"] == car.sipp)
    else {
        return Err(Box::new(error(
            400,
            "14022",
            "Invalid vehicle_class_code",
            "Requested Car Group is invalid.",
        )));
    };
    if rate["rate_code"] != PAY_NOW {
        return Err(Box::new(error(
            400,
            "14528",
            "Invalid rate_code.",
            "Rate Code entered is invalid.",
        )));
    }
    if books.changed.get(car.sipp) == Some(&None) {
        return Err(Box::new(error(
            404,
            "500708",
            "no_results",
            "No vehicles available for the given filter",
        )));
    }
    let Some(daily) = daily_now(books, car) else {
        return Err(Box::new(error(
            400,
            "14105",
            "Invalid rate_code.",
            "Invalid Vehicle rate code and class code combination for the provided brand.",
        )));
    };
    Ok((car, round(daily * days)))
}

fn rates(books: &Books, body: &Value) -> Response {
    let (car, total) = match priced(books, body) {
        Ok(priced) => priced,
        Err(refusal) => return *refusal,
    };
    json_response(
        200,
        &json!({
            "status": {"request_time": Utc::now().to_rfc3339(), "success": [{"code": "200", "message": "Success"}]},
            "transaction": body["transaction"],
            "product": body["product"],
            "reservation": {
                "distance": {"unlimited_distance": car.unlimited, "distance_unit": "Kilometers"},
                "rate_totals": {
                    "rate": {"rate_code": PAY_NOW, "currency": "EUR", "quote_id": format!("Q-{}-{total}", car.sipp)},
                    "totals": {"vehicle_total": round(total * 0.8), "taxes_fees_total": round(total * 0.2), "reservation_total": total},
                },
            },
        }),
    )
}

fn reserve(books: &mut Books, body: &Value) -> Response {
    if let Some((status, code, reason)) = books.refuse_next.take() {
        return error(status, code, reason, reason);
    }
    let (car, total) = match priced(books, body) {
        Ok(priced) => priced,
        Err(refusal) => return *refusal,
    };
    let contact = &body["customer"]["contact"];
    if contact["first_name"].as_str().is_none_or(str::is_empty) {
        return error(
            400,
            "210",
            "first_name is required",
            "First name is required",
        );
    }
    let Some(last_name) = contact["last_name"].as_str().filter(|n| !n.is_empty()) else {
        return error(400, "212", "last_name is required", "Last name is required");
    };
    let payment = &body["payment_preference"];
    if payment["type"] != "CustomerPaymentCard" {
        return error(
            400,
            "300102",
            "Credit Card details are mandatory",
            "Credit Card details are mandatory",
        );
    }
    if payment["currency"] != "EUR" {
        return error(
            400,
            "300100",
            "PrePayReservationCurrency must be required",
            "PrePayReservationCurrency must be required",
        );
    }
    if payment["amount"].as_f64() != Some(total) {
        return error(
            400,
            "300101",
            "PrePayReservationAmount must be required",
            "the amount must be the reservation total",
        );
    }
    let card = &payment["payment_method"];
    let card_ok = ["VI", "MC", "AX"].contains(&card["card_type"].as_str().unwrap_or_default())
        && card["card_number"].as_str().is_some_and(|n| n.len() >= 12)
        && card["card_holder_name"]
            .as_str()
            .is_some_and(|h| !h.is_empty())
        && card["expiry_date"]
            .as_str()
            .is_some_and(|e| e.len() == 4 && e.bytes().all(|b| b.is_ascii_digit()));
    if !card_ok {
        return error(
            400,
            "900909",
            "card is invalid",
            "card_type, card_number, card_holder_name and expiry_date are required",
        );
    }
    let number = format!("{:08}FR1", 9_449_500 + books.id());
    books.reservations.push(Reservation {
        number: number.clone(),
        last_name: last_name.to_string(),
        sipp: car.sipp.to_string(),
        total,
        remark: body["reservation"]["remark"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        card_number: card["card_number"].as_str().unwrap_or_default().to_string(),
        cancelled: false,
    });
    if std::mem::take(&mut books.lose_next_answer) {
        return error(500, "610", "e-com exception", "lost answer");
    }
    let (status, on_request_status) = books
        .next_vehicle
        .take()
        .unwrap_or(("Available", "Confirmed"));
    let booked = books.next_booked_total.take().unwrap_or(total);
    if let Some(made) = books.reservations.last_mut() {
        made.total = booked;
    }
    json_response(
        201,
        &json!({
            "status": {"request_time": Utc::now().to_rfc3339(), "success": [{"code": "201", "message": "Created", "details": "The reservation was  successfully created."}]},
            "transaction": body["transaction"],
            "product": body["product"],
            "reservation": {
                "confirmation": {"number": number, "pickup_date": body["reservation"]["pickup_date"], "dropoff_date": body["reservation"]["dropoff_date"]},
                "pickup_location": {"location": {"code": AIRPORT, "name": "Paris Charles de Gaulle Airport", "airport_location": true}},
                "dropoff_location": {"location": {"code": AIRPORT, "name": "Paris Charles de Gaulle Airport", "airport_location": true}},
                "rate_totals": {"rate": {"currency": "EUR", "rate_code": PAY_NOW}, "totals": {"reservation_total": booked}},
                // As the contract's own example: the category names the car, not its SIPP code.
                "vehicle": {"category": {"name": format!("{} {} or similar", car.make, car.model), "make": car.make, "model": car.model,
                                         "vehicle_status": status, "vehicle_onrequest_status": on_request_status}},
                "insurance": [],
                "extras": [],
            },
        }),
    )
}

fn cancel(books: &mut Books, body: &Value) -> Response {
    if let Some(status) = books.fail_next_cancel.take() {
        return error(status, "40018", "timeout", "backend socket timeout");
    }
    let number = body["reservation"]["confirmation"]["number"]
        .as_str()
        .unwrap_or_default();
    let last_name = body["customer"]["contact"]["last_name"]
        .as_str()
        .unwrap_or_default();
    let Some(reservation) = books.reservations.iter_mut().find(|r| r.number == number) else {
        return error(404, "404", "resource_failure", "Reservation not found");
    };
    if !reservation.last_name.eq_ignore_ascii_case(last_name) {
        return error(
            400,
            "150004",
            "Last name does not match",
            "The last name does not match the confirmation number",
        );
    }
    if reservation.cancelled {
        return error(
            404,
            "14036",
            "Reservation already cancelled",
            "Reservation is already cancelled for the given confirmation_number.",
        );
    }
    reservation.cancelled = true;
    json_response(
        200,
        &json!({
            "status": {"request_time": Utc::now().to_rfc3339(), "success": [{"code": "200", "message": "Success", "details": "The reservation was successfully cancelled."}]},
            "transaction": body["transaction"],
            "product": body["product"],
        }),
    )
}
