//! Travel plans: the items a person wants booked, for whom, paid how, within what budget.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::dag::{self, DagError};
use super::ids::{ItemId, OwnerId, PaymentMethodToken, PlanId};
use super::money::{Currency, Money, MoneyError};
use super::offer::Offer;
use super::personal;
use super::places::City;

/// How much an item matters to the trip. A failed `must_have` rolls the whole order back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    #[default]
    MustHave,
    Preferred,
    Optional,
}

/// Adult or child, which changes fares and some activities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TravellerKind {
    #[default]
    Adult,
    Child,
}

/// How airlines address a passenger (Duffel: `mr`, `ms`, `mrs`, `miss`, `dr`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Title {
    Mr,
    Ms,
    Mrs,
    Miss,
    Dr,
}

/// Gender as printed on the passport, which airlines require to book ("m" or "f").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Gender {
    M,
    F,
}

/// A person travelling on the plan. Providers need the personal details to book (airlines ask
/// for passport and date of birth on many routes); Itinera stores them encrypted and shows them
/// masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Traveller {
    /// Given name as on the passport.
    pub given_name: String,
    /// Family name as on the passport.
    pub family_name: String,
    #[serde(default)]
    pub kind: TravellerKind,
    /// Passport number as printed, e.g. "X12345678": 5 to 20 letters and digits. Optional; give
    /// it when the trip has international flights.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passport_number: Option<String>,
    /// Date of birth, YYYY-MM-DD. Optional; airlines want it for children and many routes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_of_birth: Option<NaiveDate>,
    /// Phone in international form, e.g. "+33 6 12 34 56 78", for providers to reach the
    /// traveller about changes. Optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// E-mail address for the providers' confirmations, e.g. "ada@example.com". Optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Title as the airline addresses the traveller: mr, ms, mrs, miss or dr. Optional; airlines
    /// booked through Duffel require it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<Title>,
    /// Gender as on the passport, "m" or "f". Optional; airlines booked through Duffel require
    /// it. Stored encrypted like the other details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gender: Option<Gender>,
}

/// One thing to book, with the offer (and so the price) the person saw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PlanItem {
    pub id: ItemId,
    pub priority: Priority,
    /// Items that must be booked before this one, as the assistant declared them.
    pub depends_on: Vec<ItemId>,
    pub offer: Offer,
}

/// Why a plan cannot be confirmed or executed as it stands.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("the plan has no items: add at least one offer before confirming")]
    Empty,
    #[error("the plan could not be fingerprinted for approval: {0}")]
    Digest(String),
    #[error("the plan has no travellers: add at least one traveller with given and family name")]
    NoTravellers,
    #[error("traveller {index}: {problem}")]
    Traveller { index: usize, problem: String },
    #[error(
        "item {item} is priced in {found} but the plan is in {expected}: search again with currency {expected}"
    )]
    MixedCurrency {
        item: ItemId,
        expected: Currency,
        found: Currency,
    },
    #[error(
        "the plan total {total} exceeds the budget {budget} by {}: remove or replace items",
        total.saturating_sub(budget).unwrap_or(*total)
    )]
    OverBudget { total: Money, budget: Money },
    #[error("offer {offer} appears twice in the plan: each offer can be booked once")]
    DuplicateOffer { offer: String },
    #[error("item {item} starts on {date}, which is in the past: search again for future dates")]
    InPast { item: ItemId, date: NaiveDate },
    #[error("payment_split: {0}")]
    Split(String),
    #[error(transparent)]
    Dependencies(#[from] DagError),
    #[error(transparent)]
    Money(#[from] MoneyError),
}

/// How the person wants to pay, beyond the payment method: the router's hints.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PaymentPreference {
    /// The payment provider the person prefers, e.g. "paypal": tried first when it can take the
    /// payment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// The country the person pays from (ISO 3166 alpha-2, e.g. "CN"): the wallets people use
    /// there come first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

/// A part of the total paid with another method before the plan's own (a voucher or travel
/// credit, a second card).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SplitPart {
    /// The method's token, as for payment_method (never "auto": the person chose the split).
    pub method: PaymentMethodToken,
    /// How much of the total this method pays, in the plan's currency, e.g.
    /// {"amount": "200.00", "currency": "EUR"}.
    pub amount: Money,
}

/// Most methods besides the plan's own that one plan can be split over: every part is a hold
/// the person may have to approve, and one that fails releases the others.
pub const MAX_SPLIT_PARTS: usize = 3;

impl PaymentPreference {
    pub fn is_empty(&self) -> bool {
        self.provider.is_none() && self.region.is_none()
    }
}

/// A travel plan the assistant assembled for a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TravelPlan {
    pub id: PlanId,
    pub owner: OwnerId,
    pub title: String,
    pub currency: Currency,
    pub travellers: Vec<Traveller>,
    pub items: Vec<PlanItem>,
    pub budget: Option<Money>,
    /// A token, or `auto` to let the router choose a method the person can pay with.
    pub payment_method: PaymentMethodToken,
    #[serde(default)]
    pub payment_preference: PaymentPreference,
    /// Parts of the total paid with other methods, taken before `payment_method`, which pays
    /// what they leave. Empty when one method pays everything.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub payment_split: Vec<SplitPart>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The method a plan names to let the router choose one the person can pay with.
pub const AUTO_METHOD: &str = "auto";

/// Longest name we accept: longer than any passport field.
const MAX_NAME_CHARS: usize = 100;

impl TravelPlan {
    /// Sum of the item prices, in the plan currency.
    pub fn total(&self) -> Result<Money, PlanError> {
        self.ensure_one_currency()?;
        Ok(Money::sum(
            self.currency,
            self.items.iter().map(|item| &item.offer.price),
        )?)
    }

    /// Distinct cities the trip visits, in the order the items reach them.
    pub fn destinations(&self) -> Vec<City> {
        let mut seen = BTreeSet::new();
        self.items
            .iter()
            .map(|item| item.offer.city)
            .filter(|city| seen.insert(*city))
            .collect()
    }

    /// First and last day the plan covers.
    pub fn dates(&self) -> Option<(NaiveDate, NaiveDate)> {
        let start = self.items.iter().map(|item| item.offer.starts_on).min()?;
        let end = self.items.iter().map(|item| item.offer.ends_on).max()?;
        Some((start, end))
    }

    /// Booking phases: items of a phase may be booked together; each phase waits for the previous.
    pub fn phases(&self) -> Result<Vec<Vec<ItemId>>, PlanError> {
        Ok(dag::phases(&self.items)?)
    }

    pub fn item(&self, id: &ItemId) -> Option<&PlanItem> {
        self.items.iter().find(|item| &item.id == id)
    }

    /// Everything that must hold before a person can approve paying for this plan.
    pub fn validate(&self, today: NaiveDate) -> Result<(), PlanError> {
        if self.items.is_empty() {
            return Err(PlanError::Empty);
        }
        validate_travellers(&self.travellers, today)?;
        let mut offers = BTreeSet::new();
        for item in &self.items {
            if !offers.insert(item.offer.id.as_str()) {
                return Err(PlanError::DuplicateOffer {
                    offer: item.offer.id.to_string(),
                });
            }
            if item.offer.starts_on < today {
                return Err(PlanError::InPast {
                    item: item.id.clone(),
                    date: item.offer.starts_on,
                });
            }
        }
        let total = self.total()?;
        if let Some(budget) = &self.budget {
            if budget.currency() != self.currency {
                return Err(PlanError::Money(MoneyError::CurrencyMismatch {
                    left: budget.currency().code(),
                    right: self.currency.code(),
                }));
            }
            if total > *budget {
                return Err(PlanError::OverBudget {
                    total,
                    budget: *budget,
                });
            }
        }
        self.phases()?;
        self.check_split(total)
    }

    /// A split must leave the plan's own method something to pay, and name each method once.
    fn check_split(&self, total: Money) -> Result<(), PlanError> {
        let split = &self.payment_split;
        if split.len() > MAX_SPLIT_PARTS {
            return Err(PlanError::Split(format!(
                "at most {MAX_SPLIT_PARTS} parts besides payment_method, {} given",
                split.len()
            )));
        }
        let mut methods = BTreeSet::from([self.payment_method.as_str()]);
        for (index, part) in split.iter().enumerate() {
            let method = part.method.as_str();
            if method == AUTO_METHOD {
                return Err(PlanError::Split(format!(
                    "part {index} says \"auto\": name the method the person chose for it"
                )));
            }
            if !methods.insert(method) {
                return Err(PlanError::Split(format!(
                    "part {index} pays with {}, which already pays another part: name each method once",
                    part.method.masked()
                )));
            }
            if part.amount.currency() != self.currency {
                return Err(PlanError::Split(format!(
                    "part {index} is in {} but the plan is in {}",
                    part.amount.currency(),
                    self.currency
                )));
            }
            if part.amount.is_zero() {
                return Err(PlanError::Split(format!(
                    "part {index} pays nothing: give it an amount or leave it out"
                )));
            }
        }
        let parts = Money::sum(self.currency, split.iter().map(|part| &part.amount))?;
        if !split.is_empty() && parts >= total {
            return Err(PlanError::Split(format!(
                "the parts add up to {parts} of the {total} total, leaving nothing for payment_method: lower a part, or make one of them the payment_method"
            )));
        }
        Ok(())
    }

    fn ensure_one_currency(&self) -> Result<(), PlanError> {
        match self
            .items
            .iter()
            .find(|item| item.offer.price.currency() != self.currency)
        {
            Some(item) => Err(PlanError::MixedCurrency {
                item: item.id.clone(),
                expected: self.currency,
                found: item.offer.price.currency(),
            }),
            None => Ok(()),
        }
    }
}

/// Checks names are present and plausible, and the personal details given are well formed.
fn validate_travellers(travellers: &[Traveller], today: NaiveDate) -> Result<(), PlanError> {
    if travellers.is_empty() {
        return Err(PlanError::NoTravellers);
    }
    for (index, traveller) in travellers.iter().enumerate() {
        check_traveller(traveller, today)
            .map_err(|problem| PlanError::Traveller { index, problem })?;
    }
    Ok(())
}

/// The first problem with one traveller, in words that say how to fix it.
fn check_traveller(traveller: &Traveller, today: NaiveDate) -> Result<(), String> {
    for (field, value) in [
        ("given_name", &traveller.given_name),
        ("family_name", &traveller.family_name),
    ] {
        let trimmed = value.trim();
        if trimmed.is_empty() {
            return Err(format!("{field} is empty"));
        }
        if trimmed.chars().count() > MAX_NAME_CHARS {
            return Err(format!(
                "{field} is longer than {MAX_NAME_CHARS} characters"
            ));
        }
        if trimmed
            .chars()
            .any(|c| c.is_ascii_digit() || c.is_control())
        {
            return Err(format!("{field} contains digits or control characters"));
        }
    }
    if let Some(number) = &traveller.passport_number {
        personal::check_passport(number)?;
    }
    if let Some(born) = traveller.date_of_birth {
        personal::check_date_of_birth(born, today)?;
    }
    if let Some(phone) = &traveller.phone {
        personal::check_phone(phone)?;
    }
    if let Some(email) = &traveller.email {
        personal::check_email(email)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::domain::fixtures::paris_plan;

    #[test]
    fn a_bad_personal_detail_names_the_traveller_and_the_fix() {
        let mut plan = paris_plan();
        let today = plan.created_at.date_naive();
        plan.travellers[0].passport_number = Some("X12345678".into());
        plan.travellers[0].date_of_birth = Some(today - chrono::Duration::days(365 * 30));
        plan.travellers[0].phone = Some("+33 6 12 34 56 78".into());
        plan.travellers[0].email = Some("ada@example.com".into());
        plan.validate(today).unwrap();

        let mut second = plan.travellers[0].clone();
        second.email = Some("ada at example.com".into());
        plan.travellers.push(second);
        let error = plan.validate(today).unwrap_err().to_string();
        assert!(
            error.starts_with("traveller 1: email must be an address like name@example.com"),
            "{error}"
        );
        assert!(
            !error.contains("ada at"),
            "the value is not repeated: {error}"
        );
    }
}
