//! What every local provider fake shares: a record of the requests received (for tests to check
//! what an adapter sent), errors forced on the next requests, idempotent replays, JSON answers.

use std::collections::{HashMap, VecDeque};

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

/// One request as a fake received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub headers: HashMap<String, String>,
    /// Form or query fields.
    pub form: Vec<(String, String)>,
    /// The JSON body, if it was JSON.
    pub json: Option<Value>,
}

impl Received {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

/// The request log, forced failures and stored answers of one fake.
#[derive(Debug, Default)]
pub struct Recorder {
    pub received: Vec<Received>,
    fail_next: VecDeque<(u16, Option<u64>)>,
    /// Idempotency key → (what was asked, status, body).
    replays: HashMap<String, (String, u16, Value)>,
}

/// What a stored key says about a request that reuses it.
pub enum Replay {
    /// Never seen: act.
    New,
    /// Seen with the same request: answer what was answered.
    Same(u16, Value),
    /// Seen with another request.
    Conflict,
}

impl Recorder {
    pub fn record(
        &mut self,
        method: &str,
        path: &str,
        headers: &HeaderMap,
        form: Vec<(String, String)>,
        json: Option<Value>,
    ) {
        self.received.push(Received {
            method: method.to_string(),
            path: path.to_string(),
            headers: headers
                .iter()
                .map(|(n, v)| {
                    (
                        n.as_str().to_string(),
                        v.to_str().unwrap_or_default().to_string(),
                    )
                })
                .collect(),
            form,
            json,
        });
    }

    /// The requests received on this method and path, oldest first.
    pub fn received_on(&self, method: &str, path: &str) -> Vec<Received> {
        self.received
            .iter()
            .filter(|r| r.method == method && r.path == path)
            .cloned()
            .collect()
    }

    pub fn fail_next(&mut self, status: u16, retry_after: Option<u64>) {
        self.fail_next.push_back((status, retry_after));
    }

    /// Forgets the failures still queued.
    pub fn clear_failures(&mut self) {
        self.fail_next.clear();
    }

    /// A forced failure for this request, if one is queued: `body` is the provider's error.
    pub fn forced_failure(&mut self, body: impl FnOnce(u16) -> Value) -> Option<Response> {
        let (status, retry_after) = self.fail_next.pop_front()?;
        let mut response = json_response(status, &body(status));
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert("retry-after", seconds.to_string().parse().unwrap());
        }
        Some(response)
    }

    pub fn replay(&self, key: &str, request: &str) -> Replay {
        match self.replays.get(key) {
            None => Replay::New,
            Some((stored, status, body)) if stored == request => {
                Replay::Same(*status, body.clone())
            }
            Some(_) => Replay::Conflict,
        }
    }

    /// The answer stored under a key, whatever was asked with it.
    pub fn stored(&self, key: &str) -> Option<(u16, Value)> {
        self.replays
            .get(key)
            .map(|(_, status, body)| (*status, body.clone()))
    }

    pub fn store(&mut self, key: String, request: String, status: u16, body: Value) {
        self.replays.insert(key, (request, status, body));
    }
}

/// A free loopback port for a fake: the listener and the base URL the adapter is given.
pub async fn bind() -> (tokio::net::TcpListener, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    (listener, base_url)
}

/// Serves a fake's routes on its listener for the rest of the test.
pub fn serve(listener: tokio::net::TcpListener, app: axum::Router) {
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
}

pub fn json_response(status: u16, body: &Value) -> Response {
    (
        StatusCode::from_u16(status).unwrap(),
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}
