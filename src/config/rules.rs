//! The person's rules from the environment: the spending policy and the risk checks.

use chrono::Duration;

use super::{ConfigError, Settings};
use crate::domain::money::{Currency, Money};
use crate::domain::offer::ItemKind;
use crate::domain::policy::SpendingPolicy;
use crate::domain::risk::RiskRules;

impl Settings {
    /// The risk rules from the `ITINERA_RISK_*` settings.
    pub(super) fn risk(&self) -> Result<RiskRules, ConfigError> {
        if !(1..=10080).contains(&self.risk_velocity_window_minutes) {
            return Err(ConfigError::RiskWindow(self.risk_velocity_window_minutes));
        }
        let defaults = RiskRules::default();
        let new_method_amounts = match self.risk_new_method_amounts.as_deref().map(str::trim) {
            None => defaults.new_method_amounts,
            Some("off" | "") => std::collections::BTreeMap::new(),
            Some(spec) => spec
                .split(',')
                .map(str::trim)
                .filter(|entry| !entry.is_empty())
                .map(|entry| {
                    parse_amount(entry)
                        .map(|money| (money.currency(), money))
                        .map_err(|problem| ConfigError::Policy {
                            variable: "ITINERA_RISK_NEW_METHOD_AMOUNTS",
                            value: spec.to_string(),
                            problem: format!("'{entry}': {problem}"),
                        })
                })
                .collect::<Result<_, _>>()?,
        };
        Ok(RiskRules {
            velocity_max_orders: Some(self.risk_velocity_max_orders).filter(|n| *n > 0),
            velocity_window: Duration::minutes(i64::from(self.risk_velocity_window_minutes)),
            unusual_multiple: Some(self.risk_unusual_multiple).filter(|n| *n > 0),
            new_method_amounts,
            ..defaults
        })
    }

    /// The spending policy from the `ITINERA_POLICY_*` settings.
    pub(super) fn policy(&self) -> Result<SpendingPolicy, ConfigError> {
        let refuse = |variable: &'static str, value: &str, problem: String| ConfigError::Policy {
            variable,
            value: value.to_string(),
            problem,
        };
        let cap = |variable: &'static str,
                   value: &Option<String>|
         -> Result<Option<Money>, ConfigError> {
            match value {
                None => Ok(None),
                Some(value) => parse_amount(value)
                    .map(Some)
                    .map_err(|problem| refuse(variable, value, problem)),
            }
        };
        let list = |value: &Option<String>| -> Option<Vec<String>> {
            value.as_ref().map(|v| {
                v.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
        };
        let mut max_per_item = std::collections::BTreeMap::new();
        if let Some(spec) = &self.policy_max_item {
            for entry in spec.split(',').map(str::trim).filter(|e| !e.is_empty()) {
                let problem = || format!("'{entry}' should look like hotel=300 EUR");
                let (kind, amount) = entry
                    .split_once('=')
                    .ok_or_else(|| refuse("ITINERA_POLICY_MAX_ITEM", spec, problem()))?;
                let kind = ItemKind::parse(kind.trim()).ok_or_else(|| {
                    refuse(
                        "ITINERA_POLICY_MAX_ITEM",
                        spec,
                        format!(
                            "unknown kind '{}': use flight, hotel, activity or car_rental",
                            kind.trim()
                        ),
                    )
                })?;
                let amount =
                    parse_amount(amount).map_err(|p| refuse("ITINERA_POLICY_MAX_ITEM", spec, p))?;
                max_per_item.insert(kind, amount);
            }
        }
        let currencies = match list(&self.policy_currencies) {
            None => None,
            Some(codes) => Some(
                codes
                    .iter()
                    .map(|code| Currency::parse(code))
                    .collect::<Result<_, _>>()
                    .map_err(|e| {
                        refuse(
                            "ITINERA_POLICY_CURRENCIES",
                            self.policy_currencies.as_deref().unwrap_or(""),
                            e.to_string(),
                        )
                    })?,
            ),
        };
        Ok(SpendingPolicy {
            max_per_order: cap("ITINERA_POLICY_MAX_PER_ORDER", &self.policy_max_per_order)?,
            max_per_day: cap("ITINERA_POLICY_MAX_PER_DAY", &self.policy_max_per_day)?,
            max_per_30_days: cap(
                "ITINERA_POLICY_MAX_PER_30_DAYS",
                &self.policy_max_per_30_days,
            )?,
            max_per_item,
            providers: list(&self.policy_providers).map(|names| names.into_iter().collect()),
            currencies,
            refundable_only: self.policy_refundable_only,
        })
    }
}

/// "0" → never; "150 EUR" or "EUR 150" → that amount.
pub(super) fn parse_limit(value: &str) -> Result<Option<Money>, ConfigError> {
    let trimmed = value.trim();
    if trimmed.is_empty() || trimmed == "0" {
        return Ok(None);
    }
    parse_amount(trimmed)
        .map(Some)
        .map_err(|problem| ConfigError::AutoApproveLimit {
            value: value.to_string(),
            problem,
        })
}

/// "150 EUR" or "EUR 150".
fn parse_amount(value: &str) -> Result<Money, String> {
    let parts: Vec<&str> = value.split_whitespace().collect();
    let [first, second] = parts.as_slice() else {
        return Err("expected an amount and a currency".into());
    };
    let (amount, currency) = if first.chars().all(|c| c.is_ascii_alphabetic()) {
        (second, first)
    } else {
        (first, second)
    };
    Money::parse(amount, currency).map_err(|e| e.to_string())
}
