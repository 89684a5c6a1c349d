//! A car rental the car providers' tests search and book: three days from 10:00 in 20 days,
//! and a driver of a given age on the pick-up day.

use chrono::{NaiveDateTime, Utc};
use itinera::domain::money::Currency;
use itinera::domain::places::City;
use itinera::domain::plan::Traveller;
use itinera::ports::booking::SearchQuery;

pub fn pick_up() -> NaiveDateTime {
    (Utc::now().date_naive() + chrono::Duration::days(20))
        .and_hms_opt(10, 0, 0)
        .unwrap()
}

/// Three days from the city (an IATA city code).
pub fn three_days_in(city: &str) -> SearchQuery {
    SearchQuery::CarRentals {
        city: City::parse(city).unwrap(),
        pick_up_at: pick_up(),
        drop_off_at: pick_up() + chrono::Duration::days(3),
        currency: Currency::parse("EUR").unwrap(),
    }
}

/// A driver born `years` before the pick-up day.
pub fn driver_aged(years: i32) -> Traveller {
    let born = pick_up().date() - chrono::Months::new(12 * u32::try_from(years).unwrap());
    serde_json::from_value(serde_json::json!({
        "given_name": "Ada",
        "family_name": "Lovelace",
        "date_of_birth": born.to_string(),
        "email": "ada@example.com",
        "phone": "+33 6 12 34 56 78",
    }))
    .unwrap()
}
