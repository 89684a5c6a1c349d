//! Provider webhooks: a signed event (3-D Secure done, payer approved, payment failed) moves the
//! order it is about on at once, rather than at the next execute call or recovery pass.
//!
//! Every delivery is verified first (Stripe: HMAC over timestamp and body, with a five-minute
//! window; PayPal: PayPal's own verification call; Antom: its RSA signature; WeChat Pay: its RSA
//! signature with a five-minute window, then its resource decrypted with the APIv3 key). A forged
//! or stale delivery is refused and changes nothing. An event already handled is acknowledged and changes nothing, so a provider
//! retrying, or someone replaying a captured delivery, has no effect. An event is only marked
//! handled once the order was driven, so a failure here is retried by the provider.

pub mod antom;
pub mod paypal;
mod server;
pub mod stripe;
pub mod wechat;

use std::sync::Arc;

use axum::http::HeaderMap;

use crate::adapters::payments::antom::Keys;
use crate::adapters::payments::paypal::PayPalPayments;
use crate::adapters::payments::wechat::{ApiV3Key, Verifier};
use crate::domain::ids::OrderId;
use crate::domain::order::OrderStatus;
use crate::orchestrator::{ExecutionError, Orchestrator};
use crate::ports::{Clock, PaymentError, Store, StoreError};

pub use server::{listen, serve};

/// What a provider's event says, once verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderEvent {
    /// The provider's event id: the same event delivered twice has the same id.
    pub id: String,
    pub kind: String,
    /// The payment (Stripe PaymentIntent, PayPal order) the event is about, if any.
    pub payment: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("no webhooks from '{0}': Itinera takes stripe, paypal, antom and wechat")]
    UnknownProvider(String),
    #[error("{provider} webhooks are not set up: set {setting}")]
    NotConfigured {
        provider: &'static str,
        setting: &'static str,
    },
    #[error("the delivery's signature does not verify")]
    BadSignature,
    #[error("the delivery is too old (or from the future) to be trusted")]
    Stale,
    #[error("the delivery is not a readable event: {0}")]
    Malformed(String),
    /// The delivery's encrypted part does not open with our key (WeChat Pay's resource).
    #[error("the delivery does not decrypt: {0}")]
    Undecryptable(String),
    #[error("the provider could not verify the delivery: {0}")]
    Verification(PaymentError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Execution(#[from] ExecutionError),
}

/// What handling a delivery did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Already handled: nothing done.
    Duplicate,
    /// Not about a payment Itinera follows.
    Ignored,
    /// About a payment no order of Itinera's uses.
    NoOrder,
    /// The order was driven on and now stands here.
    Applied { order: OrderId, status: OrderStatus },
}

/// The secrets that verify deliveries, per provider.
#[derive(Clone, Default)]
pub struct WebhookSecrets {
    /// Stripe endpoint secret, `whsec_…`.
    pub stripe: Option<String>,
    /// PayPal: the client that asks PayPal to verify, and this endpoint's webhook id.
    pub paypal: Option<(Arc<PayPalPayments>, String)>,
    /// Antom: the keys whose public half verifies notifications, and the path of the notify URL
    /// Antom was given (what it signs).
    pub antom: Option<(Keys, String)>,
    /// WeChat Pay: its public key (with its id), which signs notifications, and the merchant's
    /// APIv3 key, which decrypts them.
    pub wechat: Option<(Verifier, ApiV3Key)>,
}

impl WebhookSecrets {
    /// These secrets, with the ones `other` has that these lack.
    pub fn merged(self, other: WebhookSecrets) -> WebhookSecrets {
        WebhookSecrets {
            stripe: self.stripe.or(other.stripe),
            paypal: self.paypal.or(other.paypal),
            antom: self.antom.or(other.antom),
            wechat: self.wechat.or(other.wechat),
        }
    }
}

#[derive(Clone)]
pub struct Webhooks {
    store: Arc<dyn Store>,
    orchestrator: Orchestrator,
    clock: Arc<dyn Clock>,
    secrets: WebhookSecrets,
}

impl Webhooks {
    pub fn new(
        store: Arc<dyn Store>,
        orchestrator: Orchestrator,
        clock: Arc<dyn Clock>,
        secrets: WebhookSecrets,
    ) -> Webhooks {
        Webhooks {
            store,
            orchestrator,
            clock,
            secrets,
        }
    }

    /// Verifies a delivery and acts on it.
    pub async fn receive(
        &self,
        provider: &str,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<Outcome, WebhookError> {
        let event = self.verified(provider, headers, body).await?;
        if self.store.delivered(provider, &event.id).await? {
            return Ok(Outcome::Duplicate);
        }
        let outcome = match &event.payment {
            None => Outcome::Ignored,
            Some(payment) => match self.orchestrator.resume_payment(provider, payment).await? {
                None => Outcome::NoOrder,
                Some(order) => {
                    self.store
                        .record_audit(
                            &order.owner,
                            "payment.event",
                            order.id.as_str(),
                            &format!(
                                "{provider} event {} ({}); order now {}",
                                event.id,
                                event.kind,
                                order.status.as_str()
                            ),
                        )
                        .await?;
                    Outcome::Applied {
                        order: order.id,
                        status: order.status,
                    }
                }
            },
        };
        if !self
            .store
            .record_delivery(provider, &event.id, self.clock.now())
            .await?
        {
            // Handled at the same moment by another delivery: driving twice changed nothing.
            return Ok(Outcome::Duplicate);
        }
        Ok(outcome)
    }

    async fn verified(
        &self,
        provider: &str,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<ProviderEvent, WebhookError> {
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::to_string)
        };
        match provider {
            "stripe" => {
                let secret = self
                    .secrets
                    .stripe
                    .as_deref()
                    .ok_or(WebhookError::NotConfigured {
                        provider: "stripe",
                        setting: "ITINERA_STRIPE_WEBHOOK_SECRET",
                    })?;
                let signature = header("stripe-signature").ok_or(WebhookError::BadSignature)?;
                stripe::verify(&signature, body, secret, self.clock.now())?;
                stripe::parse(body)
            }
            "paypal" => {
                let (client, webhook_id) =
                    self.secrets
                        .paypal
                        .as_ref()
                        .ok_or(WebhookError::NotConfigured {
                            provider: "paypal",
                            setting: "ITINERA_PAYPAL_WEBHOOK_ID",
                        })?;
                let request = paypal::verification_request(header, webhook_id, body)?;
                if !client
                    .verify_webhook(request)
                    .await
                    .map_err(WebhookError::Verification)?
                {
                    return Err(WebhookError::BadSignature);
                }
                paypal::parse(body)
            }
            "antom" => {
                let (keys, path) =
                    self.secrets
                        .antom
                        .as_ref()
                        .ok_or(WebhookError::NotConfigured {
                            provider: "antom",
                            setting: "ITINERA_PAYMENT_PROVIDER=antom",
                        })?;
                antom::verify(keys, path, header, body)?;
                antom::parse(body)
            }
            "wechat" => {
                let (platform, key) =
                    self.secrets
                        .wechat
                        .as_ref()
                        .ok_or(WebhookError::NotConfigured {
                            provider: "wechat",
                            setting: "ITINERA_PAYMENT_PROVIDER=wechat",
                        })?;
                wechat::verify(platform, header, body, self.clock.now())?;
                wechat::parse(body, key)
            }
            other => Err(WebhookError::UnknownProvider(other.to_string())),
        }
    }
}
