//! Stripe's webhook signature: `Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=…]`, where each
//! `v1` is HMAC-SHA256 of `"<t>.<raw body>"` under the endpoint's `whsec_…` secret. Several
//! `v1` values appear while a secret is being rolled; any one matching is enough.

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

use super::{ProviderEvent, WebhookError};

/// How far an event's timestamp may be from now (Stripe's libraries use five minutes).
pub const TOLERANCE_SECONDS: i64 = 300;

/// Checks the signature and the timestamp of a delivery.
pub fn verify(
    header: &str,
    body: &[u8],
    secret: &str,
    now: DateTime<Utc>,
) -> Result<(), WebhookError> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => timestamp = value.parse::<i64>().ok(),
            Some(("v1", value)) => signatures.push(value),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(WebhookError::BadSignature)?;
    let mac = || {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
            .map_err(|_| WebhookError::BadSignature)?;
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        Ok::<_, WebhookError>(mac)
    };
    let mut matched = false;
    for signature in signatures {
        if let Ok(bytes) = hex::decode(signature)
            && mac()?.verify_slice(&bytes).is_ok()
        {
            matched = true;
        }
    }
    if !matched {
        return Err(WebhookError::BadSignature);
    }
    if (now.timestamp() - timestamp).abs() > TOLERANCE_SECONDS {
        return Err(WebhookError::Stale);
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
struct Event {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    data: EventData,
}

#[derive(Debug, Deserialize)]
struct EventData {
    object: EventObject,
}

#[derive(Debug, Deserialize)]
struct EventObject {
    id: String,
    object: String,
}

/// The event, and the PaymentIntent it is about if it concerns one.
pub fn parse(body: &[u8]) -> Result<ProviderEvent, WebhookError> {
    let event: Event =
        serde_json::from_slice(body).map_err(|e| WebhookError::Malformed(e.to_string()))?;
    let payment = (event.data.object.object == "payment_intent"
        && event.kind.starts_with("payment_intent."))
    .then_some(event.data.object.id);
    Ok(ProviderEvent {
        id: event.id,
        kind: event.kind,
        payment,
    })
}

/// Signs a body as Stripe would, for tests and for checking an endpoint by hand.
pub fn sign(body: &[u8], secret: &str, timestamp: i64) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_test";

    #[test]
    fn a_signed_fresh_delivery_passes_and_anything_else_does_not() {
        let now = Utc::now();
        let body = br#"{"id":"evt_1"}"#;
        let header = sign(body, SECRET, now.timestamp());
        assert!(verify(&header, body, SECRET, now).is_ok());
        // Rolled secrets: one of several v1 values matches.
        let rolled = format!("{},v1={}", header, "00".repeat(32));
        assert!(verify(&rolled, body, SECRET, now).is_ok());
        assert!(matches!(
            verify(&header, br#"{"id":"evt_2"}"#, SECRET, now),
            Err(WebhookError::BadSignature)
        ));
        assert!(matches!(
            verify(&header, body, "whsec_other", now),
            Err(WebhookError::BadSignature)
        ));
        let old = sign(body, SECRET, now.timestamp() - TOLERANCE_SECONDS - 1);
        assert!(matches!(
            verify(&old, body, SECRET, now),
            Err(WebhookError::Stale)
        ));
        assert!(matches!(
            verify("v1=abc", body, SECRET, now),
            Err(WebhookError::BadSignature)
        ));
    }
}
