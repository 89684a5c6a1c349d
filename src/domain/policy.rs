//! Spending policy: limits the person sets in configuration, never through a tool, checked on
//! every confirmation and every execution. A refusal names the rule and by how much it is over.

use std::collections::{BTreeMap, BTreeSet};

use chrono::Duration;

use super::money::{Currency, Money};
use super::offer::ItemKind;
use super::plan::TravelPlan;

/// The person's standing limits. Everything is optional; an empty policy allows everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpendingPolicy {
    pub max_per_order: Option<Money>,
    pub max_per_day: Option<Money>,
    pub max_per_30_days: Option<Money>,
    /// The most one item of a kind may cost.
    pub max_per_item: BTreeMap<ItemKind, Money>,
    /// Only these providers may be booked, when set.
    pub providers: Option<BTreeSet<String>>,
    /// Only these currencies may be paid in, when set.
    pub currencies: Option<BTreeSet<Currency>>,
    /// Every item must be cancellable for a refund.
    pub refundable_only: bool,
}

/// Which rule refused the plan, with the figures.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyRefusal {
    #[error(
        "the spending policy allows at most {cap} per order ({rule}); this plan costs {total}, {over} over"
    )]
    OrderCap {
        rule: &'static str,
        total: Money,
        cap: Money,
        over: Money,
    },
    #[error(
        "the spending policy allows {cap} {window} ({rule}); {spent} is already committed and this plan adds {total}, {over} over"
    )]
    WindowCap {
        rule: &'static str,
        window: &'static str,
        spent: Money,
        total: Money,
        cap: Money,
        over: Money,
    },
    #[error(
        "the spending policy allows at most {cap} for one {kind} (ITINERA_POLICY_MAX_ITEM); '{item}' costs {price}, {over} over"
    )]
    ItemCap {
        item: String,
        kind: &'static str,
        price: Money,
        cap: Money,
        over: Money,
    },
    #[error(
        "the spending policy does not allow provider '{provider}' (ITINERA_POLICY_PROVIDERS) for '{item}'"
    )]
    Provider { item: String, provider: String },
    #[error("the spending policy does not allow paying in {currency} (ITINERA_POLICY_CURRENCIES)")]
    Currency { currency: Currency },
    #[error(
        "the spending policy allows refundable items only (ITINERA_POLICY_REFUNDABLE_ONLY); '{item}' is non-refundable"
    )]
    NotRefundable { item: String },
    #[error(
        "the spending policy's limit {cap} ({rule}) is in {}, but this plan is in {currency}, so it cannot be checked: search again in {}",
        cap.currency(),
        cap.currency()
    )]
    CapCurrency {
        rule: &'static str,
        cap: Money,
        currency: Currency,
    },
}

/// What the person has already committed in each window, in the plan's currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Committed {
    pub last_day: Money,
    pub last_30_days: Money,
}

impl SpendingPolicy {
    pub fn is_empty(&self) -> bool {
        self == &SpendingPolicy::default()
    }

    /// How far back what the person already committed counts: the longest window capped, or
    /// None when no cap counts it.
    pub fn looks_back(&self) -> Option<Duration> {
        if self.max_per_30_days.is_some() {
            Some(Duration::days(30))
        } else {
            self.max_per_day.map(|_| Duration::days(1))
        }
    }

    /// Checks the plan as it stands against every rule; the first rule broken is reported.
    pub fn check(
        &self,
        plan: &TravelPlan,
        committed: &Committed,
    ) -> Result<(), Box<PolicyRefusal>> {
        match self.first_refusal(plan, committed) {
            Some(refusal) => Err(Box::new(refusal)),
            None => Ok(()),
        }
    }

    fn first_refusal(&self, plan: &TravelPlan, committed: &Committed) -> Option<PolicyRefusal> {
        let total = plan.total().unwrap_or_else(|_| Money::zero(plan.currency));
        if let Some(currencies) = &self.currencies
            && !currencies.contains(&plan.currency)
        {
            return Some(PolicyRefusal::Currency {
                currency: plan.currency,
            });
        }
        for item in &plan.items {
            let title = item.offer.title.clone();
            if let Some(providers) = &self.providers
                && !providers.contains(&item.offer.provider)
            {
                return Some(PolicyRefusal::Provider {
                    item: title,
                    provider: item.offer.provider.clone(),
                });
            }
            if self.refundable_only && !item.offer.cancellation.is_refundable() {
                return Some(PolicyRefusal::NotRefundable { item: title });
            }
            if let Some(cap) = self.max_per_item.get(&item.offer.kind) {
                let price = item.offer.price;
                if let Some(refusal) = same_currency("ITINERA_POLICY_MAX_ITEM", cap, plan.currency)
                {
                    return Some(refusal);
                }
                if price > *cap {
                    let over = price.saturating_sub(cap).unwrap_or(price);
                    return Some(PolicyRefusal::ItemCap {
                        item: title,
                        kind: item.offer.kind.as_str(),
                        price,
                        cap: *cap,
                        over,
                    });
                }
            }
        }
        if let Some(cap) = &self.max_per_order {
            if let Some(refusal) = same_currency("ITINERA_POLICY_MAX_PER_ORDER", cap, plan.currency)
            {
                return Some(refusal);
            }
            if total > *cap {
                let over = total.saturating_sub(cap).unwrap_or(total);
                return Some(PolicyRefusal::OrderCap {
                    rule: "ITINERA_POLICY_MAX_PER_ORDER",
                    total,
                    cap: *cap,
                    over,
                });
            }
        }
        let windows = [
            (
                "ITINERA_POLICY_MAX_PER_DAY",
                "per day",
                &self.max_per_day,
                committed.last_day,
            ),
            (
                "ITINERA_POLICY_MAX_PER_30_DAYS",
                "per 30 days",
                &self.max_per_30_days,
                committed.last_30_days,
            ),
        ];
        for (rule, window, cap, spent) in windows {
            let Some(cap) = cap else { continue };
            if let Some(refusal) = same_currency(rule, cap, plan.currency) {
                return Some(refusal);
            }
            let after = spent.checked_add(&total).unwrap_or(total);
            if after > *cap {
                let over = after.saturating_sub(cap).unwrap_or(after);
                return Some(PolicyRefusal::WindowCap {
                    rule,
                    window,
                    spent,
                    total,
                    cap: *cap,
                    over,
                });
            }
        }
        None
    }
}

fn same_currency(rule: &'static str, cap: &Money, currency: Currency) -> Option<PolicyRefusal> {
    (cap.currency() != currency).then_some(PolicyRefusal::CapCurrency {
        rule,
        cap: *cap,
        currency,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fixtures::paris_plan as plan;
    use crate::domain::offer::CancellationPolicy;

    fn eur(amount: &str) -> Money {
        Money::parse(amount, "EUR").unwrap()
    }

    /// A flight (EUR 300) and a hotel (EUR 450): EUR 750.
    fn nothing_committed() -> Committed {
        Committed {
            last_day: eur("0"),
            last_30_days: eur("0"),
        }
    }

    #[test]
    fn committed_money_is_counted_over_the_longest_window_capped() {
        assert_eq!(SpendingPolicy::default().looks_back(), None);
        let daily = SpendingPolicy {
            max_per_day: Some(eur("500")),
            ..SpendingPolicy::default()
        };
        assert_eq!(daily.looks_back(), Some(Duration::days(1)));
        let both = SpendingPolicy {
            max_per_30_days: Some(eur("3000")),
            ..daily
        };
        assert_eq!(both.looks_back(), Some(Duration::days(30)));
        let per_order = SpendingPolicy {
            max_per_order: Some(eur("500")),
            ..SpendingPolicy::default()
        };
        assert_eq!(per_order.looks_back(), None, "one order alone is judged");
    }

    #[test]
    fn an_empty_policy_allows_everything() {
        assert!(SpendingPolicy::default().is_empty());
        assert_eq!(
            SpendingPolicy::default().check(&plan(), &nothing_committed()),
            Ok(())
        );
    }

    #[test]
    fn the_per_order_cap_names_the_amount_over() {
        let policy = SpendingPolicy {
            max_per_order: Some(eur("700")),
            ..Default::default()
        };
        let refusal = policy.check(&plan(), &nothing_committed()).unwrap_err();
        assert!(
            matches!(*refusal, PolicyRefusal::OrderCap { over, .. } if over == eur("50")),
            "{refusal}"
        );
        assert!(refusal.to_string().contains("EUR 50.00 over"), "{refusal}");
    }

    #[test]
    fn window_caps_count_what_is_already_committed() {
        let policy = SpendingPolicy {
            max_per_day: Some(eur("1000")),
            max_per_30_days: Some(eur("5000")),
            ..Default::default()
        };
        assert_eq!(policy.check(&plan(), &nothing_committed()), Ok(()));
        let busy_day = Committed {
            last_day: eur("300"),
            last_30_days: eur("300"),
        };
        let refusal = policy.check(&plan(), &busy_day).unwrap_err();
        assert!(
            matches!(*refusal, PolicyRefusal::WindowCap { window: "per day", over, .. } if over == eur("50")),
            "{refusal}"
        );
        let busy_month = Committed {
            last_day: eur("0"),
            last_30_days: eur("4500"),
        };
        let refusal = policy.check(&plan(), &busy_month).unwrap_err();
        assert!(
            matches!(
                *refusal,
                PolicyRefusal::WindowCap {
                    window: "per 30 days",
                    ..
                }
            ),
            "{refusal}"
        );
    }

    #[test]
    fn item_caps_providers_currencies_and_refundability() {
        let hotel_cap = SpendingPolicy {
            max_per_item: [(ItemKind::Hotel, eur("400"))].into(),
            ..Default::default()
        };
        assert!(matches!(
            hotel_cap
                .check(&plan(), &nothing_committed())
                .map_err(|e| *e),
            Err(PolicyRefusal::ItemCap { kind: "hotel", .. })
        ));

        let providers = SpendingPolicy {
            providers: Some(["duffel".to_string()].into()),
            ..Default::default()
        };
        assert!(matches!(
            providers
                .check(&plan(), &nothing_committed())
                .map_err(|e| *e),
            Err(PolicyRefusal::Provider { .. })
        ));

        let currencies = SpendingPolicy {
            currencies: Some([Currency::parse("USD").unwrap()].into()),
            ..Default::default()
        };
        assert!(matches!(
            currencies
                .check(&plan(), &nothing_committed())
                .map_err(|e| *e),
            Err(PolicyRefusal::Currency { .. })
        ));

        let refundable = SpendingPolicy {
            refundable_only: true,
            ..Default::default()
        };
        assert_eq!(refundable.check(&plan(), &nothing_committed()), Ok(()));
        let mut strict = plan();
        strict.items[1].offer.cancellation = CancellationPolicy::NonRefundable;
        assert!(matches!(
            refundable
                .check(&strict, &nothing_committed())
                .map_err(|e| *e),
            Err(PolicyRefusal::NotRefundable { .. })
        ));
    }

    #[test]
    fn a_cap_in_another_currency_refuses_rather_than_guessing() {
        let policy = SpendingPolicy {
            max_per_order: Some(Money::parse("700", "USD").unwrap()),
            ..Default::default()
        };
        assert!(matches!(
            policy.check(&plan(), &nothing_committed()).map_err(|e| *e),
            Err(PolicyRefusal::CapCurrency { .. })
        ));
    }
}
