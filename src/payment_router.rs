//! Choosing who takes a plan's payment.
//!
//! Every configured payment provider is considered. One that cannot charge the plan's method or
//! currency is passed over, with the reason. The rest are ranked: working providers before ones
//! whose calls are paused after repeated failures, then the person's preferred provider, then
//! the providers people use in the person's region, then the operator's configured order. The
//! first is charged; the others are the fallbacks tried in order when a provider is down before
//! any money moved. The person sees the whole route, with reasons, when approving.

use std::sync::Arc;
use std::time::Duration;

use schemars::JsonSchema;
use serde::Serialize;

use crate::domain::ids::PaymentMethodToken;
use crate::domain::money::Money;
use crate::domain::plan::{PaymentPreference, TravelPlan};
use crate::ports::PaymentProvider;
use crate::ports::payment::Settlement;

pub use crate::domain::plan::AUTO_METHOD;

/// One provider the payment may go through, and why it stands where it does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct RouteChoice {
    pub provider: String,
    /// The payment method charged through it.
    #[serde(skip)]
    pub method: PaymentMethodToken,
    /// The method as shown to the person.
    pub method_shown: String,
    pub reasons: Vec<String>,
}

/// A provider that will not take this payment, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct PassedOver {
    pub provider: String,
    pub reason: String,
}

/// Where one part of a split payment goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct SplitChoice {
    pub provider: String,
    #[serde(skip)]
    pub method: PaymentMethodToken,
    pub method_shown: String,
    pub amount: Money,
    pub reasons: Vec<String>,
}

/// The providers a payment may go through, best first, and those passed over.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, JsonSchema)]
pub struct PaymentRoute {
    /// With a split payment, these pay what the parts leave.
    pub choices: Vec<RouteChoice>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub passed_over: Vec<PassedOver>,
    /// With a split payment: where each part is held, in the order they are held and
    /// captured (refunds go back in the reverse order).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub split: Vec<SplitChoice>,
    /// Parts of the split no provider can take, and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unplaced: Vec<String>,
}

impl PaymentRoute {
    /// The best choice not among `tried`.
    pub fn next_after(&self, tried: &[&str]) -> Option<&RouteChoice> {
        self.choices
            .iter()
            .find(|choice| !tried.contains(&choice.provider.as_str()))
    }

    /// Whether every part of the payment has a provider to go through.
    pub fn is_payable(&self) -> bool {
        !self.choices.is_empty() && self.unplaced.is_empty()
    }

    /// Why nothing can take the payment, one provider at a time.
    pub fn why_none(&self) -> String {
        if !self.unplaced.is_empty() {
            return self.unplaced.join("; ");
        }
        if self.passed_over.is_empty() {
            return "no payment provider is configured".into();
        }
        self.passed_over
            .iter()
            .map(|passed| format!("{}: {}", passed.provider, passed.reason))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Ranks `providers` (in the operator's order) for `plan`. `paused` says for how long a
/// provider's calls are paused after repeated failures, if they are.
pub fn route(
    providers: &[Arc<dyn PaymentProvider>],
    plan: &TravelPlan,
    paused: impl Fn(&str) -> Option<Duration>,
) -> PaymentRoute {
    let mut ranked = Vec::new();
    let mut passed_over = Vec::new();
    let splits = !plan.payment_split.is_empty();
    let rest = rest_of(plan);
    for (position, provider) in providers.iter().enumerate() {
        match consider(provider.as_ref(), plan, splits, rest) {
            Err(reason) => passed_over.push(PassedOver {
                provider: provider.name().to_string(),
                reason,
            }),
            Ok(method) => {
                let rank = Rank::of(
                    provider.as_ref(),
                    &plan.payment_preference,
                    position,
                    paused(provider.name()),
                );
                let mut reasons = rank.reasons();
                reasons.push(format!("takes {}", plan.currency.code()));
                ranked.push((
                    rank,
                    RouteChoice {
                        provider: provider.name().to_string(),
                        method_shown: shown(provider.as_ref(), &method),
                        method,
                        reasons,
                    },
                ));
            }
        }
    }
    ranked.sort_by_key(|(rank, _)| rank.key());
    let (split, unplaced) = place_split(providers, plan, &paused);
    PaymentRoute {
        choices: ranked.into_iter().map(|(_, choice)| choice).collect(),
        passed_over,
        split,
        unplaced,
    }
}

/// The best provider for each part of a split: one that holds before charging and takes the
/// part's method and the plan's currency, ranked as the whole payment is.
fn place_split(
    providers: &[Arc<dyn PaymentProvider>],
    plan: &TravelPlan,
    paused: &impl Fn(&str) -> Option<Duration>,
) -> (Vec<SplitChoice>, Vec<String>) {
    let mut placed = Vec::new();
    let mut unplaced = Vec::new();
    for (index, part) in plan.payment_split.iter().enumerate() {
        let mut refusals = Vec::new();
        let best = providers
            .iter()
            .enumerate()
            .filter(|(_, provider)| {
                match eligible(provider.as_ref(), plan, true, Some(part.amount))
                    .and_then(|()| provider.check_method(&part.method))
                {
                    Ok(()) => true,
                    Err(reason) => {
                        refusals.push(format!("{}: {reason}", provider.name()));
                        false
                    }
                }
            })
            .map(|(position, provider)| {
                let rank = Rank::of(
                    provider.as_ref(),
                    &plan.payment_preference,
                    position,
                    paused(provider.name()),
                );
                (rank, provider)
            })
            .min_by_key(|(rank, _)| rank.key());
        match best {
            Some((rank, provider)) => placed.push(SplitChoice {
                provider: provider.name().to_string(),
                method_shown: shown(provider.as_ref(), &part.method),
                method: part.method.clone(),
                amount: part.amount,
                reasons: rank.reasons(),
            }),
            None => unplaced.push(format!(
                "no payment provider can take part {index} ({} of {}): {}",
                part.method.masked(),
                part.amount,
                refusals.join("; ")
            )),
        }
    }
    (placed, unplaced)
}

/// Whether the provider can take part of this plan's payment whatever the method: the
/// currency, `amount` in one payment, every merchant taking it, and — when the payment is split
/// (`holds`) — a hold apart from the charge, since a part that fails releases the others and a
/// charge taken at once cannot be released.
fn eligible(
    provider: &dyn PaymentProvider,
    plan: &TravelPlan,
    holds: bool,
    amount: Option<Money>,
) -> Result<(), String> {
    if !provider.profile().takes(plan.currency) {
        return Err(format!("does not take {}", plan.currency.code()));
    }
    if holds && provider.settlement() == Settlement::ChargeAfterBooking {
        return Err(
            "takes the money at once, so it cannot share a payment with other methods".into(),
        );
    }
    if let Some(amount) = amount {
        provider.check_amount(amount)?;
    }
    merchants_take(provider, plan)
}

/// What the plan's own method pays: the total, less the parts of a split. `None` when the
/// plan's amounts cannot be added up (mixed currencies), which planning refuses anyway.
fn rest_of(plan: &TravelPlan) -> Option<Money> {
    let total = plan.total().ok()?;
    let parts = Money::sum(
        plan.currency,
        plan.payment_split.iter().map(|part| &part.amount),
    )
    .ok()?;
    total.saturating_sub(&parts).ok()
}

/// Whether every merchant of the plan takes payment through this provider (a hotel in China
/// may take only Alipay+ and WeChat Pay); `Err` names the first that does not.
fn merchants_take(provider: &dyn PaymentProvider, plan: &TravelPlan) -> Result<(), String> {
    let refusing = plan.items.iter().map(|item| &item.offer).find(|offer| {
        !offer.accepted_payments.is_empty()
            && !offer
                .accepted_payments
                .iter()
                .any(|accepted| accepted == provider.name())
    });
    match refusing {
        None => Ok(()),
        Some(offer) => Err(format!(
            "{} takes payment only through {}",
            offer.title,
            offer.accepted_payments.join(", ")
        )),
    }
}

/// The method this provider would charge for the plan, or why it cannot take it.
fn consider(
    provider: &dyn PaymentProvider,
    plan: &TravelPlan,
    splits: bool,
    amount: Option<Money>,
) -> Result<PaymentMethodToken, String> {
    eligible(provider, plan, splits, amount)?;
    if plan.payment_method.as_str() != AUTO_METHOD {
        provider.check_method(&plan.payment_method)?;
        return Ok(plan.payment_method.clone());
    }
    provider
        .profile()
        .open_method_for(plan.payment_preference.region.as_deref(), plan.currency)
        .and_then(|method| PaymentMethodToken::parse(method).ok())
        .ok_or_else(|| "needs a saved payment method, and the plan says auto".to_string())
}

/// The method as the person sees it: the provider's own words for a method it lists (a wallet
/// is no secret), otherwise masked.
fn shown(provider: &dyn PaymentProvider, method: &PaymentMethodToken) -> String {
    provider
        .profile()
        .methods
        .iter()
        .find(|listed| listed.token == method.as_str())
        .map_or_else(|| method.masked(), |listed| listed.label.to_string())
}

/// Where a provider stands; lower sorts first.
struct Rank {
    paused: Option<Duration>,
    preferred: bool,
    home: Option<String>,
    position: usize,
}

impl Rank {
    fn of(
        provider: &dyn PaymentProvider,
        preference: &PaymentPreference,
        position: usize,
        paused: Option<Duration>,
    ) -> Rank {
        let home = preference
            .region
            .as_ref()
            .filter(|region| provider.profile().home_regions.contains(&region.as_str()))
            .cloned();
        Rank {
            paused,
            preferred: preference.provider.as_deref() == Some(provider.name()),
            home,
            position,
        }
    }

    fn key(&self) -> (bool, bool, bool, usize) {
        (
            self.paused.is_some(),
            !self.preferred,
            self.home.is_none(),
            self.position,
        )
    }

    fn reasons(&self) -> Vec<String> {
        let mut reasons = Vec::new();
        if let Some(paused) = self.paused {
            reasons.push(format!(
                "failing now: its calls are paused for {} s",
                paused.as_secs().max(1)
            ));
        }
        if self.preferred {
            reasons.push("the person prefers it".into());
        }
        if let Some(region) = &self.home {
            reasons.push(format!("how people pay in {region}"));
        }
        reasons.push(format!(
            "{} in the operator's order",
            ordinal(self.position + 1)
        ));
        reasons
    }
}

fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (1, 11) | (2, 12) | (3, 13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

#[cfg(test)]
mod tests {
    use async_trait::async_trait;

    use super::*;
    use crate::domain::fixtures::paris_plan;
    use crate::domain::idempotency::IdempotencyKey;
    use crate::domain::money::{Currency, Money};
    use crate::ports::payment::{
        AuthorizeRequest, PaymentError, PaymentHandle, PaymentProfile, PaymentState, RefundReceipt,
    };

    /// A provider known only by what the router reads: its name, profile and methods.
    struct Listed {
        name: &'static str,
        profile: PaymentProfile,
        /// The method prefix it charges.
        charges: &'static str,
        /// The most it takes in one payment, if it has a limit.
        limit: Option<&'static str>,
    }

    #[async_trait]
    impl PaymentProvider for Listed {
        fn name(&self) -> &str {
            self.name
        }
        fn profile(&self) -> PaymentProfile {
            self.profile
        }
        fn check_amount(&self, amount: Money) -> Result<(), String> {
            match self
                .limit
                .map(|limit| Money::parse(limit, amount.currency().code()).unwrap())
            {
                Some(limit) if amount > limit => {
                    Err(format!("takes at most {limit}, not {amount}"))
                }
                _ => Ok(()),
            }
        }
        fn check_method(&self, method: &PaymentMethodToken) -> Result<(), String> {
            if method.as_str().starts_with(self.charges) {
                Ok(())
            } else {
                Err(format!("takes {}… methods only", self.charges))
            }
        }
        async fn authorize(&self, _: AuthorizeRequest<'_>) -> Result<PaymentHandle, PaymentError> {
            unreachable!("the router never calls a provider")
        }
        async fn status(&self, _: &str) -> Result<PaymentState, PaymentError> {
            unreachable!("the router never calls a provider")
        }
        async fn capture(
            &self,
            _: &str,
            _: Money,
            _: &IdempotencyKey,
        ) -> Result<Money, PaymentError> {
            unreachable!("the router never calls a provider")
        }
        async fn void(&self, _: &str, _: &IdempotencyKey) -> Result<(), PaymentError> {
            unreachable!("the router never calls a provider")
        }
        async fn refund(
            &self,
            _: &str,
            _: Money,
            _: &IdempotencyKey,
        ) -> Result<RefundReceipt, PaymentError> {
            unreachable!("the router never calls a provider")
        }
    }

    /// Cards (no open method, every currency), PayPal (a list), Alipay+ (Asia), WeChat (CNY).
    fn providers() -> Vec<Arc<dyn PaymentProvider>> {
        let listed =
            |name, currencies, home_regions, open_method, charges| -> Arc<dyn PaymentProvider> {
                Arc::new(Listed {
                    name,
                    profile: PaymentProfile {
                        currencies,
                        home_regions,
                        open_method,
                        regional_open_methods: &[],
                        methods: &[],
                    },
                    charges,
                    limit: None,
                })
            };
        vec![
            listed("cards", None, &[], None, "pm_"),
            listed(
                "paypal",
                Some(&["EUR", "USD"]),
                &[],
                Some("paypal"),
                "paypal",
            ),
            listed(
                "alipay",
                Some(&["CNY", "EUR"]),
                &["CN", "HK"],
                Some("antom_ALIPAY_CN"),
                "antom_",
            ),
            listed(
                "wechat",
                Some(&["CNY"]),
                &["CN"],
                Some("wechat_native"),
                "wechat_",
            ),
        ]
    }

    fn plan(
        method: &str,
        currency: &str,
        provider: Option<&str>,
        region: Option<&str>,
    ) -> TravelPlan {
        let mut plan = paris_plan();
        plan.payment_method = PaymentMethodToken::parse(method).unwrap();
        plan.currency = Currency::parse(currency).unwrap();
        plan.payment_preference = PaymentPreference {
            provider: provider.map(str::to_string),
            region: region.map(str::to_string),
        };
        plan
    }

    fn order_of(route: &PaymentRoute) -> Vec<(&str, &str)> {
        route
            .choices
            .iter()
            .map(|choice| (choice.provider.as_str(), choice.method.as_str()))
            .collect()
    }

    fn healthy(_: &str) -> Option<Duration> {
        None
    }

    #[test]
    fn auto_goes_to_the_open_methods_in_the_operators_order() {
        let route = route(&providers(), &plan(AUTO_METHOD, "EUR", None, None), healthy);
        assert_eq!(
            order_of(&route),
            [("paypal", "paypal"), ("alipay", "antom_ALIPAY_CN")]
        );
        assert_eq!(
            route.passed_over,
            [
                PassedOver {
                    provider: "cards".into(),
                    reason: "needs a saved payment method, and the plan says auto".into()
                },
                PassedOver {
                    provider: "wechat".into(),
                    reason: "does not take EUR".into()
                },
            ]
        );
    }

    #[test]
    fn the_persons_preferred_provider_comes_first_with_the_reason_shown() {
        let route = route(
            &providers(),
            &plan(AUTO_METHOD, "EUR", Some("alipay"), None),
            healthy,
        );
        assert_eq!(order_of(&route)[0], ("alipay", "antom_ALIPAY_CN"));
        assert!(
            route.choices[0]
                .reasons
                .contains(&"the person prefers it".to_string())
        );
    }

    #[test]
    fn a_payer_in_china_is_routed_to_the_wallets_people_use_there() {
        // In EUR both PayPal and Alipay+ can take it, and the operator put PayPal first.
        let anywhere = route(&providers(), &plan(AUTO_METHOD, "EUR", None, None), healthy);
        assert_eq!(order_of(&anywhere)[0].0, "paypal");
        let elsewhere = route(
            &providers(),
            &plan(AUTO_METHOD, "EUR", None, Some("FR")),
            healthy,
        );
        assert_eq!(
            order_of(&elsewhere),
            order_of(&anywhere),
            "no wallet is at home in FR"
        );

        let china = route(
            &providers(),
            &plan(AUTO_METHOD, "EUR", None, Some("CN")),
            healthy,
        );
        assert_eq!(
            order_of(&china),
            [("alipay", "antom_ALIPAY_CN"), ("paypal", "paypal")],
            "Alipay+ comes before the operator's first choice for a payer in China"
        );
        assert!(
            china.choices[0]
                .reasons
                .contains(&"how people pay in CN".to_string())
        );

        let in_yuan = route(
            &providers(),
            &plan(AUTO_METHOD, "CNY", None, Some("CN")),
            healthy,
        );
        assert_eq!(
            order_of(&in_yuan),
            [("alipay", "antom_ALIPAY_CN"), ("wechat", "wechat_native")],
            "PayPal does not take CNY here"
        );
    }

    #[test]
    fn a_currency_a_provider_does_not_take_is_never_routed_to_it() {
        let route = route(&providers(), &plan("paypal", "CNY", None, None), healthy);
        assert!(route.choices.is_empty());
        assert_eq!(
            route.why_none(),
            "cards: takes pm_… methods only; paypal: does not take CNY; alipay: takes antom_… methods only; wechat: takes wechat_… methods only"
        );
    }

    #[test]
    fn a_named_method_goes_only_where_it_can_be_charged() {
        let route = route(
            &providers(),
            &plan("pm_card_visa", "EUR", Some("paypal"), None),
            healthy,
        );
        assert_eq!(
            order_of(&route),
            [("cards", "pm_card_visa")],
            "a preference cannot move a card to PayPal"
        );
    }

    #[test]
    fn a_failing_provider_goes_last_and_says_why() {
        let paused = |name: &str| (name == "paypal").then(|| Duration::from_secs(30));
        let route = route(
            &providers(),
            &plan(AUTO_METHOD, "EUR", Some("paypal"), None),
            paused,
        );
        assert_eq!(
            order_of(&route),
            [("alipay", "antom_ALIPAY_CN"), ("paypal", "paypal")]
        );
        assert!(
            route.choices[1].reasons[0].starts_with("failing now"),
            "{:?}",
            route.choices[1].reasons
        );
        assert_eq!(
            route.next_after(&["alipay"]).map(|c| c.provider.as_str()),
            Some("paypal")
        );
        assert_eq!(route.next_after(&["alipay", "paypal"]), None);
    }

    #[test]
    fn a_merchant_that_takes_only_some_providers_passes_the_others_over_naming_it() {
        let mut plan = plan(AUTO_METHOD, "EUR", None, None);
        plan.items[1].offer.accepted_payments = vec!["alipay".into(), "wechat".into()];
        let route = route(&providers(), &plan, healthy);
        assert_eq!(order_of(&route), [("alipay", "antom_ALIPAY_CN")]);
        let paypal = route
            .passed_over
            .iter()
            .find(|passed| passed.provider == "paypal")
            .unwrap();
        assert_eq!(
            paypal.reason,
            format!(
                "{} takes payment only through alipay, wechat",
                plan.items[1].offer.title
            )
        );
    }

    /// Cards that take at most 100.00 in one payment.
    fn capped() -> Arc<dyn PaymentProvider> {
        Arc::new(Listed {
            name: "capped",
            profile: PaymentProfile {
                currencies: None,
                home_regions: &[],
                open_method: Some("pm_capped"),
                regional_open_methods: &[],
                methods: &[],
            },
            charges: "pm_",
            limit: Some("100.00"),
        })
    }

    #[test]
    fn a_provider_whose_limit_is_below_the_amount_is_passed_over_with_its_limit() {
        let plan = plan(AUTO_METHOD, "EUR", None, None);
        let route = route(&[capped()], &plan, healthy);
        assert!(route.choices.is_empty());
        assert_eq!(
            route.passed_over[0].reason,
            format!("takes at most EUR 100.00, not {}", plan.total().unwrap())
        );

        // Split, the card's share fits and the rest goes elsewhere.
        let mut split = plan.clone();
        split.payment_method = PaymentMethodToken::parse("paypal").unwrap();
        split.payment_split = vec![crate::domain::plan::SplitPart {
            method: PaymentMethodToken::parse("pm_capped").unwrap(),
            amount: Money::parse("100.00", "EUR").unwrap(),
        }];
        let mut providers = providers();
        providers.insert(0, capped());
        let route = super::route(&providers, &split, healthy);
        assert_eq!(route.split[0].provider, "capped", "{route:?}");
        assert!(route.is_payable(), "{route:?}");
    }

    #[test]
    fn a_payer_from_hong_kong_paying_in_hong_kong_dollars_is_routed_to_alipay_hk() {
        let antom: Arc<dyn PaymentProvider> = Arc::new(Listed {
            name: "antom",
            profile: PaymentProfile {
                currencies: None,
                home_regions: &["CN", "HK"],
                open_method: Some("antom_ALIPAY_CN"),
                regional_open_methods: &[crate::ports::payment::RegionalMethod {
                    region: "HK",
                    currency: "HKD",
                    method: "antom_ALIPAY_HK",
                }],
                methods: &[],
            },
            charges: "antom_",
            limit: None,
        });
        let providers = [antom];
        let from_hong_kong = route(
            &providers,
            &plan(AUTO_METHOD, "HKD", None, Some("HK")),
            healthy,
        );
        assert_eq!(order_of(&from_hong_kong), [("antom", "antom_ALIPAY_HK")]);
        let in_euros = route(
            &providers,
            &plan(AUTO_METHOD, "EUR", None, Some("HK")),
            healthy,
        );
        assert_eq!(
            order_of(&in_euros),
            [("antom", "antom_ALIPAY_CN")],
            "AlipayHK pays in Hong Kong dollars only"
        );
        let from_china = route(
            &providers,
            &plan(AUTO_METHOD, "HKD", None, Some("CN")),
            healthy,
        );
        assert_eq!(order_of(&from_china), [("antom", "antom_ALIPAY_CN")]);
    }
}
