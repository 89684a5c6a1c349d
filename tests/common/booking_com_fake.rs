//! A local Booking.com Demand API 3.1, following `docs/research/booking-com.md` (built from the 3.1
//! OpenAPI specification and Booking.com's docs): every endpoint a POST with a JSON body under
//! `/3.1`, `Authorization: Bearer <key>` and `X-Affiliate-Id` on every call (401 without the
//! right ones), answers as `{request_id, data}`, search prices as JSON numbers and preview and
//! order prices as `{accommodation_currency, booker_currency}`, errors as
//! `{request_id, errors: [{id, message}]}`. It checks what the specification requires: the
//! search's booker, dates, guests and location; the preview's booker and accommodation; the
//! order's token, booker, products matching the preview and, for `pay_online_now`, a card with
//! number, CVC, `YYYY-MM` expiry and holder; `/orders/details` windows of at most seven days
//! with a currency. Orders keep their `label`, read back by `/orders/details/accommodations`;
//! a cancellation sets `cancellation_details.fee` from the preview's fee schedule.
//!
//! Its own choices where the contract is silent: an order token lasts 30 minutes and is
//! refused once used (400 `invalid_order_token`); a product sold out or unknown is refused by
//! the preview with 400 `product_not_available` and absent from `/accommodations/availability`;
//! the search's `payment.timing` filter keeps accommodations with at least one product of that
//! timing and lists all their products; cancelling an order already cancelled answers
//! `failed`; a 429 carries `Retry-After` only when a test asks for one.

// A refusal is the fake's answer, returned as it is built; a test server need not box it.
#![allow(clippy::result_large_err)]

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;
use axum::routing::post;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde_json::{Value, json};

pub use super::fake_http::Received;
use super::fake_http::{Recorder, json_response};

pub const API_KEY: &str = "fake-bookingcom-key";
pub const AFFILIATE_ID: u64 = 956509;
pub const CARD_NUMBER: &str = "4111111111111111";
pub const CARD_CVC: &str = "737";
pub const CURRENCY: &str = "EUR";
/// How long an order token is taken (the fake's choice).
const TOKEN_TTL_MINUTES: i64 = 30;

/// One product of an accommodation.
struct ProductSpec {
    /// Booking.com's product id, before the party: `<room>_<rate>`.
    stem: &'static str,
    nightly: Decimal,
    /// Charges left to pay at the property, per stay.
    at_property: Decimal,
    timing: &'static str,
    /// `free_cancellation` (free until two days before check-in at 22:00 UTC, then one night),
    /// `special_conditions` (one night kept from now) or `non_refundable`.
    cancellation: &'static str,
    meal_plan: &'static str,
}

struct AccommodationSpec {
    id: u64,
    name: &'static str,
    stars: Option<f64>,
    latitude: f64,
    longitude: f64,
    products: &'static [ProductSpec],
}

const fn eur(cents: i64) -> Decimal {
    Decimal::from_parts(cents as u32, 0, 0, false, 2)
}

/// Paris has four properties near its centre; one in Lyon is out of any Paris radius.
const INVENTORY: &[AccommodationSpec] = &[
    AccommodationSpec {
        id: 1_001,
        name: "Hôtel Lumière Fake",
        stars: Some(4.0),
        latitude: 48.8600,
        longitude: 2.3400,
        products: &[
            ProductSpec {
                stem: "100101_111",
                nightly: eur(14000),
                at_property: eur(0),
                timing: "pay_online_now",
                cancellation: "free_cancellation",
                meal_plan: "breakfast_included",
            },
            // Cheaper, but paid at the property or later: never sold by Itinera.
            ProductSpec {
                stem: "100102_112",
                nightly: eur(10000),
                at_property: eur(0),
                timing: "pay_at_the_property",
                cancellation: "free_cancellation",
                meal_plan: "no_plan",
            },
            ProductSpec {
                stem: "100103_113",
                nightly: eur(12000),
                at_property: eur(0),
                timing: "pay_online_later",
                cancellation: "free_cancellation",
                meal_plan: "no_plan",
            },
        ],
    },
    AccommodationSpec {
        id: 1_002,
        name: "Marais Inn Fake",
        stars: Some(3.0),
        latitude: 48.8590,
        longitude: 2.3620,
        products: &[ProductSpec {
            stem: "100201_121",
            nightly: eur(9500),
            at_property: eur(0),
            timing: "pay_at_the_property",
            cancellation: "non_refundable",
            meal_plan: "no_plan",
        }],
    },
    AccommodationSpec {
        id: 1_003,
        name: "Bastille Rooms Fake",
        stars: Some(3.5),
        latitude: 48.8530,
        longitude: 2.3690,
        products: &[ProductSpec {
            stem: "100301_131",
            nightly: eur(11000),
            at_property: eur(750),
            timing: "pay_online_now",
            cancellation: "special_conditions",
            meal_plan: "no_plan",
        }],
    },
    AccommodationSpec {
        id: 1_004,
        name: "Lyon Presqu'île Fake",
        stars: None,
        latitude: 45.7640,
        longitude: 4.8357,
        products: &[ProductSpec {
            stem: "100401_141",
            nightly: eur(5000),
            at_property: eur(0),
            timing: "pay_online_now",
            cancellation: "non_refundable",
            meal_plan: "no_plan",
        }],
    },
];

/// A preview's order token.
#[derive(Debug, Clone)]
struct Token {
    value: String,
    accommodation: u64,
    product: String,
    checkin: NaiveDate,
    checkout: NaiveDate,
    total: Decimal,
    schedule: Vec<(Option<DateTime<Utc>>, Decimal)>,
    issued: DateTime<Utc>,
    used: bool,
}

/// An order made.
#[derive(Debug, Clone)]
pub struct Order {
    pub id: String,
    pub reservation: u64,
    pub accommodation: u64,
    pub product: String,
    pub label: Option<String>,
    pub status: &'static str,
    pub total: Decimal,
    pub created: DateTime<Utc>,
    pub fee: Option<Decimal>,
    pub checkin: NaiveDate,
    pub checkout: NaiveDate,
    schedule: Vec<(Option<DateTime<Utc>>, Decimal)>,
    /// The whole create body, as received.
    pub request: Value,
}

#[derive(Default)]
struct Books {
    recorder: Recorder,
    tokens: Vec<Token>,
    orders: Vec<Order>,
    next_id: u64,
    /// (accommodation, product stem) → nightly price now.
    repriced: Vec<(u64, &'static str, Decimal)>,
    sold_out: Vec<&'static str>,
    /// `/orders/details` shows no payments (as for an order Booking.com has not charged yet).
    hide_payments: bool,
    /// The next cancellation is answered `failed`, the order left booked.
    refuse_next_cancel: bool,
    /// Products whose fee is now the whole price from now on.
    tightened: Vec<&'static str>,
    /// The next order is made, but a 500 goes back instead of its answer.
    lose_next_create_answer: bool,
    /// How many cancellations took an order from booked to cancelled.
    cancellations: usize,
    /// The currency previews now price in (the accommodation changed its own).
    previewed_in: Option<&'static str>,
    /// Products whose preview no longer takes payment online now, only at the property.
    paid_at_property: Vec<&'static str>,
    /// Accommodations whose details now require the booker's full address.
    address_required: Vec<u64>,
    /// Products whose search result lacks `policies.payment`.
    without_payment_policy: Vec<&'static str>,
    /// `next_page` token → the results not shown yet.
    pages: std::collections::HashMap<String, Vec<Value>>,
}

#[derive(Clone)]
pub struct FakeBookingCom {
    books: Arc<Mutex<Books>>,
    /// Where the adapter is pointed: the server and the version, `http://…/3.1`.
    pub base_url: String,
}

impl FakeBookingCom {
    pub async fn start() -> FakeBookingCom {
        let (listener, root) = super::fake_http::bind().await;
        let fake = FakeBookingCom {
            books: Arc::default(),
            base_url: format!("{root}/3.1"),
        };
        let app = Router::new()
            .route("/3.1/{*path}", post(handle))
            .with_state(fake.clone());
        super::fake_http::serve(listener, app);
        fake
    }

    /// Itinera's settings for this fake, with the given key.
    pub fn settings(
        &self,
        api_key: &str,
    ) -> itinera::adapters::booking::booking_com::BookingComSettings {
        use itinera::adapters::booking::agency_card::AgencyCard;
        itinera::adapters::booking::booking_com::BookingComSettings {
            api_key: api_key.into(),
            affiliate_id: AFFILIATE_ID,
            base_url: self.base_url.clone(),
            card: AgencyCard::parse(
                "ITINERA_BOOKINGCOM_CARD",
                CARD_NUMBER,
                "2030-10",
                "AGENCY DESK",
                Some(CARD_CVC),
            )
            .unwrap(),
            booker_country: "fr".into(),
        }
    }

    pub fn received(&self) -> Vec<Received> {
        self.books.lock().unwrap().recorder.received.clone()
    }

    /// Requests received on this path (under `/3.1`), oldest first.
    pub fn received_on(&self, path: &str) -> Vec<Received> {
        self.books
            .lock()
            .unwrap()
            .recorder
            .received_on("POST", &format!("/3.1{path}"))
    }

    /// The next call is answered with this status and Booking.com's error body, without
    /// acting; a 429 carries `Retry-After` if given.
    pub fn fail_next(&self, status: u16, retry_after: Option<u64>) {
        self.books
            .lock()
            .unwrap()
            .recorder
            .fail_next(status, retry_after);
    }

    /// The next order is made, but its answer is lost (a 500 goes back).
    pub fn lose_next_create_answer(&self) {
        self.books.lock().unwrap().lose_next_create_answer = true;
    }

    /// The product (its stem, e.g. `100101_111`) now costs `nightly` a night.
    pub fn reprice(&self, accommodation: u64, stem: &'static str, nightly: Decimal) {
        self.books
            .lock()
            .unwrap()
            .repriced
            .push((accommodation, stem, nightly));
    }

    /// The product's search result no longer says how it is paid (`policies.payment`).
    pub fn omit_payment_policy(&self, stem: &'static str) {
        self.books.lock().unwrap().without_payment_policy.push(stem);
    }

    /// Previews now price in `currency`, not EUR.
    pub fn preview_in(&self, currency: &'static str) {
        self.books.lock().unwrap().previewed_in = Some(currency);
    }

    /// The product's preview now takes payment at the property only.
    pub fn take_payment_at_property(&self, stem: &'static str) {
        self.books.lock().unwrap().paid_at_property.push(stem);
    }

    /// The accommodation now requires the booker's full address.
    pub fn require_booker_address(&self, accommodation: u64) {
        self.books
            .lock()
            .unwrap()
            .address_required
            .push(accommodation);
    }

    /// The order now shows `status` (`stayed`, `no_show`, …), as after the stay.
    pub fn mark(&self, order: &str, status: &'static str) {
        let mut books = self.books.lock().unwrap();
        if let Some(order) = books.orders.iter_mut().find(|o| o.id == order) {
            order.status = status;
        }
    }

    /// The product is sold out.
    pub fn sell_out(&self, stem: &'static str) {
        self.books.lock().unwrap().sold_out.push(stem);
    }

    /// `/orders/details` shows no payments from now on.
    pub fn hide_payments(&self) {
        self.books.lock().unwrap().hide_payments = true;
    }

    /// The next cancellation fails at Booking.com: `failed`, the order still booked.
    pub fn refuse_next_cancel(&self) {
        self.books.lock().unwrap().refuse_next_cancel = true;
    }

    /// The product's fee schedule is now the whole price from now on.
    pub fn tighten(&self, stem: &'static str) {
        self.books.lock().unwrap().tightened.push(stem);
    }

    /// Every order token issued so far has expired.
    pub fn expire_tokens(&self) {
        for token in &mut self.books.lock().unwrap().tokens {
            token.issued -= Duration::minutes(TOKEN_TTL_MINUTES + 1);
        }
    }

    pub fn orders(&self) -> Vec<Order> {
        self.books.lock().unwrap().orders.clone()
    }

    /// `count` orders made now by the agency's other bookers, under their own labels.
    pub fn booked_elsewhere(&self, count: usize) {
        let mut books = self.books.lock().unwrap();
        for _ in 0..count {
            let n = books.id();
            let checkin = Utc::now().date_naive() + Duration::days(40);
            books.orders.push(Order {
                id: order_id(n),
                reservation: reservation(n),
                accommodation: 1_001,
                product: product_id("100101_111", 2),
                label: Some(format!("another-booker-{n}")),
                status: "booked",
                total: eur(30000),
                created: Utc::now(),
                fee: None,
                checkin,
                checkout: checkin + Duration::days(2),
                schedule: Vec::new(),
                request: Value::Null,
            });
        }
    }

    /// How many orders a cancellation took from booked to cancelled.
    pub fn cancellations(&self) -> usize {
        self.books.lock().unwrap().cancellations
    }
}

fn error(status: u16, id: &str, message: &str) -> Response {
    json_response(
        status,
        &json!({"request_id": "01fakerequest", "errors": [{"id": id, "message": message}]}),
    )
}

fn missing(name: &str) -> Response {
    error(
        400,
        "missing_parameter",
        &format!("Parameter '{name}' is missing."),
    )
}

fn invalid(name: &str) -> Response {
    error(
        400,
        "invalid_parameter",
        &format!("Parameter '{name}' is invalid."),
    )
}

fn ok(data: Value) -> Response {
    json_response(200, &json!({"request_id": "01fakerequest", "data": data}))
}

/// The value at a dotted path, e.g. `booker.country`.
fn at<'a>(body: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(body, |value, key| value.get(key))
}

/// The first of `paths` missing from `body`.
fn first_missing(body: &Value, paths: &[&str]) -> Option<Response> {
    paths
        .iter()
        .find(|path| at(body, path).is_none_or(Value::is_null))
        .map(|path| missing(path))
}

fn date(body: &Value, path: &str) -> Result<NaiveDate, Response> {
    at(body, path)
        .and_then(Value::as_str)
        .and_then(|text| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok())
        .ok_or_else(|| invalid(path))
}

fn number(amount: Decimal) -> Value {
    serde_json::from_str(&amount.round_dp(2).to_string()).unwrap()
}

fn pair(amount: Decimal) -> Value {
    json!({"accommodation_currency": number(amount), "booker_currency": null})
}

/// Kilometres between two points (haversine).
fn distance_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (lat1, lon1) = (a.0.to_radians(), a.1.to_radians());
    let (lat2, lon2) = (b.0.to_radians(), b.1.to_radians());
    let h = ((lat2 - lat1) / 2.0).sin().powi(2)
        + lat1.cos() * lat2.cos() * ((lon2 - lon1) / 2.0).sin().powi(2);
    2.0 * 6371.0 * h.sqrt().asin()
}

fn product_id(stem: &str, adults: u64) -> String {
    format!("{stem}_{adults}_0_0")
}

fn find_product(id: &str) -> Option<(&'static AccommodationSpec, &'static ProductSpec)> {
    INVENTORY.iter().find_map(|accommodation| {
        accommodation
            .products
            .iter()
            .find(|product| id.starts_with(&format!("{}_", product.stem)))
            .map(|product| (accommodation, product))
    })
}

impl Books {
    fn nightly(&self, accommodation: u64, product: &ProductSpec) -> Decimal {
        self.repriced
            .iter()
            .rev()
            .find(|(id, stem, _)| *id == accommodation && *stem == product.stem)
            .map_or(product.nightly, |(_, _, nightly)| *nightly)
    }

    fn sold_out(&self, product: &ProductSpec) -> bool {
        self.sold_out.contains(&product.stem)
    }

    fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }
}

/// The fee schedule of a product for a stay costing `total`.
fn schedule(
    product: &ProductSpec,
    checkin: NaiveDate,
    nightly: Decimal,
    total: Decimal,
) -> Vec<(Option<DateTime<Utc>>, Decimal)> {
    match product.cancellation {
        "free_cancellation" => vec![(None, Decimal::ZERO), (Some(deadline(checkin)), nightly)],
        "special_conditions" => vec![(None, nightly)],
        _ => vec![(None, total)],
    }
}

/// Free cancellation ends two days before check-in at 22:00 UTC.
pub fn deadline(checkin: NaiveDate) -> DateTime<Utc> {
    (checkin - Duration::days(2))
        .and_hms_opt(22, 0, 0)
        .unwrap()
        .and_utc()
}

async fn handle(
    axum::extract::State(fake): axum::extract::State<FakeBookingCom>,
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
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if header("authorization") != Some(&format!("Bearer {API_KEY}"))
        || header("x-affiliate-id") != Some(&AFFILIATE_ID.to_string())
    {
        return error(
            401,
            "unauthorised",
            "Missing or incorrect Authorization or X-Affiliate-Id header.",
        );
    }
    if !header("content-type").is_some_and(|v| v.starts_with("application/json")) {
        return error(400, "invalid_request", "The body must be application/json.");
    }
    let Some(body) = json else {
        return error(400, "invalid_request", "The body is not JSON.");
    };
    if let Some(forced) = books.recorder.forced_failure(|status| {
        let id = match status {
            429 => "too_many_requests",
            500 => "internal_error",
            503 => "service_unavailable",
            _ => "invalid_request",
        };
        json!({"request_id": "01forced", "errors": [{"id": id, "message": format!("forced HTTP {status}")}]})
    }) {
        return forced;
    }
    let path = uri.path().strip_prefix("/3.1").unwrap_or_default();
    match path {
        "/common/locations/cities" => ok(json!([{"id": -2140479, "name": {"en-gb": "Amsterdam"}}])),
        "/accommodations/search" => search(&books, &body),
        "/accommodations/details" => details(&books, &body),
        "/accommodations/availability" => availability(&books, &body),
        "/orders/preview" => preview(&mut books, &body),
        "/orders/create" => create(&mut books, &body),
        "/orders/details" => order_details(&mut books, &body),
        "/orders/details/accommodations" => accommodation_orders(&books, &body),
        "/orders/cancel" => cancel(&mut books, &body),
        _ => error(404, "not_found", "No such endpoint."),
    }
}

fn stay(body: &Value, guests: &str) -> Result<(NaiveDate, NaiveDate, u64), Response> {
    let checkin = date(body, "checkin")?;
    let checkout = date(body, "checkout")?;
    if checkout <= checkin || (checkout - checkin).num_days() > 90 {
        return Err(invalid("checkout"));
    }
    let adults = at(body, guests)
        .and_then(Value::as_u64)
        .filter(|n| *n >= 1)
        .ok_or_else(|| invalid(guests))?;
    Ok((checkin, checkout, adults))
}

fn booker_checked(body: &Value) -> Option<Response> {
    if let Some(refused) = first_missing(body, &["booker.country", "booker.platform"]) {
        return Some(refused);
    }
    let country = at(body, "booker.country").and_then(Value::as_str)?;
    if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_lowercase()) {
        return Some(invalid("booker.country"));
    }
    let platform = at(body, "booker.platform").and_then(Value::as_str)?;
    if !["android", "desktop", "ios", "mobile", "tablet"].contains(&platform) {
        return Some(invalid("booker.platform"));
    }
    None
}

fn search(books: &Books, body: &Value) -> Response {
    if let Some(refused) = first_missing(
        body,
        &[
            "checkin",
            "checkout",
            "guests.number_of_adults",
            "guests.number_of_rooms",
        ],
    )
    .or_else(|| booker_checked(body))
    {
        return refused;
    }
    let (checkin, checkout, adults) = match stay(body, "guests.number_of_adults") {
        Ok(stay) => stay,
        Err(refused) => return refused,
    };
    let Some(centre) = at(body, "coordinates") else {
        return error(
            400,
            "missing_parameter",
            "One of the location parameters is required.",
        );
    };
    let (Some(lat), Some(lon), Some(radius)) = (
        centre["latitude"].as_f64(),
        centre["longitude"].as_f64(),
        centre["radius"].as_f64(),
    ) else {
        return invalid("coordinates");
    };
    let currency = body["currency"].as_str().unwrap_or(CURRENCY);
    if currency != CURRENCY {
        return error(400, "invalid_parameter", "The fake prices in EUR only.");
    }
    let with_products = body["extras"]
        .as_array()
        .is_some_and(|extras| extras.iter().any(|e| e == "products"));
    let timing = at(body, "payment.timing").and_then(Value::as_str);
    let nights = Decimal::from((checkout - checkin).num_days());
    let data: Vec<Value> = INVENTORY
        .iter()
        .filter(|a| distance_km((lat, lon), (a.latitude, a.longitude)) <= radius)
        .filter(|a| {
            a.products.iter().any(|p| match timing {
                Some("pay_online") => p.timing.starts_with("pay_online"),
                Some(other) => p.timing == other,
                None => true,
            })
        })
        .filter_map(|a| {
            let products: Vec<Value> = a
                .products
                .iter()
                .filter(|p| !books.sold_out(p))
                .map(|p| {
                    let book = books.nightly(a.id, p) * nights;
                    let until = (p.cancellation == "free_cancellation")
                        .then(|| deadline(checkin).to_rfc3339());
                    let mut policies = json!({
                        "cancellation": {"free_cancellation_until": until, "type": p.cancellation},
                        "meal_plan": {"meals": [], "plan": p.meal_plan},
                        "payment": {"prepayment_required": p.timing == "pay_online_now", "timings": [p.timing]},
                    });
                    if books.without_payment_policy.contains(&p.stem) {
                        policies.as_object_mut().unwrap().remove("payment");
                    }
                    json!({
                        "id": product_id(p.stem, adults),
                        "bundle": null, "children": [], "deal": null,
                        "inventory": {"third_party": false, "type": "sell"},
                        "number_of_adults": adults,
                        "number_available_at_this_price": 3,
                        "policies": policies,
                        "price": {"base": number(book), "book": number(book), "total": number(book + p.at_property)},
                        "room": 1, "third_party_inventory": false,
                    })
                })
                .collect();
            let cheapest = products
                .iter()
                .filter_map(|p| p["price"]["book"].as_f64())
                .fold(f64::MAX, f64::min);
            if products.is_empty() {
                return None;
            }
            let mut item = json!({
                "id": a.id, "currency": CURRENCY,
                "deep_link_url": format!("booking://hotel/{}", a.id),
                "url": format!("https://www.booking.com/hotel/fr/{}.html", a.id),
                "price": {"book": cheapest, "total": cheapest},
            });
            if with_products {
                item["products"] = json!(products);
            }
            Some(item)
        })
        .collect();
    json_response(
        200,
        &json!({"request_id": "01fakerequest", "data": data, "next_page": null}),
    )
}

fn details(books: &Books, body: &Value) -> Response {
    let Some(ids) = body["accommodations"].as_array() else {
        return error(
            400,
            "missing_parameter",
            "One of accommodations, airport, city, country or region is required.",
        );
    };
    if ids.len() > 100 {
        return invalid("accommodations");
    }
    let data: Vec<Value> = ids
        .iter()
        .filter_map(Value::as_u64)
        .filter_map(|id| INVENTORY.iter().find(|a| a.id == id))
        .map(|a| {
            json!({
                "id": a.id,
                "name": {"en-gb": a.name},
                "location": {"coordinates": {"latitude": a.latitude, "longitude": a.longitude}, "country": "fr"},
                "rating": {"number_of_reviews": 120, "preferred": true, "review_score": 8.4, "stars": a.stars, "stars_type": "official"},
                "booker_address_required": books.address_required.contains(&a.id),
                "currency": CURRENCY,
                "url": format!("https://www.booking.com/hotel/fr/{}.html", a.id),
            })
        })
        .collect();
    json_response(
        200,
        &json!({"request_id": "01fakerequest", "data": data, "next_page": null}),
    )
}

fn availability(books: &Books, body: &Value) -> Response {
    if let Some(refused) = first_missing(
        body,
        &[
            "accommodation",
            "checkin",
            "checkout",
            "guests.number_of_adults",
            "guests.number_of_rooms",
        ],
    )
    .or_else(|| booker_checked(body))
    {
        return refused;
    }
    let (checkin, checkout, adults) = match stay(body, "guests.number_of_adults") {
        Ok(stay) => stay,
        Err(refused) => return refused,
    };
    let accommodation = body["accommodation"].as_u64().unwrap_or_default();
    let Some(spec) = INVENTORY.iter().find(|a| a.id == accommodation) else {
        return invalid("accommodation");
    };
    let wanted: Vec<&str> = body["products"]
        .as_array()
        .map(|ids| ids.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let nights = Decimal::from((checkout - checkin).num_days());
    let products: Vec<Value> = spec
        .products
        .iter()
        .filter(|p| !books.sold_out(p))
        .map(|p| (p, product_id(p.stem, adults)))
        .filter(|(_, id)| wanted.is_empty() || wanted.contains(&id.as_str()))
        .map(|(p, id)| {
            let total = books.nightly(spec.id, p) * nights;
            json!({"id": id, "price": {"book": number(total), "total": number(total + p.at_property)}})
        })
        .collect();
    ok(json!({"id": spec.id, "currency": CURRENCY, "products": products}))
}

fn preview(books: &mut Books, body: &Value) -> Response {
    if let Some(refused) = first_missing(
        body,
        &[
            "accommodation.id",
            "accommodation.checkin",
            "accommodation.checkout",
            "accommodation.products",
        ],
    )
    .or_else(|| booker_checked(body))
    {
        return refused;
    }
    let accommodation = &body["accommodation"];
    let checkin = match date(body, "accommodation.checkin") {
        Ok(day) => day,
        Err(refused) => return refused,
    };
    let checkout = match date(body, "accommodation.checkout") {
        Ok(day) => day,
        Err(refused) => return refused,
    };
    if checkout <= checkin {
        return invalid("accommodation.checkout");
    }
    let Some([product]) = accommodation["products"].as_array().map(Vec::as_slice) else {
        return error(
            400,
            "invalid_parameter",
            "The fake previews one product at a time.",
        );
    };
    let (Some(id), Some(adults)) = (
        product["id"].as_str(),
        at(product, "allocation.number_of_adults").and_then(Value::as_u64),
    ) else {
        return missing("accommodation.products.allocation.number_of_adults");
    };
    let found = find_product(id).filter(|(a, p)| {
        Some(a.id) == accommodation["id"].as_u64()
            && product_id(p.stem, adults) == id
            && !books.sold_out(p)
    });
    let Some((spec, product_spec)) = found else {
        return error(
            400,
            "product_not_available",
            "The product is not available for the given dates and guests.",
        );
    };
    let nights = Decimal::from((checkout - checkin).num_days());
    let nightly = books.nightly(spec.id, product_spec);
    let total = nightly * nights;
    let schedule = if books.tightened.contains(&product_spec.stem) {
        vec![(None, total)]
    } else {
        schedule(product_spec, checkin, nightly, total)
    };
    let timing_now = if books.paid_at_property.contains(&product_spec.stem) {
        "pay_at_the_property"
    } else {
        product_spec.timing
    };
    let online = timing_now == "pay_online_now";
    let token = format!("fake-order-token-{}", books.id());
    books.tokens.push(Token {
        value: token.clone(),
        accommodation: spec.id,
        product: id.to_string(),
        checkin,
        checkout,
        total,
        schedule: schedule.clone(),
        issued: Utc::now(),
        used: false,
    });
    let cancellation: Vec<Value> = schedule
        .iter()
        .map(|(from, fee)| {
            json!({"from": from.map_or("now".to_string(), |at| at.to_rfc3339()), "price": pair(*fee)})
        })
        .collect();
    let timing = |name: &str| {
        (timing_now == name).then(|| {
            json!({"dates": [{"at": Utc::now().date_naive().to_string(), "price": pair(total)}], "method_required": true, "methods": {"airplus": false, "cards": [1, 2, 3], "wallet": false}})
        })
    };
    let chargeable = if online { pair(total) } else { Value::Null };
    ok(json!({
        "accommodation": {
            "id": spec.id,
            "currency": {"accommodation": books.previewed_in.unwrap_or(CURRENCY), "booker": null},
            "general_policies": {"payment": {
                "pay_online_now": timing("pay_online_now"),
                "pay_online_later": timing("pay_online_later"),
                "pay_at_the_property": timing("pay_at_the_property"),
            }},
            "price": {"base": pair(total), "chargeable_online": chargeable, "total": pair(total + product_spec.at_property), "extra_charges": {"conditional": [], "non_conditional": []}},
            "products": [{
                "id": id, "bundle": null, "deal": null,
                "inventory": {"third_party": false, "type": "sell"},
                "policies": {"cancellation": cancellation, "meal_plan": {"meals": [], "plan": product_spec.meal_plan}},
                "price": {"base": pair(total), "chargeable_online": chargeable, "total": pair(total + product_spec.at_property), "extra_charges": {"conditional": [], "non_conditional": []}},
                "room": 1, "third_party_inventory": false, "occupancy_mismatch": null,
            }],
        },
        "order_token": token,
    }))
}

fn create(books: &mut Books, body: &Value) -> Response {
    if let Some(refused) = first_missing(
        body,
        &[
            "order_token",
            "booker.name.first_name",
            "booker.name.last_name",
            "booker.email",
            "booker.telephone",
            "booker.address.country",
            "payment.timing",
        ],
    ) {
        return refused;
    }
    let value = body["order_token"].as_str().unwrap_or_default();
    let Some(index) = books.tokens.iter().position(|t| t.value == value) else {
        return error(400, "invalid_order_token", "The order token is not valid.");
    };
    let token = books.tokens[index].clone();
    if token.used || Utc::now() - token.issued > Duration::minutes(TOKEN_TTL_MINUTES) {
        return error(
            400,
            "invalid_order_token",
            "The order token has expired or was used.",
        );
    }
    let timing = at(body, "payment.timing")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !["pay_at_the_property", "pay_online_later", "pay_online_now"].contains(&timing) {
        return invalid("payment.timing");
    }
    if timing == "pay_online_now" {
        if let Some(refused) = first_missing(
            body,
            &[
                "payment.card.number",
                "payment.card.cvc",
                "payment.card.expiry_date",
                "payment.card.cardholder",
            ],
        ) {
            return refused;
        }
        let card = &body["payment"]["card"];
        let expiry_ok = card["expiry_date"].as_str().is_some_and(|e| {
            e.len() == 7 && NaiveDate::parse_from_str(&format!("{e}-01"), "%Y-%m-%d").is_ok()
        });
        if body["payment"]["method"] != "card" || !expiry_ok {
            return invalid("payment.card");
        }
        if card["number"] != CARD_NUMBER || card["cvc"] != CARD_CVC {
            return error(400, "payment_declined", "The card was declined.");
        }
    }
    let products = body["accommodation"]["products"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let matches = products.len() == 1
        && products[0]["id"] == token.product.as_str()
        && products[0]["guests"].as_array().is_some_and(|guests| {
            !guests.is_empty()
                && guests
                    .iter()
                    .all(|g| g["name"].is_string() && g["email"].is_string())
        });
    if !matches {
        return error(
            400,
            "invalid_parameter",
            "accommodation.products must be the previewed products, each with guests (name, email).",
        );
    }
    books.tokens[index].used = true;
    let n = books.id();
    let order = Order {
        id: order_id(n),
        reservation: reservation(n),
        accommodation: token.accommodation,
        product: token.product.clone(),
        label: body["accommodation"]["label"].as_str().map(str::to_string),
        status: "booked",
        total: token.total,
        created: Utc::now(),
        fee: None,
        checkin: token.checkin,
        checkout: token.checkout,
        schedule: token.schedule.clone(),
        request: body.clone(),
    };
    books.orders.push(order.clone());
    if std::mem::take(&mut books.lose_next_create_answer) {
        return error(500, "internal_error", "Internal error.");
    }
    ok(json!({
        "accommodation": {"order": order.id, "pincode": "1234", "reservation": order.reservation, "third_party_inventory": null},
        "payment": {"receipt_url": format!("https://secure.booking.com/payment_receipt.html?bn={}", order.reservation)},
    }))
}

fn order_id(n: u64) -> String {
    format!("5094301297{n:05}")
}

fn reservation(n: u64) -> u64 {
    4_000_000_000 + n
}

/// The first `maximum_results` (10 to 100, default 100) of `data`, the rest kept behind a
/// `next_page` token, as Booking.com pages `/orders/details`.
fn paged(books: &mut Books, body: &Value, mut data: Vec<Value>) -> Response {
    let size = match body.get("maximum_results") {
        None => 100,
        Some(value) => match value.as_u64() {
            Some(size @ 10..=100) => size as usize,
            _ => return invalid("maximum_results"),
        },
    };
    let total = data.len();
    let next_page = (data.len() > size).then(|| {
        let token = format!("page-{}", books.id());
        books.pages.insert(token.clone(), data.split_off(size));
        token
    });
    json_response(
        200,
        &json!({"request_id": "01fakerequest", "data": data, "metadata": {"next_page": next_page, "total_results": total}}),
    )
}

fn summary(order: &Order, with_payment: bool) -> Value {
    let mut item = json!({
        "id": order.id,
        "accommodations": {"inventory": "sell", "reservation": order.reservation},
        "affiliate": AFFILIATE_ID,
        "created": order.created.to_rfc3339(),
        "updated": order.created.to_rfc3339(),
        "currency": CURRENCY,
        "price": {"commissionable": number(order.total), "total": number(order.total)},
        "status": order.status,
    });
    if with_payment {
        item["payment"] = json!({
            "method": "card", "timing": "pay_online_now",
            "paid": [{"amount": number(order.total), "at": order.created.to_rfc3339(), "transaction_currency": CURRENCY}],
            "pending": [],
        });
    }
    item
}

fn order_details(books: &mut Books, body: &Value) -> Response {
    if let Some(token) = body.get("page") {
        let rest = token.as_str().and_then(|token| books.pages.remove(token));
        return match rest {
            Some(rest) => paged(books, body, rest),
            None => invalid("page"),
        };
    }
    if body["currency"].as_str().is_none() {
        return missing("currency");
    }
    let with_payment = !books.hide_payments
        && body["extras"]
            .as_array()
            .is_some_and(|extras| extras.iter().any(|e| e == "payment"));
    if let Some(ids) = body["orders"].as_array() {
        let data = books
            .orders
            .iter()
            .filter(|o| ids.iter().any(|id| id == o.id.as_str()))
            .map(|o| summary(o, with_payment))
            .collect();
        return paged(books, body, data);
    }
    let Some(created) = body.get("created") else {
        return error(
            400,
            "missing_parameter",
            "One of created, updated, start, end, orders, reservations or page is required.",
        );
    };
    let instant = |name: &str| {
        created[name]
            .as_str()
            .and_then(|text| DateTime::parse_from_rfc3339(text).ok())
            .map(|at| at.with_timezone(&Utc))
    };
    let Some(from) = instant("from") else {
        return missing("created.from");
    };
    let to = instant("to").unwrap_or_else(Utc::now);
    if to - from > Duration::days(7) || from < Utc::now() - Duration::days(365) {
        return invalid("created");
    }
    let data = books
        .orders
        .iter()
        .filter(|o| o.created >= from && o.created <= to)
        .map(|o| summary(o, with_payment))
        .collect();
    paged(books, body, data)
}

fn accommodation_orders(books: &Books, body: &Value) -> Response {
    let by_order = body["orders"].as_array();
    let by_reservation = body["reservations"].as_array();
    let data: Vec<Value> = books
        .orders
        .iter()
        .filter(|o| match (by_order, by_reservation) {
            (Some(ids), _) => ids.iter().any(|id| id == o.id.as_str()),
            (None, Some(ids)) => ids.iter().any(|id| id.as_u64() == Some(o.reservation)),
            (None, None) => false,
        })
        .map(|o| {
            json!({
                "id": o.id,
                "accommodation": o.accommodation,
                "reservation": o.reservation,
                "label": o.label,
                "status": o.status,
                "checkin": o.checkin.to_string(),
                "checkout": o.checkout.to_string(),
                "currency": {"accommodation": CURRENCY, "booker": null},
                "price": {"commissionable": pair(o.total), "total": pair(o.total)},
                "cancellation_details": o.fee.map(|fee| json!({
                    "at": o.created.to_rfc3339(),
                    "fee": pair(fee),
                    "original_total_price": pair(o.total),
                })),
                "products": [{"id": o.product, "status": o.status}],
            })
        })
        .collect();
    if by_order.is_none() && by_reservation.is_none() {
        return error(
            400,
            "missing_parameter",
            "One of orders or reservations is required.",
        );
    }
    ok(json!(data))
}

fn cancel(books: &mut Books, body: &Value) -> Response {
    if let Some(refused) = first_missing(body, &["order", "reason"]) {
        return refused;
    }
    let id = body["order"].as_str().unwrap_or_default();
    let Some(order) = books.orders.iter_mut().find(|o| o.id == id) else {
        return error(400, "invalid_parameter", "Parameter 'order' is invalid.");
    };
    if order.status != "booked" || std::mem::take(&mut books.refuse_next_cancel) {
        return ok(json!({"status": "failed"}));
    }
    let now = Utc::now();
    let fee = order
        .schedule
        .iter()
        .filter(|(from, _)| from.is_none_or(|from| from <= now))
        .map(|(_, fee)| *fee)
        .max()
        .unwrap_or_default();
    order.status = "cancelled";
    order.fee = Some(fee);
    books.cancellations += 1;
    ok(json!({"status": "successful"}))
}
