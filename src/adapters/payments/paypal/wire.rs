//! PayPal's wire format, as far as Itinera reads it: the OAuth token, Orders v2 with their
//! payments, and the error object. Amounts are decimal strings with the currency's decimals.

use serde::{Deserialize, Serialize};

/// The OAuth token. No `Debug`: it must never reach a log.
#[derive(Deserialize)]
pub struct Token {
    pub access_token: String,
    pub expires_in: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Amount {
    pub currency_code: String,
    pub value: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderStatus {
    Created,
    Saved,
    Approved,
    Voided,
    Completed,
    PayerActionRequired,
}

#[derive(Debug, Deserialize)]
pub struct Order {
    pub id: String,
    pub status: OrderStatus,
    #[serde(default)]
    pub links: Vec<Link>,
    #[serde(default)]
    pub purchase_units: Vec<PurchaseUnit>,
}

#[derive(Debug, Deserialize)]
pub struct Link {
    pub href: String,
    pub rel: String,
}

#[derive(Debug, Deserialize)]
pub struct PurchaseUnit {
    pub payments: Option<Payments>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Payments {
    #[serde(default)]
    pub authorizations: Vec<Authorization>,
    #[serde(default)]
    pub captures: Vec<Capture>,
    #[serde(default)]
    pub refunds: Vec<Refund>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AuthorizationStatus {
    Created,
    Captured,
    Denied,
    PartiallyCaptured,
    Voided,
    Pending,
    Expired,
}

#[derive(Debug, Deserialize)]
pub struct Authorization {
    pub id: String,
    pub status: AuthorizationStatus,
    pub amount: Amount,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CaptureStatus {
    Completed,
    Declined,
    PartiallyRefunded,
    Pending,
    Refunded,
    Failed,
}

#[derive(Debug, Deserialize)]
pub struct Capture {
    pub id: String,
    pub status: CaptureStatus,
    pub amount: Amount,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RefundStatus {
    Cancelled,
    Failed,
    Pending,
    Completed,
}

#[derive(Debug, Deserialize)]
pub struct Refund {
    pub id: String,
    pub status: RefundStatus,
    pub amount: Amount,
}

/// Every error answer of the REST API.
#[derive(Debug, Deserialize)]
pub struct ErrorBody {
    pub name: Option<String>,
    pub message: Option<String>,
    #[serde(default)]
    pub details: Vec<Detail>,
    /// The OAuth endpoint's own shape.
    pub error_description: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Detail {
    pub issue: Option<String>,
    pub description: Option<String>,
}

/// A Vault v3 setup token's (and payment token's) status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SetupTokenStatus {
    Created,
    PayerActionRequired,
    Approved,
    Vaulted,
    Tokenized,
}

/// `POST /v3/vault/setup-tokens`: the payer approves saving PayPal at its `approve` link.
#[derive(Debug, Deserialize)]
pub struct SetupToken {
    pub status: SetupTokenStatus,
    pub customer: Option<VaultCustomer>,
    #[serde(default)]
    pub links: Vec<Link>,
    pub id: String,
}

/// The payer as PayPal's vault knows them.
#[derive(Debug, Deserialize)]
pub struct VaultCustomer {
    pub id: String,
}

/// `POST /v3/vault/payment-tokens`: the saved PayPal account, charged later by `vault_id`.
#[derive(Debug, Deserialize)]
pub struct PaymentToken {
    pub id: String,
    pub customer: Option<VaultCustomer>,
    pub payment_source: Option<VaultedSource>,
}

#[derive(Debug, Deserialize)]
pub struct VaultedSource {
    pub paypal: Option<VaultedWallet>,
}

#[derive(Debug, Deserialize)]
pub struct VaultedWallet {
    pub email_address: Option<String>,
}
