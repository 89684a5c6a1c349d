//! Fault injection for the sandbox, so tests and demos can exercise rollback.
//!
//! The spec is a comma-separated list of `target.operation=effect`:
//! `hotel.book=fail,flight.book=timeout,*.latency=200ms,hotel.quote=price+15%`.
//! Targets: `flight`, `hotel`, `activity`, `car_rental` (or `car`), `payment`, `*`.
//! Operations: `search`, `quote`, `book`, `cancel`, `authorize`, `capture`, `void`, `refund`,
//! `status`, `*`, and `latency` (a delay for every operation of the target).
//! Effects: `fail` (the provider refuses), `timeout` (no answer: outcome unknown, nothing done),
//! `unavailable` (the provider is down), `price+N%` (quotes rise by N percent), or a delay such as
//! `200ms` / `2s` with `latency`.

use std::time::Duration;

use rust_decimal::Decimal;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad ITINERA_SANDBOX_FAULTS entry '{entry}': {problem}")]
pub struct FaultSpecError {
    pub entry: String,
    pub problem: String,
}

/// What a faulty call does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Fail,
    Timeout,
    Unavailable,
    /// Quotes come back this many percent above the offer.
    PriceRise(Decimal),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Rule {
    Effect {
        target: String,
        operation: String,
        effect: Effect,
    },
    Latency {
        target: String,
        delay: Duration,
    },
}

const TARGETS: [&str; 6] = ["flight", "hotel", "activity", "car_rental", "payment", "*"];
const OPERATIONS: [&str; 10] = [
    "search",
    "quote",
    "book",
    "cancel",
    "authorize",
    "capture",
    "void",
    "refund",
    "status",
    "*",
];

/// The parsed fault spec.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Faults {
    rules: Vec<Rule>,
}

impl Faults {
    pub fn none() -> Faults {
        Faults::default()
    }

    pub fn parse(spec: &str) -> Result<Faults, FaultSpecError> {
        let rules = spec
            .split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(parse_rule)
            .collect::<Result<_, _>>()?;
        Ok(Faults { rules })
    }

    /// The effect configured for this target and operation, if any (the first matching rule).
    pub fn effect(&self, target: &str, operation: &str) -> Option<Effect> {
        self.rules.iter().find_map(|rule| match rule {
            Rule::Effect {
                target: t,
                operation: o,
                effect,
            } if matches(t, target) && matches(o, operation) => Some(*effect),
            _ => None,
        })
    }

    /// The added delay for this target (the largest matching one).
    pub fn latency(&self, target: &str) -> Duration {
        self.rules
            .iter()
            .filter_map(|rule| match rule {
                Rule::Latency { target: t, delay } if matches(t, target) => Some(*delay),
                _ => None,
            })
            .max()
            .unwrap_or_default()
    }
}

fn matches(pattern: &str, value: &str) -> bool {
    pattern == "*" || pattern == value
}

fn parse_rule(entry: &str) -> Result<Rule, FaultSpecError> {
    let problem = |problem: &str| FaultSpecError {
        entry: entry.to_string(),
        problem: problem.to_string(),
    };
    let (left, effect) = entry
        .split_once('=')
        .ok_or_else(|| problem("expected target.operation=effect"))?;
    let (target, operation) = left
        .split_once('.')
        .ok_or_else(|| problem("expected target.operation before '='"))?;
    let target = match target.trim() {
        "car" => "car_rental",
        other => other,
    };
    if !TARGETS.contains(&target) {
        return Err(problem(&format!(
            "unknown target; use one of {}",
            TARGETS.join(", ")
        )));
    }
    let effect = effect.trim();
    if operation.trim() == "latency" {
        let delay =
            parse_delay(effect).ok_or_else(|| problem("latency must look like 200ms or 2s"))?;
        return Ok(Rule::Latency {
            target: target.to_string(),
            delay,
        });
    }
    let operation = operation.trim();
    if !OPERATIONS.contains(&operation) {
        return Err(problem(&format!(
            "unknown operation; use latency or one of {}",
            OPERATIONS.join(", ")
        )));
    }
    let effect = match effect {
        "fail" => Effect::Fail,
        "timeout" => Effect::Timeout,
        "unavailable" => Effect::Unavailable,
        other => other
            .strip_prefix("price+")
            .and_then(|rest| rest.strip_suffix('%'))
            .and_then(|percent| percent.parse::<Decimal>().ok())
            .filter(|percent| percent.is_sign_positive())
            .map(Effect::PriceRise)
            .ok_or_else(|| problem("effect must be fail, timeout, unavailable or price+N%"))?,
    };
    Ok(Rule::Effect {
        target: target.to_string(),
        operation: operation.to_string(),
        effect,
    })
}

fn parse_delay(text: &str) -> Option<Duration> {
    if let Some(ms) = text.strip_suffix("ms") {
        ms.trim().parse().ok().map(Duration::from_millis)
    } else if let Some(s) = text.strip_suffix('s') {
        s.trim().parse().ok().map(Duration::from_secs)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_example_parses() {
        let faults = Faults::parse(
            "hotel.book=fail,flight.book=timeout,*.latency=200ms,hotel.quote=price+15%",
        )
        .unwrap();
        assert_eq!(faults.effect("hotel", "book"), Some(Effect::Fail));
        assert_eq!(faults.effect("flight", "book"), Some(Effect::Timeout));
        assert_eq!(faults.effect("flight", "quote"), None);
        assert_eq!(
            faults.effect("hotel", "quote"),
            Some(Effect::PriceRise(Decimal::new(15, 0)))
        );
        assert_eq!(faults.latency("payment"), Duration::from_millis(200));
    }

    #[test]
    fn aliases_and_wildcards() {
        let faults = Faults::parse("car.*=unavailable, payment.capture=fail").unwrap();
        assert_eq!(
            faults.effect("car_rental", "book"),
            Some(Effect::Unavailable)
        );
        assert_eq!(faults.effect("payment", "capture"), Some(Effect::Fail));
        assert_eq!(faults.effect("payment", "void"), None);
        assert_eq!(Faults::parse("").unwrap(), Faults::none());
    }

    #[test]
    fn mistakes_name_the_entry_and_the_fix() {
        for bad in [
            "hotel.book",
            "boat.book=fail",
            "hotel.fly=fail",
            "hotel.book=explode",
            "*.latency=soon",
        ] {
            let err = Faults::parse(bad).unwrap_err();
            assert_eq!(err.entry, bad);
        }
    }
}
