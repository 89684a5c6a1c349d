//! Alipay+ through Antom (the `ams` API): a hold is a cashier payment made with
//! `paymentFactor.isAuthorization=true`, which the customer completes on the wallet's page (the
//! customer action); it is then captured, cancelled, or refunded.
//!
//! Every request is signed with the merchant's RSA key and every response must carry Antom's
//! valid signature, or it is not believed (the outcome is then unknown, settled by inquiring).
//! Antom answers HTTP 200 even for business failures: `result.resultStatus` says S (done),
//! F (refused, final) or U (unknown or in progress: the same request id is sent again, or the
//! payment inquired). Idempotency is by body field: `paymentRequestId`, `captureRequestId`,
//! `refundRequestId`, all the saga's key. Amounts are strings of minor units. The capture request
//! and the inquiry's `transactions` follow Antom's Java SDK (`AlipayCaptureRequest`,
//! `model/ams/Transaction`).

mod signing;

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::adapters::http::{self, ClientError};
use crate::domain::idempotency::IdempotencyKey;
use crate::domain::ids::PaymentMethodToken;
use crate::domain::money::{Currency, Money};
use crate::ports::ProviderError;
use crate::ports::payment::{
    AuthorizeRequest, ListedMethod, PaymentError, PaymentHandle, PaymentProfile, PaymentProvider,
    PaymentState, RefundReceipt, RegionalMethod,
};

pub use signing::{KeyError, Keys};

const NAME: &str = "antom";
/// Payment methods are written `antom_<paymentMethodType>`, e.g. `antom_ALIPAY_CN`.
const METHOD_PREFIX: &str = "antom_";

/// Where Antom is and how to sign. `Debug` hides the keys.
#[derive(Clone, Debug)]
pub struct AntomSettings {
    /// The merchant's client id; `SANDBOX_…` ids use the sandbox paths.
    pub client_id: String,
    pub keys: Keys,
    /// `https://open-sea-global.alipay.com` (or the NA/EU gateway), or a local fake in tests.
    pub base_url: String,
    /// Where Antom posts payment notifications, when Itinera's webhook endpoint is reachable.
    pub notify_url: Option<String>,
}

pub struct AntomPayments {
    http: reqwest::Client,
    settings: AntomSettings,
}

/// The result object of every answer.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResultObject {
    result_code: String,
    result_status: String,
    result_message: Option<String>,
}

impl AntomPayments {
    pub fn new(settings: AntomSettings) -> Result<AntomPayments, ClientError> {
        Ok(AntomPayments {
            http: http::client(http::CALL_TIMEOUT)?,
            settings,
        })
    }

    fn path(&self, operation: &str) -> String {
        let api = if self.settings.client_id.starts_with("SANDBOX_") {
            "/ams/sandbox/api"
        } else {
            "/ams/api"
        };
        format!("{api}/v1/payments/{operation}")
    }

    /// Sends a signed request and returns the verified answer whose `result` is S; F becomes a
    /// refusal, U an unknown outcome.
    async fn call(&self, operation: &str, body: Value) -> Result<Value, PaymentError> {
        let answer = self.exchange(operation, body).await?;
        let result: ResultObject = serde_json::from_value(answer["result"].clone())
            .map_err(|_| unknown("an answer without a result"))?;
        match result.result_status.as_str() {
            "S" => Ok(answer),
            "F" => Err(refusal(&result)),
            _ => Err(unknown(&result.result_code)),
        }
    }

    /// The signed exchange itself: any verified answer, whatever its result.
    async fn exchange(&self, operation: &str, body: Value) -> Result<Value, PaymentError> {
        let path = self.path(operation);
        let text = body.to_string();
        let time = chrono::Utc::now().timestamp_millis().to_string();
        let client_id = &self.settings.client_id;
        let request = self
            .http
            .post(format!(
                "{}{path}",
                self.settings.base_url.trim_end_matches('/')
            ))
            .header("Content-Type", "application/json; charset=UTF-8")
            .header("client-id", client_id)
            .header("Request-Time", &time)
            .header(
                "Signature",
                self.settings.keys.sign(&path, client_id, &time, &text),
            )
            .body(text);
        let response = http::dispatch(NAME, request).await?;
        let status = response.status();
        if let Some(error) = http::status_error(NAME, status, response.headers()) {
            return Err(error.into());
        }
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let (responder, time, signature) = (
            header("client-id"),
            header("response-time"),
            header("signature"),
        );
        let body = response
            .text()
            .await
            .map_err(|_| unknown("unreadable answer"))?;
        if !status.is_success() {
            return Err(ProviderError::Rejected {
                provider: NAME.to_string(),
                code: format!("http_{}", status.as_u16()),
                message: body.chars().take(200).collect(),
            }
            .into());
        }
        let genuine = match (responder, time, signature) {
            (Some(responder), Some(time), Some(signature)) => self
                .settings
                .keys
                .verify(&path, &responder, &time, &body, &signature),
            _ => false,
        };
        if !genuine {
            tracing::warn!("an Antom answer without a valid signature was not believed");
            return Err(unknown("unsigned or wrongly signed answer"));
        }
        serde_json::from_str(&body).map_err(|_| unknown("unreadable answer"))
    }
}

fn unknown(why: &str) -> PaymentError {
    tracing::debug!(why, "Antom outcome unknown");
    ProviderError::OutcomeUnknown {
        provider: NAME.to_string(),
    }
    .into()
}

/// A final refusal: a payment the wallet or bank refused is a decline; anything else is Antom's.
fn refusal(result: &ResultObject) -> PaymentError {
    let message = result
        .result_message
        .clone()
        .unwrap_or_else(|| result.result_code.clone());
    match result.result_code.as_str() {
        // The request id was used before with other parameters: that first request may have
        // moved money, so this is no refusal to move on from.
        "REPEAT_REQ_INCONSISTENT" => {
            tracing::error!(%message, "Antom refused a reused request id");
            unknown("request id reused")
        }
        "PAYMENT_FAIL"
        | "USER_BALANCE_NOT_ENOUGH"
        | "RISK_REJECT"
        | "USER_PAYMENT_VERIFICATION_FAILED" => PaymentError::Declined {
            code: result.result_code.clone(),
            message,
        },
        code => ProviderError::Rejected {
            provider: NAME.to_string(),
            code: code.to_string(),
            message,
        }
        .into(),
    }
}

fn amount(money: &Money) -> Result<Value, PaymentError> {
    let minor = money.minor_units().map_err(|e| {
        PaymentError::from(ProviderError::Rejected {
            provider: NAME.to_string(),
            code: "amount".into(),
            message: e.to_string(),
        })
    })?;
    Ok(json!({"currency": money.currency().code(), "value": minor.to_string()}))
}

fn money(value: &Value) -> Result<Money, PaymentError> {
    let unreadable = || unknown("unreadable amount");
    let currency = Currency::parse(value["currency"].as_str().ok_or_else(unreadable)?)
        .map_err(|_| unreadable())?;
    let minor = value["value"]
        .as_str()
        .and_then(|v| v.parse::<i64>().ok())
        .ok_or_else(unreadable)?;
    Money::from_minor_units(minor, currency).map_err(|_| unreadable())
}

/// Sums the successful transactions of a type in an inquiry's answer.
fn transactions(answer: &Value, kind: &str, currency: Currency) -> Result<Money, PaymentError> {
    let mut sum = Money::zero(currency);
    for transaction in answer["transactions"].as_array().into_iter().flatten() {
        if transaction["transactionType"] == kind && transaction["transactionStatus"] == "SUCCESS" {
            sum = sum
                .checked_add(&money(&transaction["transactionAmount"])?)
                .map_err(|_| unknown("unreadable amount"))?;
        }
    }
    Ok(sum)
}

#[async_trait]
impl PaymentProvider for AntomPayments {
    fn name(&self) -> &str {
        NAME
    }

    /// Antom settles the wallets of Asia; these are the currencies its cashier payment takes
    /// for them (a wallet may take fewer: Antom refuses, and says so).
    fn profile(&self) -> PaymentProfile {
        PaymentProfile {
            currencies: Some(&[
                "CNY", "HKD", "USD", "EUR", "GBP", "JPY", "SGD", "AUD", "KRW", "MYR", "PHP", "THB",
                "IDR",
            ]),
            home_regions: &["CN", "HK", "MO", "PH", "MY", "ID", "TH", "KR"],
            open_method: Some("antom_ALIPAY_CN"),
            regional_open_methods: &[
                RegionalMethod {
                    region: "HK",
                    currency: "HKD",
                    method: "antom_ALIPAY_HK",
                },
                RegionalMethod {
                    region: "PH",
                    currency: "PHP",
                    method: "antom_GCASH",
                },
            ],
            methods: &[
                ListedMethod {
                    token: "antom_ALIPAY_CN",
                    label: "Alipay (mainland China): the payer pays in the wallet",
                },
                ListedMethod {
                    token: "antom_ALIPAY_HK",
                    label: "AlipayHK: the payer pays in the wallet",
                },
                ListedMethod {
                    token: "antom_GCASH",
                    label: "GCash (Philippines): the payer pays in the wallet",
                },
            ],
        }
    }

    fn check_method(&self, method: &PaymentMethodToken) -> Result<(), String> {
        match method.as_str().strip_prefix(METHOD_PREFIX) {
            Some(kind) if !kind.is_empty() && kind.chars().all(|c| c.is_ascii_uppercase() || c == '_') => Ok(()),
            _ => Err("Antom takes a wallet as antom_<paymentMethodType>, e.g. antom_ALIPAY_CN or antom_GCASH".into()),
        }
    }

    async fn authorize(
        &self,
        request: AuthorizeRequest<'_>,
    ) -> Result<PaymentHandle, PaymentError> {
        let method = request
            .payment_method
            .as_str()
            .strip_prefix(METHOD_PREFIX)
            .unwrap_or(request.payment_method.as_str());
        let total = amount(&request.amount)?;
        let body = json!({
            "productCode": "CASHIER_PAYMENT",
            "paymentRequestId": request.idempotency_key.as_str(),
            "paymentAmount": total,
            "order": {
                "referenceOrderId": request.order_id.as_str(),
                "orderDescription": request.description,
                "orderAmount": total,
            },
            "paymentMethod": {"paymentMethodType": method},
            "paymentRedirectUrl": request.return_url,
            "paymentFactor": {"isAuthorization": true},
            "env": {"terminalType": "WEB"},
        });
        let mut body = body;
        if let Some(url) = &self.settings.notify_url {
            body["paymentNotifyUrl"] = json!(url);
        }
        let answer = self.exchange("pay", body).await?;
        let result: ResultObject = serde_json::from_value(answer["result"].clone())
            .map_err(|_| unknown("an answer without a result"))?;
        let payment_id = answer["paymentId"].as_str().map(str::to_string);
        match (
            result.result_status.as_str(),
            result.result_code.as_str(),
            payment_id,
        ) {
            ("S", _, Some(payment_id)) => Ok(PaymentHandle {
                payment_id,
                state: PaymentState::Authorized {
                    amount: request.amount,
                },
            }),
            // The usual answer: the customer pays on the wallet's page.
            ("U", "PAYMENT_IN_PROCESS", Some(payment_id)) => match answer["normalUrl"].as_str() {
                Some(url) => Ok(PaymentHandle {
                    payment_id,
                    state: PaymentState::ActionRequired {
                        url: url.to_string(),
                    },
                }),
                None => Err(unknown("no page for the customer")),
            },
            ("F", _, _) => Err(refusal(&result)),
            _ => Err(unknown(&result.result_code)),
        }
    }

    async fn status(&self, payment_id: &str) -> Result<PaymentState, PaymentError> {
        let answer = self
            .call("inquiryPayment", json!({"paymentId": payment_id}))
            .await?;
        let held = money(&answer["paymentAmount"])?;
        Ok(match answer["paymentStatus"].as_str().unwrap_or_default() {
            "SUCCESS" => {
                let captured = transactions(&answer, "CAPTURE", held.currency())?;
                if captured.is_zero() {
                    PaymentState::Authorized { amount: held }
                } else {
                    PaymentState::Captured {
                        amount: captured,
                        refunded: transactions(&answer, "REFUND", held.currency())?,
                    }
                }
            }
            "FAIL" => PaymentState::Failed {
                reason: answer["paymentResultMessage"]
                    .as_str()
                    .unwrap_or("the wallet did not take the payment")
                    .to_string(),
            },
            "CANCELLED" => PaymentState::Voided,
            // Still with the customer: the page was given when the payment was made.
            _ => PaymentState::ActionRequired { url: String::new() },
        })
    }

    async fn capture(
        &self,
        payment_id: &str,
        capture_amount: Money,
        idempotency_key: &IdempotencyKey,
    ) -> Result<Money, PaymentError> {
        let answer = self
            .call(
                "capture",
                json!({
                    "captureRequestId": idempotency_key.as_str(),
                    "paymentId": payment_id,
                    "captureAmount": amount(&capture_amount)?,
                    "isLastCapture": true,
                }),
            )
            .await?;
        money(&answer["captureAmount"])
    }

    async fn void(
        &self,
        payment_id: &str,
        _idempotency_key: &IdempotencyKey,
    ) -> Result<(), PaymentError> {
        // Cancelling is keyed by the payment itself: a repeat cancels nothing more.
        self.call("cancel", json!({"paymentId": payment_id}))
            .await
            .map(|_| ())
    }

    async fn refund(
        &self,
        payment_id: &str,
        refund_amount: Money,
        idempotency_key: &IdempotencyKey,
    ) -> Result<RefundReceipt, PaymentError> {
        let answer = self
            .call(
                "refund",
                json!({
                    "refundRequestId": idempotency_key.as_str(),
                    "paymentId": payment_id,
                    "refundAmount": amount(&refund_amount)?,
                }),
            )
            .await?;
        Ok(RefundReceipt {
            refund_id: answer["refundId"].as_str().unwrap_or_default().to_string(),
            amount: money(&answer["refundAmount"])?,
        })
    }
}
