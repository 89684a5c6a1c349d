//! Payment methods a person saved on a provider's page (add_payment_method), and the pages
//! opened for it.
//!
//! Card details never reach Itinera: the person types them on the provider's page, and what comes
//! back is the provider's token, a label to recognise it by, and the provider-side customer it is
//! attached to. A saved token belongs to the person who saved it and to nobody else.

use chrono::{DateTime, Utc};

use super::ids::{OwnerId, PaymentMethodToken, SetupId};

/// Where a page opened to save a payment method stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetupStatus {
    /// The page is open; the person has not finished on it.
    Pending,
    /// A payment method was saved from it.
    Saved,
    /// Nothing was saved: the person cancelled, or the page expired. Says why.
    Abandoned(String),
}

impl SetupStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            SetupStatus::Pending => "pending",
            SetupStatus::Saved => "saved",
            SetupStatus::Abandoned(_) => "abandoned",
        }
    }
}

/// A page opened at a provider for the person to save a payment method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MethodSetup {
    pub id: SetupId,
    pub owner: OwnerId,
    pub provider: String,
    /// The provider's id for the page (Checkout Session, setup token, sandbox session).
    pub session_id: String,
    pub url: String,
    /// The person at the provider (Stripe customer), when the provider keeps one.
    pub customer: Option<String>,
    pub status: SetupStatus,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// A payment method the person saved: usable as a plan's payment_method, by them only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedMethod {
    pub owner: OwnerId,
    pub provider: String,
    pub token: PaymentMethodToken,
    /// What it is in words ("Visa •••• 4242, expires 12/2030"): never a full card number.
    pub label: String,
    /// The provider-side customer the method is attached to; charges must name it.
    pub customer: Option<String>,
    pub setup_id: SetupId,
    pub added_at: DateTime<Utc>,
}
