//! What the core needs from a payment provider: hold, capture, void, refund, and look up.
//!
//! Modelled on card authorization and capture: the hold is placed for the approved total before
//! anything is booked, only what was booked is captured, and the rest is released.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::domain::idempotency::IdempotencyKey;
use crate::domain::ids::{OrderId, OwnerId, PaymentMethodToken, SetupId};
use crate::domain::money::{Currency, Money};
use crate::ports::ProviderError;

/// A request to place a hold.
#[derive(Debug, Clone, Copy)]
pub struct AuthorizeRequest<'a> {
    pub order_id: &'a OrderId,
    pub amount: Money,
    pub payment_method: &'a PaymentMethodToken,
    pub description: &'a str,
    pub idempotency_key: &'a IdempotencyKey,
    /// Where the provider sends the customer back after 3-D Secure or approval.
    pub return_url: &'a str,
    /// With a provider that charges after booking: the moment after which the customer can no
    /// longer pay (the bookings are cancelled then). Providers that hold ignore it.
    pub pay_by: Option<DateTime<Utc>>,
    /// The provider-side customer a saved payment method belongs to: Stripe refuses a method
    /// attached to a customer unless the charge names that customer.
    pub customer: Option<&'a str>,
}

/// A request to open a page where the person saves a payment method.
#[derive(Debug, Clone, Copy)]
pub struct SaveMethodRequest<'a> {
    pub setup_id: &'a SetupId,
    pub owner: &'a OwnerId,
    /// The person's customer at this provider from an earlier setup; `None` the first time.
    pub customer: Option<&'a str>,
    /// Where the provider sends the person back when they are done (or cancel).
    pub return_url: &'a str,
}

/// The page the person saves a payment method on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaveMethodPage {
    /// The provider's id for the page, to ask later what came of it.
    pub session_id: String,
    pub url: String,
    /// The person's customer at the provider, to keep for their next setups and charges.
    pub customer: Option<String>,
    /// When the provider closes the page; `None` when it does not say (Itinera sets a limit).
    pub expires_at: Option<DateTime<Utc>>,
}

/// What came of a page opened to save a payment method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SaveMethodState {
    /// The person has not finished on the page yet.
    Pending,
    /// A method was saved: `token` is what a plan pays with, `label` what it is in words.
    Saved {
        token: PaymentMethodToken,
        label: String,
        customer: Option<String>,
    },
    /// Nothing was saved, and nothing will be from this page.
    Abandoned { reason: String },
}

/// The state of a payment at the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentState {
    /// The customer must act (3-D Secure) at `url` before the hold is placed.
    ActionRequired { url: String },
    /// The hold is placed for `amount`.
    Authorized { amount: Money },
    /// `amount` was captured; `refunded` of it has been returned.
    Captured { amount: Money, refunded: Money },
    /// The hold was released without capture.
    Voided,
    /// The payment did not go through: `reason` says why.
    Failed { reason: String },
}

/// A placed or pending payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentHandle {
    /// The provider's payment id.
    pub payment_id: String,
    pub state: PaymentState,
}

/// A refund the provider accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundReceipt {
    pub refund_id: String,
    pub amount: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaymentError {
    #[error(
        "the card was declined ({code}): {message}. Ask the person for another payment method, set it with update_travel_plan and confirm again"
    )]
    Declined { code: String, message: String },
    #[error(transparent)]
    Provider(#[from] ProviderError),
}

/// How a provider takes money, which decides when the orchestrator charges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settlement {
    /// A hold for the approved total is placed before booking; only what was booked is captured
    /// and the rest released (cards, PayPal, Antom's authorization mode).
    HoldThenCapture,
    /// The provider cannot hold money apart from taking it (WeChat Pay): the orchestrator books
    /// first, then charges exactly what was booked through `authorize` — whose success is a
    /// capture — and compensates by cancelling the bookings if the charge does not go through,
    /// or by refunding if it did.
    ChargeAfterBooking,
}

/// What the payment router needs to know of a provider before choosing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaymentProfile {
    /// ISO-4217 codes the provider takes; `None` for every currency Itinera knows.
    pub currencies: Option<&'static [&'static str]>,
    /// Countries (ISO 3166 alpha-2) where this is how people usually pay: the router prefers it
    /// for a payer from there (CN → Alipay+, WeChat Pay).
    pub home_regions: &'static [&'static str],
    /// A method anyone can pay with here without saving one first (a wallet the payer approves
    /// each time): what a plan paying `auto` is routed to.
    pub open_method: Option<&'static str>,
    /// Open methods that take the place of `open_method` for a payer from a region paying in
    /// the wallet's currency (AlipayHK in Hong Kong, GCash in the Philippines).
    pub regional_open_methods: &'static [RegionalMethod],
    /// The methods listed to the person (list_payment_methods): tokens only, never card details.
    pub methods: &'static [ListedMethod],
}

/// The open method people use in one region, for payments in its currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegionalMethod {
    /// ISO 3166 alpha-2.
    pub region: &'static str,
    pub currency: &'static str,
    pub method: &'static str,
}

/// A payment method token a provider takes, with what it is in words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListedMethod {
    pub token: &'static str,
    pub label: &'static str,
}

impl PaymentProfile {
    pub fn takes(&self, currency: Currency) -> bool {
        self.currencies
            .is_none_or(|codes| codes.contains(&currency.code()))
    }

    /// The method a plan paying `auto` goes to, for a payer from `region` paying in `currency`.
    pub fn open_method_for(
        &self,
        region: Option<&str>,
        currency: Currency,
    ) -> Option<&'static str> {
        self.regional_open_methods
            .iter()
            .find(|regional| {
                Some(regional.region) == region && regional.currency == currency.code()
            })
            .map(|regional| regional.method)
            .or(self.open_method)
    }
}

#[async_trait]
pub trait PaymentProvider: Send + Sync {
    fn name(&self) -> &str;

    /// Currencies, home regions and open method, for the router.
    fn profile(&self) -> PaymentProfile;

    /// When this provider is charged; most place a hold first.
    fn settlement(&self) -> Settlement {
        Settlement::HoldThenCapture
    }

    /// Whether this provider can charge the payment method, checked when a plan is made so a
    /// wrong token is told before the person is asked to approve; `Err` says what it takes.
    fn check_method(&self, method: &PaymentMethodToken) -> Result<(), String>;

    /// Whether the method is of a kind only this provider's saving page mints (a PayPal vault
    /// id, a sandbox saved card): Itinera then charges it only for the person who saved it,
    /// the provider binding it to no customer of ours that it would check.
    fn only_saved(&self, _method: &PaymentMethodToken) -> bool {
        false
    }

    /// Whether this provider can take `amount` in one payment, in its own form (a limit on
    /// its figure, decimals it does not take), checked by the router before any call so
    /// another provider can be chosen; `Err` says why not. Most take any amount.
    fn check_amount(&self, _amount: Money) -> Result<(), String> {
        Ok(())
    }

    async fn authorize(&self, request: AuthorizeRequest<'_>)
    -> Result<PaymentHandle, PaymentError>;

    /// Looks the payment up, changing nothing: used to reconcile and to report.
    async fn status(&self, payment_id: &str) -> Result<PaymentState, PaymentError>;

    /// The same, told the keys of every refund the saga sent for this payment: a provider that
    /// has no list of a payment's refunds (WeChat Pay looks each up by its number) learns them
    /// here, so what it reports refunded survives a restart. Others need only `status`.
    async fn status_given_refunds(
        &self,
        payment_id: &str,
        _refunds: &[IdempotencyKey],
    ) -> Result<PaymentState, PaymentError> {
        self.status(payment_id).await
    }

    /// Where the payment stands after the customer acted (3-D Secure, payer approval). Most
    /// providers need only a lookup; one that needs a call to place the hold then (PayPal
    /// authorizes the approved order) makes it here, under a key of its own, so it happens once
    /// and only when the order's driver asks.
    async fn complete_action(&self, payment_id: &str) -> Result<PaymentState, PaymentError> {
        self.status(payment_id).await
    }

    /// Captures `amount` (at most the held amount) and releases the rest of the hold.
    async fn capture(
        &self,
        payment_id: &str,
        amount: Money,
        idempotency_key: &IdempotencyKey,
    ) -> Result<Money, PaymentError>;

    async fn void(
        &self,
        payment_id: &str,
        idempotency_key: &IdempotencyKey,
    ) -> Result<(), PaymentError>;

    async fn refund(
        &self,
        payment_id: &str,
        amount: Money,
        idempotency_key: &IdempotencyKey,
    ) -> Result<RefundReceipt, PaymentError>;

    /// Whether the person can save a payment method with this provider (add_payment_method).
    fn saves_methods(&self) -> bool {
        false
    }

    /// Opens a page at the provider where the person saves a payment method; the card details
    /// go to the provider only. Sent again for the same setup, it returns the same page.
    async fn start_saving_method(
        &self,
        _request: SaveMethodRequest<'_>,
    ) -> Result<SaveMethodPage, PaymentError> {
        Err(cannot_save(self.name()))
    }

    /// What came of the page. Asking again after `Saved` answers the same method.
    async fn saved_method_state(&self, _session_id: &str) -> Result<SaveMethodState, PaymentError> {
        Err(cannot_save(self.name()))
    }
}

fn cannot_save(provider: &str) -> PaymentError {
    ProviderError::rejected(
        provider,
        "saving_unsupported",
        "this provider cannot save payment methods",
    )
    .into()
}
