//! PayPal's webhooks: the delivery is checked by PayPal itself (`verify-webhook-signature`, the
//! documented online check), with the transmission headers, Itinera's webhook id and the event.
//! The event names the PayPal order directly (`CHECKOUT.ORDER.*`) or in its related ids
//! (`PAYMENT.*`).

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use super::{ProviderEvent, WebhookError};

/// The transmission headers PayPal signs with, in the verification request's names.
pub const HEADERS: [(&str, &str); 5] = [
    ("paypal-auth-algo", "auth_algo"),
    ("paypal-cert-url", "cert_url"),
    ("paypal-transmission-id", "transmission_id"),
    ("paypal-transmission-sig", "transmission_sig"),
    ("paypal-transmission-time", "transmission_time"),
];

/// The body of the verification request, or why the delivery cannot be checked. The event goes
/// in byte for byte as delivered: PayPal signed those bytes, and re-serializing (which reorders
/// keys and drops spaces) would make every genuine delivery fail.
pub fn verification_request(
    header: impl Fn(&str) -> Option<String>,
    webhook_id: &str,
    body: &[u8],
) -> Result<String, WebhookError> {
    let text = std::str::from_utf8(body).map_err(|e| WebhookError::Malformed(e.to_string()))?;
    let event: &RawValue =
        serde_json::from_str(text).map_err(|e| WebhookError::Malformed(e.to_string()))?;
    let mut fields = json!({"webhook_id": webhook_id});
    for (name, field) in HEADERS {
        fields[field] = Value::String(header(name).ok_or(WebhookError::BadSignature)?);
    }
    let fields = fields.to_string();
    let without_close = fields.strip_suffix('}').unwrap_or(&fields);
    Ok(format!(
        "{without_close},\"webhook_event\":{}}}",
        event.get()
    ))
}

#[derive(Debug, Deserialize)]
struct Event {
    id: String,
    event_type: String,
    resource: Resource,
}

#[derive(Debug, Deserialize)]
struct Resource {
    id: Option<String>,
    supplementary_data: Option<Supplementary>,
}

#[derive(Debug, Deserialize)]
struct Supplementary {
    related_ids: Option<RelatedIds>,
}

#[derive(Debug, Deserialize)]
struct RelatedIds {
    order_id: Option<String>,
}

/// The event, and the PayPal order it is about.
pub fn parse(body: &[u8]) -> Result<ProviderEvent, WebhookError> {
    let event: Event =
        serde_json::from_slice(body).map_err(|e| WebhookError::Malformed(e.to_string()))?;
    let payment = if event.event_type.starts_with("CHECKOUT.ORDER.") {
        event.resource.id
    } else if event.event_type.starts_with("PAYMENT.") {
        event
            .resource
            .supplementary_data
            .and_then(|s| s.related_ids)
            .and_then(|r| r.order_id)
    } else {
        None
    };
    Ok(ProviderEvent {
        id: event.id,
        kind: event.event_type,
        payment,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_order_is_found_in_order_and_payment_events() {
        let approved =
            br#"{"id":"WH-1","event_type":"CHECKOUT.ORDER.APPROVED","resource":{"id":"ORDER1"}}"#;
        assert_eq!(parse(approved).unwrap().payment.as_deref(), Some("ORDER1"));
        let captured = br#"{"id":"WH-2","event_type":"PAYMENT.CAPTURE.COMPLETED","resource":{"id":"CAP1","supplementary_data":{"related_ids":{"order_id":"ORDER1"}}}}"#;
        assert_eq!(parse(captured).unwrap().payment.as_deref(), Some("ORDER1"));
        let other =
            br#"{"id":"WH-3","event_type":"CUSTOMER.DISPUTE.CREATED","resource":{"id":"D1"}}"#;
        assert_eq!(parse(other).unwrap().payment, None);
    }

    #[test]
    fn a_delivery_without_its_transmission_headers_cannot_be_checked() {
        let body = br#"{"id":"WH-1"}"#;
        let missing = verification_request(|_| None, "WH-ID", body);
        assert!(matches!(missing, Err(WebhookError::BadSignature)));
        let spaced = br#"{"id": "WH-1",  "b": 1, "a": 2}"#;
        let request =
            verification_request(|name| Some(format!("value of {name}")), "WH-ID", spaced).unwrap();
        assert!(
            request.contains(r#""webhook_event":{"id": "WH-1",  "b": 1, "a": 2}"#),
            "the event is passed on byte for byte: {request}"
        );
        let all: Value = serde_json::from_str(&request).unwrap();
        assert_eq!(all["transmission_id"], "value of paypal-transmission-id");
        assert_eq!(all["webhook_id"], "WH-ID");
        assert_eq!(all["webhook_event"]["id"], "WH-1");
    }
}
