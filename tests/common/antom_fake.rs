//! A local Antom (Alipay+ `ams` API), following `shared/provider-apis.md` §4: every request must
//! carry the merchant's RSA signature over `POST <path>\n<client-id>.<time>.<body>`, every answer
//! is HTTP 200 with `result.resultStatus` S/F/U and is signed with Antom's key; amounts are
//! strings of minor units; `paymentRequestId`, `captureRequestId` and `refundRequestId` replay
//! (and a reused id with another amount is `REPEAT_REQ_INCONSISTENT`); the customer pays on the
//! wallet's page (`normalUrl`), after which `inquiryPayment` reports SUCCESS.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use axum::routing::{get, post};
use itinera::adapters::payments::antom::Keys;
use serde_json::{Value, json};

pub use super::fake_http::Received;
use super::fake_http::{Recorder, json_response};

pub const CLIENT_ID: &str = "SANDBOX_ITINERA_FAKE";
pub const MERCHANT_PRIVATE: &str = include_str!("../fixtures/antom/merchant-private.pem");
pub const MERCHANT_PUBLIC: &str = include_str!("../fixtures/antom/merchant-public.pem");
pub const ANTOM_PRIVATE: &str = include_str!("../fixtures/antom/antom-private.pem");
pub const ANTOM_PUBLIC: &str = include_str!("../fixtures/antom/antom-public.pem");

#[derive(Debug, Clone)]
struct Payment {
    currency: String,
    amount: i64,
    status: &'static str,
    captured: i64,
    refunded: i64,
}

#[derive(Default)]
struct Books {
    payments: HashMap<String, Payment>,
    recorder: Recorder,
    next_id: u64,
    /// The next answers are signed with a key that is not Antom's.
    forge_next: u32,
    /// The next answers say U (unknown) without acting.
    unknown_next: u32,
}

#[derive(Clone)]
pub struct FakeAntom {
    books: Arc<Mutex<Books>>,
    /// Antom's side: signs with Antom's key, verifies with the merchant's public key.
    keys: Keys,
    pub base_url: String,
}

impl FakeAntom {
    pub async fn start() -> FakeAntom {
        let (listener, base_url) = super::fake_http::bind().await;
        let fake = FakeAntom {
            books: Arc::default(),
            keys: Keys::parse(ANTOM_PRIVATE, MERCHANT_PUBLIC).unwrap(),
            base_url,
        };
        let app = Router::new()
            .route("/ams/sandbox/api/v1/payments/{operation}", post(api))
            .route("/fake/wallet/{id}", get(pay_in_wallet))
            .route("/fake/wallet-refuses/{id}", get(refuse_in_wallet))
            .with_state(fake.clone());
        super::fake_http::serve(listener, app);
        fake
    }

    /// The merchant's side of the keys, for the adapter.
    pub fn merchant_keys() -> Keys {
        Keys::parse(MERCHANT_PRIVATE, ANTOM_PUBLIC).unwrap()
    }

    pub fn received(&self) -> Vec<Received> {
        self.books.lock().unwrap().recorder.received.clone()
    }

    /// The next answer is signed with the wrong key.
    pub fn forge_next(&self) {
        self.books.lock().unwrap().forge_next += 1;
    }

    /// The next answer is U without acting.
    pub fn unknown_next(&self) {
        self.books.lock().unwrap().unknown_next += 1;
    }

    /// (status, captured, refunded) in minor units.
    pub fn payment(&self, id: &str) -> (String, i64, i64) {
        let books = self.books.lock().unwrap();
        let payment = &books.payments[id];
        (
            payment.status.to_string(),
            payment.captured,
            payment.refunded,
        )
    }

    pub fn payment_count(&self) -> usize {
        self.books.lock().unwrap().payments.len()
    }
}

fn result(status: &str, code: &str, message: &str) -> Value {
    json!({"result": {"resultStatus": status, "resultCode": code, "resultMessage": message}})
}

fn amount(minor: i64, currency: &str) -> Value {
    json!({"currency": currency, "value": minor.to_string()})
}

fn minor(value: &Value) -> Option<(i64, String)> {
    Some((
        value["value"].as_str()?.parse().ok()?,
        value["currency"].as_str()?.to_string(),
    ))
}

async fn api(
    State(fake): State<FakeAntom>,
    Path(operation): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    body: String,
) -> Response {
    let json: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let mut books = fake.books.lock().unwrap();
    books
        .recorder
        .record("POST", uri.path(), &headers, Vec::new(), Some(json.clone()));
    let genuine = header("client-id") == CLIENT_ID
        && fake.keys.verify(
            uri.path(),
            &header("client-id"),
            &header("request-time"),
            &body,
            &header("signature"),
        );
    let answer = if !genuine {
        result("F", "INVALID_SIGNATURE", "The signature is invalid.")
    } else if books.unknown_next > 0 {
        books.unknown_next -= 1;
        result(
            "U",
            "UNKNOWN_EXCEPTION",
            "An API call has failed, which is caused by unknown reasons.",
        )
    } else {
        act(&mut books, &operation, &json, &fake.base_url)
    };
    let time = "1764072000000";
    let text = answer.to_string();
    let signature = if books.forge_next > 0 {
        books.forge_next -= 1;
        Keys::parse(MERCHANT_PRIVATE, ANTOM_PUBLIC).unwrap().sign(
            uri.path(),
            CLIENT_ID,
            time,
            &text,
        )
    } else {
        fake.keys.sign(uri.path(), CLIENT_ID, time, &text)
    };
    let mut response = json_response(200, &answer);
    let headers = response.headers_mut();
    headers.insert("client-id", CLIENT_ID.parse().unwrap());
    headers.insert("response-time", time.parse().unwrap());
    headers.insert("signature", signature.parse().unwrap());
    response
}

fn act(books: &mut Books, operation: &str, body: &Value, base_url: &str) -> Value {
    match operation {
        "pay" => pay(books, body, base_url),
        "inquiryPayment" => inquire(books, body),
        "capture" => capture(books, body),
        "cancel" => cancel(books, body),
        "refund" => refund(books, body),
        _ => result("F", "PARAM_ILLEGAL", "unknown operation"),
    }
}

/// A stored answer for a request id, or the conflict of reusing it for another request.
fn replay(books: &Books, id: &str, fingerprint: &str) -> Option<Value> {
    match books.recorder.replay(id, fingerprint) {
        super::fake_http::Replay::New => None,
        super::fake_http::Replay::Same(_, body) => Some(body),
        super::fake_http::Replay::Conflict => Some(result(
            "F",
            "REPEAT_REQ_INCONSISTENT",
            "The submitted request is inconsistent with the previous request of the same request ID.",
        )),
    }
}

fn pay(books: &mut Books, body: &Value, base_url: &str) -> Value {
    let request_id = body["paymentRequestId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let fingerprint = body["paymentAmount"].to_string();
    if let Some(answer) = replay(books, &request_id, &fingerprint) {
        return answer;
    }
    let Some((amount, currency)) = minor(&body["paymentAmount"]) else {
        return result(
            "F",
            "PARAM_ILLEGAL",
            "paymentAmount.value must be minor units as a string",
        );
    };
    if body["paymentFactor"]["isAuthorization"] != true {
        return result("F", "PARAM_ILLEGAL", "this fake only makes authorizations");
    }
    books.next_id += 1;
    let id = format!("2026112519{:08}", books.next_id);
    books.payments.insert(
        id.clone(),
        Payment {
            currency: currency.clone(),
            amount,
            status: "PROCESSING",
            captured: 0,
            refunded: 0,
        },
    );
    let mut answer = result("U", "PAYMENT_IN_PROCESS", "payment in process");
    answer["paymentId"] = json!(id);
    answer["paymentRequestId"] = json!(request_id);
    answer["paymentAmount"] = self::amount(amount, &currency);
    answer["normalUrl"] = json!(format!("{base_url}/fake/wallet/{id}"));
    books
        .recorder
        .store(request_id, fingerprint, 200, answer.clone());
    answer
}

fn inquire(books: &mut Books, body: &Value) -> Value {
    let id = body["paymentId"].as_str().unwrap_or_default();
    let Some(payment) = books.payments.get(id) else {
        return result("F", "ORDER_NOT_EXIST", "The order does not exist.");
    };
    let mut transactions = Vec::new();
    if payment.captured > 0 {
        transactions.push(json!({"transactionType": "CAPTURE", "transactionStatus": "SUCCESS", "transactionAmount": amount(payment.captured, &payment.currency)}));
    }
    if payment.refunded > 0 {
        transactions.push(json!({"transactionType": "REFUND", "transactionStatus": "SUCCESS", "transactionAmount": amount(payment.refunded, &payment.currency)}));
    }
    let mut answer = result("S", "SUCCESS", "success");
    answer["paymentId"] = json!(id);
    answer["paymentStatus"] = json!(payment.status);
    answer["paymentAmount"] = amount(payment.amount, &payment.currency);
    answer["transactions"] = Value::Array(transactions);
    if payment.status == "FAIL" {
        answer["paymentResultMessage"] = json!("The user's balance is not enough.");
    }
    answer
}

fn capture(books: &mut Books, body: &Value) -> Value {
    let request_id = body["captureRequestId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let fingerprint = body["captureAmount"].to_string();
    if let Some(answer) = replay(books, &request_id, &fingerprint) {
        return answer;
    }
    let id = body["paymentId"].as_str().unwrap_or_default();
    let Some(payment) = books.payments.get_mut(id) else {
        return result("F", "ORDER_NOT_EXIST", "The order does not exist.");
    };
    let Some((amount_to_capture, _)) = minor(&body["captureAmount"]) else {
        return result("F", "PARAM_ILLEGAL", "captureAmount is required");
    };
    if payment.status != "SUCCESS" || payment.captured > 0 || amount_to_capture > payment.amount {
        return result(
            "F",
            "CAPTURE_AMOUNT_EXCEED_AUTH_LIMIT",
            "The capture is not possible for this payment.",
        );
    }
    payment.captured = amount_to_capture;
    let mut answer = result("S", "SUCCESS", "success");
    answer["captureId"] = json!(format!("cap-{id}"));
    answer["captureAmount"] = amount(amount_to_capture, &payment.currency);
    books
        .recorder
        .store(request_id, fingerprint, 200, answer.clone());
    answer
}

fn cancel(books: &mut Books, body: &Value) -> Value {
    let id = body["paymentId"].as_str().unwrap_or_default();
    let Some(payment) = books.payments.get_mut(id) else {
        return result("F", "ORDER_NOT_EXIST", "The order does not exist.");
    };
    if payment.captured > 0 {
        return result(
            "F",
            "ORDER_STATUS_INVALID",
            "A captured payment cannot be cancelled.",
        );
    }
    payment.status = "CANCELLED";
    let mut answer = result("S", "SUCCESS", "success");
    answer["paymentId"] = json!(id);
    answer
}

fn refund(books: &mut Books, body: &Value) -> Value {
    let request_id = body["refundRequestId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let fingerprint = body["refundAmount"].to_string();
    if let Some(answer) = replay(books, &request_id, &fingerprint) {
        return answer;
    }
    let id = body["paymentId"].as_str().unwrap_or_default();
    let Some(payment) = books.payments.get_mut(id) else {
        return result("F", "ORDER_NOT_EXIST", "The order does not exist.");
    };
    let Some((refund_amount, _)) = minor(&body["refundAmount"]) else {
        return result("F", "PARAM_ILLEGAL", "refundAmount is required");
    };
    if refund_amount <= 0 || refund_amount > payment.captured - payment.refunded {
        return result(
            "F",
            "REFUND_AMOUNT_EXCEED",
            "The total refund amount exceeds the payment amount.",
        );
    }
    payment.refunded += refund_amount;
    let mut answer = result("S", "SUCCESS", "success");
    answer["refundId"] = json!(format!("ref-{request_id}"));
    answer["refundAmount"] = amount(refund_amount, &payment.currency);
    books
        .recorder
        .store(request_id, fingerprint, 200, answer.clone());
    answer
}

fn set_status(fake: &FakeAntom, id: &str, status: &'static str) -> &'static str {
    let mut books = fake.books.lock().unwrap();
    match books.payments.get_mut(id) {
        Some(payment) if payment.status == "PROCESSING" => {
            payment.status = status;
            "done"
        }
        _ => "nothing to pay",
    }
}

/// The customer pays in the wallet.
async fn pay_in_wallet(State(fake): State<FakeAntom>, Path(id): Path<String>) -> &'static str {
    set_status(&fake, &id, "SUCCESS")
}

/// The wallet refuses the payment.
async fn refuse_in_wallet(State(fake): State<FakeAntom>, Path(id): Path<String>) -> &'static str {
    set_status(&fake, &id, "FAIL")
}
