//! Antom's notifications (`notifyPayment`): signed with Antom's RSA key over
//! `"POST <path of the notify URL>\n<client-id>.<request-time>.<raw body>"`, like its answers.
//! A notification has no id of its own; the payment, the kind and the result identify it, so a
//! redelivery of the same news is a duplicate.

use serde::Deserialize;

use crate::adapters::payments::antom::Keys;

use super::{ProviderEvent, WebhookError};

/// What Antom must be answered, or it delivers again.
pub const ACKNOWLEDGEMENT: &str =
    r#"{"result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"}}"#;

/// Checks the notification's signature, made for `path` (where Antom was told to notify).
pub fn verify(
    keys: &Keys,
    path: &str,
    header: impl Fn(&str) -> Option<String>,
    body: &[u8],
) -> Result<(), WebhookError> {
    let (Some(client_id), Some(time), Some(signature)) = (
        header("client-id"),
        header("request-time"),
        header("signature"),
    ) else {
        return Err(WebhookError::BadSignature);
    };
    let body = std::str::from_utf8(body).map_err(|e| WebhookError::Malformed(e.to_string()))?;
    if keys.verify(path, &client_id, &time, body, &signature) {
        Ok(())
    } else {
        Err(WebhookError::BadSignature)
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Notification {
    notify_type: String,
    payment_id: String,
    result: NotificationResult,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct NotificationResult {
    result_status: String,
}

pub fn parse(body: &[u8]) -> Result<ProviderEvent, WebhookError> {
    let notification: Notification =
        serde_json::from_slice(body).map_err(|e| WebhookError::Malformed(e.to_string()))?;
    Ok(ProviderEvent {
        id: format!(
            "{}:{}:{}",
            notification.payment_id, notification.notify_type, notification.result.result_status
        ),
        kind: notification.notify_type,
        payment: Some(notification.payment_id),
    })
}
