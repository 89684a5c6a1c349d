//! A local Viator, following the wire contract in `shared/provider-apis.md` §7a and Viator's
//! OpenAPI spec: `exp-api-key` on every call (401 `UNAUTHORIZED` without the right one), the
//! versioned `Accept: application/json;version=2.0` (400 `INVALID_HEADER_VALUE` without it),
//! request bodies as `application/json;version=2.0`, prices as JSON numbers
//! (`partnerTotalPrice`), destinations with their airport codes, products of a destination,
//! availability per item for a pax mix, holds, bookings unique per `partnerBookingRef` (a repeat
//! is `REJECTED` + `DUPLICATE_BOOKING` and books nothing), status by `bookingRef` or
//! `partnerBookingRef`, cancellation as a quote then the cancellation, errors as
//! `{code, message, timestamp, trackingId}`, rate limits as 429 with `RateLimit-*` and
//! `Retry-After`. It records every request, and can be told to fail the next ones.
//!
//! Its own choices where the contract is silent: a 404 `NOT_FOUND` for an unknown product or
//! booking; 400 `INVALID_HEADER_VALUE` for a body without the versioned Content-Type; what a
//! repeated `partnerBookingRef` answers (the spec says only that it is unique); bookings only in
//! Viator's billing currencies (USD, CAD, GBP, AUD, EUR), refused otherwise with 400
//! `BAD_REQUEST`.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;
use axum::routing::{get, post};
use chrono::Utc;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde_json::{Value, json};

pub use super::fake_http::Received;
use super::fake_http::{Recorder, json_response};

pub const API_KEY: &str = "bcac8986-4c33-4fa0-ad3f-75409487026c";
pub const MEDIA_TYPE: &str = "application/json;version=2.0";
/// Paris: the destination whose airport codes include CDG and ORY.
pub const PARIS: i64 = 479;
/// The reason codes `/bookings/cancel-reasons` lists for customers.
const CUSTOMER_REASONS: &[&str] = &[
    "Customer_Service.Supplier_no_show",
    "Customer_Service.Chose_a_different_cheaper_tour",
    "Customer_Service.Unexpected_medical_circumstances",
    "Customer_Service.Weather",
    "Customer_Service.Booked_wrong_tour_date",
    "Customer_Service.Duplicate_Booking",
    "Customer_Service.Significant_global_event",
    "Customer_Service.I_canceled_my_entire_trip",
];
const BILLING_CURRENCIES: &[&str] = &["USD", "CAD", "GBP", "AUD", "EUR"];

/// A refund window: (dayRangeMin, dayRangeMax, percentageRefundable).
type Window = (i64, Option<i64>, u32);
/// A bookable item: (option, start time, price per adult, available).
type ItemSpec = (
    Option<&'static str>,
    Option<&'static str>,
    &'static str,
    bool,
);

/// One product of Paris: its code, title, minutes, items, its cancellation policy type and
/// refund windows.
struct Product {
    code: &'static str,
    title: &'static str,
    minutes: u32,
    items: &'static [ItemSpec],
    policy: &'static str,
    windows: &'static [Window],
}

impl Product {
    /// The share refunded when cancelling `days` days before the start.
    fn refund_percent(&self, days: i64) -> u32 {
        self.windows
            .iter()
            .find(|(min, max, _)| days >= *min && max.is_none_or(|max| days < max))
            .map_or(0, |(_, _, percent)| *percent)
    }
}

const PRODUCTS: &[Product] = &[
    Product {
        code: "5010EIFFEL",
        title: "Eiffel Tower Summit Tour",
        minutes: 120,
        items: &[
            (Some("TG1"), Some("09:00"), "45.50", true),
            (Some("TG1"), Some("14:00"), "45.50", true),
        ],
        policy: "STANDARD",
        windows: &[(1, None, 100), (0, Some(1), 0)],
    },
    Product {
        code: "2050SEINE",
        title: "Seine River Cruise",
        minutes: 60,
        items: &[
            (None, None, "15.25", true),
            (Some("SUNSET"), Some("20:00"), "29.90", false),
        ],
        policy: "ALL_SALES_FINAL",
        windows: &[(0, None, 0)],
    },
    Product {
        code: "3300LOUVRE",
        title: "Louvre Skip-the-Line",
        minutes: 180,
        items: &[(Some("STD"), Some("10:00"), "60.10", true)],
        policy: "CUSTOM",
        windows: &[(7, None, 100), (2, Some(7), 50), (0, Some(2), 0)],
    },
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BookAnswer {
    /// `CONFIRMED` at once.
    Confirmed,
    /// `PENDING`, waiting on the supplier, until `confirm_pending`.
    Pending,
    /// The booking is made, but a 500 goes back instead of its answer.
    Lost,
}

#[derive(Debug, Clone)]
pub struct StoredBooking {
    pub booking_ref: String,
    pub partner_ref: String,
    pub status: &'static str,
    pub product: String,
    pub total: Decimal,
    pub currency: String,
    pub travel_date: chrono::NaiveDate,
    not_cancellable: bool,
    /// Set when cancelled: the share its cancellation refunded.
    refund_percent: Option<u32>,
    pub booker: Value,
    pub communication: Value,
}

#[derive(Default)]
struct Books {
    recorder: Recorder,
    next_id: u64,
    holds: HashMap<String, Value>,
    bookings: Vec<StoredBooking>,
    /// Products whose items are all sold out.
    sold_out: HashSet<String>,
    /// Products that show available but are gone when booked.
    gone_at_book: HashSet<String>,
    /// Product → new price per adult.
    repriced: HashMap<String, Decimal>,
    /// How the next bookings answer, oldest first; `Confirmed` when empty.
    book_answers: Vec<BookAnswer>,
    /// The next POST to a path ending so acts, but a 500 goes back instead of its answer.
    lose_answer_to: Option<&'static str>,
    /// The next cancel quote reads `CANCELLABLE` whatever the booking's state, as one read just
    /// before another cancellation landed.
    stale_quote_next: bool,
    /// The next request is refused with 429: (Retry-After, RateLimit-Reset).
    rate_limit_next: Option<(Option<u64>, u64)>,
}

impl Books {
    fn reference(&mut self) -> String {
        self.next_id += 1;
        format!("BR-{}", 791_143_900 + self.next_id)
    }
}

#[derive(Clone)]
pub struct FakeViator {
    books: Arc<Mutex<Books>>,
    pub base_url: String,
}

impl FakeViator {
    /// Itinera's settings for this fake, signing in with `key`.
    pub fn settings(&self, key: &str) -> itinera::adapters::booking::viator::ViatorSettings {
        itinera::adapters::booking::viator::ViatorSettings {
            api_key: key.to_string(),
            base_url: self.base_url.clone(),
        }
    }

    pub async fn start() -> FakeViator {
        let (listener, base_url) = super::fake_http::bind().await;
        // Viator's paths sit under `/partner`.
        let base_url = format!("{base_url}/partner");
        let fake = FakeViator {
            books: Arc::default(),
            base_url,
        };
        let app = Router::new()
            .route("/partner/destinations", get(handle))
            .route("/partner/bookings/cancel-reasons", get(handle))
            .route("/partner/products/search", post(handle))
            .route("/partner/products/{code}", get(handle))
            .route("/partner/availability/check", post(handle))
            .route("/partner/bookings/hold", post(handle))
            .route("/partner/bookings/book", post(handle))
            .route("/partner/bookings/status", post(handle))
            .route("/partner/bookings/{reference}/cancel-quote", get(handle))
            .route("/partner/bookings/{reference}/cancel", post(handle))
            .fallback(handle)
            .with_state(fake.clone());
        super::fake_http::serve(listener, app);
        fake
    }

    /// Every request received, oldest first.
    pub fn received(&self) -> Vec<Received> {
        self.books.lock().unwrap().recorder.received.clone()
    }

    /// Requests received on this method and path (without `/partner`).
    pub fn received_on(&self, method: &str, path: &str) -> Vec<Received> {
        let path = format!("/partner{path}");
        self.books
            .lock()
            .unwrap()
            .recorder
            .received_on(method, &path)
    }

    /// The next request is answered with this status (and `Retry-After`), without acting.
    pub fn fail_next(&self, status: u16, retry_after: Option<u64>) {
        self.books
            .lock()
            .unwrap()
            .recorder
            .fail_next(status, retry_after);
    }

    /// The next request is rate limited.
    pub fn rate_limit_next(&self, retry_after: Option<u64>, reset: u64) {
        self.books.lock().unwrap().rate_limit_next = Some((retry_after, reset));
    }

    /// The next POST to a path ending in `path_end` acts, but a 500 goes back.
    pub fn lose_answer_to(&self, path_end: &'static str) {
        self.books.lock().unwrap().lose_answer_to = Some(path_end);
    }

    /// How the next booking answers.
    pub fn next_book_answers(&self, answer: BookAnswer) {
        self.books.lock().unwrap().book_answers.push(answer);
    }

    /// The supplier confirms every pending booking.
    pub fn confirm_pending(&self) {
        for booking in &mut self.books.lock().unwrap().bookings {
            if booking.status == "PENDING" {
                booking.status = "CONFIRMED";
            }
        }
    }

    pub fn sell_out(&self, product: &str) {
        self.books.lock().unwrap().sold_out.insert(product.into());
    }

    /// The product still shows available, but is gone when booked.
    pub fn gone_at_book(&self, product: &str) {
        self.books
            .lock()
            .unwrap()
            .gone_at_book
            .insert(product.into());
    }

    pub fn reprice(&self, product: &str, per_adult: &str) {
        self.books
            .lock()
            .unwrap()
            .repriced
            .insert(product.into(), per_adult.parse().unwrap());
    }

    /// The booking's activity has started: it can no longer be cancelled.
    pub fn start_activity(&self, booking_ref: &str) {
        let mut books = self.books.lock().unwrap();
        let booking = books
            .bookings
            .iter_mut()
            .find(|b| b.booking_ref == booking_ref)
            .unwrap();
        booking.not_cancellable = true;
    }

    /// The next cancel quote is read as if just before another cancellation or the start.
    pub fn stale_quote_next(&self) {
        self.books.lock().unwrap().stale_quote_next = true;
    }

    /// Every booking made, oldest first.
    pub fn bookings(&self) -> Vec<StoredBooking> {
        self.books.lock().unwrap().bookings.clone()
    }
}

/// A JSON number, as Viator sends prices.
fn number(amount: Decimal) -> Value {
    json!(amount.to_f64().unwrap())
}

fn error(status: u16, code: &str, message: &str) -> Response {
    json_response(
        status,
        &json!({
            "code": code,
            "message": message,
            "timestamp": Utc::now().format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
            "trackingId": "0A871A13:DE2A_0A8712F9:01BB_5DCCC98C_260DAA:0D5B",
        }),
    )
}

fn bad_request(message: &str) -> Response {
    error(400, "BAD_REQUEST", message)
}

fn not_found(message: &str) -> Response {
    error(404, "NOT_FOUND", message)
}

async fn handle(
    axum::extract::State(fake): axum::extract::State<FakeViator>,
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
    if let Some(refused) = check_headers(&method, &headers, &body, json.as_ref()) {
        return refused;
    }
    if let Some((retry_after, reset)) = books.rate_limit_next.take() {
        let mut response = error(
            429,
            "TOO_MANY_REQUESTS",
            "Too many requests, please try again later",
        );
        let headers = response.headers_mut();
        headers.insert("ratelimit-limit", "16".parse().unwrap());
        headers.insert("ratelimit-remaining", "0".parse().unwrap());
        headers.insert("ratelimit-reset", reset.to_string().parse().unwrap());
        if let Some(seconds) = retry_after {
            headers.insert("retry-after", seconds.to_string().parse().unwrap());
        }
        return response;
    }
    if let Some(forced) = books.recorder.forced_failure(|status| {
        let code = match status {
            503 => "SERVICE_UNAVAILABLE",
            500 => "INTERNAL_SERVER_ERROR",
            _ => "BAD_REQUEST",
        };
        json!({"code": code, "message": format!("forced HTTP {status}"), "timestamp": "2026-01-01T00:00:00Z", "trackingId": "forced"})
    }) {
        return forced;
    }
    let path = uri.path().strip_prefix("/partner").unwrap_or_default();
    let body = json.unwrap_or_default();
    let answer = match (method.as_str(), path) {
        ("GET", "/destinations") => destinations(),
        ("GET", "/bookings/cancel-reasons") => json_response(
            200,
            &json!({"reasons": CUSTOMER_REASONS.iter().map(|code| json!({"cancellationReasonCode": code, "cancellationReasonText": code.replace('_', " ")})).collect::<Vec<_>>()}),
        ),
        ("POST", "/products/search") => product_search(&body),
        ("GET", p) if p.starts_with("/products/") => product(reference(p)),
        ("POST", "/availability/check") => availability(&books, &body),
        ("POST", "/bookings/hold") => hold(&mut books, &body),
        ("POST", "/bookings/book") => book(&mut books, &body),
        ("POST", "/bookings/status") => status(&books, &body),
        ("GET", p) if p.ends_with("/cancel-quote") => {
            let stale = std::mem::take(&mut books.stale_quote_next);
            cancel_quote(&books, reference(p), stale)
        }
        ("POST", p) if p.ends_with("/cancel") => cancel(&mut books, reference(p), &body),
        _ => not_found("The specified resource was not found"),
    };
    if method == Method::POST
        && books
            .lose_answer_to
            .is_some_and(|end| uri.path().ends_with(end))
    {
        books.lose_answer_to = None;
        return error(500, "INTERNAL_SERVER_ERROR", "lost answer");
    }
    answer
}

/// `/bookings/BR-1/cancel` → `BR-1`, `/products/P1` → `P1`.
fn reference(path: &str) -> &str {
    path.split('/').nth(2).unwrap_or_default()
}

/// Every call: the key, the versioned Accept, a language; bodies as versioned JSON.
fn check_headers(
    method: &Method,
    headers: &HeaderMap,
    body: &str,
    json: Option<&Value>,
) -> Option<Response> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if header("exp-api-key") != Some(API_KEY) {
        return Some(error(401, "UNAUTHORIZED", "Invalid API Key"));
    }
    if header("accept").map(|v| v.replace(' ', "")) != Some(MEDIA_TYPE.to_string()) {
        return Some(error(
            400,
            "INVALID_HEADER_VALUE",
            "Accept header  is missing or has invalid version information",
        ));
    }
    if header("accept-language").is_none() {
        return Some(error(
            400,
            "INVALID_HEADER_VALUE",
            "Accept-Language header is missing",
        ));
    }
    if *method == Method::POST {
        if header("content-type").map(|v| v.replace(' ', "")) != Some(MEDIA_TYPE.to_string()) {
            return Some(error(
                400,
                "INVALID_HEADER_VALUE",
                "Content-Type must be application/json;version=2.0",
            ));
        }
        if body.is_empty() || json.is_none_or(|j| !j.is_object()) {
            return Some(bad_request("The request body must be a JSON object"));
        }
    }
    None
}

fn destinations() -> Response {
    json_response(
        200,
        &json!({
            "destinations": [
                {"destinationId": 12, "name": "Ile-de-France", "type": "REGION", "parentDestinationId": 51, "lookupId": "6.51.12", "iataCodes": ["CDG", "ORY"]},
                {"destinationId": PARIS, "name": "Paris", "type": "CITY", "parentDestinationId": 12, "lookupId": "6.51.12.479", "defaultCurrencyCode": "EUR", "timeZone": "Europe/Paris", "iataCodes": ["CDG", "ORY"], "countryCallingCode": "+33", "languages": ["fr"], "center": {"latitude": 48.8566, "longitude": 2.3522}},
                {"destinationId": 51, "name": "France", "type": "COUNTRY", "parentDestinationId": 6, "lookupId": "6.51"},
                {"destinationId": 511, "name": "Rome", "type": "CITY", "parentDestinationId": 57, "lookupId": "6.57.511", "iataCodes": ["FCO", "CIA"]},
            ],
            "totalCount": 4,
        }),
    )
}

fn product_search(body: &Value) -> Response {
    let (Some(destination), Some(currency)) = (
        body["filtering"]["destination"].as_str(),
        body["currency"].as_str(),
    ) else {
        return bad_request("filtering.destination (a string) and currency are required");
    };
    let count = body["pagination"]["count"].as_u64().unwrap_or(10) as usize;
    let products: Vec<Value> = if destination == PARIS.to_string() {
        PRODUCTS
            .iter()
            .take(count)
            .map(|p| {
                let from = p.items[0].2.parse::<Decimal>().unwrap();
                json!({
                    "productCode": p.code,
                    "title": p.title,
                    "description": format!("{} in Paris", p.title),
                    "duration": {"fixedDurationInMinutes": p.minutes},
                    "pricing": {"summary": {"fromPrice": number(from)}, "currency": currency},
                    "destinations": [{"ref": PARIS.to_string(), "primary": true}],
                    "tags": [21972],
                    "flags": if p.windows.iter().any(|w| w.2 == 100) { json!(["FREE_CANCELLATION"]) } else { json!([]) },
                    "confirmationType": "INSTANT",
                })
            })
            .collect()
    } else {
        Vec::new()
    };
    let total = products.len();
    json_response(200, &json!({"products": products, "totalCount": total}))
}

fn product(code: &str) -> Response {
    let Some(product) = PRODUCTS.iter().find(|p| p.code == code) else {
        return not_found(&format!("Product {code} not found"));
    };
    let windows: Vec<Value> = product
        .windows
        .iter()
        .map(|(min, max, percent)| {
            let mut window = json!({"dayRangeMin": min, "percentageRefundable": percent});
            if let Some(max) = max {
                window["dayRangeMax"] = json!(max);
            }
            window
        })
        .collect();
    json_response(
        200,
        &json!({
            "status": "ACTIVE",
            "productCode": product.code,
            "language": "en",
            "createdAt": "2019-04-03T02:54:29.082753Z",
            "title": product.title,
            "timeZone": "Europe/Paris",
            "description": format!("{} in Paris", product.title),
            "ticketInfo": {"ticketTypes": ["MOBILE_ONLY"], "ticketsPerBooking": "ONE_PER_BOOKING"},
            "logistics": {},
            "additionalInfo": [],
            "cancellationPolicy": {
                "type": product.policy,
                "description": "See the refund windows",
                "cancelIfBadWeather": false,
                "cancelIfInsufficientTravelers": false,
                "refundEligibility": windows,
            },
            "bookingConfirmationSettings": {"confirmationType": "INSTANT"},
            "bookingRequirements": {"minTravelersPerBooking": 1, "maxTravelersPerBooking": 9, "requiresAdultForBooking": false},
            "bookingQuestions": [],
            "tags": [21972],
            "destinations": [{"ref": PARIS.to_string(), "primary": true}],
            "pricingInfo": {"type": "PER_PERSON", "ageBands": [{"ageBand": "ADULT", "startAge": 18, "endAge": 99, "minTravelersPerBooking": 1, "maxTravelersPerBooking": 9}]},
            "supplier": {"name": "Fake Paris Tours", "reference": "1234"},
            "reviews": {"totalReviews": 0, "combinedAverageRating": 0},
        }),
    )
}

/// The item fields availability, hold and book share, checked.
struct Asked<'a> {
    product: &'static Product,
    option: Option<&'a str>,
    time: Option<&'a str>,
    currency: &'a str,
    adults: u64,
}

/// A refusal, boxed: a response is large.
type Refused = Box<Response>;

fn asked(body: &Value) -> Result<Asked<'_>, Refused> {
    let code = body["productCode"].as_str().unwrap_or_default();
    let Some(product) = PRODUCTS.iter().find(|p| p.code == code) else {
        return Err(Box::new(not_found(&format!("Product {code} not found"))));
    };
    let date = body["travelDate"].as_str().unwrap_or_default();
    if chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").is_err() {
        return Err(Box::new(bad_request(
            "travelDate must be a date, YYYY-MM-DD",
        )));
    }
    let Some(currency) = body["currency"].as_str() else {
        return Err(Box::new(bad_request("currency is required")));
    };
    let pax = body["paxMix"].as_array().cloned().unwrap_or_default();
    let bands = ["ADULT", "SENIOR", "YOUTH", "CHILD", "INFANT", "TRAVELER"];
    if pax.is_empty()
        || pax.iter().any(|p| {
            !bands.contains(&p["ageBand"].as_str().unwrap_or_default())
                || p["numberOfTravelers"].as_u64().unwrap_or(0) == 0
        })
    {
        return Err(Box::new(bad_request(
            "paxMix must list age bands with a numberOfTravelers of at least 1",
        )));
    }
    let adults = pax
        .iter()
        .filter(|p| p["ageBand"] == "ADULT")
        .map(|p| p["numberOfTravelers"].as_u64().unwrap_or(0))
        .sum();
    Ok(Asked {
        product,
        option: body["productOptionCode"].as_str(),
        time: body["startTime"].as_str(),
        currency,
        adults,
    })
}

fn per_adult(books: &Books, product: &Product, listed: &str) -> Decimal {
    books
        .repriced
        .get(product.code)
        .copied()
        .unwrap_or_else(|| listed.parse().unwrap())
}

fn price(total: Decimal) -> Value {
    json!({
        "recommendedRetailPrice": number((total * Decimal::new(12, 1)).round_dp(2)),
        "partnerNetPrice": number((total * Decimal::new(9, 1)).round_dp(2)),
        "bookingFee": number(total - (total * Decimal::new(9, 1)).round_dp(2)),
        "partnerTotalPrice": number(total),
    })
}

fn availability(books: &Books, body: &Value) -> Response {
    let asked = match asked(body) {
        Ok(asked) => asked,
        Err(refused) => return *refused,
    };
    let items: Vec<Value> = asked
        .product
        .items
        .iter()
        .filter(|(option, time, _, _)| {
            asked.option.is_none_or(|o| Some(o) == *option)
                && asked.time.is_none_or(|t| Some(t) == *time)
        })
        .map(|(option, time, listed, available)| {
            let available = *available && !books.sold_out.contains(asked.product.code);
            let mut item = json!({"available": available});
            if let Some(option) = option {
                item["productOptionCode"] = json!(option);
            }
            if let Some(time) = time {
                item["startTime"] = json!(time);
            }
            if available {
                let each = per_adult(books, asked.product, listed);
                let total = each * Decimal::from(asked.adults);
                item["lineItems"] = json!([{"ageBand": "ADULT", "numberOfTravelers": asked.adults, "subtotalPrice": {"price": price(total)}}]);
                item["totalPrice"] = json!({"price": price(total)});
            } else {
                item["unavailableReason"] = json!("SOLD_OUT");
            }
            item
        })
        .collect();
    json_response(
        200,
        &json!({
            "productCode": asked.product.code,
            "travelDate": body["travelDate"],
            "currency": asked.currency,
            "bookableItems": items,
        }),
    )
}

/// The one item asked, its total, or Viator's refusal.
fn the_item(books: &Books, asked: &Asked) -> Result<Decimal, Refused> {
    if !BILLING_CURRENCIES.contains(&asked.currency) {
        return Err(Box::new(bad_request(&format!(
            "Invalid currency {}: bookings are billed in USD, CAD, GBP, AUD or EUR",
            asked.currency
        ))));
    }
    let matching: Vec<_> = asked
        .product
        .items
        .iter()
        .filter(|(option, time, _, _)| asked.option == *option && asked.time == *time)
        .collect();
    let [(_, _, listed, _)] = matching.as_slice() else {
        return Err(Box::new(bad_request(
            "productOptionCode and startTime must name one bookable item",
        )));
    };
    Ok(per_adult(books, asked.product, listed) * Decimal::from(asked.adults))
}

fn hold(books: &mut Books, body: &Value) -> Response {
    let asked = match asked(body) {
        Ok(asked) => asked,
        Err(refused) => return *refused,
    };
    let total = match the_item(books, &asked) {
        Ok(total) => total,
        Err(refused) => return *refused,
    };
    let reference = books.reference();
    books.holds.insert(reference.clone(), body.clone());
    let until = (Utc::now() + chrono::Duration::minutes(30))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    json_response(
        200,
        &json!({
            "bookingRef": reference,
            "bookingHoldInfo": {
                "availability": {"status": "HOLDING", "validUntil": until},
                "pricing": {"status": "HOLDING", "validUntil": until},
            },
            "currency": asked.currency,
            "lineItems": [{"ageBand": "ADULT", "numberOfTravelers": asked.adults, "subtotalPrice": {"price": price(total)}}],
            "totalPrice": {"price": price(total)},
        }),
    )
}

fn booking_body(booking: &StoredBooking) -> Value {
    let mut body = json!({
        "status": booking.status,
        "bookingRef": booking.booking_ref,
        "partnerBookingRef": booking.partner_ref,
        "currency": booking.currency,
        "lineItems": [],
        "totalPrice": {"price": price(booking.total)},
        "cancellationPolicy": {
            "type": product_of(booking).policy,
            "cancelIfBadWeather": false,
            "cancelIfInsufficientTravelers": false,
            "refundEligibility": [],
        },
    });
    if booking.status == "PENDING" {
        body["nextPollAt"] = json!(Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string());
    }
    body
}

fn book(books: &mut Books, body: &Value) -> Response {
    let asked = match asked(body) {
        Ok(asked) => asked,
        Err(refused) => return *refused,
    };
    let total = match the_item(books, &asked) {
        Ok(total) => total,
        Err(refused) => return *refused,
    };
    let travel_date =
        chrono::NaiveDate::parse_from_str(body["travelDate"].as_str().unwrap(), "%Y-%m-%d")
            .unwrap();
    let partner_ref = body["partnerBookingRef"].as_str().unwrap_or_default();
    if partner_ref.trim().is_empty() || partner_ref.len() > 100 {
        return bad_request("partnerBookingRef is required, at most 100 characters");
    }
    let booker = &body["bookerInfo"];
    for field in ["firstName", "lastName"] {
        let name = booker[field].as_str().unwrap_or_default();
        if name.is_empty() || name.chars().count() > 50 {
            return bad_request(&format!("bookerInfo.{field} must be 1 to 50 characters"));
        }
    }
    let phone = body["communication"]["phone"].as_str().unwrap_or_default();
    if !phone.starts_with('+') || phone.len() > 30 || phone.len() < 2 {
        return bad_request("communication.phone must start with + and be at most 30 characters");
    }
    if books.bookings.iter().any(|b| b.partner_ref == partner_ref) {
        return json_response(
            200,
            &json!({"status": "REJECTED", "rejectionReasonCode": "DUPLICATE_BOOKING", "partnerBookingRef": partner_ref}),
        );
    }
    let booking_ref = match body["bookingRef"].as_str() {
        Some(held) => {
            let Some(hold) = books.holds.remove(held) else {
                return bad_request(&format!("bookingRef {held} is not a current hold"));
            };
            let same = [
                "productCode",
                "productOptionCode",
                "startTime",
                "travelDate",
                "currency",
                "paxMix",
            ]
            .iter()
            .all(|field| hold[field] == body[field]);
            if !same {
                return bad_request("the booking does not match its hold");
            }
            held.to_string()
        }
        None => books.reference(),
    };
    if books.gone_at_book.contains(asked.product.code) {
        return json_response(
            200,
            &json!({"status": "REJECTED", "rejectionReasonCode": "BOOKABLE_ITEM_IS_NO_LONGER_AVAILABLE", "bookingRef": booking_ref, "partnerBookingRef": partner_ref}),
        );
    }
    let answer = if books.book_answers.is_empty() {
        BookAnswer::Confirmed
    } else {
        books.book_answers.remove(0)
    };
    let booking = StoredBooking {
        booking_ref,
        partner_ref: partner_ref.to_string(),
        status: if answer == BookAnswer::Pending {
            "PENDING"
        } else {
            "CONFIRMED"
        },
        product: asked.product.code.to_string(),
        total,
        currency: asked.currency.to_string(),
        travel_date,
        not_cancellable: false,
        refund_percent: None,
        booker: body["bookerInfo"].clone(),
        communication: body["communication"].clone(),
    };
    let answer_body = booking_body(&booking);
    books.bookings.push(booking);
    if answer == BookAnswer::Lost {
        return error(500, "INTERNAL_SERVER_ERROR", "An internal error occurred");
    }
    json_response(200, &answer_body)
}

fn status(books: &Books, body: &Value) -> Response {
    let by_ref = body["bookingRef"].as_str();
    let by_partner = body["partnerBookingRef"].as_str();
    if by_ref.is_none() == by_partner.is_none() {
        return bad_request("give bookingRef or partnerBookingRef");
    }
    match books.bookings.iter().find(|b| {
        Some(b.booking_ref.as_str()) == by_ref || Some(b.partner_ref.as_str()) == by_partner
    }) {
        Some(booking) => json_response(200, &booking_body(booking)),
        None => not_found("Booking not found"),
    }
}

fn product_of(booking: &StoredBooking) -> &'static Product {
    PRODUCTS.iter().find(|p| p.code == booking.product).unwrap()
}

/// What cancelling today gives back, by the product's windows. A cancelled booking keeps the
/// refund of its cancellation.
fn refund_details(booking: &StoredBooking) -> Value {
    // A booking the supplier has not confirmed reports zeros.
    let (item, refund, percent) = if booking.status == "PENDING" {
        (Decimal::ZERO, Decimal::ZERO, 0)
    } else {
        let percent = booking.refund_percent.unwrap_or_else(|| {
            let days = (booking.travel_date - Utc::now().date_naive()).num_days();
            product_of(booking).refund_percent(days)
        });
        let refund = (booking.total * Decimal::from(percent) / Decimal::from(100)).round_dp(2);
        (booking.total, refund, percent)
    };
    json!({
        "itemPrice": number(item),
        "refundAmount": number(refund),
        "refundPercentage": percent,
        "currencyCode": booking.currency,
    })
}

fn cancel_quote(books: &Books, reference: &str, stale: bool) -> Response {
    let Some(booking) = books.bookings.iter().find(|b| b.booking_ref == reference) else {
        return not_found(&format!("Booking {reference} not found"));
    };
    let status = if stale {
        "CANCELLABLE"
    } else if booking.status == "CANCELED" {
        "CANCELLED"
    } else if booking.not_cancellable {
        "NOT_CANCELLABLE"
    } else {
        "CANCELLABLE"
    };
    json_response(
        200,
        &json!({"bookingId": reference, "refundDetails": refund_details(booking), "status": status}),
    )
}

fn cancel(books: &mut Books, reference: &str, body: &Value) -> Response {
    if !CUSTOMER_REASONS.contains(&body["reasonCode"].as_str().unwrap_or_default()) {
        return bad_request("reasonCode must be one of /bookings/cancel-reasons");
    }
    let Some(booking) = books
        .bookings
        .iter_mut()
        .find(|b| b.booking_ref == reference)
    else {
        return not_found(&format!("Booking {reference} not found"));
    };
    let declined = |reason: &str| {
        json_response(
            200,
            &json!({"bookingId": reference, "status": "DECLINED", "reason": reason}),
        )
    };
    if booking.status == "CANCELED" {
        return declined("ALREADY_CANCELLED");
    }
    if booking.not_cancellable {
        return declined("NOT_CANCELLABLE");
    }
    booking.status = "CANCELED";
    let days = (booking.travel_date - Utc::now().date_naive()).num_days();
    booking.refund_percent = Some(product_of(booking).refund_percent(days));
    json_response(200, &json!({"bookingId": reference, "status": "ACCEPTED"}))
}
