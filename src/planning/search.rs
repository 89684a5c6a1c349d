//! Searching: the rules a search must satisfy, and asking every provider of the kind.

use chrono::{Duration, NaiveDate};

use futures::future::join_all;
use rust_decimal::prelude::ToPrimitive;
use schemars::JsonSchema;
use serde::Serialize;

use crate::domain::offer::{ItemKind, Offer};
use crate::domain::scoring::{FlightPreferences, score};
use crate::ports::booking::SearchQuery;

use super::{Planner, PlanningError};

const MAX_PARTY: u8 = 9;
const MAX_NIGHTS: i64 = 30;
const MAX_RENTAL_DAYS: i64 = 60;
const BOOKING_HORIZON_DAYS: i64 = 365;

/// Checks a search makes sense before any provider is asked.
pub fn validate(query: &SearchQuery, today: NaiveDate) -> Result<(), PlanningError> {
    let invalid = |message: String| Err(PlanningError::InvalidSearch(message));
    let horizon = today + Duration::days(BOOKING_HORIZON_DAYS);
    let (first_day, party) = match query {
        SearchQuery::Flights {
            origin,
            destination,
            date,
            passengers,
            ..
        } => {
            if origin.city == destination.city {
                return invalid(format!(
                    "origin {} and destination {} are in the same city: pick a destination elsewhere",
                    origin.code, destination.code
                ));
            }
            (*date, *passengers)
        }
        SearchQuery::Hotels {
            check_in,
            check_out,
            guests,
            ..
        } => {
            if check_out <= check_in {
                return invalid(format!(
                    "check-out {check_out} must be after check-in {check_in}: swap them or pick a later check-out"
                ));
            }
            if (*check_out - *check_in).num_days() > MAX_NIGHTS {
                return invalid(format!(
                    "stays are limited to {MAX_NIGHTS} nights: split the stay"
                ));
            }
            (*check_in, *guests)
        }
        SearchQuery::Activities {
            date, participants, ..
        } => (*date, *participants),
        SearchQuery::CarRentals {
            pick_up_at,
            drop_off_at,
            ..
        } => {
            if drop_off_at <= pick_up_at {
                return invalid(format!(
                    "drop-off {drop_off_at} must be after pick-up {pick_up_at}"
                ));
            }
            if (*drop_off_at - *pick_up_at).num_days() > MAX_RENTAL_DAYS {
                return invalid(format!("rentals are limited to {MAX_RENTAL_DAYS} days"));
            }
            (pick_up_at.date(), 1)
        }
    };
    if first_day < today {
        return invalid(format!(
            "{first_day} is in the past (today is {today}): pick a future date"
        ));
    }
    if first_day > horizon {
        return invalid(format!(
            "{first_day} is more than a year ahead: providers do not sell that far out"
        ));
    }
    if party == 0 || party > MAX_PARTY {
        return invalid(format!(
            "the party must be 1 to {MAX_PARTY} people, not {party}"
        ));
    }
    Ok(())
}

impl Planner {
    /// Asks every provider of the kind, keeps the offers for plan building, and returns them.
    pub async fn search(
        &self,
        owner: &crate::domain::ids::OwnerId,
        query: &SearchQuery,
    ) -> Result<Vec<Offer>, PlanningError> {
        Ok(self.search_all(owner, query).await?.offers)
    }

    /// Asks every provider of the kind at once, each within the search deadline: what the ones
    /// that answered offer, best first, and which did not answer or failed. Fails only when no
    /// provider answered and one failed, so a slow or broken provider never hides the others.
    pub async fn search_all(
        &self,
        owner: &crate::domain::ids::OwnerId,
        query: &SearchQuery,
    ) -> Result<Found, PlanningError> {
        validate(query, self.clock.now().date_naive())?;
        let providers: Vec<_> = self.providers.for_kind(query.kind()).collect();
        if providers.is_empty() {
            return Err(PlanningError::NoProviderFor(query.kind()));
        }
        let answers =
            join_all(providers.iter().map(|provider| {
                tokio::time::timeout(self.search_deadline, provider.search(query))
            }))
            .await;
        let mut offers = Vec::new();
        let mut missing = Vec::new();
        let mut first_error = None;
        for (provider, answer) in providers.iter().zip(answers) {
            let reason = match answer {
                Ok(Ok(found)) => {
                    offers.extend(found);
                    continue;
                }
                Ok(Err(error)) => {
                    let reason = error.to_string();
                    first_error.get_or_insert(error);
                    reason
                }
                Err(_) => format!(
                    "did not answer within {} ms",
                    self.search_deadline.as_millis()
                ),
            };
            tracing::warn!(provider = provider.name(), %reason, "search incomplete");
            missing.push(ProviderShortfall {
                provider: provider.name().to_string(),
                reason,
            });
        }
        if offers.is_empty()
            && let Some(error) = first_error
        {
            return Err(PlanningError::Provider(error));
        }
        rank(&mut offers);
        self.store.remember_offers(owner, &offers).await?;
        Ok(Found { offers, missing })
    }
}

/// What a search found from the providers that answered, and the ones that did not.
#[derive(Debug, Clone)]
pub struct Found {
    pub offers: Vec<Offer>,
    pub missing: Vec<ProviderShortfall>,
}

/// A provider left out of a search result, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct ProviderShortfall {
    pub provider: String,
    pub reason: String,
}

/// Offers from every provider in one order: flights by the design document's score (price,
/// departure time, airline, stops), everything else cheapest first; ties keep the providers'
/// order.
fn rank(offers: &mut [Offer]) {
    let preferences = FlightPreferences::default();
    let ceiling = offers
        .iter()
        .filter_map(|offer| offer.price.amount().to_f64())
        .fold(0.0, f64::max);
    offers.sort_by(|a, b| match (a.kind, b.kind) {
        (ItemKind::Flight, ItemKind::Flight) => {
            score(b, &preferences, ceiling).total_cmp(&score(a, &preferences, ceiling))
        }
        _ => a.price.amount().cmp(&b.price.amount()),
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::money::Currency;
    use crate::domain::places::{Airport, City};

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
    }

    #[test]
    fn check_out_before_check_in_is_refused_with_the_fix() {
        let query = SearchQuery::Hotels {
            city: City::parse("PAR").unwrap(),
            check_in: today() + Duration::days(5),
            check_out: today() + Duration::days(3),
            guests: 1,
            currency: Currency::parse("EUR").unwrap(),
        };
        let err = validate(&query, today()).unwrap_err().to_string();
        assert!(err.contains("must be after check-in"), "{err}");
    }

    #[test]
    fn past_dates_and_empty_parties_are_refused() {
        let flight = |date, passengers| SearchQuery::Flights {
            origin: Airport::parse("LHR").unwrap(),
            destination: Airport::parse("JFK").unwrap(),
            date,
            passengers,
            cabin: Default::default(),
            currency: Currency::parse("USD").unwrap(),
        };
        assert!(
            validate(&flight(today() - Duration::days(1), 1), today())
                .unwrap_err()
                .to_string()
                .contains("in the past")
        );
        assert!(validate(&flight(today(), 0), today()).is_err());
        assert!(validate(&flight(today() + Duration::days(400), 1), today()).is_err());
        assert!(validate(&flight(today(), 2), today()).is_ok());
    }
}
