//! Choosing an offer from criteria instead of an offer id.

use crate::domain::money::Money;
use crate::domain::offer::{Offer, OfferDetails};
use crate::domain::scoring::{self, FlightPreferences};
use crate::ports::booking::SearchQuery;

/// Criteria the server resolves to one offer by searching and choosing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pick {
    /// The best flight by the design weights: price 40 %, time 30 %, airline 20 %, stops 10 %.
    Flight {
        query: SearchQuery,
        preferences: FlightPreferences,
    },
    /// The cheapest stay with at least `min_stars`, refundable if asked, within `max_price`.
    Hotel {
        query: SearchQuery,
        min_stars: Option<u8>,
        refundable_only: bool,
        max_price: Option<Money>,
    },
    /// The cheapest offer of the search within `max_price` (activities, car rentals).
    Cheapest {
        query: SearchQuery,
        max_price: Option<Money>,
    },
}

impl Pick {
    pub fn query(&self) -> &SearchQuery {
        match self {
            Pick::Flight { query, .. }
            | Pick::Hotel { query, .. }
            | Pick::Cheapest { query, .. } => query,
        }
    }

    /// The chosen offer, or why none fits.
    pub fn choose(&self, offers: &[Offer]) -> Result<Offer, String> {
        let within = |offer: &&Offer, max: &Option<Money>| {
            max.is_none_or(|max| offer.price.partial_cmp(&max).is_some_and(|o| o.is_le()))
        };
        let chosen = match self {
            Pick::Flight { preferences, .. } => scoring::best_flight(offers, preferences),
            Pick::Hotel {
                min_stars,
                refundable_only,
                max_price,
                ..
            } => offers
                .iter()
                .filter(|offer| within(offer, max_price))
                .filter(|offer| !refundable_only || offer.cancellation.is_refundable())
                .filter(|offer| match (&offer.details, min_stars) {
                    (OfferDetails::Hotel { stars, .. }, Some(min)) => stars >= min,
                    _ => true,
                })
                .min_by_key(|offer| offer.price.amount()),
            Pick::Cheapest { max_price, .. } => offers
                .iter()
                .filter(|offer| within(offer, max_price))
                .min_by_key(|offer| offer.price.amount()),
        };
        chosen.cloned().ok_or_else(|| {
            format!(
                "{} offers found, none within the limits given",
                offers.len()
            )
        })
    }
}
