//! A webhook subscriber for tests: it checks each delivery's `Itinera-Signature` with its own
//! HMAC-SHA256 (t=…,v1=… over "<t>.<body>", timestamps within five minutes), refuses a bad one
//! with 400, and answers the rest as told: 200, an error status, or not at all (held open).

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

/// How the receiver answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Status(u16),
    /// Never: the request stays open, as with a subscriber that hangs.
    Hold,
}

#[derive(Debug, Clone)]
pub struct Received {
    pub body: Value,
    pub verified: bool,
    /// The status answered; `None` while held.
    pub answered: Option<u16>,
}

impl Received {
    pub fn id(&self) -> &str {
        self.body["id"].as_str().unwrap_or_default()
    }
    pub fn kind(&self) -> &str {
        self.body["type"].as_str().unwrap_or_default()
    }
}

#[derive(Clone)]
struct Shared {
    secret: String,
    answer: Arc<Mutex<Answer>>,
    received: Arc<Mutex<Vec<Received>>>,
}

pub struct WebhookReceiver {
    pub url: String,
    shared: Shared,
}

/// Whether `header` signs `body` under `secret`, at a time within five minutes of now.
pub fn signature_holds(header: &str, body: &[u8], secret: &str) -> bool {
    let mut timestamp = None;
    let mut signature = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", value)) => timestamp = value.parse::<i64>().ok(),
            Some(("v1", value)) => signature = hex::decode(value).ok(),
            _ => {}
        }
    }
    let (Some(timestamp), Some(signature)) = (timestamp, signature) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    mac.verify_slice(&signature).is_ok()
        && (chrono::Utc::now().timestamp() - timestamp).abs() <= 300
}

async fn receive(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let verified = headers
        .get("itinera-signature")
        .and_then(|value| value.to_str().ok())
        .is_some_and(|header| signature_holds(header, &body, &shared.secret));
    let parsed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let answer = *shared.answer.lock().unwrap();
    let status = match (verified, answer) {
        (false, _) => 400,
        (true, Answer::Status(status)) => status,
        (true, Answer::Hold) => {
            shared.received.lock().unwrap().push(Received {
                body: parsed,
                verified,
                answered: None,
            });
            std::future::pending::<()>().await;
            unreachable!()
        }
    };
    shared.received.lock().unwrap().push(Received {
        body: parsed,
        verified,
        answered: Some(status),
    });
    StatusCode::from_u16(status).unwrap()
}

impl WebhookReceiver {
    pub async fn start(secret: &str, answer: Answer) -> WebhookReceiver {
        let shared = Shared {
            secret: secret.to_string(),
            answer: Arc::new(Mutex::new(answer)),
            received: Arc::default(),
        };
        let router = axum::Router::new()
            .route("/hooks", axum::routing::post(receive))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hooks", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        WebhookReceiver { url, shared }
    }

    pub fn answer(&self, answer: Answer) {
        *self.shared.answer.lock().unwrap() = answer;
    }

    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap().clone()
    }

    /// The deliveries answered 2xx.
    pub fn acknowledged(&self) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| {
                r.answered
                    .is_some_and(|status| (200..300).contains(&status))
            })
            .collect()
    }

    /// Waits (up to `secs`) until `done` holds of what was received.
    pub async fn wait_until(&self, secs: u64, done: impl Fn(&[Received]) -> bool) {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(secs);
        while !done(&self.received()) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the subscriber did not get what was expected in {secs} s: {:#?}",
                self.received()
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}
