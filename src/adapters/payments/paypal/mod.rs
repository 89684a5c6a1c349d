//! PayPal: a hold is an Orders v2 order with `intent=AUTHORIZE`. The payer approves it on
//! PayPal (the customer action, like 3-D Secure), the order is then authorized, and the
//! authorization is captured, voided, or its capture refunded.
//!
//! The payment id Itinera keeps is PayPal's order id; the authorization and capture ids are read
//! from the order when needed, so nothing more has to be stored. When the order's driver finds
//! the payer approved, it authorizes the order (`complete_action`, under a `PayPal-Request-Id`
//! derived from the order, so it happens once): that is the moment the hold exists. A plain
//! lookup never places a hold. Small typed wire structs over reqwest, as for Stripe; the
//! OAuth2 client-credentials token is cached and fetched again shortly before it expires, or
//! when PayPal answers 401.
//!
//! Saving PayPal for later is Vault v3: a setup token (`usage_type=MERCHANT`, the payer's
//! customer id when known) whose `approve` link the payer follows; once it reads `APPROVED`, a
//! payment token is made from it (`payment_source.token.type=SETUP_TOKEN`, under a request id
//! derived from the setup token, so asking twice replays it — PayPal keeps request ids for 3
//! hours). A plan pays with it as `paypal_vault_<id>`: the order is sent with
//! `payment_source.paypal.vault_id` and needs no payer approval, so PayPal answers `COMPLETED`
//! with the authorization at once (single-step, for which `PayPal-Request-Id` is mandatory).
//! Verified against PayPal's Payment Method Tokens v3 reference and "save PayPal without
//! purchase" guide, its Orders v2 authorize reference, and the PHP server SDK's
//! `PaymentTokenStatus` enum.

mod wire;

use std::time::{Duration, Instant};

use async_trait::async_trait;
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::adapters::http::{self, ClientError};
use crate::domain::idempotency::IdempotencyKey;
use crate::domain::ids::PaymentMethodToken;
use crate::domain::money::{Currency, Money};
use crate::ports::ProviderError;
use crate::ports::payment::{
    AuthorizeRequest, ListedMethod, PaymentError, PaymentHandle, PaymentProfile, PaymentProvider,
    PaymentState, RefundReceipt, SaveMethodPage, SaveMethodRequest, SaveMethodState,
};

use wire::{
    Amount, AuthorizationStatus, CaptureStatus, ErrorBody, Order, OrderStatus, PaymentToken,
    Payments, Refund, RefundStatus, SetupToken, SetupTokenStatus, Token,
};

const NAME: &str = "paypal";
/// A saved PayPal account as a plan's payment method: this, then the vault id.
const VAULT_PREFIX: &str = "paypal_vault_";
/// A token this close to expiry is fetched again rather than used.
const TOKEN_MARGIN: Duration = Duration::from_secs(60);

/// Where PayPal is and how to sign in. `Debug` hides the secret.
#[derive(Clone)]
pub struct PayPalSettings {
    pub client_id: String,
    pub client_secret: String,
    /// `https://api-m.sandbox.paypal.com`, or a local fake in tests.
    pub base_url: String,
}

impl std::fmt::Debug for PayPalSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PayPalSettings")
            .field("client_id", &self.client_id)
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

pub struct PayPalPayments {
    http: reqwest::Client,
    settings: PayPalSettings,
    token: Mutex<Option<(String, Instant)>>,
}

/// One request to PayPal's REST API; the body is JSON text.
struct Call<'a> {
    method: reqwest::Method,
    path: String,
    body: Option<String>,
    request_id: Option<&'a str>,
}

impl PayPalPayments {
    pub fn new(settings: PayPalSettings) -> Result<PayPalPayments, ClientError> {
        Ok(PayPalPayments {
            http: http::client(http::CALL_TIMEOUT)?,
            settings,
            token: Mutex::new(None),
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.settings.base_url.trim_end_matches('/'))
    }

    /// A valid access token, fetched when there is none or it is about to expire.
    async fn access_token(&self, refresh: bool) -> Result<String, PaymentError> {
        let mut cached = self.token.lock().await;
        if !refresh
            && let Some((token, expires)) = cached.as_ref()
            && Instant::now() + TOKEN_MARGIN < *expires
        {
            return Ok(token.clone());
        }
        let request = self
            .http
            .post(self.url("/v1/oauth2/token"))
            .basic_auth(&self.settings.client_id, Some(&self.settings.client_secret))
            .form(&[("grant_type", "client_credentials")]);
        let response = http::dispatch(NAME, request).await?;
        let token: Token = read(response).await?;
        *cached = Some((
            token.access_token.clone(),
            Instant::now() + Duration::from_secs(token.expires_in),
        ));
        Ok(token.access_token)
    }

    /// Sends the call with a token, once more with a fresh token if PayPal no longer takes it.
    async fn call<T: DeserializeOwned>(&self, call: Call<'_>) -> Result<T, PaymentError> {
        let mut refresh = false;
        loop {
            let token = self.access_token(refresh).await?;
            let mut request = self
                .http
                .request(call.method.clone(), self.url(&call.path))
                .bearer_auth(token)
                .header("Prefer", "return=representation");
            if let Some(id) = call.request_id {
                request = request.header("PayPal-Request-Id", id);
            }
            if let Some(body) = &call.body {
                request = request
                    .header("Content-Type", "application/json")
                    .body(body.clone());
            }
            let response = http::dispatch(NAME, request).await?;
            if response.status() == StatusCode::UNAUTHORIZED && !refresh {
                refresh = true;
                continue;
            }
            return read(response).await;
        }
    }

    /// Asks PayPal whether a webhook delivery is genuine (`request` as
    /// `verify-webhook-signature` takes it, the event in it byte for byte).
    pub async fn verify_webhook(&self, request: String) -> Result<bool, PaymentError> {
        let answer: Value = self
            .call(Call {
                method: reqwest::Method::POST,
                path: "/v1/notifications/verify-webhook-signature".into(),
                body: Some(request),
                request_id: None,
            })
            .await?;
        Ok(answer["verification_status"] == "SUCCESS")
    }

    async fn order(&self, id: &str) -> Result<Order, PaymentError> {
        self.call(Call {
            method: reqwest::Method::GET,
            path: format!("/v2/checkout/orders/{id}"),
            body: None,
            request_id: None,
        })
        .await
    }

    /// Authorizes an order the payer approved. Keyed by the order: a second lookup replays it.
    async fn authorize_approved(&self, id: &str) -> Result<Order, PaymentError> {
        self.call(Call {
            method: reqwest::Method::POST,
            path: format!("/v2/checkout/orders/{id}/authorize"),
            body: Some("{}".into()),
            request_id: Some(&format!("itn-authorize-{id}")),
        })
        .await
    }

    /// Makes the payment token of an approved setup token. Keyed by the setup token, so a
    /// second ask replays the first answer.
    async fn vault(&self, setup_token: &str) -> Result<PaymentToken, PaymentError> {
        self.call(Call {
            method: reqwest::Method::POST,
            path: "/v3/vault/payment-tokens".into(),
            body: Some(
                json!({"payment_source": {"token": {"id": setup_token, "type": "SETUP_TOKEN"}}})
                    .to_string(),
            ),
            request_id: Some(&format!("itn-vault-{setup_token}")),
        })
        .await
    }

    /// The payments of the order's one purchase unit, if it has any yet.
    fn payments(order: &Order) -> Option<&Payments> {
        order
            .purchase_units
            .first()
            .and_then(|unit| unit.payments.as_ref())
    }

    /// What the order means for Itinera's payment.
    fn state_of(&self, order: Order) -> Result<PaymentState, PaymentError> {
        match order.status {
            OrderStatus::Created | OrderStatus::Saved | OrderStatus::PayerActionRequired => {
                let link = order
                    .links
                    .iter()
                    .find(|link| link.rel == "payer-action" || link.rel == "approve");
                Ok(match link {
                    Some(link) => PaymentState::ActionRequired {
                        url: link.href.clone(),
                    },
                    None => PaymentState::Failed {
                        reason: "PayPal gave no page for the payer to approve the payment".into(),
                    },
                })
            }
            // The payer approved; the hold is placed by complete_action, not by a lookup.
            OrderStatus::Approved => Ok(PaymentState::ActionRequired { url: String::new() }),
            OrderStatus::Voided => Ok(PaymentState::Voided),
            OrderStatus::Completed => settled_state(Self::payments(&order)),
        }
    }

    async fn authorization_id(&self, id: &str) -> Result<String, PaymentError> {
        let order = self.order(id).await?;
        Self::payments(&order)
            .and_then(|p| p.authorizations.first())
            .map(|a| a.id.clone())
            .ok_or_else(|| rejected("no_authorization", "the PayPal order has no authorization"))
    }
}

/// A saved PayPal account as the person recognises it, the address masked: "PayPal a•••@example.com".
fn wallet_label(token: &PaymentToken) -> String {
    let email = token
        .payment_source
        .as_ref()
        .and_then(|source| source.paypal.as_ref())
        .and_then(|wallet| wallet.email_address.as_deref());
    match email.and_then(|email| email.split_once('@')) {
        Some((user, domain)) => {
            format!("PayPal {}•••@{domain}", user.chars().next().unwrap_or('•'))
        }
        None => "PayPal account".to_string(),
    }
}

/// A completed order's payments as one state.
fn settled_state(payments: Option<&Payments>) -> Result<PaymentState, PaymentError> {
    let Some((payments, authorization)) =
        payments.and_then(|p| p.authorizations.first().map(|a| (p, a)))
    else {
        return Ok(PaymentState::Failed {
            reason: "the PayPal order completed without an authorization".into(),
        });
    };
    Ok(match authorization.status {
        AuthorizationStatus::Created | AuthorizationStatus::Pending => PaymentState::Authorized {
            amount: money(&authorization.amount)?,
        },
        AuthorizationStatus::Captured | AuthorizationStatus::PartiallyCaptured => {
            let currency = currency(&authorization.amount.currency_code)?;
            let captured = payments.captures.iter().filter(|c| {
                matches!(
                    c.status,
                    CaptureStatus::Completed
                        | CaptureStatus::PartiallyRefunded
                        | CaptureStatus::Refunded
                )
            });
            let refunded = payments
                .refunds
                .iter()
                .filter(|r| matches!(r.status, RefundStatus::Completed | RefundStatus::Pending));
            PaymentState::Captured {
                amount: total(currency, captured.map(|c| &c.amount))?,
                refunded: total(currency, refunded.map(|r| &r.amount))?,
            }
        }
        AuthorizationStatus::Voided => PaymentState::Voided,
        AuthorizationStatus::Denied | AuthorizationStatus::Expired => PaymentState::Failed {
            reason: "PayPal denied or expired the authorization".into(),
        },
    })
}

fn total<'a>(
    currency: Currency,
    amounts: impl Iterator<Item = &'a Amount>,
) -> Result<Money, PaymentError> {
    let mut sum = Money::zero(currency);
    for amount in amounts {
        sum = sum.checked_add(&money(amount)?).map_err(|_| unknown())?;
    }
    Ok(sum)
}

fn rejected(code: &str, message: &str) -> PaymentError {
    ProviderError::rejected(NAME, code, message).into()
}

/// Amounts in PayPal's answers: one we cannot read leaves the outcome unknown, since the answer
/// may be to a call that already moved money.
fn currency(code: &str) -> Result<Currency, PaymentError> {
    Currency::parse(code).map_err(|_| unknown())
}

fn money(amount: &Amount) -> Result<Money, PaymentError> {
    Money::parse(&amount.value, &amount.currency_code).map_err(|_| unknown())
}

/// Currencies PayPal takes in whole units only, whatever their ISO decimals
/// (developer.paypal.com/reference/currency-codes: "does not support decimals").
const WHOLE_UNITS_ONLY: [&str; 3] = ["HUF", "JPY", "TWD"];

/// Our amount in PayPal's form: a decimal string with exactly the decimals PayPal takes for the
/// currency. An amount PayPal cannot take (forints with fillér) is refused before any call,
/// never rounded: a rounded hold or capture is not what the person approved.
fn amount(money: &Money) -> Result<Amount, PaymentError> {
    let code = money.currency().code();
    let whole = WHOLE_UNITS_ONLY.contains(&code);
    if whole && !money.amount().fract().is_zero() {
        return Err(ProviderError::rejected(
            NAME,
            "amount",
            format!("PayPal takes {code} in whole units only, and {money} is not: pay with another provider"),
        )
        .into());
    }
    let decimals = if whole {
        0
    } else {
        money.currency().exponent() as usize
    };
    Ok(Amount {
        currency_code: code.to_string(),
        value: format!("{:.*}", decimals, money.amount()),
    })
}

/// Reads an answer: the body on success (an empty 204 reads as `null`), our error otherwise.
async fn read<T: DeserializeOwned>(response: reqwest::Response) -> Result<T, PaymentError> {
    let status = response.status();
    if let Some(error) = http::status_error(NAME, status, response.headers()) {
        return Err(error.into());
    }
    let body = response.text().await.map_err(|_| unknown())?;
    if status.is_success() {
        let text = if body.trim().is_empty() {
            "null"
        } else {
            &body
        };
        return serde_json::from_str(text).map_err(|error| {
            tracing::warn!(%error, "unreadable answer from PayPal");
            unknown()
        });
    }
    Err(refusal(status, &body))
}

fn unknown() -> PaymentError {
    ProviderError::OutcomeUnknown {
        provider: NAME.to_string(),
    }
    .into()
}

/// PayPal's error as ours: a declined instrument is a decline; a conflict (a call for the same
/// resource in progress) is worth sending again; anything else is PayPal's refusal.
fn refusal(status: StatusCode, body: &str) -> PaymentError {
    let error = serde_json::from_str::<ErrorBody>(body).ok();
    let issue = error
        .as_ref()
        .and_then(|e| e.details.first())
        .and_then(|d| d.issue.clone());
    let message = error
        .as_ref()
        .and_then(|e| {
            e.details
                .first()
                .and_then(|d| d.description.clone())
                .or_else(|| e.message.clone())
                .or_else(|| e.error_description.clone())
        })
        .unwrap_or_else(|| format!("HTTP {}", status.as_u16()));
    if status == StatusCode::CONFLICT {
        return ProviderError::Unavailable {
            provider: NAME.to_string(),
            message,
            retry_after: None,
        }
        .into();
    }
    if status == StatusCode::UNAUTHORIZED {
        return rejected(
            "authentication_failure",
            &format!("{message} (check ITINERA_PAYPAL_CLIENT_ID and ITINERA_PAYPAL_CLIENT_SECRET)"),
        );
    }
    if let Some(issue) = issue.as_deref()
        && matches!(issue, "INSTRUMENT_DECLINED" | "PAYER_CANNOT_PAY")
    {
        return PaymentError::Declined {
            code: issue.to_string(),
            message,
        };
    }
    let code = issue
        .or_else(|| error.and_then(|e| e.name))
        .unwrap_or_else(|| format!("http_{}", status.as_u16()));
    rejected(&code, &message)
}

#[async_trait]
impl PaymentProvider for PayPalPayments {
    fn name(&self) -> &str {
        NAME
    }

    /// PayPal's list of currencies it takes for payments (developer.paypal.com, currency codes).
    fn profile(&self) -> PaymentProfile {
        PaymentProfile {
            currencies: Some(&[
                "AUD", "BRL", "CAD", "CNY", "CZK", "DKK", "EUR", "HKD", "HUF", "ILS", "JPY", "MYR",
                "MXN", "TWD", "NZD", "NOK", "PHP", "PLN", "GBP", "SGD", "SEK", "CHF", "THB", "USD",
            ]),
            home_regions: &[],
            open_method: Some("paypal"),
            regional_open_methods: &[],
            methods: &[ListedMethod {
                token: "paypal",
                label: "PayPal: the payer approves on PayPal's page",
            }],
        }
    }

    fn only_saved(&self, method: &PaymentMethodToken) -> bool {
        method.as_str().starts_with(VAULT_PREFIX)
    }

    fn check_amount(&self, money: Money) -> Result<(), String> {
        amount(&money)
            .map(|_| ())
            .map_err(|error| error.to_string())
    }

    fn check_method(&self, method: &PaymentMethodToken) -> Result<(), String> {
        let vaulted = method
            .as_str()
            .strip_prefix(VAULT_PREFIX)
            .is_some_and(|id| !id.is_empty());
        if method.as_str() == "paypal" || vaulted {
            Ok(())
        } else {
            Err("with PayPal the payer chooses how to pay on PayPal's own page: use the payment method 'paypal', or a PayPal account saved with add_payment_method".into())
        }
    }

    async fn authorize(
        &self,
        request: AuthorizeRequest<'_>,
    ) -> Result<PaymentHandle, PaymentError> {
        // A saved account pays without the payer; otherwise the payer approves on PayPal.
        let source = match request.payment_method.as_str().strip_prefix(VAULT_PREFIX) {
            Some(vault_id) => json!({"vault_id": vault_id}),
            None => json!({"experience_context": {
                "return_url": request.return_url,
                "cancel_url": request.return_url,
                "user_action": "CONTINUE",
            }}),
        };
        let body = json!({
            "intent": "AUTHORIZE",
            "purchase_units": [{
                "reference_id": request.order_id.as_str(),
                "custom_id": request.order_id.as_str(),
                "description": request.description,
                "amount": amount(&request.amount)?,
            }],
            "payment_source": {"paypal": source},
        });
        let order: Order = self
            .call(Call {
                method: reqwest::Method::POST,
                path: "/v2/checkout/orders".into(),
                body: Some(body.to_string()),
                request_id: Some(request.idempotency_key.as_str()),
            })
            .await?;
        let payment_id = order.id.clone();
        Ok(PaymentHandle {
            state: self.state_of(order)?,
            payment_id,
        })
    }

    async fn status(&self, payment_id: &str) -> Result<PaymentState, PaymentError> {
        let order = self.order(payment_id).await?;
        self.state_of(order)
    }

    fn saves_methods(&self) -> bool {
        true
    }

    async fn start_saving_method(
        &self,
        request: SaveMethodRequest<'_>,
    ) -> Result<SaveMethodPage, PaymentError> {
        let mut body = json!({"payment_source": {"paypal": {
            "usage_type": "MERCHANT",
            "experience_context": {
                "return_url": request.return_url,
                "cancel_url": request.return_url,
            },
        }}});
        if let Some(customer) = request.customer {
            body["customer"] = json!({"id": customer});
        }
        let token: SetupToken = self
            .call(Call {
                method: reqwest::Method::POST,
                path: "/v3/vault/setup-tokens".into(),
                body: Some(body.to_string()),
                request_id: Some(IdempotencyKey::for_setup(request.setup_id, "session").as_str()),
            })
            .await?;
        let url = token
            .links
            .iter()
            .find(|link| link.rel == "approve")
            .map(|link| link.href.clone())
            .ok_or_else(|| rejected("no_approve_link", "PayPal gave no page to approve saving"))?;
        Ok(SaveMethodPage {
            session_id: token.id,
            url,
            customer: token.customer.map(|c| c.id),
            // PayPal does not say how long the approval link lasts.
            expires_at: None,
        })
    }

    async fn saved_method_state(&self, session_id: &str) -> Result<SaveMethodState, PaymentError> {
        let token: SetupToken = self
            .call(Call {
                method: reqwest::Method::GET,
                path: format!("/v3/vault/setup-tokens/{session_id}"),
                body: None,
                request_id: None,
            })
            .await?;
        match token.status {
            SetupTokenStatus::Created | SetupTokenStatus::PayerActionRequired => {
                Ok(SaveMethodState::Pending)
            }
            // Vaulted already (by an earlier ask whose answer was lost): the same request id
            // replays the payment token.
            SetupTokenStatus::Approved
            | SetupTokenStatus::Vaulted
            | SetupTokenStatus::Tokenized => {
                let saved = self.vault(&token.id).await?;
                Ok(SaveMethodState::Saved {
                    token: PaymentMethodToken::parse(&format!("{VAULT_PREFIX}{}", saved.id))
                        .map_err(|_| unknown())?,
                    label: wallet_label(&saved),
                    customer: saved
                        .customer
                        .as_ref()
                        .or(token.customer.as_ref())
                        .map(|c| c.id.clone()),
                })
            }
        }
    }

    async fn complete_action(&self, payment_id: &str) -> Result<PaymentState, PaymentError> {
        let order = self.order(payment_id).await?;
        if order.status != OrderStatus::Approved {
            return self.state_of(order);
        }
        match self.authorize_approved(&order.id).await {
            Ok(authorized) => self.state_of(authorized),
            Err(PaymentError::Declined { code, message }) => Ok(PaymentState::Failed {
                reason: format!("PayPal declined the payment ({code}): {message}"),
            }),
            // Authorized by a call at the same moment: read what it did.
            Err(PaymentError::Provider(ProviderError::Rejected { code, .. }))
                if code == "ORDER_ALREADY_AUTHORIZED" =>
            {
                let order = self.order(payment_id).await?;
                self.state_of(order)
            }
            Err(other) => Err(other),
        }
    }

    async fn capture(
        &self,
        payment_id: &str,
        amount_to_capture: Money,
        idempotency_key: &IdempotencyKey,
    ) -> Result<Money, PaymentError> {
        let authorization = self.authorization_id(payment_id).await?;
        let capture: wire::Capture = self
            .call(Call {
                method: reqwest::Method::POST,
                path: format!("/v2/payments/authorizations/{authorization}/capture"),
                body: Some(
                    json!({"amount": amount(&amount_to_capture)?, "final_capture": true})
                        .to_string(),
                ),
                request_id: Some(idempotency_key.as_str()),
            })
            .await?;
        match capture.status {
            CaptureStatus::Completed
            | CaptureStatus::PartiallyRefunded
            | CaptureStatus::Refunded => money(&capture.amount),
            // Not settled yet: a lookup later tells whether the money came.
            CaptureStatus::Pending => Err(unknown()),
            CaptureStatus::Declined | CaptureStatus::Failed => Err(PaymentError::Declined {
                code: format!("CAPTURE_{:?}", capture.status).to_uppercase(),
                message: "PayPal did not collect the captured amount".into(),
            }),
        }
    }

    async fn void(
        &self,
        payment_id: &str,
        idempotency_key: &IdempotencyKey,
    ) -> Result<(), PaymentError> {
        let order = self.order(payment_id).await?;
        let Some(authorization) = Self::payments(&order)
            .and_then(|p| p.authorizations.first())
            .map(|a| a.id.clone())
        else {
            // Never approved or never authorized: there is no hold to release.
            return Ok(());
        };
        let _: Value = self
            .call(Call {
                method: reqwest::Method::POST,
                path: format!("/v2/payments/authorizations/{authorization}/void"),
                body: None,
                request_id: Some(idempotency_key.as_str()),
            })
            .await?;
        Ok(())
    }

    async fn refund(
        &self,
        payment_id: &str,
        refund_amount: Money,
        idempotency_key: &IdempotencyKey,
    ) -> Result<RefundReceipt, PaymentError> {
        let order = self.order(payment_id).await?;
        let capture = Self::payments(&order)
            .and_then(|p| p.captures.first())
            .map(|c| c.id.clone())
            .ok_or_else(|| rejected("no_capture", "nothing was captured on this PayPal order"))?;
        let refund: Refund = self
            .call(Call {
                method: reqwest::Method::POST,
                path: format!("/v2/payments/captures/{capture}/refund"),
                body: Some(json!({"amount": amount(&refund_amount)?}).to_string()),
                request_id: Some(idempotency_key.as_str()),
            })
            .await?;
        match refund.status {
            RefundStatus::Failed | RefundStatus::Cancelled => Err(rejected(
                "refund_failed",
                "PayPal did not complete the refund",
            )),
            RefundStatus::Pending | RefundStatus::Completed => Ok(RefundReceipt {
                amount: money(&refund.amount)?,
                refund_id: refund.id,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_carry_exactly_the_currencys_decimals() {
        let eur = Money::parse("12.5", "EUR").unwrap();
        assert_eq!(amount(&eur).unwrap().value, "12.50");
        let jpy = Money::parse("1200", "JPY").unwrap();
        assert_eq!(amount(&jpy).unwrap().value, "1200");
        assert_eq!(money(&amount(&eur).unwrap()).unwrap(), eur);
    }

    #[test]
    fn forints_and_new_taiwan_dollars_go_in_whole_units_and_fractions_are_refused() {
        let huf = Money::parse("1500", "HUF").unwrap();
        assert_eq!(amount(&huf).unwrap().value, "1500");
        assert_eq!(money(&amount(&huf).unwrap()).unwrap(), huf);
        let twd = Money::parse("320", "TWD").unwrap();
        assert_eq!(amount(&twd).unwrap().value, "320");
        let fillér = Money::parse("1500.50", "HUF").unwrap();
        let refused = amount(&fillér).unwrap_err().to_string();
        assert!(refused.contains("whole units"), "{refused}");
    }
}
