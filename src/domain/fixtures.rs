//! Offers and items for unit tests: far-future dates, round prices, refundable by default.

use chrono::{Duration, NaiveDate, TimeZone, Utc};

use super::ids::{ItemId, OfferId};
use super::money::Money;
use super::offer::{CancellationPolicy, ItemKind, Offer, OfferDetails};
use super::places::{Airport, City};
use super::plan::{PlanItem, Priority};

pub fn day(offset: i64) -> NaiveDate {
    NaiveDate::from_ymd_opt(2030, 6, 1).unwrap() + Duration::days(offset)
}

fn offer(
    kind: ItemKind,
    city: City,
    start: i64,
    end: i64,
    price: &str,
    details: OfferDetails,
) -> Offer {
    Offer {
        id: OfferId::parse(&format!("off_{}", uuid::Uuid::new_v4().simple())).unwrap(),
        provider: "sandbox".into(),
        kind,
        title: format!("{} in {}", kind.as_str(), city.name),
        price: Money::parse(price, "EUR").unwrap(),
        city,
        starts_on: day(start),
        ends_on: day(end),
        cancellation: CancellationPolicy::Refundable {
            free_until: Utc.with_ymd_and_hms(2030, 5, 1, 0, 0, 0).unwrap(),
            penalty: Money::parse("20", "EUR").unwrap(),
        },
        expires_at: Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap(),
        details,
        accepted_payments: Vec::new(),
    }
}

pub fn flight(from: &str, to: &str, on: i64) -> Offer {
    let destination = Airport::parse(to).unwrap();
    offer(
        ItemKind::Flight,
        destination.city,
        on,
        on,
        "300",
        OfferDetails::Flight {
            carrier: "ZZ".into(),
            carrier_name: "Sandbox Air".into(),
            flight_number: "ZZ100".into(),
            origin: from.into(),
            destination: to.into(),
            departs_at: day(on).and_hms_opt(8, 0, 0).unwrap(),
            arrives_at: day(on).and_hms_opt(10, 0, 0).unwrap(),
            stops: 0,
            cabin: "economy".into(),
            passengers: 1,
        },
    )
}

pub fn hotel(city: &str, check_in: i64, check_out: i64) -> Offer {
    offer(
        ItemKind::Hotel,
        City::parse(city).unwrap(),
        check_in,
        check_out,
        "450",
        OfferDetails::Hotel {
            hotel_name: "Hotel Fixture".into(),
            room_type: "Double".into(),
            board: "room only".into(),
            stars: 4,
            check_in: day(check_in),
            check_out: day(check_out),
            guests: 1,
        },
    )
}

pub fn activity(city: &str, on: i64) -> Offer {
    offer(
        ItemKind::Activity,
        City::parse(city).unwrap(),
        on,
        on,
        "60",
        OfferDetails::Activity {
            name: "Walking tour".into(),
            date: day(on),
            start_time: "10:00".into(),
            duration_minutes: 120,
            participants: 1,
        },
    )
}

pub fn car(city: &str, from: i64, to: i64) -> Offer {
    offer(
        ItemKind::CarRental,
        City::parse(city).unwrap(),
        from,
        to,
        "150",
        OfferDetails::CarRental {
            company: "Fixture Cars".into(),
            vehicle_class: "compact".into(),
            model: "Fiat 500".into(),
            pick_up_at: day(from).and_hms_opt(12, 0, 0).unwrap(),
            drop_off_at: day(to).and_hms_opt(12, 0, 0).unwrap(),
            pick_up_location: "Airport".into(),
        },
    )
}

pub fn item(offer: Offer) -> PlanItem {
    PlanItem {
        id: ItemId::generate(),
        priority: Priority::MustHave,
        depends_on: Vec::new(),
        offer,
    }
}

/// A plan for one traveller: a flight into Paris (EUR 300) and two nights there (EUR 450).
pub fn paris_plan() -> super::plan::TravelPlan {
    use super::ids::{OwnerId, PaymentMethodToken, PlanId};
    use super::plan::{TravelPlan, Traveller, TravellerKind};
    TravelPlan {
        id: PlanId::generate(),
        owner: OwnerId::new("local"),
        title: "Paris".into(),
        currency: super::money::Currency::parse("EUR").unwrap(),
        travellers: vec![Traveller {
            given_name: "Ada".into(),
            family_name: "Lovelace".into(),
            kind: TravellerKind::Adult,
            passport_number: None,
            date_of_birth: None,
            phone: None,
            email: None,
            title: None,
            gender: None,
        }],
        items: vec![item(flight("LHR", "CDG", 1)), item(hotel("PAR", 1, 3))],
        budget: None,
        payment_method: PaymentMethodToken::parse("pm_sandbox_visa").unwrap(),
        payment_preference: Default::default(),
        payment_split: Vec::new(),
        created_at: Utc::now(),
        updated_at: Utc::now(),
    }
}

/// The order of `paris_plan`, booked and paid in full: EUR 750 captured.
pub fn paris_order() -> super::order::Order {
    use super::ids::{ApprovalId, OrderId};
    use super::order::{ItemStatus, Order, OrderItem, OrderStatus};
    let plan = paris_plan();
    let items: Vec<OrderItem> = plan
        .items
        .iter()
        .map(|item| OrderItem {
            status: ItemStatus::Booked,
            reference: Some(format!("ref_{}", item.id)),
            confirmation: Some("PNR123".into()),
            ..OrderItem::pending(item, item.offer.price, item.offer.cancellation.clone())
        })
        .collect();
    let total = Money::parse("750", "EUR").unwrap();
    Order {
        id: OrderId::generate(),
        owner: plan.owner.clone(),
        plan_id: plan.id.clone(),
        approval_id: ApprovalId::generate(),
        status: OrderStatus::Confirmed,
        currency: plan.currency,
        authorized: total,
        captured: total,
        refunded: Money::zero(plan.currency),
        goodwill_refunded: Money::zero(plan.currency),
        goodwill_pending: None,
        payment_via: "sandbox".into(),
        payment_return_url: None,
        payment_due_by: None,
        payment_method: Some(plan.payment_method.clone()),
        payment_failed_over: Vec::new(),
        payment_parts: Vec::new(),
        payment: None,
        items,
        failure: None,
        created_at: plan.created_at,
        updated_at: plan.created_at,
    }
}
