//! WeChat Pay API v3's wire format, as far as Itinera writes and reads it, after the official Go
//! SDK's models (`services/payments/{native,jsapi}/models.go`,
//! `services/refunddomestic/models.go`, `core/error.go`). Amounts are integer fen; the currency
//! is always `CNY`. Fields Itinera does not read are left out: serde ignores them.

use serde::{Deserialize, Serialize};

/// A Native (QR code) or JSAPI order.
#[derive(Debug, Serialize)]
pub struct PrepayRequest<'a> {
    pub appid: &'a str,
    pub mchid: &'a str,
    pub description: &'a str,
    pub out_trade_no: &'a str,
    /// After this the order can no longer be paid: RFC 3339, `YYYY-MM-DDTHH:mm:ss+08:00`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_expire: Option<String>,
    pub notify_url: &'a str,
    pub amount: Amount,
    /// Only for JSAPI: who pays.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payer: Option<Payer<'a>>,
}

#[derive(Debug, Serialize)]
pub struct Amount {
    pub total: i64,
    pub currency: &'static str,
}

#[derive(Debug, Serialize)]
pub struct Payer<'a> {
    pub openid: &'a str,
}

/// The answer to a Native order: what the customer's QR code encodes.
#[derive(Debug, Deserialize)]
pub struct NativePrepay {
    pub code_url: String,
}

/// The answer to a JSAPI order.
#[derive(Debug, Deserialize)]
pub struct JsapiPrepay {
    pub prepay_id: String,
}

/// `trade_state`. `NOTPAY`, `USERPAYING` and `ACCEPT` are not final (the values are from WeChat
/// Pay's documentation; the SDK types the field as a plain string).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum TradeState {
    Success,
    Refund,
    NotPay,
    Closed,
    Revoked,
    UserPaying,
    PayError,
    Accept,
    #[serde(other)]
    Other,
}

/// A transaction, as the query by merchant order number answers it.
#[derive(Debug, Deserialize)]
pub struct Transaction {
    pub trade_state: TradeState,
    #[serde(default)]
    pub trade_state_desc: Option<String>,
    /// Absent, or without `total`, on some unpaid orders (unconfirmed), so optional.
    #[serde(default)]
    pub amount: Option<TransactionAmount>,
}

#[derive(Debug, Deserialize)]
pub struct TransactionAmount {
    pub total: Option<i64>,
    pub currency: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct CloseRequest<'a> {
    pub mchid: &'a str,
}

#[derive(Debug, Serialize)]
pub struct RefundRequest<'a> {
    pub out_trade_no: &'a str,
    pub out_refund_no: &'a str,
    pub notify_url: &'a str,
    pub amount: RefundAmountRequest,
}

#[derive(Debug, Serialize)]
pub struct RefundAmountRequest {
    pub refund: i64,
    /// The transaction's total, which WeChat Pay checks.
    pub total: i64,
    pub currency: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum RefundStatus {
    Success,
    Processing,
    /// The bank could not return the money (card closed or frozen): settled by hand in the
    /// merchant platform.
    Abnormal,
    Closed,
    #[serde(other)]
    Other,
}

/// A refund, as creating or querying it answers.
#[derive(Debug, Deserialize)]
pub struct Refund {
    pub out_refund_no: String,
    pub status: RefundStatus,
    pub amount: RefundAmount,
}

#[derive(Debug, Deserialize)]
pub struct RefundAmount {
    pub refund: i64,
    pub currency: String,
}

/// The body of every refusal.
#[derive(Debug, Deserialize)]
pub struct ErrorBody {
    pub code: String,
    #[serde(default)]
    pub message: String,
}
