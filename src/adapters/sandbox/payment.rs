//! The sandbox payment provider, with Stripe-style magic payment method tokens:
//! `pm_sandbox_visa` succeeds, `pm_sandbox_declined` and `pm_sandbox_insufficient_funds` are
//! declined, and `pm_sandbox_3ds` needs the customer to complete 3-D Secure at a local page.
//! Cards saved on the sandbox's card page (`pm_sandbox_saved_…`) behave like the test card the
//! person chose there.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Value, json};

use super::Sandbox;
use super::card_ledger::SAVED_PREFIX;
use super::failures::{self, answer_lost, ledger_failure};
use super::ledger::{LedgerError, LedgerPayment, SandboxLedger, find_payment};
use crate::domain::idempotency::IdempotencyKey;
use crate::domain::ids::PaymentMethodToken;
use crate::domain::money::Money;
use crate::ports::ProviderError;
use crate::ports::payment::{
    AuthorizeRequest, ListedMethod, PaymentError, PaymentHandle, PaymentProfile, PaymentProvider,
    PaymentState, RefundReceipt, SaveMethodPage, SaveMethodRequest, SaveMethodState,
};

const NAME: &str = "sandbox_payments";

/// The magic tokens and what they do.
pub const SUCCEEDS: &str = "pm_sandbox_visa";
pub const DECLINED: &str = "pm_sandbox_declined";
pub const INSUFFICIENT_FUNDS: &str = "pm_sandbox_insufficient_funds";
pub const THREE_D_SECURE: &str = "pm_sandbox_3ds";

/// How long the card page stays open.
const CARD_PAGE_LIFETIME: chrono::Duration = chrono::Duration::hours(1);

#[derive(Clone)]
pub struct SandboxPayments {
    sandbox: Arc<Sandbox>,
}

impl SandboxPayments {
    pub fn new(sandbox: Arc<Sandbox>) -> Self {
        Self { sandbox }
    }
}

fn ledger_error(error: LedgerError) -> PaymentError {
    ledger_failure(NAME, error).into()
}

fn rejected(code: &str, message: &str) -> PaymentError {
    failures::rejected(NAME, code, message).into()
}

fn declined(payment: &LedgerPayment) -> PaymentError {
    let code = payment
        .failure
        .clone()
        .unwrap_or_else(|| "card_declined".into());
    let message = match code.as_str() {
        "insufficient_funds" => "the card has insufficient funds",
        _ => "the card was declined by the issuer",
    };
    PaymentError::Declined {
        code,
        message: message.into(),
    }
}

fn stored_payment(value: &Value) -> Result<LedgerPayment, PaymentError> {
    serde_json::from_value(value.clone())
        .map_err(|e| ledger_error(LedgerError::Database(format!("bad stored payment: {e}"))))
}

impl SandboxPayments {
    /// Runs one idempotent change to a payment: replays a stored answer, or applies `change`
    /// to the current payment and records the answer with the change in one transaction.
    async fn change<F>(
        &self,
        payment_id: &str,
        key: &IdempotencyKey,
        operation: &str,
        request: Value,
        change: F,
    ) -> Result<LedgerPayment, PaymentError>
    where
        F: FnOnce(&mut LedgerPayment) -> Result<Option<(&'static str, Money)>, PaymentError>,
    {
        let effect = self.sandbox.check(NAME, "payment", operation).await?;
        let answer = self
            .change_once(payment_id, key, operation, request, change)
            .await;
        answer_lost(NAME, effect, answer)
    }

    async fn change_once<F>(
        &self,
        payment_id: &str,
        key: &IdempotencyKey,
        operation: &str,
        request: Value,
        change: F,
    ) -> Result<LedgerPayment, PaymentError>
    where
        F: FnOnce(&mut LedgerPayment) -> Result<Option<(&'static str, Money)>, PaymentError>,
    {
        let mut tx = self.sandbox.ledger.begin().await.map_err(ledger_error)?;
        if let Some(stored) = SandboxLedger::replay(&mut tx, key.as_str(), operation, &request)
            .await
            .map_err(ledger_error)?
        {
            return stored_payment(&stored);
        }
        let mut payment = find_payment(&mut *tx, payment_id)
            .await
            .map_err(ledger_error)?
            .ok_or_else(|| rejected("resource_missing", &format!("no payment {payment_id}")))?;
        if let Some((movement, amount)) = change(&mut payment)? {
            SandboxLedger::update_payment(&mut tx, &payment)
                .await
                .map_err(ledger_error)?;
            SandboxLedger::record_movement(&mut tx, payment_id, movement, &amount)
                .await
                .map_err(ledger_error)?;
        }
        let response = serde_json::to_value(&payment)
            .map_err(|e| ledger_error(LedgerError::Database(e.to_string())))?;
        SandboxLedger::remember(&mut tx, key.as_str(), operation, &request, &response)
            .await
            .map_err(ledger_error)?;
        tx.commit().await.map_err(|e| ledger_error(e.into()))?;
        Ok(payment)
    }

    fn state_of(&self, payment: &LedgerPayment, action_url: Option<String>) -> PaymentState {
        match payment.status.as_str() {
            "requires_action" => PaymentState::ActionRequired {
                url: action_url.unwrap_or_default(),
            },
            "authorized" => PaymentState::Authorized {
                amount: payment.amount,
            },
            "captured" => PaymentState::Captured {
                amount: payment.captured,
                refunded: payment.refunded,
            },
            "voided" => PaymentState::Voided,
            _ => PaymentState::Failed {
                reason: declined(payment).to_string(),
            },
        }
    }

    /// Whether the token is one the sandbox issues. A saved card's existence is checked when it
    /// is charged: this check has no access to the ledger.
    fn method_known(method: &PaymentMethodToken) -> Result<(), String> {
        match method.as_str() {
            SUCCEEDS | DECLINED | INSUFFICIENT_FUNDS | THREE_D_SECURE => Ok(()),
            saved if saved.starts_with(SAVED_PREFIX) => Ok(()),
            _ => Err(format!(
                "the sandbox charges its test payment methods only: {SUCCEEDS}, {DECLINED}, {INSUFFICIENT_FUNDS}, {THREE_D_SECURE}, or a card saved with add_payment_method"
            )),
        }
    }

    /// The magic token whose behaviour `method` has: itself, or the test card a saved card was
    /// chosen as.
    async fn behaviour(&self, method: &str) -> Result<String, PaymentError> {
        if !method.starts_with(SAVED_PREFIX) {
            return Ok(method.to_string());
        }
        self.sandbox
            .ledger
            .saved_card(method)
            .await
            .map_err(ledger_error)?
            .map(|card| card.behaves_as)
            .ok_or_else(|| {
                rejected(
                    "payment_method_unknown",
                    "no card was saved with this token; save one with add_payment_method",
                )
            })
    }

    async fn authorize_once(
        &self,
        request: AuthorizeRequest<'_>,
    ) -> Result<PaymentHandle, PaymentError> {
        let method = request.payment_method.as_str();
        let (status, failure) = match self.behaviour(method).await?.as_str() {
            SUCCEEDS => ("authorized", None),
            DECLINED => ("failed", Some("card_declined")),
            INSUFFICIENT_FUNDS => ("failed", Some("insufficient_funds")),
            THREE_D_SECURE => ("requires_action", None),
            other => {
                return Err(rejected(
                    "payment_method_unknown",
                    &format!(
                        "{other} is not a sandbox payment method; use {SUCCEEDS}, {DECLINED}, {INSUFFICIENT_FUNDS} or {THREE_D_SECURE}"
                    ),
                ));
            }
        };
        let body =
            json!({"amount": request.amount, "method": method, "order": request.order_id.as_str()});
        let key = request.idempotency_key.as_str();
        let mut tx = self.sandbox.ledger.begin().await.map_err(ledger_error)?;
        let payment = match SandboxLedger::replay(&mut tx, key, "authorize", &body)
            .await
            .map_err(ledger_error)?
        {
            Some(stored) => stored_payment(&stored)?,
            None => {
                let payment = LedgerPayment {
                    id: format!("pi_sbx_{}", uuid::Uuid::new_v4().simple()),
                    method: method.into(),
                    status: status.into(),
                    amount: request.amount,
                    captured: Money::zero(request.amount.currency()),
                    refunded: Money::zero(request.amount.currency()),
                    failure: failure.map(str::to_string),
                };
                SandboxLedger::insert_payment(&mut tx, &payment)
                    .await
                    .map_err(ledger_error)?;
                if status == "authorized" {
                    SandboxLedger::record_movement(&mut tx, &payment.id, "hold", &payment.amount)
                        .await
                        .map_err(ledger_error)?;
                }
                let response = serde_json::to_value(&payment)
                    .map_err(|e| ledger_error(LedgerError::Database(e.to_string())))?;
                SandboxLedger::remember(&mut tx, key, "authorize", &body, &response)
                    .await
                    .map_err(ledger_error)?;
                tx.commit().await.map_err(|e| ledger_error(e.into()))?;
                payment
            }
        };
        if payment.status == "failed" {
            return Err(declined(&payment));
        }
        let action_url = if payment.status == "requires_action" {
            Some(
                self.sandbox
                    .action_url(&payment.id)
                    .await
                    .map_err(|message| ProviderError::unavailable(NAME, message))?,
            )
        } else {
            None
        };
        Ok(PaymentHandle {
            state: self.state_of(&payment, action_url),
            payment_id: payment.id,
        })
    }
}

#[async_trait]
impl PaymentProvider for SandboxPayments {
    fn name(&self) -> &str {
        NAME
    }

    fn profile(&self) -> PaymentProfile {
        PaymentProfile {
            currencies: None,
            home_regions: &[],
            open_method: Some(SUCCEEDS),
            regional_open_methods: &[],
            methods: &[
                ListedMethod {
                    token: SUCCEEDS,
                    label: "sandbox Visa: always approved",
                },
                ListedMethod {
                    token: THREE_D_SECURE,
                    label: "sandbox card that asks for 3-D Secure",
                },
                ListedMethod {
                    token: DECLINED,
                    label: "sandbox card that is always declined",
                },
                ListedMethod {
                    token: INSUFFICIENT_FUNDS,
                    label: "sandbox card without enough funds",
                },
            ],
        }
    }

    fn only_saved(&self, method: &PaymentMethodToken) -> bool {
        method.as_str().starts_with(SAVED_PREFIX)
    }

    fn check_method(&self, method: &PaymentMethodToken) -> Result<(), String> {
        Self::method_known(method)
    }

    async fn authorize(
        &self,
        request: AuthorizeRequest<'_>,
    ) -> Result<PaymentHandle, PaymentError> {
        let effect = self.sandbox.check(NAME, "payment", "authorize").await?;
        let answer = self.authorize_once(request).await;
        answer_lost(NAME, effect, answer)
    }

    fn saves_methods(&self) -> bool {
        true
    }

    /// Opens the sandbox's card page. The page's id comes from the setup's, so the same setup
    /// asked again finds the same page.
    async fn start_saving_method(
        &self,
        request: SaveMethodRequest<'_>,
    ) -> Result<SaveMethodPage, PaymentError> {
        self.sandbox.check(NAME, "payment", "save_method").await?;
        let session = format!(
            "cs_sbx_{}",
            request.setup_id.as_str().trim_start_matches("setup_")
        );
        let now = self.sandbox.clock.now();
        let setup = self
            .sandbox
            .ledger
            .open_card_setup(&session, now, now + CARD_PAGE_LIFETIME)
            .await
            .map_err(ledger_error)?;
        let base = self
            .sandbox
            .pages_base()
            .await
            .map_err(|message| ProviderError::unavailable(NAME, message))?;
        Ok(SaveMethodPage {
            url: format!("{base}/sandbox/cards/{session}"),
            session_id: session,
            customer: None,
            expires_at: Some(setup.expires_at),
        })
    }

    async fn saved_method_state(&self, session_id: &str) -> Result<SaveMethodState, PaymentError> {
        self.sandbox.check(NAME, "payment", "status").await?;
        let setup = self
            .sandbox
            .ledger
            .card_setup(session_id)
            .await
            .map_err(ledger_error)?
            .ok_or_else(|| rejected("resource_missing", &format!("no card page {session_id}")))?;
        Ok(match (setup.card, setup.status.as_str()) {
            (Some(card), _) => SaveMethodState::Saved {
                token: PaymentMethodToken::parse(&card.token).map_err(|e| {
                    ledger_error(LedgerError::Database(format!("bad saved token: {e}")))
                })?,
                label: card.label,
                customer: None,
            },
            (None, "cancelled") => SaveMethodState::Abandoned {
                reason: "the person cancelled on the sandbox card page".into(),
            },
            (None, _) if self.sandbox.clock.now() > setup.expires_at => {
                SaveMethodState::Abandoned {
                    reason: "the sandbox card page expired before a card was chosen".into(),
                }
            }
            (None, _) => SaveMethodState::Pending,
        })
    }

    async fn status(&self, payment_id: &str) -> Result<PaymentState, PaymentError> {
        self.sandbox.check(NAME, "payment", "status").await?;
        let payment = self
            .sandbox
            .ledger
            .payment(payment_id)
            .await
            .map_err(ledger_error)?
            .ok_or_else(|| rejected("resource_missing", &format!("no payment {payment_id}")))?;
        let action_url = if payment.status == "requires_action" {
            self.sandbox.action_url(payment_id).await.ok()
        } else {
            None
        };
        Ok(self.state_of(&payment, action_url))
    }

    async fn capture(
        &self,
        payment_id: &str,
        amount: Money,
        key: &IdempotencyKey,
    ) -> Result<Money, PaymentError> {
        let request = json!({"payment": payment_id, "amount": amount});
        let payment = self
            .change(payment_id, key, "capture", request, |payment| {
                if payment.status != "authorized" {
                    return Err(rejected(
                        "payment_intent_unexpected_state",
                        &format!("cannot capture a payment that is {}", payment.status),
                    ));
                }
                if amount > payment.amount || amount.currency() != payment.amount.currency() {
                    return Err(rejected(
                        "amount_too_large",
                        &format!("cannot capture {amount} of a {} hold", payment.amount),
                    ));
                }
                payment.status = "captured".into();
                payment.captured = amount;
                Ok(Some(("capture", amount)))
            })
            .await?;
        Ok(payment.captured)
    }

    async fn void(&self, payment_id: &str, key: &IdempotencyKey) -> Result<(), PaymentError> {
        let request = json!({"payment": payment_id});
        self.change(payment_id, key, "void", request, |payment| {
            match payment.status.as_str() {
                "authorized" => {
                    payment.status = "voided".into();
                    Ok(Some(("void", payment.amount)))
                }
                "requires_action" => {
                    payment.status = "voided".into();
                    Ok(None)
                }
                "voided" => Ok(None),
                other => Err(rejected(
                    "payment_intent_unexpected_state",
                    &format!("cannot void a payment that is {other}"),
                )),
            }
        })
        .await?;
        Ok(())
    }

    async fn refund(
        &self,
        payment_id: &str,
        amount: Money,
        key: &IdempotencyKey,
    ) -> Result<RefundReceipt, PaymentError> {
        let request = json!({"payment": payment_id, "amount": amount});
        self.change(payment_id, key, "refund", request, |payment| {
            if payment.status != "captured" {
                return Err(rejected(
                    "charge_not_refundable",
                    &format!("cannot refund a payment that is {}", payment.status),
                ));
            }
            let refunded = payment
                .refunded
                .checked_add(&amount)
                .map_err(|e| rejected("invalid_amount", &e.to_string()))?;
            if refunded > payment.captured {
                return Err(rejected(
                    "amount_too_large",
                    &format!(
                        "cannot refund {amount}: only {} of {} is left",
                        payment
                            .captured
                            .saturating_sub(&payment.refunded)
                            .unwrap_or(payment.captured),
                        payment.captured
                    ),
                ));
            }
            payment.refunded = refunded;
            Ok(Some(("refund", amount)))
        })
        .await?;
        Ok(RefundReceipt {
            refund_id: format!("re_{}", key.as_str().trim_start_matches("itn_")),
            amount,
        })
    }
}
