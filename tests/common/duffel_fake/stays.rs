//! Duffel Stays in the local Duffel (same host, token, version header and envelope as its
//! flights), following `shared/provider-apis.md` §6b and the JS SDK's `StaysTypes.ts`: a search
//! around a point returns accommodations without rates, `fetch_all_rates` gives their rooms and
//! rates (decimal strings, `payment_type`, `available_payment_methods`, a cancellation
//! timeline), a quote fixes a rate's price, a booking takes the quote, the guests, an e-mail and
//! a phone and pays from the balance, a cancellation flips the booking to `cancelled`. Paris has
//! two hotels: one with a refundable pay-now rate (and a cheaper guarantee rate Itinera must not
//! sell), one non-refundable with city tax due at the hotel.
//!
//! Its own wording where the contract is silent: a quote for an unknown rate is refused with
//! 422 `rate_unavailable`.

use std::collections::HashMap;

use axum::response::Response;
use chrono::{Duration, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::{error, invalid, not_found, page, timestamp};
use crate::common::fake_http::json_response;

/// One rate of the inventory, per night.
struct Tariff {
    room: &'static str,
    nightly: Decimal,
    payment_type: &'static str,
    /// Full refund until this many days before check-in; `None`: non-refundable.
    free_until_days_before: Option<i64>,
    /// City tax per night, paid at the hotel.
    at_hotel_nightly: Option<Decimal>,
}

struct Hotel {
    id: &'static str,
    name: &'static str,
    rating: u8,
    tariffs: &'static [Tariff],
}

const PARIS: (f64, f64) = (48.8566, 2.3522);

const HOTELS: [Hotel; 2] = [
    Hotel {
        id: "acc_0000FAKEOPERA",
        name: "Duffel Test Hotel Opera",
        rating: 4,
        tariffs: &[
            Tariff {
                room: "Double Room",
                nightly: Decimal::from_parts(15000, 0, 0, false, 2),
                payment_type: "pay_now",
                free_until_days_before: Some(3),
                at_hotel_nightly: None,
            },
            Tariff {
                room: "Double Room",
                nightly: Decimal::from_parts(12000, 0, 0, false, 2),
                payment_type: "guarantee",
                free_until_days_before: Some(1),
                at_hotel_nightly: None,
            },
        ],
    },
    Hotel {
        id: "acc_0000FAKEBUDGET",
        name: "Duffel Budget Stay",
        rating: 2,
        tariffs: &[Tariff {
            room: "Twin Room",
            nightly: Decimal::from_parts(8000, 0, 0, false, 2),
            payment_type: "pay_now",
            free_until_days_before: None,
            at_hotel_nightly: Some(Decimal::from_parts(500, 0, 0, false, 2)),
        }],
    },
];

#[derive(Debug, Clone)]
struct StoredRate {
    accommodation: Value,
    total: Decimal,
}

#[derive(Default)]
pub struct StaysBooks {
    /// Search result id → (hotel index, check-in, check-out, guests).
    results: HashMap<String, (usize, NaiveDate, NaiveDate, usize)>,
    rates: HashMap<String, StoredRate>,
    quotes: HashMap<String, (String, Decimal)>,
    pub bookings: Vec<Value>,
    /// What the bookings took from the balance.
    pub charged: Decimal,
    /// Bookings are shown without their rooms and rates.
    pub hide_rates: bool,
}

impl StaysBooks {
    /// The rate's total changes to `total`.
    pub fn reprice(&mut self, rate: &str, total: &str) {
        let stored = self.rates.get_mut(rate).unwrap();
        stored.total = total.parse().unwrap();
    }

    /// The rate is sold out.
    pub fn withdraw(&mut self, rate: &str) {
        self.rates.remove(rate);
    }
}

/// One of the routes under `/stays`; `id` is the path's id, `next_id` mints ids.
pub fn handle(
    books: &mut StaysBooks,
    next_id: &mut dyn FnMut(&str) -> String,
    method: &str,
    path: &str,
    id: Option<&str>,
    data: Option<&Value>,
    query: &[(String, String)],
) -> Response {
    match (method, path) {
        ("POST", "/stays/search") => search(books, next_id, data),
        ("POST", p) if p.ends_with("/actions/fetch_all_rates") => {
            all_rates(books, next_id, id.unwrap_or_default())
        }
        ("POST", "/stays/quotes") => quote(books, next_id, data),
        ("POST", "/stays/bookings") => book(books, next_id, data),
        ("GET", "/stays/bookings") => {
            let all: Vec<&Value> = books.bookings.iter().collect();
            page(&all, query)
        }
        ("GET", _) => match find(books, id.unwrap_or_default()) {
            Some(booking) => json_response(200, &json!({"data": booking})),
            None => not_found("the booking"),
        },
        ("POST", p) if p.ends_with("/actions/cancel") => cancel(books, id.unwrap_or_default()),
        _ => not_found("the route"),
    }
}

fn find(books: &StaysBooks, id: &str) -> Option<Value> {
    books
        .bookings
        .iter()
        .find(|b| b["id"] == id)
        .map(|booking| shown(books, booking.clone()))
}

/// A booking as Duffel shows it: without rooms when told to.
fn shown(books: &StaysBooks, mut booking: Value) -> Value {
    if books.hide_rates {
        booking["accommodation"]["rooms"] = json!([]);
    }
    booking
}

fn search(
    books: &mut StaysBooks,
    next_id: &mut dyn FnMut(&str) -> String,
    data: Option<&Value>,
) -> Response {
    let data = data.cloned().unwrap_or_default();
    let date = |name: &str| {
        data[name]
            .as_str()
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
    };
    let (Some(check_in), Some(check_out)) = (date("check_in_date"), date("check_out_date")) else {
        return invalid("check_in_date and check_out_date must be YYYY-MM-DD");
    };
    if check_out <= check_in {
        return invalid("check_out_date must be after check_in_date");
    }
    if data["rooms"].as_u64().is_none_or(|rooms| rooms < 1) {
        return invalid("rooms must be at least 1");
    }
    let guests = data["guests"].as_array().cloned().unwrap_or_default();
    let valid_guest =
        |g: &Value| g["type"] == "adult" || (g["type"] == "child" && g["age"].is_u64());
    if guests.is_empty() || !guests.iter().all(valid_guest) {
        return invalid("guests must be adults, or children with an age");
    }
    let location = &data["location"];
    let (Some(latitude), Some(longitude), Some(radius)) = (
        location["geographic_coordinates"]["latitude"].as_f64(),
        location["geographic_coordinates"]["longitude"].as_f64(),
        location["radius"].as_u64(),
    ) else {
        return invalid("location needs radius and geographic_coordinates");
    };
    // About 111 km per degree: close enough for a city.
    let km = ((latitude - PARIS.0).powi(2) + (longitude - PARIS.1).powi(2)).sqrt() * 111.0;
    let results: Vec<Value> = if km <= radius as f64 {
        HOTELS
            .iter()
            .enumerate()
            .map(|(index, hotel)| {
                let id = next_id("srr");
                books
                    .results
                    .insert(id.clone(), (index, check_in, check_out, guests.len()));
                let nights = Decimal::from((check_out - check_in).num_days());
                let cheapest = hotel.tariffs.iter().map(|t| t.nightly).min().unwrap() * nights;
                json!({
                    "id": id,
                    "check_in_date": check_in.to_string(),
                    "check_out_date": check_out.to_string(),
                    "rooms": 1,
                    "guests": guests,
                    "accommodation": accommodation(hotel, vec![]),
                    "cheapest_rate_total_amount": format!("{cheapest:.2}"),
                    "cheapest_rate_currency": super::CURRENCY,
                })
            })
            .collect()
    } else {
        Vec::new()
    };
    json_response(
        200,
        &json!({"data": {"results": results, "created_at": timestamp(Utc::now())}}),
    )
}

fn accommodation(hotel: &Hotel, rooms: Vec<Value>) -> Value {
    json!({
        "id": hotel.id,
        "name": hotel.name,
        "rating": hotel.rating,
        "location": {"address": {"city_name": "Paris", "country_code": "FR", "line_one": "1 Rue Fake", "postal_code": "75009"}, "geographic_coordinates": {"latitude": PARIS.0, "longitude": PARIS.1}},
        "rooms": rooms,
    })
}

fn all_rates(
    books: &mut StaysBooks,
    next_id: &mut dyn FnMut(&str) -> String,
    result: &str,
) -> Response {
    let Some(&(index, check_in, check_out, guests)) = books.results.get(result) else {
        return not_found("the search result");
    };
    let hotel = &HOTELS[index];
    let nights = Decimal::from((check_out - check_in).num_days());
    let mut rooms: Vec<Value> = Vec::new();
    for tariff in hotel.tariffs {
        let id = next_id("rat");
        let total = (tariff.nightly * nights).round_dp(2);
        let timeline = match tariff.free_until_days_before {
            Some(days) => json!([{
                "before": format!("{}T12:00:00Z", check_in - Duration::days(days)),
                "refund_amount": format!("{total:.2}"),
                "currency": super::CURRENCY,
            }]),
            None => json!([]),
        };
        let at_hotel = tariff
            .at_hotel_nightly
            .map(|n| format!("{:.2}", n * nights));
        let rate = json!({
            "id": id,
            "total_amount": format!("{total:.2}"),
            "total_currency": super::CURRENCY,
            "base_amount": null,
            "base_currency": super::CURRENCY,
            "board_type": "room_only",
            "payment_type": tariff.payment_type,
            "available_payment_methods": if tariff.payment_type == "pay_now" { json!(["balance"]) } else { json!(["card"]) },
            "cancellation_timeline": timeline,
            "due_at_accommodation_amount": at_hotel,
            "due_at_accommodation_currency": super::CURRENCY,
            "conditions": [],
            "quantity_available": 3,
            "source": "duffel_hotel_group",
            "expires_at": timestamp(Utc::now() + Duration::minutes(30)),
        });
        let room = json!({"name": tariff.room, "rates": [rate.clone()]});
        books.rates.insert(
            id,
            StoredRate {
                accommodation: accommodation(hotel, vec![room.clone()]),
                total,
            },
        );
        rooms.push(room);
    }
    json_response(
        200,
        &json!({"data": {
            "id": result,
            "check_in_date": check_in.to_string(),
            "check_out_date": check_out.to_string(),
            "rooms": 1,
            "guests": (0..guests).map(|_| json!({"type": "adult"})).collect::<Vec<_>>(),
            "accommodation": accommodation(hotel, rooms),
        }}),
    )
}

fn quote(
    books: &mut StaysBooks,
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
    let mut accommodation = rate.accommodation.clone();
    accommodation["rooms"][0]["rates"][0]["total_amount"] = json!(format!("{:.2}", rate.total));
    let id = next_id("quo");
    books
        .quotes
        .insert(id.clone(), (rate_id.to_string(), rate.total));
    json_response(
        201,
        &json!({"data": {
            "id": id,
            "total_amount": format!("{:.2}", rate.total),
            "total_currency": super::CURRENCY,
            "accommodation": accommodation,
        }}),
    )
}

fn book(
    books: &mut StaysBooks,
    next_id: &mut dyn FnMut(&str) -> String,
    data: Option<&Value>,
) -> Response {
    let data = data.cloned().unwrap_or_default();
    let Some((rate_id, total)) = data["quote_id"]
        .as_str()
        .and_then(|id| books.quotes.remove(id))
    else {
        return invalid("quote_id must be a quote not yet booked");
    };
    let guests = data["guests"].as_array().cloned().unwrap_or_default();
    let named = |g: &Value| {
        ["given_name", "family_name"]
            .iter()
            .all(|k| g[k].as_str().is_some_and(|n| !n.is_empty()))
    };
    if guests.is_empty() || !guests.iter().all(named) {
        return invalid("each guest needs a given_name and a family_name");
    }
    if !data["email"].as_str().is_some_and(|e| e.contains('@')) {
        return invalid("email must be an e-mail address");
    }
    if !data["phone_number"]
        .as_str()
        .is_some_and(|p| p.starts_with('+') && !p.contains(' '))
    {
        return invalid("phone_number must be in E.164 format");
    }
    let Some(rate) = books.rates.get(&rate_id).cloned() else {
        return error(
            422,
            "invalid_request_error",
            "rate_unavailable",
            "The rate is no longer available",
        );
    };
    let id = next_id("bok");
    let booking = json!({
        "id": id,
        "reference": format!("DHG-{}", id.trim_start_matches("bok_")),
        "status": "confirmed",
        "confirmed_at": timestamp(Utc::now()),
        "cancelled_at": null,
        "accommodation": rate.accommodation,
        "guests": guests,
        "email": data["email"],
        "phone_number": data["phone_number"],
        "metadata": data["metadata"],
        "rooms": 1,
    });
    books.charged += total;
    books.bookings.push(booking.clone());
    json_response(201, &json!({"data": booking}))
}

fn cancel(books: &mut StaysBooks, id: &str) -> Response {
    let Some(booking) = books.bookings.iter_mut().find(|b| b["id"] == id) else {
        return not_found("the booking");
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
    let answer = booking.clone();
    json_response(200, &json!({"data": shown(books, answer)}))
}
