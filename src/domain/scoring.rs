//! Choosing an offer from search results, as the design document scores flights: price 40 %,
//! departure time 30 %, airline 20 %, stops 10 %. Scores are ranks, not money, so floats are fine.

use chrono::{NaiveTime, Timelike};
use rust_decimal::prelude::ToPrimitive;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::money::Money;
use super::offer::{Offer, OfferDetails};

/// What the person prefers in a flight; every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FlightPreferences {
    /// Highest acceptable price; offers above it are not chosen.
    pub max_price: Option<Money>,
    /// Earliest preferred departure, local time "HH:MM".
    pub depart_after: Option<NaiveTime>,
    /// Latest preferred departure, local time "HH:MM".
    pub depart_before: Option<NaiveTime>,
    /// Preferred airlines by IATA code, e.g. ["AF", "BA"].
    #[serde(default)]
    pub airlines: Vec<String>,
    /// Most stops acceptable.
    pub max_stops: Option<u8>,
}

const PRICE_WEIGHT: f64 = 0.4;
const TIME_WEIGHT: f64 = 0.3;
const AIRLINE_WEIGHT: f64 = 0.2;
const STOPS_WEIGHT: f64 = 0.1;

/// The best flight by the design document's weights, among those the preferences allow.
pub fn best_flight<'a>(offers: &'a [Offer], preferences: &FlightPreferences) -> Option<&'a Offer> {
    let eligible: Vec<&Offer> = offers
        .iter()
        .filter(|offer| within_limits(offer, preferences))
        .collect();
    let ceiling = preferences
        .max_price
        .map(|money| money.amount())
        .or_else(|| eligible.iter().map(|offer| offer.price.amount()).max())?;
    eligible
        .into_iter()
        .map(|offer| {
            (
                score(offer, preferences, ceiling.to_f64().unwrap_or(0.0)),
                offer,
            )
        })
        .max_by(|(a, _), (b, _)| a.total_cmp(b))
        .map(|(_, offer)| offer)
}

fn within_limits(offer: &Offer, preferences: &FlightPreferences) -> bool {
    let OfferDetails::Flight { stops, .. } = &offer.details else {
        return false;
    };
    let affordable = preferences
        .max_price
        .is_none_or(|max| offer.price.partial_cmp(&max).is_some_and(|o| o.is_le()));
    affordable && preferences.max_stops.is_none_or(|max| *stops <= max)
}

/// A score in [0, 1]; higher is better.
pub fn score(offer: &Offer, preferences: &FlightPreferences, price_ceiling: f64) -> f64 {
    let OfferDetails::Flight {
        carrier,
        departs_at,
        stops,
        ..
    } = &offer.details
    else {
        return 0.0;
    };
    let price = offer.price.amount().to_f64().unwrap_or(f64::MAX);
    let price_score = if price_ceiling > 0.0 {
        (price_ceiling - price) / price_ceiling
    } else {
        0.0
    };
    let time_score = time_score(departs_at.time(), preferences);
    let airline_score = if preferences.airlines.is_empty() {
        0.5
    } else if preferences
        .airlines
        .iter()
        .any(|a| a.eq_ignore_ascii_case(carrier))
    {
        1.0
    } else {
        0.0
    };
    let stops_score = 1.0 - f64::from(*stops) / 3.0;
    let total = price_score * PRICE_WEIGHT
        + time_score * TIME_WEIGHT
        + airline_score * AIRLINE_WEIGHT
        + stops_score * STOPS_WEIGHT;
    total.clamp(0.0, 1.0)
}

/// 1 inside the preferred window, falling by a tenth per hour outside it.
fn time_score(departure: NaiveTime, preferences: &FlightPreferences) -> f64 {
    let minutes = |t: NaiveTime| f64::from(t.hour() * 60 + t.minute());
    let at = minutes(departure);
    let after = preferences.depart_after.map(minutes).unwrap_or(0.0);
    let before = preferences
        .depart_before
        .map(minutes)
        .unwrap_or(24.0 * 60.0);
    let distance_hours = if at < after {
        (after - at) / 60.0
    } else if at > before {
        (at - before) / 60.0
    } else {
        0.0
    };
    (1.0 - distance_hours / 10.0).max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fixtures::flight;

    fn with(price: &str, carrier: &str, hour: u32, stops: u8) -> Offer {
        let mut offer = flight("LHR", "CDG", 1);
        offer.price = Money::parse(price, "EUR").unwrap();
        if let OfferDetails::Flight {
            carrier: c,
            departs_at,
            stops: s,
            ..
        } = &mut offer.details
        {
            *c = carrier.into();
            *departs_at = departs_at.date().and_hms_opt(hour, 0, 0).unwrap();
            *s = stops;
        }
        offer
    }

    #[test]
    fn price_dominates_when_nothing_else_is_preferred() {
        let offers = [with("300", "AF", 9, 0), with("200", "BA", 9, 0)];
        let best = best_flight(&offers, &FlightPreferences::default()).unwrap();
        assert_eq!(best.price, Money::parse("200", "EUR").unwrap());
    }

    #[test]
    fn time_airline_and_stops_can_outweigh_a_small_saving() {
        let offers = [with("190", "BA", 5, 2), with("200", "AF", 9, 0)];
        let preferences = FlightPreferences {
            depart_after: NaiveTime::from_hms_opt(8, 0, 0),
            depart_before: NaiveTime::from_hms_opt(12, 0, 0),
            airlines: vec!["AF".into()],
            ..Default::default()
        };
        let best = best_flight(&offers, &preferences).unwrap();
        assert_eq!(best.price, Money::parse("200", "EUR").unwrap());
    }

    #[test]
    fn limits_exclude_offers() {
        let offers = [with("500", "AF", 9, 0), with("200", "AF", 9, 2)];
        let preferences = FlightPreferences {
            max_price: Some(Money::parse("400", "EUR").unwrap()),
            max_stops: Some(1),
            ..Default::default()
        };
        assert!(best_flight(&offers, &preferences).is_none());
    }
}
