//! Duffel Cars in the local Duffel (same host, token, version header and envelope), following
//! `shared/provider-apis.md` §8a and the JS SDK's `CarsTypes.ts`: a search around a point for a
//! driver (age, country of residence) returns rates with `payment_type`, mileage, supplier and
//! car; a quote fixes a rate; a booking takes the quote and the driver (name, e-mail, phone,
//! date of birth) and pays from the balance; a cancellation flips it to `cancelled`. There is
//! no list of bookings, as in the SDK. Paris has three cars: a prepaid Peugeot, a cheaper Clio
//! paid at the counter (Itinera must not sell it), a prepaid BMW with limited mileage.
//!
//! Its own wording where the contract is silent: a quote for an unknown rate is refused with
//! 422 `rate_unavailable`.

use std::collections::HashMap;

use axum::response::Response;
use chrono::{NaiveDate, NaiveDateTime, NaiveTime, Utc};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::{error, invalid, not_found, timestamp};
use crate::common::fake_http::json_response;

struct Fleet {
    supplier: &'static str,
    car: &'static str,
    category: &'static str,
    transmission: &'static str,
    daily: Decimal,
    payment_type: &'static str,
    /// Kilometres included; `None`: unlimited.
    limit_km: Option<u32>,
}

const PARIS: (f64, f64) = (48.8566, 2.3522);

const FLEET: [Fleet; 3] = [
    Fleet {
        supplier: "Hertz",
        car: "Peugeot 208",
        category: "economy",
        transmission: "manual",
        daily: Decimal::from_parts(4500, 0, 0, false, 2),
        payment_type: "prepaid",
        limit_km: None,
    },
    Fleet {
        supplier: "Avis",
        car: "Renault Clio",
        category: "compact",
        transmission: "automatic",
        daily: Decimal::from_parts(3900, 0, 0, false, 2),
        payment_type: "postpaid",
        limit_km: None,
    },
    Fleet {
        supplier: "Sixt",
        car: "BMW 3 Series",
        category: "premium",
        transmission: "automatic",
        daily: Decimal::from_parts(9900, 0, 0, false, 2),
        payment_type: "prepaid",
        limit_km: Some(300),
    },
];

#[derive(Default)]
pub struct CarsBooks {
    /// Rate id → the rate as answered.
    rates: HashMap<String, Value>,
    quotes: HashMap<String, Value>,
    pub bookings: Vec<Value>,
    /// What the bookings took from the balance.
    pub charged: Decimal,
    /// The searches' drivers, as sent.
    pub drivers: Vec<Value>,
}

impl CarsBooks {
    /// The rate is no longer sold.
    pub fn withdraw(&mut self, rate: &str) {
        self.rates.remove(rate);
    }

    /// The rate now costs `total`.
    pub fn reprice(&mut self, rate: &str, total: &str) {
        self.rates.get_mut(rate).unwrap()["total_amount"] = json!(total);
    }
}

pub fn handle(
    books: &mut CarsBooks,
    next_id: &mut dyn FnMut(&str) -> String,
    method: &str,
    path: &str,
    id: Option<&str>,
    data: Option<&Value>,
) -> Response {
    match (method, path) {
        ("POST", "/cars/search") => search(books, next_id, data),
        ("POST", "/cars/quotes") => quote(books, next_id, data),
        ("POST", "/cars/bookings") => book(books, next_id, data),
        ("GET", _) => match books
            .bookings
            .iter()
            .find(|b| Some(b["id"].as_str().unwrap_or_default()) == id)
        {
            Some(booking) => json_response(200, &json!({"data": booking})),
            None => not_found("the car booking"),
        },
        ("POST", p) if p.ends_with("/actions/cancel") => cancel(books, id.unwrap_or_default()),
        _ => not_found("the route"),
    }
}

fn at(date: &Value, time: &Value) -> Option<NaiveDateTime> {
    let date = NaiveDate::parse_from_str(date.as_str()?, "%Y-%m-%d").ok()?;
    let time = NaiveTime::parse_from_str(time.as_str()?, "%H:%M").ok()?;
    Some(date.and_time(time))
}

fn search(
    books: &mut CarsBooks,
    next_id: &mut dyn FnMut(&str) -> String,
    data: Option<&Value>,
) -> Response {
    let data = data.cloned().unwrap_or_default();
    let (Some(pickup), Some(dropoff)) = (
        at(&data["pickup_date"], &data["pickup_time"]),
        at(&data["dropoff_date"], &data["dropoff_time"]),
    ) else {
        return invalid("pickup and dropoff need a date (YYYY-MM-DD) and a time (HH:MM)");
    };
    if dropoff <= pickup {
        return invalid("the drop-off must come after the pick-up");
    }
    let driver = &data["driver"];
    let age_ok = driver["age"]
        .as_u64()
        .is_some_and(|age| (18..=99).contains(&age));
    let country_ok = driver["residence_country_code"]
        .as_str()
        .is_some_and(|c| c.len() == 2 && c.chars().all(|c| c.is_ascii_uppercase()));
    if !age_ok || !country_ok {
        return invalid("driver needs an age and a residence_country_code (ISO 3166-1 alpha-2)");
    }
    books.drivers.push(driver.clone());
    let near = |location: &Value| {
        let point = &location["geographic_coordinates"];
        match (point["latitude"].as_f64(), point["longitude"].as_f64()) {
            (Some(lat), Some(lon)) => {
                let radius = location["radius"].as_f64().unwrap_or(10.0);
                ((lat - PARIS.0).powi(2) + (lon - PARIS.1).powi(2)).sqrt() * 111.0 <= radius
            }
            _ => false,
        }
    };
    if data["pickup_location"]["geographic_coordinates"].is_null() {
        return invalid("pickup_location needs geographic_coordinates");
    }
    // Whole days, each started day counted.
    let hours = (dropoff - pickup).num_hours();
    let days = Decimal::from(((hours + 23) / 24).max(1));
    let rates: Vec<Value> = if near(&data["pickup_location"]) {
        FLEET
            .iter()
            .map(|fleet| {
                let id = next_id("rat");
                let mileage = match fleet.limit_km {
                    Some(limit) => json!({"type": "limited", "unit": "kilometres", "limit": limit}),
                    None => json!({"type": "unlimited"}),
                };
                let rate = json!({
                    "id": id,
                    "total_amount": format!("{:.2}", fleet.daily * days),
                    "total_currency": super::CURRENCY,
                    "base_amount": null,
                    "base_currency": null,
                    "payment_type": fleet.payment_type,
                    "mileage": mileage,
                    "supplier": {"name": fleet.supplier, "logo_url": null},
                    "car": {"name": fleet.car, "code": "EDMR", "category": fleet.category, "type": "four_door", "transmission": fleet.transmission, "fuel": "petrol", "air_conditioning": true, "max_passengers": 5, "baggage": null, "images": null},
                    "pickup_location": {"name": "Paris Gare de Lyon", "geographic_coordinates": {"latitude": PARIS.0, "longitude": PARIS.1}, "address": {"line_one": null, "city_name": "Paris", "postal_code": null, "region": null, "country_code": "FR"}, "phone_number": null, "access": "in_terminal", "additional_information": [], "opening_hours": []},
                    "dropoff_location": {"name": "Paris Gare de Lyon", "geographic_coordinates": {"latitude": PARIS.0, "longitude": PARIS.1}, "address": {"line_one": null, "city_name": "Paris", "postal_code": null, "region": null, "country_code": "FR"}, "phone_number": null, "access": "in_terminal", "additional_information": [], "opening_hours": []},
                });
                books.rates.insert(id, rate.clone());
                rate
            })
            .collect()
    } else {
        Vec::new()
    };
    json_response(
        201,
        &json!({"data": {"id": next_id("csr"), "live_mode": false, "created_at": timestamp(Utc::now()), "rates": rates}}),
    )
}

fn quote(
    books: &mut CarsBooks,
    next_id: &mut dyn FnMut(&str) -> String,
    data: Option<&Value>,
) -> Response {
    let rate_id = data.and_then(|d| d["rate_id"].as_str()).unwrap_or_default();
    let Some(rate) = books.rates.get(rate_id).cloned() else {
        return error(
            422,
            "invalid_request_error",
            "rate_unavailable",
            "The rate is no longer available",
        );
    };
    let id = next_id("quo");
    let mut quote = rate.clone();
    quote["id"] = json!(id);
    quote["rate_id"] = json!(rate_id);
    quote["conditions"] =
        json!([{"title": "Deposit", "text": "A deposit is taken at the counter"}]);
    books.quotes.insert(id, quote.clone());
    json_response(201, &json!({"data": quote}))
}

fn book(
    books: &mut CarsBooks,
    next_id: &mut dyn FnMut(&str) -> String,
    data: Option<&Value>,
) -> Response {
    let data = data.cloned().unwrap_or_default();
    let Some(quote) = data["quote_id"]
        .as_str()
        .and_then(|id| books.quotes.remove(id))
    else {
        return invalid("quote_id must be a quote not yet booked");
    };
    let driver = &data["driver"];
    let named = ["given_name", "family_name"]
        .iter()
        .all(|k| driver[k].as_str().is_some_and(|n| !n.is_empty()));
    let born = driver["date_of_birth"]
        .as_str()
        .is_some_and(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").is_ok());
    let email = driver["email"].as_str().is_some_and(|e| e.contains('@'));
    let phone = driver["phone_number"]
        .as_str()
        .is_some_and(|p| p.starts_with('+') && !p.contains(' '));
    if !(named && born && email && phone) {
        return invalid(
            "driver needs given_name, family_name, date_of_birth, email and an E.164 phone_number",
        );
    }
    let total: Decimal = quote["total_amount"].as_str().unwrap().parse().unwrap();
    let id = next_id("bok");
    let booking = json!({
        "id": id,
        "live_mode": false,
        "reference": format!("CAR-{}", id.trim_start_matches("bok_")),
        "status": "confirmed",
        "confirmed_at": timestamp(Utc::now()),
        "cancelled_at": null,
        "driver": driver,
        "quote_id": quote["id"],
        "total_amount": quote["total_amount"],
        "total_currency": quote["total_currency"],
        "payment_type": quote["payment_type"],
        "mileage": quote["mileage"],
        "supplier": quote["supplier"],
        "car": quote["car"],
        "metadata": data["metadata"],
    });
    books.charged += total;
    books.bookings.push(booking.clone());
    json_response(201, &json!({"data": booking}))
}

fn cancel(books: &mut CarsBooks, id: &str) -> Response {
    let Some(booking) = books.bookings.iter_mut().find(|b| b["id"] == id) else {
        return not_found("the car booking");
    };
    if booking["status"] == "cancelled" {
        return error(
            422,
            "invalid_state_error",
            "booking_already_cancelled",
            "The booking is already cancelled",
        );
    }
    booking["status"] = json!("cancelled");
    booking["cancelled_at"] = json!(timestamp(Utc::now()));
    json_response(200, &json!({"data": booking.clone()}))
}
