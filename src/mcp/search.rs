//! Search tools: flights, hotels, activities and car rentals.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::{Json, tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::domain::money::Currency;
use crate::domain::places::{Airport, City};
use crate::ports::booking::{Cabin, SearchQuery};

use super::ItineraServer;
use super::views::SearchResults;

fn one() -> u8 {
    1
}

fn usd() -> String {
    "USD".into()
}

fn ten_am() -> String {
    "10:00".into()
}

pub(super) fn parse_date(field: &str, value: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d").map_err(|_| {
        format!("{field} '{value}' is not a date: write it as YYYY-MM-DD, e.g. 2026-12-03")
    })
}

fn parse_time(field: &str, value: &str) -> Result<NaiveTime, String> {
    NaiveTime::parse_from_str(value.trim(), "%H:%M")
        .map_err(|_| format!("{field} '{value}' is not a time: write it as HH:MM, e.g. 09:30"))
}

pub(super) fn parse_currency(value: &str) -> Result<Currency, String> {
    Currency::parse(value).map_err(|e| e.to_string())
}

/// A flight search.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct SearchFlightsArgs {
    /// IATA code of the departure airport, e.g. "LHR".
    pub origin: String,
    /// IATA code of the arrival airport, e.g. "CDG".
    pub destination: String,
    /// Departure date, YYYY-MM-DD.
    pub date: String,
    /// Number of travellers, 1 to 9. Default 1.
    #[serde(default = "one")]
    pub passengers: u8,
    /// Cabin class. Default economy.
    #[serde(default)]
    pub cabin: Cabin,
    /// ISO-4217 currency for prices. Default USD.
    #[serde(default = "usd")]
    pub currency: String,
}

impl SearchFlightsArgs {
    pub(super) fn query(&self) -> Result<SearchQuery, String> {
        Ok(SearchQuery::Flights {
            origin: Airport::parse(&self.origin).map_err(|e| e.to_string())?,
            destination: Airport::parse(&self.destination).map_err(|e| e.to_string())?,
            date: parse_date("date", &self.date)?,
            passengers: self.passengers,
            cabin: self.cabin,
            currency: parse_currency(&self.currency)?,
        })
    }
}

/// A hotel search.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct SearchHotelsArgs {
    /// City name ("Paris") or IATA city code ("PAR").
    pub city: String,
    /// Check-in date, YYYY-MM-DD.
    pub check_in: String,
    /// Check-out date, YYYY-MM-DD; after check-in.
    pub check_out: String,
    /// Number of guests, 1 to 9. Default 1.
    #[serde(default = "one")]
    pub guests: u8,
    /// ISO-4217 currency for prices. Default USD.
    #[serde(default = "usd")]
    pub currency: String,
}

impl SearchHotelsArgs {
    pub(super) fn query(&self) -> Result<SearchQuery, String> {
        Ok(SearchQuery::Hotels {
            city: City::parse(&self.city).map_err(|e| e.to_string())?,
            check_in: parse_date("check_in", &self.check_in)?,
            check_out: parse_date("check_out", &self.check_out)?,
            guests: self.guests,
            currency: parse_currency(&self.currency)?,
        })
    }
}

/// An activity search.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct SearchActivitiesArgs {
    /// City name ("Paris") or IATA city code ("PAR").
    pub city: String,
    /// Day of the activity, YYYY-MM-DD.
    pub date: String,
    /// Number of participants, 1 to 9. Default 1.
    #[serde(default = "one")]
    pub participants: u8,
    /// ISO-4217 currency for prices. Default USD.
    #[serde(default = "usd")]
    pub currency: String,
}

impl SearchActivitiesArgs {
    pub(super) fn query(&self) -> Result<SearchQuery, String> {
        Ok(SearchQuery::Activities {
            city: City::parse(&self.city).map_err(|e| e.to_string())?,
            date: parse_date("date", &self.date)?,
            participants: self.participants,
            currency: parse_currency(&self.currency)?,
        })
    }
}

/// A car rental search.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct SearchCarRentalsArgs {
    /// City name ("Paris") or IATA city code ("PAR"); the car is picked up at its airport.
    pub city: String,
    /// Pick-up date, YYYY-MM-DD.
    pub pick_up_date: String,
    /// Pick-up time, HH:MM. Default 10:00.
    #[serde(default = "ten_am")]
    pub pick_up_time: String,
    /// Drop-off date, YYYY-MM-DD.
    pub drop_off_date: String,
    /// Drop-off time, HH:MM. Default 10:00.
    #[serde(default = "ten_am")]
    pub drop_off_time: String,
    /// ISO-4217 currency for prices. Default USD.
    #[serde(default = "usd")]
    pub currency: String,
}

impl SearchCarRentalsArgs {
    pub(super) fn query(&self) -> Result<SearchQuery, String> {
        let at = |date_field: &str,
                  date: &str,
                  time_field: &str,
                  time: &str|
         -> Result<NaiveDateTime, String> {
            Ok(parse_date(date_field, date)?.and_time(parse_time(time_field, time)?))
        };
        Ok(SearchQuery::CarRentals {
            city: City::parse(&self.city).map_err(|e| e.to_string())?,
            pick_up_at: at(
                "pick_up_date",
                &self.pick_up_date,
                "pick_up_time",
                &self.pick_up_time,
            )?,
            drop_off_at: at(
                "drop_off_date",
                &self.drop_off_date,
                "drop_off_time",
                &self.drop_off_time,
            )?,
            currency: parse_currency(&self.currency)?,
        })
    }
}

const NEXT_STEP: &str = "Show the person the offers that fit (price, times, cancellation policy). Put the chosen \
                         offer ids into create_travel_plan. Offers expire: expires_at says when.";

#[tool_router(router = search_router, vis = "pub(super)")]
impl ItineraServer {
    /// Search flights between two airports on a date. Returns priced offers with carrier, flight
    /// number, times, stops, cabin, cancellation policy and expiry. Nothing is booked.
    #[tool(
        title = "Search flights",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = true
        )
    )]
    async fn search_flights(
        &self,
        Parameters(args): Parameters<SearchFlightsArgs>,
    ) -> Result<Json<SearchResults>, String> {
        self.run_search(args.query()).await
    }

    /// Search hotel stays in a city between check-in and check-out. Returns priced offers with the
    /// hotel, stars, room type, board, the total for all nights, cancellation policy and expiry.
    #[tool(
        title = "Search hotels",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = true
        )
    )]
    async fn search_hotels(
        &self,
        Parameters(args): Parameters<SearchHotelsArgs>,
    ) -> Result<Json<SearchResults>, String> {
        self.run_search(args.query()).await
    }

    /// Search activities (tours, tickets, excursions) in a city on a day.
    #[tool(
        title = "Search activities",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = true
        )
    )]
    async fn search_activities(
        &self,
        Parameters(args): Parameters<SearchActivitiesArgs>,
    ) -> Result<Json<SearchResults>, String> {
        self.run_search(args.query()).await
    }

    /// Search car rentals picked up and dropped off at a city's airport.
    #[tool(
        title = "Search car rentals",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = true
        )
    )]
    async fn search_car_rentals(
        &self,
        Parameters(args): Parameters<SearchCarRentalsArgs>,
    ) -> Result<Json<SearchResults>, String> {
        self.run_search(args.query()).await
    }
}

impl ItineraServer {
    async fn run_search(
        &self,
        query: Result<SearchQuery, String>,
    ) -> Result<Json<SearchResults>, String> {
        let found = self
            .services
            .planner
            .search_all(&self.owner, &query?)
            .await
            .map_err(|e| e.to_string())?;
        let next_step = if found.missing.is_empty() {
            NEXT_STEP.to_string()
        } else {
            format!(
                "Some providers did not answer (providers_missing): these offers are from the others; search again later for theirs. {NEXT_STEP}"
            )
        };
        Ok(Json(SearchResults {
            offers: found.offers,
            providers_missing: found.missing,
            next_step,
        }))
    }
}
