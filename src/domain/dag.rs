//! Dependencies between items and the booking phases they imply.
//!
//! Declared dependencies come from the assistant; inferred ones come from the itinerary itself: a
//! hotel or car in a city waits for the flight that lands there, an activity waits for the stay in
//! its city. Booking a hotel for a flight that then fails would only have to be cancelled again.

use std::collections::{BTreeMap, BTreeSet};

use chrono::Duration;

use super::ids::ItemId;
use super::offer::{ItemKind, OfferDetails};
use super::plan::PlanItem;

/// A dependency structure that cannot be booked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DagError {
    #[error("item {item} depends on {missing}, which is not in the plan")]
    UnknownDependency { item: ItemId, missing: String },
    #[error(
        "the dependencies form a cycle through {}: remove one of these depends_on entries",
        .items.join(" → ")
    )]
    Cycle { items: Vec<String> },
}

/// Every dependency of every item: declared plus inferred, without duplicates.
pub fn effective_dependencies(items: &[PlanItem]) -> BTreeMap<ItemId, BTreeSet<ItemId>> {
    let mut edges: BTreeMap<ItemId, BTreeSet<ItemId>> = items
        .iter()
        .map(|item| (item.id.clone(), item.depends_on.iter().cloned().collect()))
        .collect();
    for (dependent, prerequisite) in inferred_dependencies(items) {
        // The assistant's word wins: never infer the reverse of a declared edge.
        let declared_reverse = edges
            .get(&prerequisite)
            .is_some_and(|deps| deps.contains(&dependent));
        if !declared_reverse && let Some(deps) = edges.get_mut(&dependent) {
            deps.insert(prerequisite);
        }
    }
    edges
}

/// Dependencies read from the itinerary: (dependent, prerequisite) pairs.
pub fn inferred_dependencies(items: &[PlanItem]) -> Vec<(ItemId, ItemId)> {
    let mut inferred = Vec::new();
    for item in items {
        let prerequisite = match item.offer.kind {
            ItemKind::Hotel | ItemKind::CarRental => latest_arrival_before(items, item),
            ItemKind::Activity => stay_covering(items, item),
            ItemKind::Flight => None,
        };
        if let Some(prerequisite) = prerequisite {
            inferred.push((item.id.clone(), prerequisite.id.clone()));
        }
    }
    inferred
}

/// The last flight landing in the item's city by the day after the item starts (a red-eye that
/// lands after midnight still brings the traveller to the hotel booked for the evening before).
fn latest_arrival_before<'a>(items: &'a [PlanItem], item: &PlanItem) -> Option<&'a PlanItem> {
    items
        .iter()
        .filter(|other| {
            other.offer.kind == ItemKind::Flight
                && other.offer.city == item.offer.city
                && other.offer.ends_on <= item.offer.starts_on + Duration::days(1)
        })
        .max_by_key(|flight| match &flight.offer.details {
            OfferDetails::Flight { arrives_at, .. } => Some(*arrives_at),
            _ => None,
        })
}

/// The hotel in the activity's city whose stay covers the activity's day.
fn stay_covering<'a>(items: &'a [PlanItem], item: &PlanItem) -> Option<&'a PlanItem> {
    items.iter().find(|other| {
        other.offer.kind == ItemKind::Hotel
            && other.offer.city == item.offer.city
            && other.offer.starts_on <= item.offer.starts_on
            && item.offer.starts_on <= other.offer.ends_on
    })
}

/// Groups items into phases (Kahn's algorithm): each phase depends only on earlier ones.
pub fn phases(items: &[PlanItem]) -> Result<Vec<Vec<ItemId>>, DagError> {
    let known: BTreeSet<&ItemId> = items.iter().map(|item| &item.id).collect();
    for item in items {
        if let Some(missing) = item.depends_on.iter().find(|dep| !known.contains(dep)) {
            return Err(DagError::UnknownDependency {
                item: item.id.clone(),
                missing: missing.to_string(),
            });
        }
    }
    let mut remaining = effective_dependencies(items);
    let mut phases = Vec::new();
    while !remaining.is_empty() {
        // Keep the plan's own order inside a phase so results read naturally.
        let ready: Vec<ItemId> = items
            .iter()
            .map(|item| &item.id)
            .filter(|id| remaining.get(*id).is_some_and(BTreeSet::is_empty))
            .cloned()
            .collect();
        if ready.is_empty() {
            return Err(DagError::Cycle {
                items: describe_cycle(items, &remaining),
            });
        }
        for id in &ready {
            remaining.remove(id);
        }
        for deps in remaining.values_mut() {
            for id in &ready {
                deps.remove(id);
            }
        }
        phases.push(ready);
    }
    Ok(phases)
}

/// Walks the unresolved edges from any stuck item until an item repeats: that loop is the cycle.
fn describe_cycle(items: &[PlanItem], stuck: &BTreeMap<ItemId, BTreeSet<ItemId>>) -> Vec<String> {
    let label = |id: &ItemId| {
        items
            .iter()
            .find(|item| &item.id == id)
            .map(|item| format!("{} ({})", id, item.offer.title))
            .unwrap_or_else(|| id.to_string())
    };
    let mut path: Vec<ItemId> = Vec::new();
    let mut current = stuck.keys().next().cloned();
    while let Some(id) = current {
        if let Some(start) = path.iter().position(|seen| seen == &id) {
            let mut cycle: Vec<String> = path[start..].iter().map(label).collect();
            cycle.push(label(&id));
            return cycle;
        }
        current = stuck.get(&id).and_then(|deps| deps.iter().next().cloned());
        path.push(id);
    }
    path.iter().map(label).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fixtures::{activity, car, flight, hotel, item};

    #[test]
    fn hotel_car_and_activity_follow_the_flight_into_their_city() {
        let outbound = item(flight("LHR", "CDG", 10));
        let stay = item(hotel("PAR", 10, 13));
        let tour = item(activity("PAR", 11));
        let rental = item(car("PAR", 10, 13));
        let items = vec![tour.clone(), rental.clone(), stay.clone(), outbound.clone()];
        let phases = phases(&items).unwrap();
        assert_eq!(
            phases,
            vec![
                vec![outbound.id.clone()],
                vec![rental.id.clone(), stay.id.clone()],
                vec![tour.id.clone()],
            ]
        );
    }

    #[test]
    fn an_overnight_arrival_still_comes_before_the_hotel() {
        let mut red_eye = item(flight("JFK", "CDG", 10));
        red_eye.offer.ends_on = red_eye.offer.starts_on + Duration::days(1);
        let stay = item(hotel("PAR", 10, 13));
        let later_flight = item(flight("LHR", "CDG", 15));
        let phases = phases(&[stay.clone(), red_eye.clone(), later_flight.clone()]).unwrap();
        assert_eq!(
            phases,
            vec![vec![red_eye.id, later_flight.id], vec![stay.id]]
        );
    }

    #[test]
    fn a_hotel_in_another_city_does_not_wait_for_the_flight() {
        let outbound = item(flight("LHR", "CDG", 10));
        let elsewhere = item(hotel("ROM", 10, 12));
        assert_eq!(phases(&[outbound, elsewhere]).unwrap().len(), 1);
    }

    #[test]
    fn cycles_are_refused_naming_the_items() {
        let mut a = item(hotel("PAR", 10, 12));
        let mut b = item(activity("PAR", 11));
        a.depends_on = vec![b.id.clone()];
        b.depends_on = vec![a.id.clone()];
        let err = phases(&[a.clone(), b.clone()]).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("cycle"), "{text}");
        assert!(
            text.contains(a.id.as_str()) && text.contains(b.id.as_str()),
            "{text}"
        );
    }

    #[test]
    fn a_declared_dependency_overrides_the_inferred_reverse() {
        let outbound = item(flight("LHR", "CDG", 10));
        let mut stay = item(hotel("PAR", 10, 12));
        stay.depends_on.clear();
        let mut flight_after_hotel = outbound.clone();
        flight_after_hotel.depends_on = vec![stay.id.clone()];
        let phases = phases(&[flight_after_hotel.clone(), stay.clone()]).unwrap();
        assert_eq!(phases, vec![vec![stay.id], vec![flight_after_hotel.id]]);
    }

    #[test]
    fn unknown_dependencies_are_named() {
        let mut stay = item(hotel("PAR", 10, 12));
        stay.depends_on = vec![ItemId::generate()];
        assert!(matches!(
            phases(&[stay]),
            Err(DagError::UnknownDependency { .. })
        ));
    }
}
