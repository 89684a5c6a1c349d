//! WeChat Pay API v3 (China domestic, direct merchant), following `shared/provider-apis.md` §5
//! and the official Go SDK (`wechatpay-apiv3/wechatpay-go`).
//!
//! WeChat Pay cannot hold money apart from taking it, so it is charged after booking
//! ([`Settlement::ChargeAfterBooking`]): `authorize` places a Native order for what was booked,
//! payable until the request's `pay_by` (`time_expire`), and answers its `code_url`, which the
//! customer scans (or opens) in WeChat to pay; a paid order
//! is captured (`capture` itself is refused: there is never a hold). Closing an unpaid order is
//! the void, so the code can no longer be paid; a paid one can only be refunded. WeChat Pay has
//! no public sandbox for API v3 (unconfirmed): the tests run against a local fake.
//!
//! Every request is signed with the merchant's API key, and every successful answer must carry
//! WeChat Pay's valid signature, made less than five minutes ago with the key Itinera was given,
//! or it is not believed (the outcome is then unknown, settled by a lookup). Like the official
//! SDK, a refusal (HTTP 4xx) is read without requiring a signature, which it is unconfirmed that
//! WeChat Pay sends; one that does carry a signature must verify.
//!
//! Idempotency is by merchant number: `out_trade_no` (one order per number) and `out_refund_no`
//! (one refund per number: "同一退款单号多次请求只退一笔"), both derived from the saga's key by
//! [`merchant_number`]. Unconfirmed, and what the fake does: sending the same Native order again
//! answers the same `code_url`, a paid one `ORDERPAID` (then the order is looked up), and a
//! number reused with other parameters a refusal (`INVALID_REQUEST`).
//!
//! WeChat Pay v3 has no call that lists a transaction's refunds, only one that reads a refund by
//! its number, and a transaction shows `trade_state` `REFUND` without an amount. `status` reports
//! as refunded the refunds this adapter made since the process started, as WeChat Pay reports
//! them now; refunds made before (by an earlier run, or in the merchant platform) are not seen.

mod notification;
mod signing;
mod wire;

use std::collections::{BTreeSet, HashMap};
use std::sync::{Mutex, PoisonError};

use async_trait::async_trait;
use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::adapters::http::{self, ClientError};
use crate::domain::idempotency::IdempotencyKey;
use crate::domain::ids::PaymentMethodToken;
use crate::domain::money::{Currency, Money};
use crate::ports::ProviderError;
use crate::ports::payment::{
    AuthorizeRequest, ListedMethod, PaymentError, PaymentHandle, PaymentProfile, PaymentProvider,
    PaymentState, RefundReceipt, Settlement,
};

pub use notification::{
    ApiV3Key, ApiV3KeyError, EncryptedResource, Notification, NotificationError, Opened,
};
pub use signing::{KeyError, SCHEME, Signer, Untrusted, Verifier};

use wire::{
    Amount, CloseRequest, ErrorBody, JsapiPrepay, NativePrepay, Payer, PrepayRequest, Refund,
    RefundAmountRequest, RefundRequest, RefundStatus, TradeState, Transaction,
};

const NAME: &str = "wechat";
/// The one payment method: the customer scans a QR code (or opens its link) in WeChat.
pub const NATIVE: &str = "wechat_native";
/// WeChat Pay takes nothing else.
const CNY: &str = "CNY";
/// WeChat Pay's limit on `description` (`string[1,127]`); longer ones are cut at a character.
const DESCRIPTION_LIMIT: usize = 127;

/// Who the merchant is, its keys, and where WeChat Pay is.
#[derive(Clone, Debug)]
pub struct WeChatSettings {
    /// The merchant number (`mchid`).
    pub mch_id: String,
    /// The app id (`appid`) bound to the merchant: an official account's, a mini-program's or an
    /// app's.
    pub app_id: String,
    /// The merchant API private key, named by its certificate's serial number.
    pub merchant: Signer,
    /// WeChat Pay's public key, named by its id: verifies answers and notifications.
    pub platform: Verifier,
    /// `https://api.mch.weixin.qq.com`, or a local fake in tests.
    pub base_url: String,
    /// Where WeChat Pay posts payment and refund results (`…/webhooks/wechat`). WeChat Pay
    /// requires one on every order: HTTPS, without a query string.
    pub notify_url: String,
}

pub struct WeChatPayments {
    http: reqwest::Client,
    settings: WeChatSettings,
    /// The refund numbers made through this adapter or told by the saga's log, by order number:
    /// how `status` learns what was refunded, WeChat Pay having no list of a transaction's
    /// refunds.
    refunds: Mutex<HashMap<String, BTreeSet<String>>>,
}

/// What the client runs in WeChat to pay a JSAPI order (`wx.requestPayment`), signed with the
/// merchant's key over `"<appId>\n<timeStamp>\n<nonceStr>\n<package>\n"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JsapiParams {
    pub app_id: String,
    pub time_stamp: String,
    pub nonce_str: String,
    /// `prepay_id=<id>`.
    pub package: String,
    /// Always `RSA`.
    pub sign_type: String,
    pub pay_sign: String,
}

/// A JSAPI order: its number (the payment id) and what the customer's WeChat page needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsapiPayment {
    pub payment_id: String,
    pub prepay_id: String,
    pub client: JsapiParams,
}

/// A refusal WeChat Pay answered: its `code` and `message`.
#[derive(Debug)]
struct Refusal {
    status: StatusCode,
    code: String,
    message: String,
}

/// A call that failed: refused by WeChat Pay (read by the operation, which may know better), or
/// anything else.
#[derive(Debug)]
enum CallError {
    Refused(Refusal),
    Failed(PaymentError),
}

impl From<PaymentError> for CallError {
    fn from(error: PaymentError) -> CallError {
        CallError::Failed(error)
    }
}

impl From<CallError> for PaymentError {
    fn from(error: CallError) -> PaymentError {
        match error {
            CallError::Refused(refusal) => refused(refusal),
            CallError::Failed(error) => error,
        }
    }
}

/// The merchant number (`out_trade_no`, `out_refund_no`) for a saga's key: 32 hex digits of its
/// SHA-256, within WeChat Pay's 32 characters of `[A-Za-z0-9_-]`. The same key always gives the
/// same number, so a retry replays the first request instead of making a second order or refund.
pub fn merchant_number(key: &IdempotencyKey) -> String {
    hex::encode(&Sha256::digest(key.as_str().as_bytes())[..16])
}

impl WeChatPayments {
    pub fn new(settings: WeChatSettings) -> Result<WeChatPayments, ClientError> {
        Ok(WeChatPayments {
            http: http::client(http::CALL_TIMEOUT)?,
            settings,
            refunds: Mutex::default(),
        })
    }

    /// Sends a signed request and returns the verified answer's body (empty for 204).
    async fn exchange(
        &self,
        method: Method,
        url: &str,
        body: Option<String>,
    ) -> Result<String, CallError> {
        let body = body.unwrap_or_default();
        let authorization = self.settings.merchant.authorization(
            &self.settings.mch_id,
            method.as_str(),
            url,
            &body,
        );
        let request = self
            .http
            .request(
                method,
                format!("{}{url}", self.settings.base_url.trim_end_matches('/')),
            )
            .header("Authorization", authorization)
            .header("Accept", "application/json")
            .header("Content-Type", "application/json")
            .header("Wechatpay-Serial", self.settings.platform.serial())
            .body(body);
        let response = http::dispatch(NAME, request)
            .await
            .map_err(PaymentError::from)?;
        let status = response.status();
        if let Some(error) = http::status_error(NAME, status, response.headers()) {
            return Err(PaymentError::from(error).into());
        }
        let headers = response.headers().clone();
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let request_id = header("Request-ID").unwrap_or_default();
        let text = response
            .text()
            .await
            .map_err(|_| unknown("unreadable answer"))?;
        let signed = header("Wechatpay-Signature").is_some();
        if (status.is_success() || signed)
            && let Err(why) = self.settings.platform.check(header, &text, Utc::now())
        {
            tracing::warn!(%why, %request_id, "a WeChat Pay answer was not believed");
            return Err(unknown("unsigned or wrongly signed answer").into());
        }
        if status.is_success() {
            return Ok(text);
        }
        let (code, message) = match serde_json::from_str::<ErrorBody>(&text) {
            Ok(error) => (error.code, error.message),
            Err(_) => (
                format!("http_{}", status.as_u16()),
                text.chars().take(200).collect(),
            ),
        };
        tracing::debug!(%code, %message, %request_id, "WeChat Pay refused");
        Err(CallError::Refused(Refusal {
            status,
            code,
            message,
        }))
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        url: &str,
        body: Option<String>,
    ) -> Result<T, CallError> {
        let text = self.exchange(method, url, body).await?;
        // WeChat Pay acted but the answer cannot be read: only a lookup can tell.
        serde_json::from_str(&text).map_err(|error| {
            tracing::warn!(%error, "unreadable answer from WeChat Pay");
            CallError::Failed(unknown("unreadable answer"))
        })
    }

    async fn post<T: DeserializeOwned>(
        &self,
        url: &str,
        body: &impl Serialize,
    ) -> Result<T, CallError> {
        let text = serde_json::to_string(body).map_err(|e| rejected("request", &e.to_string()))?;
        self.call(Method::POST, url, Some(text)).await
    }

    /// Places a Native or JSAPI order (`kind`) for the request; `payer` is the JSAPI openid.
    async fn prepay<T: DeserializeOwned>(
        &self,
        kind: &str,
        request: &AuthorizeRequest<'_>,
        payer: Option<&str>,
    ) -> Result<(String, T), CallError> {
        let total = fen(&request.amount)?;
        let out_trade_no = merchant_number(request.idempotency_key);
        let body = PrepayRequest {
            appid: &self.settings.app_id,
            mchid: &self.settings.mch_id,
            description: description(request.description),
            out_trade_no: &out_trade_no,
            time_expire: request.pay_by.map(beijing_time),
            notify_url: &self.settings.notify_url,
            amount: Amount {
                total,
                currency: CNY,
            },
            payer: payer.map(|openid| Payer { openid }),
        };
        let answer = self
            .post(&format!("/v3/pay/transactions/{kind}"), &body)
            .await?;
        Ok((out_trade_no, answer))
    }

    async fn transaction(&self, out_trade_no: &str) -> Result<Transaction, PaymentError> {
        let url = format!(
            "{}?mchid={}",
            trade_path(out_trade_no)?,
            self.settings.mch_id
        );
        Ok(self.call(Method::GET, &url, None).await?)
    }

    /// What the refunds made through this adapter for an order add up to, as WeChat Pay reports
    /// them now: accepted ones (`SUCCESS`, `PROCESSING`), as `refund` counts them.
    async fn refunded(&self, out_trade_no: &str) -> Result<Money, PaymentError> {
        let numbers: Vec<String> = self
            .refunds
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(out_trade_no)
            .map(|numbers| numbers.iter().cloned().collect())
            .unwrap_or_default();
        let mut sum = 0_i64;
        for number in numbers {
            let url = format!("/v3/refund/domestic/refunds/{number}");
            let refund: Refund = match self.call(Method::GET, &url, None).await {
                Ok(refund) => refund,
                // A refund whose request never arrived.
                Err(CallError::Refused(refusal)) if not_found(&refusal.code) => continue,
                Err(error) => return Err(error.into()),
            };
            if matches!(
                refund.status,
                RefundStatus::Success | RefundStatus::Processing
            ) {
                if refund.amount.currency != CNY {
                    return Err(unknown("an amount not in CNY"));
                }
                sum = sum
                    .checked_add(refund.amount.refund)
                    .ok_or_else(|| unknown("unreadable amount"))?;
            }
        }
        money(sum, CNY)
    }

    /// Places a JSAPI order (paid inside WeChat by the user `openid`) and signs what the page
    /// needs to ask WeChat to pay it. Itinera's MCP flow uses Native orders instead: JSAPI needs
    /// a WeChat official-account or mini-program page to run `wx.requestPayment`, which Itinera
    /// does not have. The order is followed, voided and refunded like a Native one.
    pub async fn jsapi(
        &self,
        request: AuthorizeRequest<'_>,
        openid: &str,
    ) -> Result<JsapiPayment, PaymentError> {
        let (payment_id, answer): (String, JsapiPrepay) =
            self.prepay("jsapi", &request, Some(openid)).await?;
        let app_id = self.settings.app_id.clone();
        let time_stamp = Utc::now().timestamp().to_string();
        let nonce_str = signing::nonce();
        let package = format!("prepay_id={}", answer.prepay_id);
        let pay_sign = self
            .settings
            .merchant
            .sign(&format!("{app_id}\n{time_stamp}\n{nonce_str}\n{package}\n"));
        Ok(JsapiPayment {
            payment_id,
            prepay_id: answer.prepay_id,
            client: JsapiParams {
                app_id,
                time_stamp,
                nonce_str,
                package,
                sign_type: "RSA".into(),
                pay_sign,
            },
        })
    }
}

fn unknown(why: &str) -> PaymentError {
    tracing::debug!(why, "WeChat Pay outcome unknown");
    ProviderError::OutcomeUnknown {
        provider: NAME.to_string(),
    }
    .into()
}

/// A refusal of ours, before anything is sent: final.
fn rejected(code: &str, message: &str) -> PaymentError {
    ProviderError::rejected(NAME, code, message).into()
}

fn not_found(code: &str) -> bool {
    matches!(code, "ORDER_NOT_EXIST" | "RESOURCE_NOT_EXISTS")
}

/// WeChat Pay's refusal as ours, with what to do about the ones a person must act on.
fn refused(refusal: Refusal) -> PaymentError {
    let Refusal {
        status,
        code,
        message,
    } = refusal;
    let message = match code.as_str() {
        "FREQUENCY_LIMITED" => {
            return ProviderError::RateLimited {
                provider: NAME.to_string(),
                retry_after: None,
            }
            .into();
        }
        // WeChat Pay failed inside, perhaps after acting: the same number replays.
        "SYSTEM_ERROR" | "BANK_ERROR" => return unknown(&code),
        "SIGN_ERROR" => format!(
            "{message}. WeChat Pay did not accept Itinera's signature: check the merchant number, the merchant API certificate's serial number and its private key"
        ),
        "NO_AUTH" => format!(
            "{message}. The merchant may not use this API: check that Native payment is enabled for it and that the app id is bound to the merchant number"
        ),
        code if not_found(code) => format!("WeChat Pay has no such order or refund: {message}"),
        "NOT_ENOUGH" => format!(
            "{message}. The merchant account's balance cannot cover the refund: top up the WeChat Pay merchant account, then refund again"
        ),
        _ if message.is_empty() => format!("HTTP {}", status.as_u16()),
        _ => message,
    };
    ProviderError::rejected(NAME, code, message).into()
}

/// An amount in fen; one in another currency is refused before anything is sent.
fn fen(amount: &Money) -> Result<i64, PaymentError> {
    if amount.currency().code() != CNY {
        return Err(rejected(
            "currency",
            &format!(
                "WeChat Pay takes CNY only and this payment is in {}: plan the trip in CNY, or pay with another provider",
                amount.currency()
            ),
        ));
    }
    amount
        .minor_units()
        .map_err(|e| rejected("amount", &e.to_string()))
}

/// An amount WeChat Pay answered. One that cannot be read leaves the outcome unknown: the answer
/// may be to a call that moved money.
fn money(fen: i64, currency: &str) -> Result<Money, PaymentError> {
    let currency = Currency::parse(currency)
        .ok()
        .filter(|currency| currency.code() == CNY)
        .ok_or_else(|| unknown("an amount not in CNY"))?;
    Money::from_minor_units(fen, currency).map_err(|_| unknown("unreadable amount"))
}

/// A moment as WeChat Pay writes times: to the second, in Beijing time (`+08:00`).
fn beijing_time(at: DateTime<Utc>) -> String {
    // Evaluated when compiling: an invalid offset would not build.
    const BEIJING: FixedOffset = match FixedOffset::east_opt(8 * 3600) {
        Some(offset) => offset,
        None => panic!("+08:00 is a valid offset"),
    };
    at.with_timezone(&BEIJING)
        .to_rfc3339_opts(SecondsFormat::Secs, false)
}

fn description(text: &str) -> &str {
    if text.len() <= DESCRIPTION_LIMIT {
        return text;
    }
    let mut end = DESCRIPTION_LIMIT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// The path of an order, refusing a payment id that is no merchant number (it would not be a
/// path segment).
fn trade_path(out_trade_no: &str) -> Result<String, PaymentError> {
    let valid = !out_trade_no.is_empty()
        && out_trade_no.len() <= 32
        && out_trade_no
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !valid {
        return Err(rejected(
            "out_trade_no",
            &format!("'{out_trade_no}' is not a WeChat Pay merchant order number"),
        ));
    }
    Ok(format!("/v3/pay/transactions/out-trade-no/{out_trade_no}"))
}

#[async_trait]
impl PaymentProvider for WeChatPayments {
    fn name(&self) -> &str {
        NAME
    }

    /// Domestic WeChat Pay takes CNY only; it is how people in mainland China pay, and a Native
    /// order needs nothing saved beforehand: the payer scans each time.
    fn profile(&self) -> PaymentProfile {
        PaymentProfile {
            currencies: Some(&[CNY]),
            home_regions: &["CN"],
            open_method: Some(NATIVE),
            regional_open_methods: &[],
            methods: &[ListedMethod {
                token: NATIVE,
                label: "WeChat Pay: the payer scans a QR code (CNY only)",
            }],
        }
    }

    fn settlement(&self) -> Settlement {
        Settlement::ChargeAfterBooking
    }

    fn check_method(&self, method: &PaymentMethodToken) -> Result<(), String> {
        if method.as_str() == NATIVE {
            Ok(())
        } else {
            Err(format!(
                "WeChat Pay takes {NATIVE}: the customer pays by scanning a QR code in WeChat (JSAPI payment needs a WeChat official-account or mini-program page and is not offered)"
            ))
        }
    }

    async fn authorize(
        &self,
        request: AuthorizeRequest<'_>,
    ) -> Result<PaymentHandle, PaymentError> {
        fen(&request.amount)?;
        self.check_method(request.payment_method)
            .map_err(|message| rejected("payment_method", &message))?;
        match self.prepay::<NativePrepay>("native", &request, None).await {
            Ok((payment_id, answer)) => Ok(PaymentHandle {
                payment_id,
                state: PaymentState::ActionRequired {
                    url: answer.code_url,
                },
            }),
            // Sent again after the customer paid: the order is looked up.
            Err(CallError::Refused(refusal)) if refusal.code == "ORDERPAID" => {
                let payment_id = merchant_number(request.idempotency_key);
                let state = self.status(&payment_id).await?;
                Ok(PaymentHandle { payment_id, state })
            }
            Err(error) => Err(error.into()),
        }
    }

    async fn status_given_refunds(
        &self,
        payment_id: &str,
        refunds: &[IdempotencyKey],
    ) -> Result<PaymentState, PaymentError> {
        self.refunds
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(payment_id.to_string())
            .or_default()
            .extend(refunds.iter().map(merchant_number));
        self.status(payment_id).await
    }

    async fn status(&self, payment_id: &str) -> Result<PaymentState, PaymentError> {
        let transaction = self.transaction(payment_id).await?;
        Ok(match transaction.trade_state {
            TradeState::Success | TradeState::Refund => {
                let amount = transaction
                    .amount
                    .as_ref()
                    .and_then(|a| Some((a.total?, a.currency.as_deref().unwrap_or(CNY))))
                    .ok_or_else(|| unknown("a paid order without its amount"))?;
                let refunded = self.refunded(payment_id).await?;
                if transaction.trade_state == TradeState::Refund && refunded.is_zero() {
                    tracing::warn!(
                        payment_id,
                        "WeChat Pay shows refunds this run of Itinera did not make; the amounts are in the merchant platform"
                    );
                }
                PaymentState::Captured {
                    amount: money(amount.0, amount.1)?,
                    refunded,
                }
            }
            TradeState::Closed | TradeState::Revoked => PaymentState::Voided,
            TradeState::PayError => PaymentState::Failed {
                reason: transaction
                    .trade_state_desc
                    .unwrap_or_else(|| "the payment did not go through".into()),
            },
            // Still with the customer: the QR code was given when the order was placed.
            TradeState::NotPay
            | TradeState::UserPaying
            | TradeState::Accept
            | TradeState::Other => PaymentState::ActionRequired { url: String::new() },
        })
    }

    async fn capture(
        &self,
        _payment_id: &str,
        _amount: Money,
        _idempotency_key: &IdempotencyKey,
    ) -> Result<Money, PaymentError> {
        Err(rejected(
            "capture_unsupported",
            "WeChat Pay charges in one step: a paid order is already captured, and there is no hold to capture",
        ))
    }

    async fn void(
        &self,
        payment_id: &str,
        _idempotency_key: &IdempotencyKey,
    ) -> Result<(), PaymentError> {
        // Closing is keyed by the order itself: closing it again closes nothing more. An order
        // WeChat Pay does not have was never placed, so its code was never shown: no one can pay
        // it, which is what closing is for.
        let url = format!("{}/close", trade_path(payment_id)?);
        let body = serde_json::to_string(&CloseRequest {
            mchid: &self.settings.mch_id,
        })
        .map_err(|e| rejected("request", &e.to_string()))?;
        match self.exchange(Method::POST, &url, Some(body)).await {
            Ok(_) => Ok(()),
            Err(CallError::Refused(refusal)) if not_found(&refusal.code) => Ok(()),
            Err(CallError::Refused(refusal)) if refusal.code == "ORDERPAID" => Err(rejected(
                "ORDERPAID",
                &format!(
                    "the customer already paid order {payment_id}: the money was taken, so it must be refunded, not closed"
                ),
            )),
            Err(error) => Err(error.into()),
        }
    }

    async fn refund(
        &self,
        payment_id: &str,
        amount: Money,
        idempotency_key: &IdempotencyKey,
    ) -> Result<RefundReceipt, PaymentError> {
        let refund = fen(&amount)?;
        let transaction = self.transaction(payment_id).await?;
        let total = transaction
            .amount
            .and_then(|a| a.total)
            .ok_or_else(|| unknown("an order without its amount"))?;
        let out_refund_no = merchant_number(idempotency_key);
        // Known before it is sent: a refund whose answer is lost still counts once WeChat Pay
        // shows it.
        self.refunds
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(payment_id.to_string())
            .or_default()
            .insert(out_refund_no.clone());
        let answer: Refund = self
            .post(
                "/v3/refund/domestic/refunds",
                &RefundRequest {
                    out_trade_no: payment_id,
                    out_refund_no: &out_refund_no,
                    notify_url: &self.settings.notify_url,
                    amount: RefundAmountRequest {
                        refund,
                        total,
                        currency: CNY,
                    },
                },
            )
            .await?;
        match answer.status {
            // Accepted: WeChat Pay returns the money, at once or within days.
            RefundStatus::Success | RefundStatus::Processing => Ok(RefundReceipt {
                refund_id: answer.out_refund_no,
                amount: money(answer.amount.refund, &answer.amount.currency)?,
            }),
            RefundStatus::Abnormal => Err(rejected(
                "ABNORMAL",
                &format!(
                    "WeChat Pay could not return the money to the customer's account (card closed or frozen): settle refund {out_refund_no} by hand in the merchant platform's transaction centre"
                ),
            )),
            RefundStatus::Closed => Err(rejected(
                "CLOSED",
                &format!("WeChat Pay closed refund {out_refund_no} without returning the money"),
            )),
            RefundStatus::Other => Err(unknown("a refund status Itinera does not know")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::idempotency::Operation;
    use crate::domain::ids::OrderId;

    #[test]
    fn merchant_numbers_are_stable_short_and_plain() {
        let order = OrderId::generate();
        let key = IdempotencyKey::derive(&order, None, Operation::Authorize, "1");
        let number = merchant_number(&key);
        assert_eq!(number, merchant_number(&key));
        assert_eq!(number.len(), 32);
        assert!(number.bytes().all(|b| b.is_ascii_alphanumeric()));
        let other = IdempotencyKey::derive(&order, None, Operation::Refund, "1");
        assert_ne!(number, merchant_number(&other));
    }

    #[test]
    fn descriptions_are_cut_to_127_bytes_at_a_character() {
        assert_eq!(description("Paris"), "Paris");
        let long = "巴黎".repeat(40);
        let cut = description(&long);
        assert!(cut.len() <= DESCRIPTION_LIMIT && long.starts_with(cut));
        assert_eq!(cut.len(), 126);
    }

    #[test]
    fn refusals_say_what_to_do() {
        let refusal = |code: &str| {
            refused(Refusal {
                status: StatusCode::BAD_REQUEST,
                code: code.into(),
                message: "m".into(),
            })
        };
        assert!(matches!(
            refusal("FREQUENCY_LIMITED"),
            PaymentError::Provider(ProviderError::RateLimited { .. })
        ));
        assert!(matches!(
            refusal("SYSTEM_ERROR"),
            PaymentError::Provider(ProviderError::OutcomeUnknown { .. })
        ));
        assert!(refusal("SIGN_ERROR").to_string().contains("serial number"));
        assert!(refusal("NOT_ENOUGH").to_string().contains("top up"));
        assert!(
            refusal("RESOURCE_NOT_EXISTS")
                .to_string()
                .contains("no such order")
        );
    }
}
