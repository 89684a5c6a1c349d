//! Stripe's wire format, as far as Itinera reads it: PaymentIntents, Refunds and the error
//! object. Amounts are integer minor units; currencies lowercase ISO codes.

use serde::Deserialize;

/// A PaymentIntent's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntentStatus {
    RequiresPaymentMethod,
    RequiresConfirmation,
    RequiresAction,
    Processing,
    RequiresCapture,
    Succeeded,
    Canceled,
}

#[derive(Debug, Deserialize)]
pub struct PaymentIntent {
    pub id: String,
    #[serde(default)]
    pub amount_capturable: i64,
    #[serde(default)]
    pub amount_received: i64,
    pub currency: String,
    pub status: IntentStatus,
    pub next_action: Option<NextAction>,
    pub last_payment_error: Option<StripeError>,
    /// The charge's id, or the charge itself when asked for with `expand[]=latest_charge`.
    pub latest_charge: Option<ChargeField>,
}

#[derive(Debug, Deserialize)]
pub struct NextAction {
    #[serde(rename = "type")]
    pub kind: String,
    pub redirect_to_url: Option<RedirectToUrl>,
}

#[derive(Debug, Deserialize)]
pub struct RedirectToUrl {
    pub url: String,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum ChargeField {
    Expanded(Charge),
    /// Just the charge's id: not asked to expand it.
    Id(serde::de::IgnoredAny),
}

#[derive(Debug, Deserialize)]
pub struct Charge {
    #[serde(default)]
    pub amount_refunded: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefundStatus {
    Pending,
    RequiresAction,
    Succeeded,
    Failed,
    Canceled,
}

#[derive(Debug, Deserialize)]
pub struct Refund {
    pub id: String,
    pub amount: i64,
    pub currency: String,
    pub status: RefundStatus,
    pub failure_reason: Option<String>,
}

/// The body of every error answer.
#[derive(Debug, Deserialize)]
pub struct ErrorBody {
    pub error: StripeError,
}

#[derive(Debug, Clone, Deserialize)]
pub struct StripeError {
    #[serde(rename = "type")]
    pub kind: String,
    pub code: Option<String>,
    pub decline_code: Option<String>,
    pub message: Option<String>,
}

/// A Customer: the person at Stripe, whom saved PaymentMethods are attached to.
#[derive(Debug, Deserialize)]
pub struct Customer {
    pub id: String,
}

/// A Checkout Session's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    Open,
    Complete,
    Expired,
}

/// A Checkout Session in `mode=setup`: Stripe's page where the person saves a card.
#[derive(Debug, Deserialize)]
pub struct CheckoutSession {
    pub id: String,
    /// The page; null once the session is complete or expired.
    pub url: Option<String>,
    pub status: Option<SessionStatus>,
    /// The customer's id (not expanded).
    pub customer: Option<String>,
    /// The SetupIntent's id (not expanded).
    pub setup_intent: Option<String>,
    /// Unix seconds.
    pub expires_at: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SetupIntentStatus {
    RequiresPaymentMethod,
    RequiresConfirmation,
    RequiresAction,
    Processing,
    Canceled,
    Succeeded,
}

#[derive(Debug, Deserialize)]
pub struct SetupIntent {
    pub status: SetupIntentStatus,
    /// The PaymentMethod's id (not expanded).
    pub payment_method: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct PaymentMethod {
    pub id: String,
    pub card: Option<CardDetails>,
}

/// What Stripe tells of a card: never its number.
#[derive(Debug, Deserialize)]
pub struct CardDetails {
    pub brand: String,
    pub last4: String,
    pub exp_month: u32,
    pub exp_year: u32,
}
