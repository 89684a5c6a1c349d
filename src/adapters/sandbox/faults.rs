//! Fault injection for the sandbox, so tests and demos can exercise rollback.
//!
//! The spec is a comma-separated list of `target.operation=effect`:
//! `hotel.book=fail,flight.book=timeout,*.latency=200ms,hotel.quote=price+15%`.
//! Targets: `flight`, `hotel`, `activity`, `car_rental` (or `car`), `payment`, `*`.
//! Operations: `search`, `quote`, `book`, `cancel`, `authorize`, `capture`, `void`, `refund`,
//! `status`, `*`, and `latency` (a delay for every operation of the target).
//! Effects: `fail` (the provider refuses), `timeout` (no answer: outcome unknown, nothing done),
//! `lost` (the provider acts, then the answer is lost: a reset after send), `unavailable` (the
//! provider is down, like a 503), `rate_limited` (a 429 asking to retry after 100 ms),
//! `price+N%` (quotes rise by N percent), or a delay such as `200ms` / `2s` with `latency`.
//! An effect may carry a chance, `hotel.book=lost@20%`: the rolls come from a generator seeded by
//! `ITINERA_SANDBOX_FAULT_SEED`, so a schedule of faults repeats from run to run.

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
    Lost,
    Unavailable,
    RateLimited,
    /// Quotes come back this many percent above the offer.
    PriceRise(Decimal),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Rule {
    Effect {
        target: String,
        operation: String,
        effect: Effect,
        /// Percent chance that a matching call suffers it.
        chance: u32,
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

    /// The effect this call suffers, if any: the first matching rule whose chance comes up.
    /// `roll` gives a number in 0..100 for each chance that needs rolling.
    pub fn effect(
        &self,
        target: &str,
        operation: &str,
        mut roll: impl FnMut() -> u32,
    ) -> Option<Effect> {
        self.rules.iter().find_map(|rule| match rule {
            Rule::Effect {
                target: t,
                operation: o,
                effect,
                chance,
            } if matches(t, target)
                && matches(o, operation)
                && (*chance >= 100 || roll() < *chance) =>
            {
                Some(*effect)
            }
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
    let (effect, chance) = match effect.split_once('@') {
        Some((effect, chance)) => {
            let percent = chance
                .trim()
                .strip_suffix('%')
                .and_then(|n| n.trim().parse::<u32>().ok())
                .filter(|n| (1..=100).contains(n))
                .ok_or_else(|| problem("a chance must look like @20% (1% to 100%)"))?;
            (effect.trim(), percent)
        }
        None => (effect, 100),
    };
    let effect = match effect {
        "fail" => Effect::Fail,
        "timeout" => Effect::Timeout,
        "lost" => Effect::Lost,
        "unavailable" => Effect::Unavailable,
        "rate_limited" => Effect::RateLimited,
        other => other
            .strip_prefix("price+")
            .and_then(|rest| rest.strip_suffix('%'))
            .and_then(|percent| percent.parse::<Decimal>().ok())
            .filter(|percent| percent.is_sign_positive())
            .map(Effect::PriceRise)
            .ok_or_else(|| {
                problem("effect must be fail, timeout, lost, unavailable, rate_limited or price+N%")
            })?,
    };
    Ok(Rule::Effect {
        target: target.to_string(),
        operation: operation.to_string(),
        effect,
        chance,
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
        assert_eq!(faults.effect("hotel", "book", || 0), Some(Effect::Fail));
        assert_eq!(faults.effect("flight", "book", || 0), Some(Effect::Timeout));
        assert_eq!(faults.effect("flight", "quote", || 0), None);
        assert_eq!(
            faults.effect("hotel", "quote", || 0),
            Some(Effect::PriceRise(Decimal::new(15, 0)))
        );
        assert_eq!(faults.latency("payment"), Duration::from_millis(200));
    }

    #[test]
    fn aliases_and_wildcards() {
        let faults = Faults::parse("car.*=unavailable, payment.capture=fail").unwrap();
        assert_eq!(
            faults.effect("car_rental", "book", || 0),
            Some(Effect::Unavailable)
        );
        assert_eq!(
            faults.effect("payment", "capture", || 0),
            Some(Effect::Fail)
        );
        assert_eq!(faults.effect("payment", "void", || 0), None);
        assert_eq!(Faults::parse("").unwrap(), Faults::none());
    }

    #[test]
    fn chances_are_rolled_and_certainties_are_not() {
        let faults = Faults::parse("hotel.book=lost@30%,payment.capture=rate_limited").unwrap();
        assert_eq!(faults.effect("hotel", "book", || 29), Some(Effect::Lost));
        assert_eq!(faults.effect("hotel", "book", || 30), None);
        assert_eq!(
            faults.effect("payment", "capture", || unreachable!()),
            Some(Effect::RateLimited)
        );
        assert!(Faults::parse("hotel.book=lost@0%").is_err());
        assert!(Faults::parse("hotel.book=lost@150%").is_err());
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
