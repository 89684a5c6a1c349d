//! The driver of a rental car: the plan's first traveller, of an age the searched rates are for.
//! Itinera's car search asks no age, so every car provider is searched for one driver of
//! `SEARCHED_DRIVER_AGE`, and a booking for a driver the rate was not priced for is refused
//! before anything is sent (the counter would add young- or senior-driver surcharges).

use chrono::{Datelike, NaiveDate};

use crate::domain::plan::Traveller;

/// The driver every search is for: an age between the young-driver and senior surcharges of
/// most suppliers.
pub const SEARCHED_DRIVER_AGE: u8 = 30;
/// The ages a driver may have at pick-up for a rate searched at `SEARCHED_DRIVER_AGE`.
pub const DRIVER_AGES: std::ops::RangeInclusive<i32> = 25..=70;

/// A driver detail the booking needs that the lead traveller lacks. No names: it is logged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DriverError {
    #[error(
        "the driver (the plan's first traveller) has no {0}: the rental company needs it; add it with update_travel_plan"
    )]
    Missing(&'static str),
    #[error(
        "the driver (the plan's first traveller) is {0} at pick-up, and the rates are searched for drivers aged 25 to 70 (younger and older drivers pay surcharges at most companies): book this car directly with the rental company"
    )]
    Age(i32),
}

/// The driver's date of birth, once their age on `pick_up_on` is within `DRIVER_AGES`.
pub fn born(lead: &Traveller, pick_up_on: NaiveDate) -> Result<NaiveDate, DriverError> {
    let born = lead
        .date_of_birth
        .ok_or(DriverError::Missing("date_of_birth"))?;
    let age = age_on(born, pick_up_on);
    if !DRIVER_AGES.contains(&age) {
        return Err(DriverError::Age(age));
    }
    Ok(born)
}

/// Whole years from `born` to `on`.
pub fn age_on(born: NaiveDate, on: NaiveDate) -> i32 {
    let had_birthday = (on.month(), on.day()) >= (born.month(), born.day());
    on.year() - born.year() - i32::from(!had_birthday)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn age_counts_the_birthday_of_the_pick_up_year() {
        assert_eq!(age_on(date("2001-12-10"), date("2026-12-09")), 24);
        assert_eq!(age_on(date("2001-12-10"), date("2026-12-10")), 25);
    }
}
