//! Risk checks before payment: signs that a payment may not be what the person wants, even
//! though it fits their spending policy. A flag never refuses outright; it takes the decision
//! back to the person, who sees the reason and approves again (or not).

use std::collections::BTreeMap;

use chrono::Duration;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::money::{Currency, Money};

/// Which kind of risk was seen; what an approval records as acknowledged by the person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RiskKind {
    /// Many orders in a short time.
    Velocity,
    /// A total far above what the person usually pays.
    UnusualAmount,
    /// A high amount on a payment method never used for a paid order.
    NewPaymentMethod,
}

impl RiskKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RiskKind::Velocity => "velocity",
            RiskKind::UnusualAmount => "unusual_amount",
            RiskKind::NewPaymentMethod => "new_payment_method",
        }
    }

    pub fn parse(value: &str) -> Option<RiskKind> {
        [
            RiskKind::Velocity,
            RiskKind::UnusualAmount,
            RiskKind::NewPaymentMethod,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == value)
    }
}

/// One risk seen, with the reason shown to the person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct RiskFlag {
    pub kind: RiskKind,
    pub reason: String,
}

/// The rules, from the person's configuration. `None` turns a rule off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskRules {
    /// This many orders already started within `velocity_window` flags the next one.
    pub velocity_max_orders: Option<u32>,
    pub velocity_window: Duration,
    /// A total above this multiple of the largest order the person paid for is flagged...
    pub unusual_multiple: Option<u32>,
    /// ...once they have paid for at least this many orders (before, nothing is "usual").
    pub unusual_min_history: usize,
    /// A payment method never used for a paid order is flagged at or above these amounts (in a
    /// currency without one, at any amount). Empty turns the rule off.
    pub new_method_amounts: BTreeMap<Currency, Money>,
}

impl RiskRules {
    /// Rules that never flag: for load tests and tests about something else.
    pub fn off() -> RiskRules {
        RiskRules {
            velocity_max_orders: None,
            unusual_multiple: None,
            new_method_amounts: BTreeMap::new(),
            ..RiskRules::default()
        }
    }
}

impl Default for RiskRules {
    fn default() -> Self {
        let amounts = [
            ("500", "EUR"),
            ("500", "USD"),
            ("400", "GBP"),
            ("500", "CHF"),
            ("3500", "CNY"),
            ("75000", "JPY"),
        ];
        Self {
            velocity_max_orders: Some(10),
            velocity_window: Duration::hours(1),
            unusual_multiple: Some(5),
            unusual_min_history: 3,
            new_method_amounts: amounts
                .into_iter()
                .filter_map(|(amount, currency)| Money::parse(amount, currency).ok())
                .map(|money| (money.currency(), money))
                .collect(),
        }
    }
}

/// What the person has done before, as far as the rules need to know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct History {
    /// Orders started within the velocity window.
    pub recent_orders: u32,
    /// Orders that were charged, in the plan's currency.
    pub paid_orders: usize,
    /// The largest of those charges.
    pub largest_paid: Option<Money>,
    /// Whether the plan's payment method paid for an earlier order.
    pub method_used_before: bool,
}

impl RiskRules {
    /// How far back the person's orders count for these rules: the velocity window alone, or
    /// the whole year of history the other rules judge against; None when every rule is off.
    pub fn looks_back(&self, year: Duration) -> Option<Duration> {
        if self.unusual_multiple.is_some() || !self.new_method_amounts.is_empty() {
            Some(year)
        } else {
            self.velocity_max_orders.map(|_| self.velocity_window)
        }
    }

    /// Whether a never-used payment method would be flagged at this total: only then does the
    /// person's history of payment methods need looking up.
    pub fn new_method_matters(&self, total: &Money) -> bool {
        !self.new_method_amounts.is_empty()
            && self
                .new_method_amounts
                .get(&total.currency())
                .is_none_or(|threshold| total.amount() >= threshold.amount())
    }

    /// Every risk the payment of `total` shows, given the person's history.
    pub fn assess(&self, total: &Money, history: &History) -> Vec<RiskFlag> {
        let mut flags = Vec::new();
        if let Some(max) = self.velocity_max_orders
            && history.recent_orders >= max
        {
            flags.push(RiskFlag {
                kind: RiskKind::Velocity,
                reason: format!(
                    "{} orders were started in the last {} minutes (the usual limit is {max})",
                    history.recent_orders,
                    self.velocity_window.num_minutes()
                ),
            });
        }
        if let (Some(multiple), Some(largest)) = (self.unusual_multiple, history.largest_paid)
            && history.paid_orders >= self.unusual_min_history
            && largest.currency() == total.currency()
            && total.amount() > largest.amount() * rust_decimal::Decimal::from(multiple)
        {
            flags.push(RiskFlag {
                kind: RiskKind::UnusualAmount,
                reason: format!(
                    "{total} is more than {multiple} times the largest order paid so far ({largest})"
                ),
            });
        }
        if !history.method_used_before && self.new_method_matters(total) {
            // A currency without a threshold cannot be judged small: it is flagged.
            let reason = match self.new_method_amounts.get(&total.currency()) {
                Some(threshold) => format!(
                    "this payment method has not paid for an order before, and {total} is at or above {threshold}"
                ),
                None => format!(
                    "this payment method has not paid for an order before, and no amount in {} is set as small enough to skip asking",
                    total.currency()
                ),
            };
            flags.push(RiskFlag {
                kind: RiskKind::NewPaymentMethod,
                reason,
            });
        }
        flags
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rules_look_back_only_as_far_as_the_furthest_rule_on() {
        let year = Duration::days(365);
        assert_eq!(RiskRules::default().looks_back(year), Some(year));
        assert_eq!(RiskRules::off().looks_back(year), None, "nothing to read");
        let velocity_only = RiskRules {
            velocity_max_orders: Some(3),
            ..RiskRules::off()
        };
        assert_eq!(velocity_only.looks_back(year), Some(Duration::hours(1)));
        let unusual_only = RiskRules {
            unusual_multiple: Some(5),
            ..RiskRules::off()
        };
        assert_eq!(unusual_only.looks_back(year), Some(year));
    }

    fn eur(amount: &str) -> Money {
        Money::parse(amount, "EUR").unwrap()
    }

    fn seasoned() -> History {
        History {
            recent_orders: 0,
            paid_orders: 5,
            largest_paid: Some(eur("300")),
            method_used_before: true,
        }
    }

    fn kinds(flags: &[RiskFlag]) -> Vec<RiskKind> {
        flags.iter().map(|flag| flag.kind).collect()
    }

    #[test]
    fn an_ordinary_payment_shows_no_risk() {
        assert!(
            RiskRules::default()
                .assess(&eur("900"), &seasoned())
                .is_empty()
        );
    }

    #[test]
    fn many_recent_orders_flag_velocity() {
        let history = History {
            recent_orders: 10,
            ..seasoned()
        };
        let flags = RiskRules::default().assess(&eur("100"), &history);
        assert_eq!(kinds(&flags), [RiskKind::Velocity]);
        assert!(flags[0].reason.contains("10 orders"), "{}", flags[0].reason);
    }

    #[test]
    fn an_amount_far_above_history_is_flagged_only_with_enough_history() {
        let rules = RiskRules::default();
        let flags = rules.assess(&eur("1500.01"), &seasoned());
        assert_eq!(kinds(&flags), [RiskKind::UnusualAmount]);
        assert!(flags[0].reason.contains("EUR 300"), "{}", flags[0].reason);
        assert!(rules.assess(&eur("1500"), &seasoned()).is_empty());
        let newcomer = History {
            paid_orders: 2,
            ..seasoned()
        };
        assert!(rules.assess(&eur("5000"), &newcomer).is_empty());
    }

    #[test]
    fn a_new_method_is_flagged_at_the_threshold_of_its_currency() {
        let rules = RiskRules::default();
        let fresh = History {
            method_used_before: false,
            ..seasoned()
        };
        assert_eq!(
            kinds(&rules.assess(&eur("500"), &fresh)),
            [RiskKind::NewPaymentMethod]
        );
        assert!(rules.assess(&eur("499.99"), &fresh).is_empty());
        let thb = Money::parse("1", "THB").unwrap();
        assert_eq!(
            kinds(&rules.assess(&thb, &fresh)),
            [RiskKind::NewPaymentMethod],
            "no threshold for THB: asked at any amount"
        );
        assert!(RiskRules::off().assess(&thb, &fresh).is_empty());
    }

    #[test]
    fn kinds_round_trip_through_their_codes() {
        for kind in [
            RiskKind::Velocity,
            RiskKind::UnusualAmount,
            RiskKind::NewPaymentMethod,
        ] {
            assert_eq!(RiskKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(RiskKind::parse("other"), None);
    }
}
