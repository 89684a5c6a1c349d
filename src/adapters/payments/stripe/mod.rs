//! Stripe: a hold is a PaymentIntent with `capture_method=manual`, confirmed at creation; capture
//! takes `amount_to_capture`, a void cancels the intent, refunds go through `/v1/refunds`.
//!
//! Saving a card is a Checkout Session in `mode=setup` for the person's Customer (created once,
//! `metadata[itinera_owner]`), with `payment_method_types[0]=card` (setup mode needs either that
//! or `currency`). The person types the card on Stripe's page; the session then reads `complete`
//! with a SetupIntent whose `payment_method` is the saved `pm_…`, attached to the Customer, and
//! whose card (brand, last4, expiry) makes the label. A charge with that method must name the
//! Customer (`customer=cus_…`), or Stripe refuses it. Verified against Stripe's API reference
//! (Checkout Sessions create/retrieve, SetupIntents, PaymentMethods) and its "Set up future
//! payments" guide for Checkout's setup mode.
//!
//! Small typed wire structs over reqwest rather than a client crate: Itinera calls five
//! endpoints, and the maintained crates (async-stripe) generate the whole API, which costs
//! minutes of build on two cores for code that would go unused. Every POST carries the saga's
//! `Idempotency-Key`, so a request sent again after a lost answer replays what Stripe did.

mod amount;
mod wire;

use async_trait::async_trait;
use reqwest::StatusCode;
use serde::de::DeserializeOwned;

use crate::adapters::http::{self, ClientError};
use crate::domain::idempotency::IdempotencyKey;
use crate::domain::ids::PaymentMethodToken;
use crate::domain::money::{Currency, Money};
use crate::ports::ProviderError;
use crate::ports::payment::{
    AuthorizeRequest, ListedMethod, PaymentError, PaymentHandle, PaymentProfile, PaymentProvider,
    PaymentState, RefundReceipt, SaveMethodPage, SaveMethodRequest, SaveMethodState,
};
use chrono::DateTime;

use wire::{
    CardDetails, ChargeField, CheckoutSession, Customer, ErrorBody, IntentStatus, PaymentIntent,
    PaymentMethod, Refund, RefundStatus, SessionStatus, SetupIntent, SetupIntentStatus,
};

const NAME: &str = "stripe";
/// The API version the wire structs were written against.
pub const API_VERSION: &str = "2026-07-29.dahlia";

/// Where Stripe is and how to sign in. `Debug` hides the key.
#[derive(Clone)]
pub struct StripeSettings {
    /// `sk_test_…` (sandbox mode) or `sk_live_…`/`rk_live_…` (live mode).
    pub secret_key: String,
    /// `https://api.stripe.com`, or a local fake in tests.
    pub base_url: String,
}

impl std::fmt::Debug for StripeSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeSettings")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

pub struct StripePayments {
    http: reqwest::Client,
    settings: StripeSettings,
}

impl StripePayments {
    pub fn new(settings: StripeSettings) -> Result<StripePayments, ClientError> {
        Ok(StripePayments {
            http: http::client(http::CALL_TIMEOUT)?,
            settings,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.settings.base_url.trim_end_matches('/'))
    }

    async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        form: &[(&str, String)],
        key: &IdempotencyKey,
    ) -> Result<T, PaymentError> {
        let request = self
            .http
            .post(self.url(path))
            .bearer_auth(&self.settings.secret_key)
            .header("Stripe-Version", API_VERSION)
            .header("Idempotency-Key", key.as_str())
            .form(form);
        self.send(request).await
    }

    async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<T, PaymentError> {
        let request = self
            .http
            .get(self.url(path))
            .bearer_auth(&self.settings.secret_key)
            .header("Stripe-Version", API_VERSION)
            .query(query);
        self.send(request).await
    }

    async fn send<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, PaymentError> {
        let http::Answer {
            status,
            headers,
            body,
        } = http::send(NAME, request).await?;
        if let Some(error) = http::status_error(NAME, status, &headers) {
            return Err(error.into());
        }
        if status.is_success() {
            // Stripe acted but we cannot read what it did: only a lookup can tell.
            return serde_json::from_str(&body).map_err(|error| {
                tracing::warn!(%error, "unreadable answer from Stripe");
                unknown()
            });
        }
        let should_retry = headers
            .get("Stripe-Should-Retry")
            .and_then(|v| v.to_str().ok())
            .map(|v| v == "true");
        Err(refusal(status, should_retry, &body))
    }
}

fn unknown() -> PaymentError {
    PaymentError::Provider(ProviderError::OutcomeUnknown {
        provider: NAME.to_string(),
    })
}

/// Stripe's error answer as ours: a card decline keeps its decline code; a conflict on the same
/// key, or Stripe saying to retry, is worth sending again.
fn refusal(status: StatusCode, should_retry: Option<bool>, body: &str) -> PaymentError {
    let error = serde_json::from_str::<ErrorBody>(body)
        .map(|b| b.error)
        .ok();
    let message = error
        .as_ref()
        .and_then(|e| e.message.clone())
        .unwrap_or_else(|| format!("HTTP {}", status.as_u16()));
    let code = error.as_ref().and_then(|e| e.code.as_deref());
    if code == Some("rate_limit") {
        return ProviderError::RateLimited {
            provider: NAME.to_string(),
            retry_after: None,
        }
        .into();
    }
    // The same key with other parameters: the first request may have placed a hold, so this is
    // never a refusal to move on from; reconciliation has to find out.
    if error
        .as_ref()
        .is_some_and(|e| e.kind == "idempotency_error")
    {
        tracing::error!(%message, "Stripe refused a reused idempotency key");
        return unknown();
    }
    if status == StatusCode::CONFLICT
        || status == StatusCode::FAILED_DEPENDENCY
        || should_retry == Some(true)
    {
        return ProviderError::Unavailable {
            provider: NAME.to_string(),
            message,
            retry_after: None,
        }
        .into();
    }
    match error {
        Some(error) if error.kind == "card_error" => PaymentError::Declined {
            code: error
                .decline_code
                .or(error.code)
                .unwrap_or_else(|| "card_declined".into()),
            message,
        },
        Some(error) if status == StatusCode::UNAUTHORIZED => ProviderError::Rejected {
            provider: NAME.to_string(),
            code: error.kind,
            message: format!("{message} (check ITINERA_STRIPE_SECRET_KEY)"),
        }
        .into(),
        Some(error) => ProviderError::Rejected {
            provider: NAME.to_string(),
            code: error.code.unwrap_or(error.kind),
            message,
        }
        .into(),
        None => ProviderError::Rejected {
            provider: NAME.to_string(),
            code: format!("http_{}", status.as_u16()),
            message,
        }
        .into(),
    }
}

/// An amount in a Stripe answer. One we cannot read leaves the outcome unknown: the answer
/// may be to a call that already moved money.
fn money(minor: i64, currency: &str) -> Result<Money, PaymentError> {
    let currency = Currency::parse(&currency.to_ascii_uppercase()).map_err(|_| unknown())?;
    amount::from_stripe(minor, currency).map_err(|_| unknown())
}

/// An amount as Stripe takes it; one it cannot take is refused before any call.
fn minor(amount: &Money) -> Result<String, PaymentError> {
    amount::to_stripe(amount)
        .map(|minor| minor.to_string())
        .map_err(|message| ProviderError::rejected(NAME, "amount", message).into())
}

/// A saved card as the person recognises it: "Visa •••• 4242, expires 12/2030".
fn card_label(card: &CardDetails) -> String {
    let brand = match card.brand.as_str() {
        "amex" => "American Express".to_string(),
        "diners" => "Diners Club".to_string(),
        "unionpay" => "UnionPay".to_string(),
        other => {
            let mut chars = other.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_uppercase().chain(chars).collect()
            })
        }
    };
    format!(
        "{brand} •••• {}, expires {:02}/{}",
        card.last4, card.exp_month, card.exp_year
    )
}

/// What a PaymentIntent's status means for the order.
fn state_of(intent: &PaymentIntent) -> Result<PaymentState, PaymentError> {
    Ok(match intent.status {
        IntentStatus::RequiresCapture => PaymentState::Authorized {
            amount: money(intent.amount_capturable, &intent.currency)?,
        },
        IntentStatus::RequiresAction => match intent
            .next_action
            .as_ref()
            .and_then(|action| action.redirect_to_url.as_ref())
        {
            Some(redirect) => PaymentState::ActionRequired {
                url: redirect.url.clone(),
            },
            None => PaymentState::Failed {
                reason: format!(
                    "the bank asks for an authentication ({}) that needs Stripe.js in a browser; use another card",
                    intent
                        .next_action
                        .as_ref()
                        .map_or("unknown", |action| action.kind.as_str())
                ),
            },
        },
        IntentStatus::Succeeded => PaymentState::Captured {
            amount: money(intent.amount_received, &intent.currency)?,
            refunded: money(
                match &intent.latest_charge {
                    Some(ChargeField::Expanded(charge)) => charge.amount_refunded,
                    Some(ChargeField::Id(_)) | None => 0,
                },
                &intent.currency,
            )?,
        },
        IntentStatus::Canceled => PaymentState::Voided,
        IntentStatus::RequiresPaymentMethod | IntentStatus::RequiresConfirmation => {
            PaymentState::Failed {
                reason: intent
                    .last_payment_error
                    .as_ref()
                    .and_then(|e| e.message.clone())
                    .unwrap_or_else(|| "the payment method was not accepted".into()),
            }
        }
        // Not settled either way yet: a later lookup will tell.
        IntentStatus::Processing => return Err(unknown()),
    })
}

#[async_trait]
impl PaymentProvider for StripePayments {
    fn name(&self) -> &str {
        NAME
    }

    /// Stripe takes every currency Itinera knows; a card must be saved first (no open method).
    fn profile(&self) -> PaymentProfile {
        PaymentProfile {
            currencies: None,
            home_regions: &[],
            open_method: None,
            regional_open_methods: &[],
            // Only test keys are taken for now, and Stripe's test methods work with any.
            methods: &[ListedMethod {
                token: "pm_card_visa",
                label: "Stripe's test Visa (test mode)",
            }],
        }
    }

    fn check_amount(&self, amount: Money) -> Result<(), String> {
        amount::to_stripe(&amount).map(|_| ())
    }

    fn check_method(&self, method: &PaymentMethodToken) -> Result<(), String> {
        let token = method.as_str();
        if token.starts_with("pm_") && !token.starts_with("pm_sandbox_") {
            Ok(())
        } else {
            Err(
                "Stripe charges Stripe payment methods: a pm_… id (pm_card_visa in test mode)"
                    .into(),
            )
        }
    }

    async fn authorize(
        &self,
        request: AuthorizeRequest<'_>,
    ) -> Result<PaymentHandle, PaymentError> {
        let mut form = vec![
            ("amount", minor(&request.amount)?),
            (
                "currency",
                request.amount.currency().code().to_ascii_lowercase(),
            ),
            (
                "payment_method",
                request.payment_method.as_str().to_string(),
            ),
            ("payment_method_types[0]", "card".to_string()),
            ("capture_method", "manual".to_string()),
            ("confirm", "true".to_string()),
            ("return_url", request.return_url.to_string()),
            ("description", request.description.to_string()),
            ("metadata[order_id]", request.order_id.to_string()),
        ];
        if let Some(customer) = request.customer {
            form.push(("customer", customer.to_string()));
        }
        let intent: PaymentIntent = self
            .post("/v1/payment_intents", &form, request.idempotency_key)
            .await?;
        Ok(PaymentHandle {
            state: state_of(&intent)?,
            payment_id: intent.id,
        })
    }

    fn saves_methods(&self) -> bool {
        true
    }

    async fn start_saving_method(
        &self,
        request: SaveMethodRequest<'_>,
    ) -> Result<SaveMethodPage, PaymentError> {
        let customer = match request.customer {
            Some(customer) => customer.to_string(),
            None => {
                let created: Customer = self
                    .post(
                        "/v1/customers",
                        &[(
                            "metadata[itinera_owner]",
                            request.owner.as_str().to_string(),
                        )],
                        &IdempotencyKey::for_setup(request.setup_id, "customer"),
                    )
                    .await?;
                created.id
            }
        };
        let session: CheckoutSession = self
            .post(
                "/v1/checkout/sessions",
                &[
                    ("mode", "setup".to_string()),
                    ("customer", customer.clone()),
                    ("payment_method_types[0]", "card".to_string()),
                    ("success_url", request.return_url.to_string()),
                    ("cancel_url", request.return_url.to_string()),
                    ("client_reference_id", request.setup_id.to_string()),
                    ("metadata[itinera_setup]", request.setup_id.to_string()),
                ],
                &IdempotencyKey::for_setup(request.setup_id, "session"),
            )
            .await?;
        let url = session.url.ok_or_else(|| {
            ProviderError::rejected(NAME, "no_url", "Stripe opened a page without a URL")
        })?;
        Ok(SaveMethodPage {
            session_id: session.id,
            url,
            customer: Some(session.customer.unwrap_or(customer)),
            expires_at: DateTime::from_timestamp(session.expires_at, 0),
        })
    }

    async fn saved_method_state(&self, session_id: &str) -> Result<SaveMethodState, PaymentError> {
        let session: CheckoutSession = self
            .get(&format!("/v1/checkout/sessions/{session_id}"), &[])
            .await?;
        let setup_intent = match (session.status, session.setup_intent) {
            (Some(SessionStatus::Open) | None, _) => return Ok(SaveMethodState::Pending),
            (Some(SessionStatus::Expired), _) => {
                return Ok(SaveMethodState::Abandoned {
                    reason: "the Stripe page expired or was left before a card was saved".into(),
                });
            }
            (Some(SessionStatus::Complete), Some(id)) => id,
            (Some(SessionStatus::Complete), None) => {
                return Err(ProviderError::rejected(
                    NAME,
                    "no_setup_intent",
                    "the Stripe page completed without a SetupIntent",
                )
                .into());
            }
        };
        let intent: SetupIntent = self
            .get(&format!("/v1/setup_intents/{setup_intent}"), &[])
            .await?;
        let method = match (intent.status, intent.payment_method) {
            (SetupIntentStatus::Succeeded, Some(method)) => method,
            (SetupIntentStatus::Canceled, _) => {
                return Ok(SaveMethodState::Abandoned {
                    reason: "Stripe cancelled the card's setup".into(),
                });
            }
            // The bank is still checking the card (3-D Secure, processing).
            (
                SetupIntentStatus::RequiresPaymentMethod
                | SetupIntentStatus::RequiresConfirmation
                | SetupIntentStatus::RequiresAction
                | SetupIntentStatus::Processing
                | SetupIntentStatus::Succeeded,
                _,
            ) => return Ok(SaveMethodState::Pending),
        };
        let method: PaymentMethod = self
            .get(&format!("/v1/payment_methods/{method}"), &[])
            .await?;
        let label = method.card.as_ref().map_or_else(
            || "a payment method saved at Stripe".to_string(),
            card_label,
        );
        Ok(SaveMethodState::Saved {
            token: PaymentMethodToken::parse(&method.id).map_err(|_| unknown())?,
            label,
            customer: session.customer,
        })
    }

    async fn status(&self, payment_id: &str) -> Result<PaymentState, PaymentError> {
        let intent: PaymentIntent = self
            .get(
                &format!("/v1/payment_intents/{payment_id}"),
                &[("expand[0]", "latest_charge")],
            )
            .await?;
        state_of(&intent)
    }

    async fn capture(
        &self,
        payment_id: &str,
        amount: Money,
        idempotency_key: &IdempotencyKey,
    ) -> Result<Money, PaymentError> {
        let intent: PaymentIntent = self
            .post(
                &format!("/v1/payment_intents/{payment_id}/capture"),
                &[("amount_to_capture", minor(&amount)?)],
                idempotency_key,
            )
            .await?;
        money(intent.amount_received, &intent.currency)
    }

    async fn void(
        &self,
        payment_id: &str,
        idempotency_key: &IdempotencyKey,
    ) -> Result<(), PaymentError> {
        let _: PaymentIntent = self
            .post(
                &format!("/v1/payment_intents/{payment_id}/cancel"),
                &[("cancellation_reason", "abandoned".to_string())],
                idempotency_key,
            )
            .await?;
        Ok(())
    }

    async fn refund(
        &self,
        payment_id: &str,
        amount: Money,
        idempotency_key: &IdempotencyKey,
    ) -> Result<RefundReceipt, PaymentError> {
        let refund: Refund = self
            .post(
                "/v1/refunds",
                &[
                    ("payment_intent", payment_id.to_string()),
                    ("amount", minor(&amount)?),
                    ("reason", "requested_by_customer".to_string()),
                ],
                idempotency_key,
            )
            .await?;
        match refund.status {
            RefundStatus::Failed | RefundStatus::Canceled => Err(ProviderError::Rejected {
                provider: NAME.to_string(),
                code: "refund_failed".into(),
                message: refund
                    .failure_reason
                    .unwrap_or_else(|| "the refund did not go through".into()),
            }
            .into()),
            RefundStatus::Pending | RefundStatus::RequiresAction | RefundStatus::Succeeded => {
                Ok(RefundReceipt {
                    amount: money(refund.amount, &refund.currency)?,
                    refund_id: refund.id,
                })
            }
        }
    }
}
