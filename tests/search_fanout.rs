//! Searching several providers of one kind at once: each within the search deadline; a slow or
//! failing provider is named in the result and never hides the others' offers; offers from all
//! of them come in one order, flights by the design document's score.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;

use itinera::adapters::store::SqlStore;
use itinera::crypto::{Keyring, MasterKey};
use itinera::domain::ids::{OfferId, OwnerId};
use itinera::domain::money::{Currency, Money};
use itinera::domain::offer::{CancellationPolicy, ItemKind, Offer, OfferDetails};
use itinera::domain::places::{Airport, City};
use itinera::planning::Planner;
use itinera::ports::booking::{
    BookingConfirmation, BookingError, BookingProvider, BookingRequest, Cabin, CancelRequest,
    CancellationReceipt, SearchQuery,
};
use itinera::ports::{ProviderError, SystemClock};
use itinera::providers::Providers;

/// How a fake airline answers a search.
#[derive(Clone, Copy)]
enum Answer {
    /// Its flights, at these prices, after `delay`.
    Offers {
        prices: &'static [&'static str],
        delay: Duration,
    },
    Down,
}

struct Airline {
    name: &'static str,
    answer: Answer,
}

fn flight(provider: &str, price: &str, index: usize) -> Offer {
    let day = Utc::now().date_naive() + chrono::Duration::days(20);
    let departs = day.and_hms_opt(9, 0, 0).unwrap();
    Offer {
        id: OfferId::parse(&format!("off_{provider}_{index}")).unwrap(),
        provider: provider.into(),
        kind: ItemKind::Flight,
        title: format!("{provider} flight {index}"),
        price: Money::parse(price, "EUR").unwrap(),
        city: City::parse("PAR").unwrap(),
        starts_on: day,
        ends_on: day,
        cancellation: CancellationPolicy::NonRefundable,
        expires_at: Utc::now() + chrono::Duration::hours(1),
        details: OfferDetails::Flight {
            carrier: "AF".into(),
            carrier_name: "Air France".into(),
            flight_number: format!("AF{index}"),
            origin: "LHR".into(),
            destination: "CDG".into(),
            departs_at: departs,
            arrives_at: departs + chrono::Duration::hours(1),
            stops: 0,
            cabin: "economy".into(),
            passengers: 1,
        },
        accepted_payments: Vec::new(),
    }
}

#[async_trait]
impl BookingProvider for Airline {
    fn name(&self) -> &str {
        self.name
    }

    fn kinds(&self) -> &[ItemKind] {
        &[ItemKind::Flight]
    }

    async fn probe(&self) -> Result<(), BookingError> {
        Ok(())
    }

    async fn search(&self, _query: &SearchQuery) -> Result<Vec<Offer>, BookingError> {
        match self.answer {
            Answer::Offers { prices, delay } => {
                tokio::time::sleep(delay).await;
                Ok(prices
                    .iter()
                    .enumerate()
                    .map(|(index, price)| flight(self.name, price, index))
                    .collect())
            }
            Answer::Down => Err(ProviderError::unavailable(self.name, "HTTP 503").into()),
        }
    }

    async fn quote(&self, offer: &Offer) -> Result<Offer, BookingError> {
        Ok(offer.clone())
    }

    async fn book(&self, _: BookingRequest<'_>) -> Result<BookingConfirmation, BookingError> {
        unreachable!("searching books nothing")
    }

    async fn cancel(&self, _: CancelRequest<'_>) -> Result<CancellationReceipt, BookingError> {
        unreachable!("searching cancels nothing")
    }
}

async fn planner_over(airlines: Vec<Airline>, deadline: Duration) -> (tempfile::TempDir, Planner) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("store.db").display());
    let keyring = Arc::new(Keyring::new(&MasterKey::generate().unwrap()));
    let store = Arc::new(SqlStore::open(&url, keyring).await.unwrap());
    let booking: Vec<Arc<dyn BookingProvider>> = airlines
        .into_iter()
        .map(|airline| Arc::new(airline) as Arc<dyn BookingProvider>)
        .collect();
    let providers = Arc::new(Providers::new(booking, Vec::new()));
    let planner =
        Planner::new(store, providers, Arc::new(SystemClock)).with_search_deadline(deadline);
    (dir, planner)
}

fn flights() -> SearchQuery {
    SearchQuery::Flights {
        origin: Airport::parse("LHR").unwrap(),
        destination: Airport::parse("CDG").unwrap(),
        date: Utc::now().date_naive() + chrono::Duration::days(20),
        passengers: 1,
        cabin: Cabin::Economy,
        currency: Currency::parse("EUR").unwrap(),
    }
}

fn quick(prices: &'static [&'static str]) -> Answer {
    Answer::Offers {
        prices,
        delay: Duration::ZERO,
    }
}

#[tokio::test]
async fn a_slow_provider_is_named_and_the_others_offers_come_ranked_together() {
    let (_dir, planner) = planner_over(
        vec![
            Airline {
                name: "duffel",
                answer: quick(&["210.00", "140.00"]),
            },
            Airline {
                name: "slowair",
                answer: Answer::Offers {
                    prices: &["90.00"],
                    delay: Duration::from_secs(30),
                },
            },
            Airline {
                name: "amadeus",
                answer: quick(&["180.00"]),
            },
        ],
        Duration::from_millis(200),
    )
    .await;
    let owner = OwnerId::new("local");
    let found = planner.search_all(&owner, &flights()).await.unwrap();
    let prices: Vec<String> = found
        .offers
        .iter()
        .map(|offer| offer.price.amount().to_string())
        .collect();
    assert_eq!(
        prices,
        ["140.00", "180.00", "210.00"],
        "both answering providers, cheapest first among equal flights"
    );
    assert_eq!(found.missing.len(), 1);
    assert_eq!(found.missing[0].provider, "slowair");
    assert_eq!(found.missing[0].reason, "did not answer within 200 ms");
}

#[tokio::test]
async fn a_failing_provider_is_named_and_only_everyone_failing_fails_the_search() {
    let (_dir, planner) = planner_over(
        vec![
            Airline {
                name: "downair",
                answer: Answer::Down,
            },
            Airline {
                name: "duffel",
                answer: quick(&["120.00"]),
            },
        ],
        Duration::from_secs(2),
    )
    .await;
    let owner = OwnerId::new("local");
    let found = planner.search_all(&owner, &flights()).await.unwrap();
    assert_eq!(found.offers.len(), 1);
    assert_eq!(found.missing[0].provider, "downair");
    assert!(
        found.missing[0].reason.contains("unavailable"),
        "{:?}",
        found.missing
    );

    let (_dir, all_down) = planner_over(
        vec![Airline {
            name: "downair",
            answer: Answer::Down,
        }],
        Duration::from_secs(2),
    )
    .await;
    let error = all_down.search_all(&owner, &flights()).await.unwrap_err();
    assert!(
        error.to_string().contains("downair is unavailable"),
        "{error}"
    );
}
