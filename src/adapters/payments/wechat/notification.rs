//! WeChat Pay's notifications (payment and refund results posted to `notify_url`): a JSON
//! envelope `{id, create_time, event_type, resource_type, summary, resource}` whose `resource` is
//! `AEAD_AES_256_GCM` ciphertext under the merchant's APIv3 key, following the official Go SDK
//! (`core/notify`, `utils/aes.go`): the key is the 32 characters set in the merchant platform,
//! used as bytes; the nonce is `resource.nonce` (12 characters) used as bytes; the associated data
//! is `resource.associated_data`; the ciphertext is base64 with the 16-byte tag at its end. The
//! plaintext is the Transaction (or Refund) as the query answers give it.
//!
//! Decrypting is also what proves the resource is WeChat Pay's: only it and the merchant hold
//! the key, and the tag fails on any change. The envelope's headers are checked separately, with
//! [`super::Verifier::check`].

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{Aead, KeyInit, Nonce, Payload};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

/// The only resource algorithm API v3 uses.
pub const ALGORITHM: &str = "AEAD_AES_256_GCM";

/// The APIv3 key. `Debug` hides it.
#[derive(Clone)]
pub struct ApiV3Key(Aes256Gcm);

impl std::fmt::Debug for ApiV3Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiV3Key(..)")
    }
}

#[derive(Debug, thiserror::Error)]
#[error(
    "the WeChat Pay APIv3 key must be the 32 characters set in the merchant platform (API security)"
)]
pub struct ApiV3KeyError;

/// Why a notification could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotificationError {
    #[error("not a WeChat Pay notification: {0}")]
    Malformed(String),
    #[error("the resource is encrypted with {0}, not {ALGORITHM}")]
    Algorithm(String),
    /// Changed on the way, or encrypted under another APIv3 key.
    #[error(
        "the resource does not decrypt with the APIv3 key: it was altered, or the key is not the one set in the merchant platform"
    )]
    Undecryptable,
}

/// A notification as posted.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Notification {
    /// The notification's id: a redelivery has the same.
    pub id: String,
    #[serde(default)]
    pub create_time: String,
    /// `TRANSACTION.SUCCESS`, `REFUND.SUCCESS`, `REFUND.ABNORMAL`, `REFUND.CLOSED`, …
    pub event_type: String,
    #[serde(default)]
    pub resource_type: String,
    #[serde(default)]
    pub summary: String,
    pub resource: EncryptedResource,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EncryptedResource {
    pub algorithm: String,
    pub ciphertext: String,
    #[serde(default)]
    pub associated_data: String,
    pub nonce: String,
    /// `transaction` or `refund`.
    #[serde(default)]
    pub original_type: String,
}

/// What Itinera reads of a decrypted Transaction or Refund: the order it is about.
#[derive(Debug, Deserialize)]
struct Subject {
    out_trade_no: Option<String>,
}

/// A notification read and decrypted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    pub id: String,
    pub event_type: String,
    /// The merchant order number (Itinera's payment id) the resource is about, if it names one.
    pub out_trade_no: Option<String>,
}

impl ApiV3Key {
    pub fn parse(text: &str) -> Result<ApiV3Key, ApiV3KeyError> {
        Aes256Gcm::new_from_slice(text.trim().as_bytes())
            .map(ApiV3Key)
            .map_err(|_| ApiV3KeyError)
    }

    /// Reads a notification's body and decrypts its resource.
    pub fn open(&self, body: &[u8]) -> Result<Opened, NotificationError> {
        let notification: Notification = serde_json::from_slice(body)
            .map_err(|e| NotificationError::Malformed(e.to_string()))?;
        let plaintext = self.decrypt(&notification.resource)?;
        let subject: Subject = serde_json::from_slice(&plaintext)
            .map_err(|e| NotificationError::Malformed(format!("the resource: {e}")))?;
        Ok(Opened {
            id: notification.id,
            event_type: notification.event_type,
            out_trade_no: subject.out_trade_no,
        })
    }

    fn decrypt(&self, resource: &EncryptedResource) -> Result<Vec<u8>, NotificationError> {
        if resource.algorithm != ALGORITHM {
            return Err(NotificationError::Algorithm(resource.algorithm.clone()));
        }
        let nonce = Nonce::<Aes256Gcm>::try_from(resource.nonce.as_bytes())
            .map_err(|_| NotificationError::Malformed("the nonce is not 12 characters".into()))?;
        let ciphertext = STANDARD
            .decode(resource.ciphertext.trim())
            .map_err(|_| NotificationError::Malformed("the ciphertext is not base64".into()))?;
        self.0
            .decrypt(
                &nonce,
                Payload {
                    msg: &ciphertext,
                    aad: resource.associated_data.as_bytes(),
                },
            )
            .map_err(|_| NotificationError::Undecryptable)
    }

    /// A notification about `resource` (a Transaction or a Refund, JSON) as WeChat Pay posts
    /// it, encrypted under this key with a fresh nonce: for fakes and for checking an endpoint by
    /// hand. `None` only if encrypting fails.
    pub fn notification(
        &self,
        id: &str,
        event_type: &str,
        resource: &[u8],
    ) -> Option<Notification> {
        let (original_type, summary) = match event_type {
            "TRANSACTION.SUCCESS" => ("transaction", "支付成功"),
            "REFUND.SUCCESS" => ("refund", "退款成功"),
            kind if kind.starts_with("REFUND.") => ("refund", "退款状态变更"),
            _ => ("transaction", "支付状态变更"),
        };
        let nonce: String = super::signing::nonce().chars().take(12).collect();
        let iv = Nonce::<Aes256Gcm>::try_from(nonce.as_bytes()).ok()?;
        let ciphertext = self
            .0
            .encrypt(
                &iv,
                Payload {
                    msg: resource,
                    aad: original_type.as_bytes(),
                },
            )
            .ok()?;
        Some(Notification {
            id: id.to_string(),
            create_time: super::beijing_time(chrono::Utc::now()),
            event_type: event_type.to_string(),
            resource_type: "encrypt-resource".into(),
            summary: summary.into(),
            resource: EncryptedResource {
                algorithm: ALGORITHM.to_string(),
                ciphertext: STANDARD.encode(ciphertext),
                associated_data: original_type.to_string(),
                nonce,
                original_type: original_type.to_string(),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "itineraWeChatPayApiV3TestKey0032";
    const PAID: &[u8] = br#"{"out_trade_no":"abc123","trade_state":"SUCCESS"}"#;

    fn body(notification: &Notification) -> Vec<u8> {
        serde_json::to_vec(notification).unwrap()
    }

    #[test]
    fn a_resource_opens_with_the_key_and_not_when_changed() {
        let key = ApiV3Key::parse(KEY).unwrap();
        let notification = key
            .notification("EV-2018022511223320873", "TRANSACTION.SUCCESS", PAID)
            .unwrap();
        assert_eq!(notification.resource.nonce.len(), 12);
        assert_eq!(
            key.open(&body(&notification)).unwrap(),
            Opened {
                id: "EV-2018022511223320873".into(),
                event_type: "TRANSACTION.SUCCESS".into(),
                out_trade_no: Some("abc123".into()),
            }
        );

        let mut other_aad = notification.clone();
        other_aad.resource.associated_data = "refund".into();
        assert_eq!(
            key.open(&body(&other_aad)),
            Err(NotificationError::Undecryptable)
        );
        let wrong = ApiV3Key::parse("ANOTHERweChatPayApiV3TestKey0032").unwrap();
        assert_eq!(
            wrong.open(&body(&notification)),
            Err(NotificationError::Undecryptable)
        );
        let mut other_algorithm = notification;
        other_algorithm.resource.algorithm = "AEAD_SM4_GCM".into();
        assert!(matches!(
            key.open(&body(&other_algorithm)),
            Err(NotificationError::Algorithm(_))
        ));
        assert!(matches!(
            key.open(b"{}"),
            Err(NotificationError::Malformed(_))
        ));
    }

    #[test]
    fn the_key_is_32_characters() {
        assert!(ApiV3Key::parse(KEY).is_ok());
        assert!(ApiV3Key::parse("short").is_err());
    }
}
