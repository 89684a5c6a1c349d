//! Deterministic sandbox inventory: the same search always gives the same offers.
//!
//! Everything but the offer's expiry is derived from a hash of the request, so a demo or a test
//! can rely on ids and prices, while the fields look like what real providers return: carriers,
//! flight numbers, times, stops, cabins, hotel names and room types, and cancellation terms that
//! are free until a deadline and then cost a fee, or non-refundable.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};

use crate::domain::ids::OfferId;
use crate::domain::money::{Currency, Money};
use crate::domain::offer::{CancellationPolicy, ItemKind, Offer, OfferDetails};
use crate::domain::places::{Airport, City};
use crate::ports::booking::{Cabin, SearchQuery};

pub const PROVIDER: &str = "sandbox";

/// How long a price is held after a search.
pub const OFFER_TTL_MINUTES: i64 = 30;

const CARRIERS: [(&str, &str); 8] = [
    ("AF", "Air France"),
    ("BA", "British Airways"),
    ("LH", "Lufthansa"),
    ("DL", "Delta Air Lines"),
    ("JL", "Japan Airlines"),
    ("SQ", "Singapore Airlines"),
    ("EK", "Emirates"),
    ("ZZ", "Sandbox Airways"),
];
const HOTEL_PREFIXES: [&str; 6] = ["Grand", "Park", "Riverside", "Central", "Garden", "Harbour"];
const HOTEL_SUFFIXES: [&str; 4] = ["Hotel", "Suites", "Inn", "Residences"];
const ROOM_TYPES: [&str; 4] = [
    "Standard Double",
    "Superior King",
    "Twin Room",
    "Junior Suite",
];
const ACTIVITIES: [(&str, u32, &str); 5] = [
    ("guided walking tour", 150, "09:30"),
    ("museum pass with skip-the-line entry", 240, "10:00"),
    ("food and market tour", 180, "11:00"),
    ("river or harbour cruise", 90, "15:00"),
    ("day trip to the countryside", 480, "08:00"),
];
const CAR_COMPANIES: [&str; 4] = ["Hertz", "Sixt", "Avis", "Europcar"];
const CARS: [(&str, &str, u32); 4] = [
    ("economy", "Fiat 500", 35),
    ("compact", "VW Golf", 48),
    ("intermediate", "Toyota Corolla", 60),
    ("suv", "Nissan Qashqai", 82),
];

/// A small deterministic random source (SplitMix64) seeded from the request.
struct Seeded(u64);

impl Seeded {
    fn from(text: &str) -> Seeded {
        let digest = Sha256::digest(text.as_bytes());
        let mut seed = [0u8; 8];
        seed.copy_from_slice(&digest[..8]);
        Seeded(u64::from_le_bytes(seed))
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `low..=high`.
    fn between(&mut self, low: u32, high: u32) -> u32 {
        low + (self.next() % u64::from(high - low + 1)) as u32
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next() % items.len() as u64) as usize]
    }
}

/// Rough units per US dollar, so prices look plausible in every currency.
fn units_per_dollar(currency: Currency) -> Decimal {
    let (mantissa, scale) = match currency.code() {
        "EUR" => (92, 2),
        "GBP" => (79, 2),
        "CHF" => (88, 2),
        "JPY" => (150, 0),
        "CNY" => (72, 1),
        "KRW" => (1350, 0),
        "HKD" => (78, 1),
        "SGD" => (135, 2),
        "AUD" => (152, 2),
        "CAD" => (137, 2),
        "INR" => (83, 0),
        "AED" => (367, 2),
        "KWD" => (31, 2),
        "BHD" => (38, 2),
        "OMR" => (38, 2),
        "JOD" => (71, 2),
        "TND" => (31, 1),
        _ => (1, 0),
    };
    Decimal::new(mantissa, scale)
}

/// A dollar figure converted into `currency` and rounded to its minor unit.
fn price(dollars: u32, currency: Currency) -> Money {
    let amount =
        (Decimal::from(dollars) * units_per_dollar(currency)).round_dp(currency.exponent());
    Money::new(amount, currency).unwrap_or_else(|_| Money::zero(currency))
}

fn percent_of(money: &Money, percent: u32) -> Money {
    let amount = (money.amount() * Decimal::from(percent) / Decimal::from(100))
        .round_dp(money.currency().exponent());
    Money::new(amount, money.currency()).unwrap_or_else(|_| Money::zero(money.currency()))
}

fn offer_id(kind: &str, request: &str, index: usize) -> OfferId {
    let digest = hex::encode(Sha256::digest(format!("{request}#{index}").as_bytes()));
    // Only hex and a fixed prefix: always a valid offer id.
    OfferId::parse(&format!("off_{kind}_{}", &digest[..20])).unwrap_or_else(|_| unreachable!())
}

fn utc(at: NaiveDateTime) -> DateTime<Utc> {
    at.and_utc()
}

fn time(hour: u32, minute: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(hour % 24, minute % 60, 0).unwrap_or_default()
}

/// The offers a search returns, expiring `OFFER_TTL_MINUTES` after `now`.
pub fn search(query: &SearchQuery, now: DateTime<Utc>) -> Vec<Offer> {
    let expires_at = now + Duration::minutes(OFFER_TTL_MINUTES);
    match query {
        SearchQuery::Flights {
            origin,
            destination,
            date,
            passengers,
            cabin,
            currency,
        } => flights(
            origin,
            destination,
            *date,
            *passengers,
            *cabin,
            *currency,
            expires_at,
        ),
        SearchQuery::Hotels {
            city,
            check_in,
            check_out,
            guests,
            currency,
        } => hotels(*city, *check_in, *check_out, *guests, *currency, expires_at),
        SearchQuery::Activities {
            city,
            date,
            participants,
            currency,
        } => activities(*city, *date, *participants, *currency, expires_at),
        SearchQuery::CarRentals {
            city,
            pick_up_at,
            drop_off_at,
            currency,
        } => cars(*city, *pick_up_at, *drop_off_at, *currency, expires_at),
    }
}

fn flights(
    origin: &Airport,
    destination: &Airport,
    date: NaiveDate,
    passengers: u8,
    cabin: Cabin,
    currency: Currency,
    expires_at: DateTime<Utc>,
) -> Vec<Offer> {
    let request = format!(
        "flight|{}|{}|{date}|{passengers}|{}|{currency}",
        origin.code,
        destination.code,
        cabin.as_str()
    );
    let mut route = Seeded::from(&format!("route|{}|{}", origin.code, destination.code));
    let base_minutes = route.between(70, 780);
    let base_fare = 80 + base_minutes / 2;
    let cabin_factor = match cabin {
        Cabin::Economy => 10,
        Cabin::PremiumEconomy => 16,
        Cabin::Business => 35,
        Cabin::First => 60,
    };
    let mut rng = Seeded::from(&request);
    (0..6)
        .map(|index| {
            let (carrier, carrier_name) = *rng.pick(&CARRIERS);
            let stops = rng.between(0, 2) as u8;
            let departs_at = date.and_time(time(rng.between(6, 21), rng.between(0, 11) * 5));
            let minutes = base_minutes + u32::from(stops) * rng.between(60, 150);
            let arrives_at = departs_at + Duration::minutes(i64::from(minutes));
            let flexible = rng.between(0, 2) > 0;
            let fare = base_fare * cabin_factor / 10 * (100 - u32::from(stops) * 12) / 100
                + rng.between(0, 90)
                + if flexible { 60 } else { 0 };
            let total = price(fare * u32::from(passengers), currency);
            let flight_number = format!("{carrier}{}", rng.between(100, 9899));
            let cancellation = if flexible {
                CancellationPolicy::Refundable {
                    free_until: utc(departs_at) - Duration::hours(24),
                    penalty: percent_of(&total, 25),
                }
            } else {
                CancellationPolicy::NonRefundable
            };
            let stops_text = match stops {
                0 => "nonstop".to_string(),
                1 => "1 stop".to_string(),
                n => format!("{n} stops"),
            };
            Offer {
                id: offer_id("fl", &request, index),
                provider: PROVIDER.into(),
                kind: ItemKind::Flight,
                title: format!(
                    "{flight_number} {}→{} {} {}→{}, {stops_text}, {}",
                    origin.code,
                    destination.code,
                    date,
                    departs_at.format("%H:%M"),
                    arrives_at.format("%H:%M"),
                    cabin.as_str()
                ),
                price: total,
                city: destination.city,
                starts_on: date,
                ends_on: arrives_at.date(),
                cancellation,
                expires_at,
                accepted_payments: Vec::new(),
                details: OfferDetails::Flight {
                    carrier: carrier.into(),
                    carrier_name: carrier_name.into(),
                    flight_number,
                    origin: origin.code.into(),
                    destination: destination.code.into(),
                    departs_at,
                    arrives_at,
                    stops,
                    cabin: cabin.as_str().into(),
                    passengers,
                },
            }
        })
        .collect()
}

/// Hotels in China take payment through the wallets people there pay with, and through the
/// sandbox card so the sandbox flow works everywhere: the router passes cards and PayPal over.
const CHINA_HOTEL_PAYMENTS: [&str; 3] = ["antom", "wechat", "sandbox_payments"];

fn accepted_by_hotels_in(city: City) -> Vec<String> {
    if city.country == "CN" {
        CHINA_HOTEL_PAYMENTS.map(String::from).to_vec()
    } else {
        Vec::new()
    }
}

fn hotels(
    city: City,
    check_in: NaiveDate,
    check_out: NaiveDate,
    guests: u8,
    currency: Currency,
    expires_at: DateTime<Utc>,
) -> Vec<Offer> {
    let request = format!(
        "hotel|{}|{check_in}|{check_out}|{guests}|{currency}",
        city.code
    );
    let nights = (check_out - check_in).num_days().max(1) as u32;
    let mut rng = Seeded::from(&request);
    (0..5)
        .map(|index| {
            let stars = rng.between(2, 5) as u8;
            let hotel_name = format!(
                "{} {} {}",
                rng.pick(&HOTEL_PREFIXES),
                city.name,
                rng.pick(&HOTEL_SUFFIXES)
            );
            let room_type = *rng.pick(&ROOM_TYPES);
            let breakfast = rng.between(0, 1) == 1;
            let refundable = rng.between(0, 3) > 0;
            let nightly = 40 + u32::from(stars) * 45 + rng.between(0, 60) + if breakfast { 20 } else { 0 };
            let nightly = if refundable { nightly } else { nightly * 9 / 10 };
            let total = price(nightly * nights, currency);
            let cancellation = if refundable {
                CancellationPolicy::Refundable {
                    free_until: utc(check_in.and_time(time(12, 0))) - Duration::days(2),
                    penalty: price(nightly, currency),
                }
            } else {
                CancellationPolicy::NonRefundable
            };
            let board = if breakfast { "breakfast included" } else { "room only" };
            Offer {
                id: offer_id("ht", &request, index),
                provider: PROVIDER.into(),
                kind: ItemKind::Hotel,
                title: format!(
                    "{hotel_name} ({stars}★), {room_type}, {check_in} to {check_out}, {nights} night{}",
                    if nights == 1 { "" } else { "s" }
                ),
                price: total,
                city,
                starts_on: check_in,
                ends_on: check_out,
                cancellation,
                expires_at,
                accepted_payments: accepted_by_hotels_in(city),
                details: OfferDetails::Hotel {
                    hotel_name,
                    room_type: room_type.into(),
                    board: board.into(),
                    stars,
                    check_in,
                    check_out,
                    guests,
                },
            }
        })
        .collect()
}

fn activities(
    city: City,
    date: NaiveDate,
    participants: u8,
    currency: Currency,
    expires_at: DateTime<Utc>,
) -> Vec<Offer> {
    let request = format!("activity|{}|{date}|{participants}|{currency}", city.code);
    let mut rng = Seeded::from(&request);
    ACTIVITIES
        .iter()
        .enumerate()
        .map(|(index, (kind, duration_minutes, start))| {
            let name = format!("{} {kind}", city.name);
            let per_person = 20 + rng.between(0, 120);
            let total = price(per_person * u32::from(participants), currency);
            let start_time = start.to_string();
            let (hour, minute) = start.split_once(':').unwrap_or(("10", "00"));
            let starts = date.and_time(time(
                hour.parse().unwrap_or(10),
                minute.parse().unwrap_or(0),
            ));
            Offer {
                id: offer_id("ac", &request, index),
                provider: PROVIDER.into(),
                kind: ItemKind::Activity,
                title: format!("{name}, {date} {start_time}, {} h", duration_minutes / 60),
                price: total,
                city,
                starts_on: date,
                ends_on: date,
                cancellation: CancellationPolicy::Refundable {
                    free_until: utc(starts) - Duration::hours(24),
                    penalty: total,
                },
                expires_at,
                accepted_payments: Vec::new(),
                details: OfferDetails::Activity {
                    name,
                    date,
                    start_time,
                    duration_minutes: *duration_minutes,
                    participants,
                },
            }
        })
        .collect()
}

fn cars(
    city: City,
    pick_up_at: NaiveDateTime,
    drop_off_at: NaiveDateTime,
    currency: Currency,
    expires_at: DateTime<Utc>,
) -> Vec<Offer> {
    let request = format!("car|{}|{pick_up_at}|{drop_off_at}|{currency}", city.code);
    let days = ((drop_off_at - pick_up_at).num_hours() + 23) / 24;
    let days = days.max(1) as u32;
    let mut rng = Seeded::from(&request);
    let location = city
        .airports()
        .next()
        .map(|airport| format!("{} airport", airport.name))
        .unwrap_or_else(|| format!("{} city centre", city.name));
    CARS.iter()
        .enumerate()
        .map(|(index, (vehicle_class, model, daily))| {
            let company = *rng.pick(&CAR_COMPANIES);
            let per_day = daily + rng.between(0, 25);
            let total = price(per_day * days, currency);
            Offer {
                id: offer_id("cr", &request, index),
                provider: PROVIDER.into(),
                kind: ItemKind::CarRental,
                title: format!(
                    "{company} {model} ({vehicle_class}), {} to {}, {days} day{}",
                    pick_up_at.format("%Y-%m-%d %H:%M"),
                    drop_off_at.format("%Y-%m-%d %H:%M"),
                    if days == 1 { "" } else { "s" }
                ),
                price: total,
                city,
                starts_on: pick_up_at.date(),
                ends_on: drop_off_at.date(),
                cancellation: CancellationPolicy::Refundable {
                    free_until: utc(pick_up_at) - Duration::hours(2),
                    penalty: price(per_day, currency),
                },
                expires_at,
                accepted_payments: Vec::new(),
                details: OfferDetails::CarRental {
                    company: company.into(),
                    vehicle_class: (*vehicle_class).into(),
                    model: (*model).into(),
                    pick_up_at,
                    drop_off_at,
                    pick_up_location: location.clone(),
                },
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paris_flights(currency: &str) -> SearchQuery {
        SearchQuery::Flights {
            origin: Airport::parse("LHR").unwrap(),
            destination: Airport::parse("CDG").unwrap(),
            date: NaiveDate::from_ymd_opt(2030, 5, 10).unwrap(),
            passengers: 2,
            cabin: Cabin::Economy,
            currency: Currency::parse(currency).unwrap(),
        }
    }

    #[test]
    fn the_same_search_gives_the_same_offers() {
        let now = Utc::now();
        let first = search(&paris_flights("EUR"), now);
        let later = search(&paris_flights("EUR"), now + Duration::minutes(5));
        assert_eq!(first.len(), 6);
        let strip = |offers: Vec<Offer>| {
            offers
                .into_iter()
                .map(|o| (o.id, o.price, o.title, o.cancellation))
                .collect::<Vec<_>>()
        };
        assert_eq!(strip(first), strip(later));
    }

    #[test]
    fn flights_land_in_the_destination_city_and_prices_fit_the_currency() {
        for offer in search(&paris_flights("JPY"), Utc::now()) {
            assert_eq!(offer.city.code, "PAR");
            assert_eq!(offer.price.currency().code(), "JPY");
            assert_eq!(offer.price.amount().scale(), 0);
            assert!(!offer.price.is_zero());
        }
    }

    #[test]
    fn hotels_price_every_night_and_offer_both_policies_somewhere() {
        let city = City::parse("Paris").unwrap();
        let check_in = NaiveDate::from_ymd_opt(2030, 5, 10).unwrap();
        let mut refundable = 0;
        for day in 0..6 {
            let query = SearchQuery::Hotels {
                city,
                check_in: check_in + Duration::days(day),
                check_out: check_in + Duration::days(day + 3),
                guests: 2,
                currency: Currency::parse("USD").unwrap(),
            };
            for offer in search(&query, Utc::now()) {
                assert!(offer.title.contains("3 nights"));
                refundable += usize::from(offer.cancellation.is_refundable());
            }
        }
        assert!(refundable > 0 && refundable < 30);
    }
}
