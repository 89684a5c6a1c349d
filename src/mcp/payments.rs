//! get_payment_status: what the payment provider itself says about an order's payment, beside
//! what Itinera recorded, so a person (or the assistant) can see that the two agree; and
//! refund_payment, the owner's refunds outside any cancellation.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::{Json, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::domain::ids::OrderId;
use crate::domain::money::Money;
use crate::domain::order::OrderStatus;
use crate::orchestrator::PaymentCheck;
use crate::ports::PaymentProvider;
use crate::ports::payment::{PaymentState, Settlement};

use super::ItineraServer;
use super::orders::OrderIdArgs;
use super::saved_methods::{SavedMethodView, SetupView};

/// The payment as recorded and as the provider reports it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PaymentStatus {
    pub order_id: OrderId,
    pub provider: Option<String>,
    /// The provider's payment id.
    pub reference: Option<String>,
    /// What Itinera recorded.
    pub recorded: Amounts,
    /// What the provider says now: `action_required`, `authorized`, `captured`, `voided`,
    /// `failed`, or `none` before any payment.
    pub provider_state: String,
    pub provider_amounts: Option<Amounts>,
    /// Whether the provider's figures match the record.
    pub agrees: bool,
    pub message: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct RefundArgs {
    pub order_id: String,
    /// How much to refund, e.g. {"amount": "50.00", "currency": "EUR"}: at most what was
    /// captured and not yet refunded.
    pub amount: Money,
    /// Why, in a few words: kept in the order's timeline and the audit log.
    pub reason: String,
}

/// What a refund did.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Refunded {
    pub order_id: OrderId,
    /// Refunded by this call.
    pub refunded: Money,
    /// Refunded on the order in all, cancellations included.
    pub total_refunded: Money,
    /// What can still be refunded.
    pub refundable: Money,
    pub message: String,
}

/// The payment methods the configured providers take.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PaymentMethods {
    /// In the operator's order of preference.
    pub providers: Vec<ProviderMethods>,
    /// The methods the person saved with add_payment_method: theirs alone to pay with.
    pub saved: Vec<SavedMethodView>,
    /// Pages opened with add_payment_method in the last day that saved nothing (yet): `pending`
    /// while the person may still finish, `abandoned` (with the reason) when they cancelled or
    /// the page expired.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub setups: Vec<SetupView>,
    pub message: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ProviderMethods {
    pub provider: String,
    /// `hold_then_capture` (a hold for the total, only what is booked is taken) or
    /// `charge_after_booking` (booked first, then what was booked is charged).
    pub settlement: String,
    /// The currencies it takes; every currency Itinera knows when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currencies: Option<Vec<String>>,
    /// Countries where it is how people pay: preferred for a payer from there.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub home_regions: Vec<String>,
    /// Whether it takes payments now (not paused after repeated failures).
    pub working: bool,
    pub methods: Vec<MethodView>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct MethodView {
    /// The token to put in a plan's payment_method.
    pub method: String,
    pub label: String,
    /// What a plan paying `auto` uses with this provider.
    pub used_by_auto: bool,
    /// Payers for whom `auto` uses this method instead, e.g. "HK paying HKD".
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub used_by_auto_for: Vec<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Amounts {
    /// Held on the payment method and not yet taken; absent when nothing is held (before the
    /// hold, once captured or released, or with a provider that charges after booking).
    pub held: Option<Money>,
    pub captured: Money,
    pub refunded: Money,
}

#[tool_router(router = payment_router, vis = "pub(super)")]
impl ItineraServer {
    /// Ask the payment provider where an order's payment stands (held, captured, refunded,
    /// waiting for the customer, released) and compare it with Itinera's record. Read-only.
    #[tool(
        title = "Get payment status",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = true
        )
    )]
    async fn get_payment_status(
        &self,
        Parameters(args): Parameters<OrderIdArgs>,
    ) -> Result<Json<PaymentStatus>, String> {
        let id = OrderId::parse(&args.order_id).map_err(|e| e.to_string())?;
        let check = self
            .services
            .orchestrator
            .payment_check(&self.owner, &id)
            .await
            .map_err(|e| e.to_string())?;
        Ok(Json(status_of(check)))
    }

    /// List the payment methods a plan can use, by payment provider in the operator's order of
    /// preference: tokens and what they are, never card details; which currencies and countries
    /// each provider serves, whether it holds first or charges after booking, and whether it
    /// works right now. Also the methods the person saved with add_payment_method (asking the
    /// providers about pages still open, so a card saved a moment ago shows up), and pages that
    /// saved nothing. Put a token (or "auto") in create_travel_plan's payment_method. Read-only.
    #[tool(
        title = "List payment methods",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = true
        )
    )]
    async fn list_payment_methods(&self) -> Result<Json<PaymentMethods>, String> {
        let mine = self
            .services
            .methods
            .refresh(&self.owner)
            .await
            .map_err(|e| e.to_string())?;
        let providers: Vec<ProviderMethods> = self
            .services
            .orchestrator
            .payment_providers()
            .into_iter()
            .map(|(provider, paused)| provider_methods(provider.as_ref(), paused.is_none()))
            .collect();
        Ok(Json(PaymentMethods {
            message: "Use a method's token as the plan's payment_method (a saved one only for the person who saved it), or \"auto\" to let Itinera choose by the person's preference and country; confirm_travel_plan shows the choice. To save a new card, call add_payment_method.".into(),
            providers,
            saved: mine.saved.into_iter().map(SavedMethodView::from).collect(),
            setups: mine.unsaved.into_iter().map(SetupView::from).collect(),
        }))
    }

    /// Refund part or all of an order's captured payment to its payment method, outside any
    /// cancellation (a goodwill gesture, a settled complaint): only the person's own orders,
    /// never more than was captured and not yet refunded. Bookings stay as they are; to cancel
    /// them use cancel_booking, which refunds what their policies give. Confirm the amount with
    /// the person first. Asking again with the same amount after an unclear answer is safe.
    #[tool(
        title = "Refund payment",
        annotations(
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = false,
            open_world_hint = true
        )
    )]
    async fn refund_payment(
        &self,
        Parameters(args): Parameters<RefundArgs>,
    ) -> Result<Json<Refunded>, String> {
        let id = OrderId::parse(&args.order_id).map_err(|e| e.to_string())?;
        let reason = args.reason.trim();
        if reason.is_empty() || reason.chars().count() > 200 || reason.chars().any(char::is_control)
        {
            return Err(
                "give the reason for the refund in one plain line of at most 200 characters".into(),
            );
        }
        let (order, refunded) = self
            .services
            .orchestrator
            .refund_payment(&self.owner, &id, args.amount, reason)
            .await
            .map_err(|e| e.to_string())?;
        let refundable = order
            .captured
            .saturating_sub(&order.refunded)
            .map_err(|e| e.to_string())?;
        Ok(Json(Refunded {
            order_id: order.id,
            message: format!(
                "Refunded {refunded} to the payment method; {refundable} can still be refunded."
            ),
            refunded,
            total_refunded: order.refunded,
            refundable,
        }))
    }
}

fn provider_methods(provider: &dyn PaymentProvider, working: bool) -> ProviderMethods {
    let profile = provider.profile();
    ProviderMethods {
        provider: provider.name().to_string(),
        settlement: match provider.settlement() {
            Settlement::HoldThenCapture => "hold_then_capture",
            Settlement::ChargeAfterBooking => "charge_after_booking",
        }
        .to_string(),
        currencies: profile
            .currencies
            .map(|codes| codes.iter().map(|code| code.to_string()).collect()),
        home_regions: profile.home_regions.iter().map(|r| r.to_string()).collect(),
        working,
        methods: profile
            .methods
            .iter()
            .map(|listed| MethodView {
                method: listed.token.to_string(),
                label: listed.label.to_string(),
                used_by_auto: profile.open_method == Some(listed.token),
                used_by_auto_for: profile
                    .regional_open_methods
                    .iter()
                    .filter(|regional| regional.method == listed.token)
                    .map(|regional| format!("{} paying {}", regional.region, regional.currency))
                    .collect(),
            })
            .collect(),
    }
}

fn status_of(check: PaymentCheck) -> PaymentStatus {
    let order = check.order;
    // A hold is placed once the customer's step is done, and gone once captured or released.
    let holding = check.settlement == Settlement::HoldThenCapture
        && order.status == OrderStatus::PaymentProcessing
        && order.payment.is_some();
    let recorded = Amounts {
        held: holding.then_some(order.authorized),
        captured: order.captured,
        refunded: order.refunded,
    };
    let (provider_state, provider_amounts) = match &check.at_provider {
        None => ("none", None),
        Some(PaymentState::ActionRequired { .. }) => ("action_required", None),
        Some(PaymentState::Authorized { amount }) => (
            "authorized",
            Some(Amounts {
                held: Some(*amount),
                captured: Money::zero(order.currency),
                refunded: Money::zero(order.currency),
            }),
        ),
        Some(PaymentState::Captured { amount, refunded }) => (
            "captured",
            Some(Amounts {
                held: None,
                captured: *amount,
                refunded: *refunded,
            }),
        ),
        Some(PaymentState::Voided) => ("voided", None),
        Some(PaymentState::Failed { .. }) => ("failed", None),
    };
    let nothing_moved = order.captured.is_zero() && order.refunded.is_zero();
    let agrees = match &check.at_provider {
        // Money held is right only while the order is still on its way to charging.
        Some(PaymentState::Authorized { amount }) => {
            nothing_moved
                && *amount == order.authorized
                && matches!(
                    order.status,
                    OrderStatus::Draft
                        | OrderStatus::PaymentPending
                        | OrderStatus::PaymentActionRequired
                        | OrderStatus::PaymentProcessing
                )
        }
        Some(PaymentState::Captured { amount, refunded }) => {
            *amount == order.captured && *refunded == order.refunded
        }
        Some(
            PaymentState::ActionRequired { .. }
            | PaymentState::Voided
            | PaymentState::Failed { .. },
        )
        | None => nothing_moved,
    };
    let message = match (&check.at_provider, agrees) {
        (None, _) => "No payment was started for this order.".to_string(),
        (_, true) => "The provider's figures match Itinera's record.".to_string(),
        (_, false) => format!(
            "The provider's figures differ from Itinera's record: run `itinera doctor`, and check the payment {} at {} before acting.",
            order.payment.as_ref().map_or("", |p| p.reference.as_str()),
            order
                .payment
                .as_ref()
                .map_or("the provider", |p| p.provider.as_str())
        ),
    };
    PaymentStatus {
        order_id: order.id,
        provider: order.payment.as_ref().map(|p| p.provider.clone()),
        reference: order.payment.as_ref().map(|p| p.reference.clone()),
        recorded,
        provider_state: provider_state.to_string(),
        provider_amounts,
        agrees,
        message,
    }
}
