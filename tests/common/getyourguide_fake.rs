//! A local GetYourGuide, following its Partner API spec (`getyourguide/partner-api-spec` at
//! 6c4a995, `spec/`): `X-ACCESS-TOKEN` on every call (401 with GetYourGuide's error body
//! without the right one), `cnt_language` and `currency` required on every GET and DELETE and
//! in every booking and cart body (400 otherwise), tours near a point on a day, price-breakdowns
//! with time slots and prices as JSON numbers, bookings that put a temporary booking in a new
//! cart, carts checked out only with `payment: {master_bill: true}` and the required billing
//! and traveler fields, bookings read by hash (a ticket once confirmed), cancellation by DELETE,
//! errors as `{descriptor, …, errors: [{errorCode, errorMessage}]}`; 403, 429, 500 and 503
//! without a body. It records every request, and can be told to fail the next ones.
//!
//! Its own choices where the spec is silent: the error codes and messages; the price-breakdown
//! and booking-by-hash answers bare, as the spec shows them, the others under `data`; a slot
//! price check at booking (400 when the price sent is not the current one); a second checkout
//! of a completed cart refused (400); a cancellation past the tour's deadline refused (400);
//! `datetime_utc` one hour before the local time (Paris in winter).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;
use chrono::{NaiveDateTime, Utc};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde_json::{Value, json};

pub use super::fake_http::Received;
use super::fake_http::{Recorder, json_response};

pub const TOKEN: &str = "gyg-test-3f9a2c71d5e84b06";
/// The ticket category id of adults in every tour here.
pub const ADULT: i64 = 33;
const LOCAL: &str = "%Y-%m-%dT%H:%M:%S";

/// Cancellation terms: (cancellable, fee unit, fee value, offset minutes).
type Terms = (bool, Option<&'static str>, &'static str, i64);
/// One option: its id and its slots (local time, price per adult, vacancies).
type OptionSpec = (i64, &'static [(&'static str, &'static str, i64)]);

struct Tour {
    id: i64,
    title: &'static str,
    hours: &'static str,
    options: &'static [OptionSpec],
    terms: Terms,
}

const TOURS: &[Tour] = &[
    Tour {
        id: 1001,
        title: "Eiffel Tower Summit Tour",
        hours: "2",
        options: &[(5001, &[("09:00", "45.50", 10), ("14:00", "40.00", 10)])],
        terms: (true, None, "0", 1440),
    },
    Tour {
        id: 1002,
        title: "Seine River Cruise",
        hours: "1",
        options: &[(5002, &[("00:00", "15.25", 50)])],
        terms: (false, None, "0", 0),
    },
    Tour {
        id: 1003,
        title: "Louvre Skip-the-Line",
        hours: "3",
        options: &[
            (5003, &[("10:00", "60.10", 8)]),
            (5004, &[("10:00", "75.00", 8)]),
        ],
        terms: (true, Some("percentage"), "10", 2880),
    },
    Tour {
        id: 1004,
        title: "Catacombs Night Visit",
        hours: "1.5",
        options: &[(5005, &[("21:00", "30.00", 1)])],
        terms: (true, None, "0", 1440),
    },
];

/// How the next checkouts answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checkout {
    /// `confirmed` at once (a free-sale activity).
    Confirmed,
    /// `unconfirmed`, awaiting the supplier, until `confirm_pending`.
    Unconfirmed,
    /// The cart is checked out (`confirmed`), but a 500 goes back instead of its answer.
    Lost,
}

#[derive(Debug, Clone)]
pub struct StoredBooking {
    pub hash: String,
    pub cart: String,
    pub status: &'static str,
    pub tour: i64,
    pub option: i64,
    pub datetime: String,
    pub price: Decimal,
    pub currency: String,
    pub categories: Value,
    pub external_reference: String,
    pub ticket: String,
    pub billing: Value,
    pub traveler: Value,
}

#[derive(Default)]
struct State {
    recorder: Recorder,
    next_id: u64,
    bookings: Vec<StoredBooking>,
    completed_carts: HashSet<String>,
    sold_out: HashSet<i64>,
    /// Tour → new price per adult.
    repriced: Vec<(i64, Decimal)>,
    checkouts: Vec<Checkout>,
    /// The next temporary booking is made, but a 500 goes back instead of its answer.
    lose_booking_answer: bool,
    /// The next checkout is refused with this status, without acting.
    refuse_checkout: Option<u16>,
    /// Reads of a booking are answered with 500 while set.
    reads_fail: bool,
}

#[derive(Clone)]
pub struct FakeGetYourGuide {
    state: Arc<Mutex<State>>,
    pub base_url: String,
}

impl FakeGetYourGuide {
    pub async fn start() -> FakeGetYourGuide {
        let (listener, base_url) = super::fake_http::bind().await;
        let fake = FakeGetYourGuide {
            state: Arc::default(),
            base_url,
        };
        let app = Router::new().fallback(handle).with_state(fake.clone());
        super::fake_http::serve(listener, app);
        fake
    }

    /// Itinera's settings for this fake, signing in with `token`.
    pub fn settings(
        &self,
        token: &str,
    ) -> itinera::adapters::booking::getyourguide::GetYourGuideSettings {
        itinera::adapters::booking::getyourguide::GetYourGuideSettings {
            access_token: token.to_string(),
            base_url: self.base_url.clone(),
        }
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.lock().unwrap().recorder.received.clone()
    }

    pub fn received_on(&self, method: &str, path: &str) -> Vec<Received> {
        self.state
            .lock()
            .unwrap()
            .recorder
            .received_on(method, path)
    }

    /// The next request is answered with this status (and `Retry-After`), without acting.
    pub fn fail_next(&self, status: u16, retry_after: Option<u64>) {
        self.state
            .lock()
            .unwrap()
            .recorder
            .fail_next(status, retry_after);
    }

    pub fn sell_out(&self, tour: i64) {
        self.state.lock().unwrap().sold_out.insert(tour);
    }

    pub fn reprice(&self, tour: i64, per_adult: &str) {
        self.state
            .lock()
            .unwrap()
            .repriced
            .push((tour, per_adult.parse().unwrap()));
    }

    pub fn next_checkouts(&self, answer: Checkout) {
        self.state.lock().unwrap().checkouts.push(answer);
    }

    /// The next checkout is refused with `status` (no body), the cart left open.
    pub fn refuse_next_checkout(&self, status: u16) {
        self.state.lock().unwrap().refuse_checkout = Some(status);
    }

    /// Reads of a booking (`GET /1/bookings/{hash}`) fail with 500 until called with false.
    pub fn fail_booking_reads(&self, failing: bool) {
        self.state.lock().unwrap().reads_fail = failing;
    }

    pub fn lose_next_booking_answer(&self) {
        self.state.lock().unwrap().lose_booking_answer = true;
    }

    /// The supplier confirms every booking awaiting it.
    pub fn confirm_pending(&self) {
        for booking in &mut self.state.lock().unwrap().bookings {
            if booking.status == "unconfirmed" {
                booking.status = "confirmed";
            }
        }
    }

    /// Every booking made (temporary ones too), oldest first.
    pub fn bookings(&self) -> Vec<StoredBooking> {
        self.state.lock().unwrap().bookings.clone()
    }

    /// Bookings bought: checked out, whatever became of them after.
    pub fn bought(&self) -> Vec<StoredBooking> {
        self.bookings()
            .into_iter()
            .filter(|b| b.status != "temp")
            .collect()
    }
}

/// A JSON number, as GetYourGuide sends prices.
fn number(amount: Decimal) -> Value {
    json!(amount.to_f64().unwrap())
}

fn error(status: u16, code: i64, message: &str, query: &str) -> Response {
    json_response(
        status,
        &json!({
            "descriptor": "GetYourGuide AG",
            "apiVersion": "1",
            "method": "fakeAction",
            "date": Utc::now().format(LOCAL).to_string(),
            "status": "ERROR",
            "query": query,
            "errors": [{"errorCode": code, "errorMessage": message}],
            "helpURL": "https://api.getyourguide.com/doc",
        }),
    )
}

fn metadata() -> Value {
    json!({"descriptor": "GetYourGuide AG", "method": "fakeAction", "date": Utc::now().format(LOCAL).to_string(), "status": "OK", "query": "", "availableLanguages": ["en"]})
}

fn ok(data: Value) -> Response {
    json_response(200, &json!({"_metadata": metadata(), "data": data}))
}

async fn handle(
    axum::extract::State(fake): axum::extract::State<FakeGetYourGuide>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: String,
) -> Response {
    let raw_query = uri.query().unwrap_or_default().to_string();
    let query: Vec<(String, String)> = serde_urlencoded::from_str(&raw_query).unwrap_or_default();
    let json: Option<Value> = serde_json::from_str(&body).ok();
    let mut state = fake.state.lock().unwrap();
    state.recorder.record(
        method.as_str(),
        uri.path(),
        &headers,
        query.clone(),
        json.clone(),
    );
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if header("x-access-token") != Some(TOKEN) {
        return error(
            401,
            25,
            "Unauthorized. The access token is invalid.",
            &raw_query,
        );
    }
    if header("accept") != Some("application/json") {
        return error(400, 11, "Accept must be application/json", &raw_query);
    }
    // GetYourGuide's 403, 429, 500 and 503 carry no detail.
    if let Some(forced) = state.recorder.forced_failure(|_| Value::Null) {
        return forced;
    }
    let field = |name: &str| {
        query
            .iter()
            .filter(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
            .collect::<Vec<_>>()
    };
    let path = uri.path().to_string();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    if matches!(method, Method::GET | Method::DELETE) {
        for required in ["cnt_language", "currency"] {
            if field(required).is_empty() {
                return error(
                    400,
                    10,
                    &format!("Missing Parameters: {required}"),
                    &raw_query,
                );
            }
        }
    }
    let body = json.unwrap_or_default();
    match (method.as_str(), segments.as_slice()) {
        ("GET", ["1", "configuration", "payment"]) => {
            ok(json!({"payment_methods": [{"name": "master_bill"}]}))
        }
        ("GET", ["1", "tours"]) => tours(&field("coordinates[]"), &field("date[]"), &raw_query),
        ("GET", ["1", "tours", id]) => match tour(id) {
            Some(tour) => ok(json!({"tours": [tour_json(tour)]})),
            None => error(404, 40, "Tour not found", &raw_query),
        },
        ("POST", ["1", "tours", id, "price-breakdown"]) => price_breakdown(&state, id, &body),
        ("POST", ["1", "bookings"]) => create_booking(&mut state, &body),
        ("POST", ["1", "carts"]) => checkout(&mut state, &body),
        ("GET", ["1", "bookings", _]) if state.reads_fail => json_response(500, &Value::Null),
        ("GET", ["1", "bookings", hash]) => match state.bookings.iter().find(|b| b.hash == *hash) {
            Some(booking) => json_response(200, &json!({"booking": booking_json(booking, true)})),
            None => error(404, 44, "Booking not found", &raw_query),
        },
        ("DELETE", ["1", "bookings", hash]) => cancel(&mut state, hash, &raw_query),
        _ => error(404, 40, "Not found", &raw_query),
    }
}

fn tour(id: &str) -> Option<&'static Tour> {
    TOURS.iter().find(|t| t.id.to_string() == id)
}

fn tour_json(tour: &Tour) -> Value {
    let (cancellable, unit, value, offset) = tour.terms;
    json!({
        "tour_id": tour.id,
        "title": tour.title,
        "abstract": format!("{} in Paris", tour.title),
        "durations": [{"duration": number(tour.hours.parse().unwrap()), "unit": "hour"}],
        "price": {"values": {"amount": number(tour.options[0].1[0].1.parse().unwrap())}},
        "coordinates": {"lat": 48.8584, "long": 2.2945},
        "free_sale": true,
        "cancellation_policy": {
            "cancellable": cancellable,
            "cancellation_fee_unit": unit,
            "cancellation_fee_value": number(value.parse().unwrap()),
            "cancellation_offset_minutes": offset,
            "cancellation_policy_text": "See the terms",
        },
        "cancellation_policy_text": "See the terms",
    })
}

/// Tours near Paris's centre (within about half a degree) on the day asked.
fn tours(coordinates: &[&str], dates: &[&str], query: &str) -> Response {
    let [lat, lon, _radius] = coordinates else {
        return error(
            400,
            12,
            "coordinates[] must be latitude, longitude, radius",
            query,
        );
    };
    if dates.is_empty()
        || dates
            .iter()
            .any(|d| NaiveDateTime::parse_from_str(d, LOCAL).is_err())
    {
        return error(400, 13, "date[] must be Y-m-dTH:i:s", query);
    }
    let (lat, lon): (f64, f64) = (lat.parse().unwrap_or(0.0), lon.parse().unwrap_or(0.0));
    let near_paris = (lat - 48.8566).abs() < 0.5 && (lon - 2.3522).abs() < 0.5;
    let found: Vec<Value> = if near_paris {
        TOURS.iter().map(tour_json).collect()
    } else {
        Vec::new()
    };
    ok(json!({"tours": found}))
}

fn per_adult(state: &State, tour: i64, listed: &str) -> Decimal {
    state
        .repriced
        .iter()
        .rev()
        .find(|(t, _)| *t == tour)
        .map_or_else(|| listed.parse().unwrap(), |(_, price)| *price)
}

fn price_breakdown(state: &State, id: &str, body: &Value) -> Response {
    let Some(tour) = tour(id) else {
        return error(404, 40, "Tour not found", "");
    };
    let Some(currency) = body["base_data"]["currency"].as_str() else {
        return error(400, 10, "Missing Parameters: base_data.currency", "");
    };
    let Some(date) = body["data"]["date"]
        .as_str()
        .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
    else {
        return error(400, 14, "data.date must be Y-m-d", "");
    };
    let participants = &body["data"]["participants"];
    let adults = participants["adult"].as_i64().unwrap_or(0);
    if adults < 1 || participants.as_object().is_none_or(|p| p.len() != 1) {
        return error(400, 15, "data.participants must name adults", "");
    }
    let options: Vec<Value> = tour
        .options
        .iter()
        .map(|(option, slots)| {
            let slots: Vec<Value> = slots
                .iter()
                .map(|(time, listed, vacancies)| {
                    let vacancies = if state.sold_out.contains(&tour.id) {
                        0
                    } else {
                        *vacancies
                    };
                    let each = per_adult(state, tour.id, listed);
                    let total = each * Decimal::from(adults);
                    let mut slot = json!({
                        "date_time": format!("{date}T{time}:00"),
                        "vacancies": vacancies,
                        "min_participants": 1,
                        "max_participants": 20,
                        "price_breakdown": {
                            "individuals": [{
                                "category_id": ADULT,
                                "ticket_category": "adult",
                                "quantity": adults,
                                "price": {"retail_price": number(total), "customer_base_price": number(total), "currency": currency},
                                "min_age": 18,
                                "max_age": 99,
                                "independently_bookable": true,
                            }],
                            "price_summary": {"retail_price": number(total), "currency": currency},
                        },
                    });
                    if vacancies < adults {
                        slot["unavailability_reason"] = json!({"reason_group": if vacancies == 0 { "no_availability" } else { "not_enough_spots" }});
                    }
                    slot
                })
                .collect();
            json!({"option_id": option, "time_slots": slots})
        })
        .collect();
    json_response(200, &json!({"tour_options": options}))
}

/// The base data every booking and cart body needs.
fn base_data(body: &Value) -> Result<String, Box<Response>> {
    let base = &body["base_data"];
    if base["cnt_language"].as_str().is_none() {
        return Err(Box::new(error(
            400,
            10,
            "Missing Parameters: base_data.cnt_language",
            "",
        )));
    }
    base["currency"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| Box::new(error(400, 10, "Missing Parameters: base_data.currency", "")))
}

fn create_booking(state: &mut State, body: &Value) -> Response {
    let currency = match base_data(body) {
        Ok(currency) => currency,
        Err(refused) => return *refused,
    };
    let bookable = &body["data"]["booking"]["bookable"];
    let (Some(option), Some(datetime), Some(price), Some(categories)) = (
        bookable["option_id"].as_i64(),
        bookable["datetime"].as_str(),
        bookable["price"].as_f64(),
        bookable["categories"].as_array(),
    ) else {
        return error(
            400,
            20,
            "bookable needs option_id, datetime, price (a number) and categories",
            "",
        );
    };
    let adults: i64 = categories
        .iter()
        .filter(|c| c["category_id"].as_i64() == Some(ADULT))
        .map(|c| c["number_of_participants"].as_i64().unwrap_or(0))
        .sum();
    if adults < 1 || categories.len() != 1 {
        return error(
            400,
            21,
            "categories must give the adult category_id and number_of_participants",
            "",
        );
    }
    let Some((tour, listed, vacancies)) = TOURS.iter().find_map(|tour| {
        tour.options
            .iter()
            .filter(|(id, _)| *id == option)
            .flat_map(|(_, slots)| slots.iter())
            .find(|(time, _, _)| datetime.ends_with(&format!("T{time}:00")))
            .map(|(_, listed, vacancies)| (tour, *listed, *vacancies))
    }) else {
        return error(400, 22, "No such option and datetime", "");
    };
    if state.sold_out.contains(&tour.id) || vacancies < adults {
        return error(
            400,
            23,
            "The activity is no longer available at this time",
            "",
        );
    }
    let total = per_adult(state, tour.id, listed) * Decimal::from(adults);
    if (total.to_f64().unwrap() - price).abs() > 0.001 {
        return error(
            400,
            24,
            &format!("The price {price} does not match the current price {total}"),
            "",
        );
    }
    state.next_id += 1;
    let id = state.next_id;
    let booking = StoredBooking {
        hash: format!("BKHASH{id:026}"),
        cart: format!("CARTHASH{id:024}"),
        status: "temp",
        tour: tour.id,
        option,
        datetime: datetime.to_string(),
        price: total,
        currency,
        categories: bookable["categories"].clone(),
        external_reference: bookable["external_reference_id"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        ticket: format!("GYG{id:09}"),
        billing: Value::Null,
        traveler: Value::Null,
    };
    let answer = json!({"bookings": {
        "shopping_cart_id": id,
        "shopping_cart_hash": booking.cart,
        "booking_id": id,
        "booking_hash": booking.hash,
        "status": "temp",
        "return_code": 0,
        "reservation_expires_at": (Utc::now() + chrono::Duration::minutes(60)).format(LOCAL).to_string(),
    }});
    state.bookings.push(booking);
    if std::mem::take(&mut state.lose_booking_answer) {
        return json_response(500, &Value::Null);
    }
    ok(answer)
}

fn missing(value: &Value, fields: &[&str]) -> Option<String> {
    fields
        .iter()
        .find(|f| value[**f].as_str().is_none_or(|v| v.trim().is_empty()))
        .map(|f| (*f).to_string())
}

fn checkout(state: &mut State, body: &Value) -> Response {
    if let Err(refused) = base_data(body) {
        return *refused;
    }
    let cart = &body["data"]["shopping_cart"];
    let Some(hash) = cart["shopping_cart_hash"].as_str() else {
        return error(400, 30, "Missing Parameters: shopping_cart_hash", "");
    };
    if let Some(field) = missing(
        &cart["billing"],
        &[
            "first_name",
            "last_name",
            "email",
            "country_code",
            "phone_number",
        ],
    ) {
        return error(400, 31, &format!("billing.{field} is required"), "");
    }
    if let Some(field) = missing(
        &cart["traveler"],
        &["first_name", "last_name", "email", "phone_number"],
    ) {
        return error(400, 32, &format!("traveler.{field} is required"), "");
    }
    if cart["payment"]["master_bill"] != json!(true) {
        return error(
            400,
            33,
            "payment: master_bill must be true (MasterBill is the only payment method)",
            "",
        );
    }
    if !state.bookings.iter().any(|b| b.cart == hash) {
        return error(404, 34, "Shopping cart not found", "");
    }
    if let Some(status) = state.refuse_checkout.take() {
        return json_response(status, &Value::Null);
    }
    if state.completed_carts.contains(hash) {
        return error(400, 35, "The shopping cart is already completed", "");
    }
    let answer = if state.checkouts.is_empty() {
        Checkout::Confirmed
    } else {
        state.checkouts.remove(0)
    };
    state.completed_carts.insert(hash.to_string());
    let mut total = Decimal::ZERO;
    let mut currency = String::new();
    let mut bookings = Vec::new();
    for booking in state.bookings.iter_mut().filter(|b| b.cart == hash) {
        booking.status = if answer == Checkout::Unconfirmed {
            "unconfirmed"
        } else {
            "confirmed"
        };
        booking.billing = cart["billing"].clone();
        booking.traveler = cart["traveler"].clone();
        total += booking.price;
        currency = booking.currency.clone();
        // The cart's answer shows the bookings without their tickets.
        bookings.push(booking_json(booking, false));
    }
    if answer == Checkout::Lost {
        return json_response(500, &Value::Null);
    }
    ok(json!({
        "shopping_cart_hash": hash,
        "billing": cart["billing"],
        "traveler": cart["traveler"],
        "status": "completed",
        "bookings": bookings,
        "payment_info": {"payment_currency": currency, "total_price": number(total), "precoupon_price": number(total), "invoice_reference": "GCI-0032724458"},
    }))
}

fn terms_of(booking: &StoredBooking) -> Terms {
    TOURS.iter().find(|t| t.id == booking.tour).unwrap().terms
}

fn start_utc(booking: &StoredBooking) -> chrono::DateTime<Utc> {
    NaiveDateTime::parse_from_str(&booking.datetime, LOCAL)
        .unwrap()
        .and_utc()
        - chrono::Duration::hours(1)
}

/// Free now: cancellable, no fee, before the deadline.
fn free_now(booking: &StoredBooking) -> bool {
    let (cancellable, _, value, offset) = terms_of(booking);
    cancellable
        && value.parse::<Decimal>().unwrap().is_zero()
        && Utc::now() <= start_utc(booking) - chrono::Duration::minutes(offset)
}

fn booking_json(booking: &StoredBooking, with_ticket: bool) -> Value {
    let mut json = json!({
        "booking_id": 1,
        "booking_hash": booking.hash,
        "booking_status": booking.status,
        "shopping_cart_hash": booking.cart,
        "bookable": {
            "tour_id": booking.tour,
            "option_id": booking.option,
            "datetime": booking.datetime,
            "datetime_utc": start_utc(booking).format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            "datetime_type": "datetime",
            "price": number(booking.price),
            "cancellation_policy_text": "See the terms",
            "currently_cancellable_at_no_fee": booking.status != "canceled" && free_now(booking),
            "categories": booking.categories,
        },
    });
    if with_ticket && booking.status == "confirmed" {
        json["ticket"] = json!({
            "booking_reference": booking.ticket,
            "supplier_booking_codes": [],
            "ticket_url": format!("https://www.getyourguide.com/ticket/{}", booking.hash),
            "ticket_hash": "TICKETHASH",
            "emergency_phone_number": "+49123456789",
            "emergency_email": "support@example.com",
        });
    }
    json
}

fn cancel(state: &mut State, hash: &str, query: &str) -> Response {
    let Some(booking) = state.bookings.iter_mut().find(|b| b.hash == hash) else {
        return error(404, 44, "Booking not found", query);
    };
    if booking.status == "canceled" {
        return error(400, 45, "The booking is already canceled", query);
    }
    let (cancellable, _, _, offset) = terms_of(booking);
    if !cancellable || Utc::now() > start_utc(booking) - chrono::Duration::minutes(offset) {
        return error(400, 46, "The booking can no longer be canceled", query);
    }
    booking.status = "canceled";
    ok(json!({"bookings": {
        "shopping_cart_hash": booking.cart,
        "booking_hash": booking.hash,
        "booking_status": "canceled",
        "return_code": 0,
    }}))
}
