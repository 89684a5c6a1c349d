//! A local WeChat Pay (API v3, direct merchant), following `shared/provider-apis.md` §5 and the
//! official Go SDK: every request must carry the merchant's `WECHATPAY2-SHA256-RSA2048`
//! Authorization (mchid, serial and a signature over `METHOD\nURL\nTIMESTAMP\nNONCE\nBODY\n`,
//! made less than five minutes ago) or it is refused with 401 `SIGN_ERROR`; every answer is
//! signed with WeChat Pay's key (`Wechatpay-*` headers over `TIMESTAMP\nNONCE\nBODY\n`). Orders
//! are kept by `out_trade_no` and refunds by `out_refund_no`; amounts are integer fen, CNY only.
//!
//! The fake parses the Authorization header and builds the signed text itself rather than using
//! the adapter's code, so a mistake in the adapter's format shows as a refusal here.
//!
//! Choices the contract leaves open (unconfirmed against the real service):
//! - the same `out_trade_no` with the same parameters answers the same `code_url`/`prepay_id`;
//!   with another amount, deadline, description or payer it is 400 `INVALID_REQUEST`; paid, 400
//!   `ORDERPAID`; closed, 400 `ORDER_CLOSED`;
//! - closing an unpaid (or closed) order is 204; a paid one 400 `ORDERPAID`;
//! - the same `out_refund_no` with the same order and amount answers the same refund, otherwise
//!   400 `INVALID_REQUEST`; more than is left to refund is 400 `INVALID_REQUEST`; more than the
//!   merchant's balance (when the test sets one) is 403 `NOT_ENOUGH`;
//! - a new refund is answered `PROCESSING` and then reads `SUCCESS`;
//! - an order past its `time_expire` cannot be paid (and stays `NOTPAY`);
//! - a wrong `mchid` or `appid`, a currency other than CNY, or a missing field is 400
//!   `PARAM_ERROR`; an unknown order 404 `ORDER_NOT_EXIST`, an unknown refund 404
//!   `RESOURCE_NOT_EXISTS`.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use itinera::adapters::payments::wechat::{ApiV3Key, Signer, Verifier, WeChatSettings};
use serde_json::{Value, json};

pub use super::fake_http::Received;
use super::fake_http::{Recorder, json_response};

pub const MCH_ID: &str = "1900000109";
pub const APP_ID: &str = "wxd678efh567hg6787";
pub const MERCHANT_SERIAL: &str = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1";
pub const PLATFORM_SERIAL: &str = "PUB_KEY_ID_0119000001092026112500112233000000";
pub const API_V3_KEY: &str = "ItineraFakeWeChatPayApiV3Key0032";
pub const NOTIFY_URL: &str = "https://pay.example.com/itinera/webhooks/wechat";
pub const MERCHANT_PRIVATE: &str = include_str!("../fixtures/wechat/merchant-private.pem");
pub const MERCHANT_PUBLIC: &str = include_str!("../fixtures/wechat/merchant-public.pem");
pub const PLATFORM_PRIVATE: &str = include_str!("../fixtures/wechat/platform-private.pem");
pub const PLATFORM_PUBLIC: &str = include_str!("../fixtures/wechat/platform-public.pem");

/// How the next answer is spoiled, to check the adapter does not believe it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tamper {
    /// Signed with a key that is not WeChat Pay's.
    Forged,
    /// Signed by WeChat Pay's key but naming another serial.
    OtherSerial,
    /// Signed ten minutes ago.
    Stale,
}

#[derive(Debug, Clone)]
struct Trade {
    trade_type: &'static str,
    description: String,
    total: i64,
    openid: Option<String>,
    state: &'static str,
    /// `code_url` (Native) or `prepay_id` (JSAPI).
    prepay: String,
    /// `time_expire`: the customer cannot pay after it.
    expires: Option<chrono::DateTime<chrono::FixedOffset>>,
    transaction_id: String,
    refunded: i64,
}

#[derive(Debug, Clone)]
struct Refund {
    out_trade_no: String,
    transaction_id: String,
    refund_id: String,
    /// The order's total.
    total: i64,
    amount: i64,
    status: &'static str,
}

#[derive(Default)]
struct Books {
    trades: HashMap<String, Trade>,
    refunds: HashMap<String, Refund>,
    recorder: Recorder,
    next_id: u64,
    tamper: VecDeque<Tamper>,
    /// The status the next new refund ends in, instead of SUCCESS.
    next_refund_status: Option<&'static str>,
    /// What the merchant's account can refund, when a test limits it.
    balance: Option<i64>,
}

#[derive(Clone)]
pub struct FakeWeChat {
    books: Arc<Mutex<Books>>,
    /// WeChat Pay's side: signs with its key, verifies with the merchant's public key.
    platform: Signer,
    merchant: Verifier,
    pub base_url: String,
}

impl FakeWeChat {
    pub async fn start() -> FakeWeChat {
        let (listener, base_url) = super::fake_http::bind().await;
        let fake = FakeWeChat {
            books: Arc::default(),
            platform: Signer::parse(PLATFORM_PRIVATE, PLATFORM_SERIAL).unwrap(),
            merchant: Verifier::parse(MERCHANT_PUBLIC, MERCHANT_SERIAL).unwrap(),
            base_url,
        };
        let app = Router::new()
            .route("/v3/{*rest}", any(api))
            .route("/fake/pay/{out_trade_no}", get(payer_pays))
            .route("/fake/fail/{out_trade_no}", get(payment_fails))
            .with_state(fake.clone());
        super::fake_http::serve(listener, app);
        fake
    }

    /// The settings of an adapter that talks to this fake as the merchant.
    pub fn settings(&self) -> WeChatSettings {
        WeChatSettings {
            mch_id: MCH_ID.into(),
            app_id: APP_ID.into(),
            merchant: Signer::parse(MERCHANT_PRIVATE, MERCHANT_SERIAL).unwrap(),
            platform: Verifier::parse(PLATFORM_PUBLIC, PLATFORM_SERIAL).unwrap(),
            base_url: self.base_url.clone(),
            notify_url: NOTIFY_URL.into(),
        }
    }

    pub fn received(&self) -> Vec<Received> {
        self.recorder(|recorder| recorder.received.clone())
    }

    /// The request log and the failures forced on the next requests: a forced status answers
    /// WeChat Pay's error for it (429 `FREQUENCY_LIMITED`, 500 `SYSTEM_ERROR`, 400 `PARAM_ERROR`,
    /// …), signed, without acting.
    pub fn recorder<T>(&self, with: impl FnOnce(&mut Recorder) -> T) -> T {
        with(&mut self.books.lock().unwrap().recorder)
    }

    /// The next answer is spoiled so: the fake still acts.
    pub fn tamper_next(&self, tamper: Tamper) {
        self.books.lock().unwrap().tamper.push_back(tamper);
    }

    /// The next new refund ends `ABNORMAL` or `CLOSED`.
    pub fn next_refund_ends(&self, status: &'static str) {
        self.books.lock().unwrap().next_refund_status = Some(status);
    }

    /// The merchant's account holds only `fen` to refund from.
    pub fn set_balance(&self, fen: i64) {
        self.books.lock().unwrap().balance = Some(fen);
    }

    /// The customer pays the order (scans the QR code and confirms). Whether it was payable.
    pub fn pay(&self, out_trade_no: &str) -> bool {
        settle(&mut self.books.lock().unwrap(), out_trade_no, "SUCCESS")
    }

    /// The customer pays the order this `code_url` was given for.
    pub fn scan(&self, code_url: &str) -> bool {
        let mut books = self.books.lock().unwrap();
        let Some(number) = books
            .trades
            .iter()
            .find(|(_, trade)| trade.prepay == code_url)
            .map(|(number, _)| number.clone())
        else {
            return false;
        };
        settle(&mut books, &number, "SUCCESS")
    }

    /// (trade_state, total, refunded) in fen.
    pub fn trade(&self, out_trade_no: &str) -> (String, i64, i64) {
        let books = self.books.lock().unwrap();
        let trade = &books.trades[out_trade_no];
        (trade.state.to_string(), trade.total, trade.refunded)
    }

    pub fn trade_count(&self) -> usize {
        self.books.lock().unwrap().trades.len()
    }

    pub fn refund_count(&self) -> usize {
        self.books.lock().unwrap().refunds.len()
    }

    /// A `TRANSACTION.SUCCESS` notification about a paid order, as WeChat Pay posts it to
    /// `notify_url`: (headers, body), the resource encrypted with the APIv3 key and the whole
    /// signed with WeChat Pay's key at `timestamp`.
    pub fn payment_notification(
        &self,
        out_trade_no: &str,
        timestamp: i64,
    ) -> (Vec<(&'static str, String)>, String) {
        let books = self.books.lock().unwrap();
        let trade = &books.trades[out_trade_no];
        let notification = ApiV3Key::parse(API_V3_KEY)
            .unwrap()
            .notification(
                &format!("EV-{}", trade.transaction_id),
                "TRANSACTION.SUCCESS",
                transaction_json(out_trade_no, trade).to_string().as_bytes(),
            )
            .unwrap();
        let body = serde_json::to_string(&notification).unwrap();
        (self.platform.signed_headers(timestamp, &body), body)
    }
}

/// Moves an unpaid order to `state`; whether it was unpaid.
fn settle(books: &mut Books, out_trade_no: &str, state: &'static str) -> bool {
    match books.trades.get_mut(out_trade_no) {
        Some(trade)
            if matches!(trade.state, "NOTPAY" | "USERPAYING")
                && trade.expires.is_none_or(|at| chrono::Utc::now() < at) =>
        {
            trade.state = state;
            true
        }
        _ => false,
    }
}

async fn payer_pays(State(fake): State<FakeWeChat>, Path(number): Path<String>) -> &'static str {
    if fake.pay(&number) {
        "paid"
    } else {
        "nothing to pay"
    }
}

async fn payment_fails(State(fake): State<FakeWeChat>, Path(number): Path<String>) -> &'static str {
    if settle(&mut fake.books.lock().unwrap(), &number, "PAYERROR") {
        "failed"
    } else {
        "nothing to pay"
    }
}

fn error(status: u16, code: &str, message: &str) -> (u16, Option<Value>) {
    (status, Some(json!({"code": code, "message": message})))
}

fn forced_error(status: u16) -> Value {
    let (code, message) = match status {
        429 => ("FREQUENCY_LIMITED", "频率超限"),
        400 => ("PARAM_ERROR", "参数错误"),
        401 => ("SIGN_ERROR", "签名错误"),
        403 => ("NO_AUTH", "商户无权限"),
        404 => ("ORDER_NOT_EXIST", "订单不存在"),
        _ => ("SYSTEM_ERROR", "系统错误"),
    };
    json!({"code": code, "message": message})
}

/// The fields of an `Authorization: WECHATPAY2-SHA256-RSA2048 k="v",…` header.
fn authorization_fields(header: &str) -> Option<HashMap<String, String>> {
    let fields = header.strip_prefix("WECHATPAY2-SHA256-RSA2048 ")?;
    fields
        .split(',')
        .map(|field| {
            let (name, value) = field.trim().split_once('=')?;
            let value = value.strip_prefix('"')?.strip_suffix('"')?;
            Some((name.to_string(), value.to_string()))
        })
        .collect()
}

/// Whether the request carries the merchant's valid, fresh signature.
fn signed_by_merchant(
    merchant: &Verifier,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &str,
) -> bool {
    let Some(fields) = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(authorization_fields)
    else {
        return false;
    };
    let field = |name: &str| fields.get(name).map(String::as_str).unwrap_or_default();
    let fresh = field("timestamp")
        .parse::<i64>()
        .is_ok_and(|at| (chrono::Utc::now().timestamp() - at).abs() < 300);
    let url = uri.path_and_query().map(|p| p.as_str()).unwrap_or_default();
    let message = format!(
        "{method}\n{url}\n{}\n{}\n{body}\n",
        field("timestamp"),
        field("nonce_str")
    );
    field("mchid") == MCH_ID
        && field("serial_no") == merchant.serial()
        && fresh
        && merchant.verify(&message, field("signature"))
}

async fn api(
    State(fake): State<FakeWeChat>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: String,
) -> Response {
    let json: Option<Value> = serde_json::from_str(&body).ok();
    let query: Vec<(String, String)> =
        serde_urlencoded::from_str(uri.query().unwrap_or_default()).unwrap_or_default();
    let mut books = fake.books.lock().unwrap();
    books.recorder.record(
        method.as_str(),
        uri.path(),
        &headers,
        query.clone(),
        json.clone(),
    );
    let (status, answer) = if !signed_by_merchant(&fake.merchant, &method, &uri, &headers, &body) {
        error(401, "SIGN_ERROR", "签名错误，请检查后再试")
    } else if let Some(forced) = books.recorder.forced_failure(forced_error) {
        let status = forced.status().as_u16();
        return sign(&fake, &mut books, forced, &forced_error(status).to_string());
    } else {
        let json = json.unwrap_or(Value::Null);
        let segments: Vec<&str> = uri.path().trim_start_matches("/v3/").split('/').collect();
        act(&mut books, &method, &segments, &query, &json)
    };
    let text = answer.as_ref().map(Value::to_string).unwrap_or_default();
    let response = match &answer {
        Some(answer) => json_response(status, answer),
        None => axum::http::StatusCode::from_u16(status)
            .unwrap()
            .into_response(),
    };
    sign(&fake, &mut books, response, &text)
}

/// Adds WeChat Pay's signature headers for `body` to an answer, spoiled if a test asked.
fn sign(fake: &FakeWeChat, books: &mut Books, mut response: Response, body: &str) -> Response {
    let now = chrono::Utc::now().timestamp();
    let signed = match books.tamper.pop_front() {
        None => fake.platform.signed_headers(now, body),
        Some(Tamper::Forged) => Signer::parse(MERCHANT_PRIVATE, PLATFORM_SERIAL)
            .unwrap()
            .signed_headers(now, body),
        Some(Tamper::OtherSerial) => Signer::parse(PLATFORM_PRIVATE, "PUB_KEY_ID_SOMEONE_ELSE")
            .unwrap()
            .signed_headers(now, body),
        Some(Tamper::Stale) => fake.platform.signed_headers(now - 600, body),
    };
    let headers = response.headers_mut();
    for (name, value) in signed {
        headers.insert(name, value.parse().unwrap());
    }
    headers.insert(
        "Request-ID",
        "08F78BB5AF0610D302A8EDD2ED07F2111".parse().unwrap(),
    );
    response
}

fn act(
    books: &mut Books,
    method: &Method,
    segments: &[&str],
    query: &[(String, String)],
    body: &Value,
) -> (u16, Option<Value>) {
    let mchid_query = query.iter().any(|(k, v)| k == "mchid" && v == MCH_ID);
    match (method.as_str(), segments) {
        ("POST", ["pay", "transactions", kind @ ("native" | "jsapi")]) => prepay(books, kind, body),
        ("GET", ["pay", "transactions", "out-trade-no", number]) if mchid_query => {
            match books.trades.get(*number) {
                Some(trade) => (200, Some(transaction_json(number, trade))),
                None => error(404, "ORDER_NOT_EXIST", "订单不存在"),
            }
        }
        ("GET", ["pay", "transactions", "out-trade-no", _]) => error(
            400,
            "PARAM_ERROR",
            "mchid must be the merchant's, in the query",
        ),
        ("POST", ["pay", "transactions", "out-trade-no", number, "close"]) => {
            close(books, number, body)
        }
        ("POST", ["refund", "domestic", "refunds"]) => refund(books, body),
        ("GET", ["refund", "domestic", "refunds", number]) => match books.refunds.get(*number) {
            Some(refund) => (200, Some(refund_json(number, refund, refund.status))),
            None => error(404, "RESOURCE_NOT_EXISTS", "退款单不存在"),
        },
        _ => error(404, "NOT_FOUND", "no such API in the fake"),
    }
}

fn transaction_json(number: &str, trade: &Trade) -> Value {
    let paid = matches!(trade.state, "SUCCESS" | "REFUND");
    let mut transaction = json!({
        "appid": APP_ID,
        "mchid": MCH_ID,
        "out_trade_no": number,
        "trade_type": trade.trade_type,
        "trade_state": trade.state,
        "trade_state_desc": match trade.state {
            "SUCCESS" => "支付成功",
            "REFUND" => "转入退款",
            "CLOSED" => "订单已关闭",
            "PAYERROR" => "支付失败，请重新下单支付",
            _ => "订单未支付",
        },
        "amount": {"total": trade.total, "currency": "CNY"},
    });
    if paid {
        transaction["transaction_id"] = json!(trade.transaction_id);
        transaction["bank_type"] = json!("OTHERS");
        transaction["success_time"] = json!("2026-11-25T10:00:00+08:00");
        transaction["payer"] =
            json!({"openid": trade.openid.as_deref().unwrap_or("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o")});
        transaction["amount"] = json!({"total": trade.total, "payer_total": trade.total, "currency": "CNY", "payer_currency": "CNY"});
    }
    transaction
}

fn refund_json(number: &str, refund: &Refund, status: &str) -> Value {
    json!({
        "refund_id": refund.refund_id,
        "out_refund_no": number,
        "transaction_id": refund.transaction_id,
        "out_trade_no": refund.out_trade_no,
        "channel": "ORIGINAL",
        "user_received_account": "支付用户零钱",
        "create_time": "2026-11-25T10:05:00+08:00",
        "status": status,
        "funds_account": "AVAILABLE",
        "amount": {
            "total": refund.total,
            "refund": refund.amount,
            "payer_total": refund.total,
            "payer_refund": refund.amount,
            "settlement_refund": refund.amount,
            "settlement_total": refund.total,
            "discount_refund": 0,
            "currency": "CNY",
        },
    })
}

fn plain_number(value: &Value) -> Option<String> {
    let number = value.as_str()?;
    let valid = (6..=32).contains(&number.len())
        && number
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    valid.then(|| number.to_string())
}

fn prepay(books: &mut Books, kind: &str, body: &Value) -> (u16, Option<Value>) {
    let openid = body["payer"]["openid"].as_str().map(str::to_string);
    let (Some(number), Some(description), Some(total), Some(notify_url)) = (
        plain_number(&body["out_trade_no"]),
        body["description"].as_str(),
        body["amount"]["total"].as_i64(),
        body["notify_url"].as_str(),
    ) else {
        return error(
            400,
            "PARAM_ERROR",
            "out_trade_no, description, amount.total and notify_url are required",
        );
    };
    if body["appid"] != APP_ID || body["mchid"] != MCH_ID {
        return error(400, "PARAM_ERROR", "appid和mch_id不匹配");
    }
    if body["amount"]["currency"] != "CNY" || total < 1 {
        return error(
            400,
            "PARAM_ERROR",
            "amount.total must be at least 1 fen, in CNY",
        );
    }
    if !notify_url.starts_with("https://") || notify_url.contains('?') {
        return error(
            400,
            "PARAM_ERROR",
            "notify_url must be HTTPS without a query",
        );
    }
    let expires = match body["time_expire"].as_str() {
        None => None,
        Some(at) => match chrono::DateTime::parse_from_rfc3339(at) {
            Ok(at) => Some(at),
            Err(_) => return error(400, "PARAM_ERROR", "time_expire must be RFC 3339"),
        },
    };
    if kind == "jsapi" && openid.is_none() {
        return error(400, "PARAM_ERROR", "payer.openid is required");
    }
    let trade_type = if kind == "jsapi" { "JSAPI" } else { "NATIVE" };
    if let Some(trade) = books.trades.get(&number) {
        return match trade.state {
            "SUCCESS" | "REFUND" => error(400, "ORDERPAID", "该订单已支付"),
            "CLOSED" => error(400, "ORDER_CLOSED", "该订单已关闭"),
            _ if trade.total != total
                || trade.expires != expires
                || trade.description != description
                || trade.trade_type != trade_type
                || trade.openid != openid =>
            {
                error(400, "INVALID_REQUEST", "201 商户订单号重复")
            }
            _ => (200, Some(prepay_json(trade))),
        };
    }
    books.next_id += 1;
    let id = books.next_id;
    let trade = Trade {
        trade_type,
        description: description.to_string(),
        total,
        openid,
        state: "NOTPAY",
        prepay: if kind == "jsapi" {
            format!("wx2611215250292{id:010}")
        } else {
            format!("weixin://wxpay/bizpayurl?pr=fake{id:07}")
        },
        transaction_id: format!("4200000{id:013}"),
        expires,
        refunded: 0,
    };
    let answer = prepay_json(&trade);
    books.trades.insert(number, trade);
    (200, Some(answer))
}

fn prepay_json(trade: &Trade) -> Value {
    if trade.trade_type == "JSAPI" {
        json!({"prepay_id": trade.prepay})
    } else {
        json!({"code_url": trade.prepay})
    }
}

fn close(books: &mut Books, number: &str, body: &Value) -> (u16, Option<Value>) {
    if body["mchid"] != MCH_ID {
        return error(400, "PARAM_ERROR", "mchid must be the merchant's");
    }
    match books.trades.get_mut(number) {
        None => error(404, "ORDER_NOT_EXIST", "订单不存在"),
        Some(trade) if matches!(trade.state, "SUCCESS" | "REFUND") => {
            error(400, "ORDERPAID", "该订单已支付，不能关闭")
        }
        Some(trade) => {
            trade.state = "CLOSED";
            (204, None)
        }
    }
}

fn refund(books: &mut Books, body: &Value) -> (u16, Option<Value>) {
    let (Some(trade_no), Some(number), Some(amount), Some(total)) = (
        body["out_trade_no"].as_str(),
        plain_number(&body["out_refund_no"]),
        body["amount"]["refund"].as_i64(),
        body["amount"]["total"].as_i64(),
    ) else {
        return error(
            400,
            "PARAM_ERROR",
            "out_trade_no, out_refund_no, amount.refund and amount.total are required",
        );
    };
    if body["amount"]["currency"] != "CNY" {
        return error(400, "PARAM_ERROR", "currency must be CNY");
    }
    if let Some(refund) = books.refunds.get(&number) {
        return if refund.out_trade_no == trade_no && refund.amount == amount {
            (200, Some(refund_json(&number, refund, refund.status)))
        } else {
            error(400, "INVALID_REQUEST", "退款单号已用于其他退款")
        };
    }
    let Some(trade) = books.trades.get_mut(trade_no) else {
        return error(404, "RESOURCE_NOT_EXISTS", "订单不存在");
    };
    if !matches!(trade.state, "SUCCESS" | "REFUND") {
        return error(400, "INVALID_REQUEST", "订单未支付，不能退款");
    }
    if total != trade.total {
        return error(400, "PARAM_ERROR", "amount.total is not the order's total");
    }
    if amount < 1 || amount > trade.total - trade.refunded {
        return error(400, "INVALID_REQUEST", "申请退款金额超过订单可退金额");
    }
    if books.balance.is_some_and(|balance| amount > balance) {
        return error(403, "NOT_ENOUGH", "基本账户余额不足，请充值后重新发起");
    }
    let status = books.next_refund_status.take().unwrap_or("SUCCESS");
    if status == "SUCCESS" {
        trade.refunded += amount;
        trade.state = "REFUND";
        if let Some(balance) = books.balance.as_mut() {
            *balance -= amount;
        }
    }
    let refund = Refund {
        out_trade_no: trade_no.to_string(),
        transaction_id: trade.transaction_id.clone(),
        refund_id: format!("50000{:013}", books.next_id + 1),
        total: trade.total,
        amount,
        status,
    };
    books.next_id += 1;
    // New refunds are still being processed when first answered.
    let answered = if status == "SUCCESS" {
        "PROCESSING"
    } else {
        status
    };
    let answer = refund_json(&number, &refund, answered);
    books.refunds.insert(number, refund);
    (200, Some(answer))
}
