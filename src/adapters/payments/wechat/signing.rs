//! WeChat Pay API v3 signatures, SHA256withRSA with base64 signatures, following the official Go
//! SDK (`wechatpay-apiv3/wechatpay-go`, `core/consts`, `core/auth/credentials`,
//! `core/auth/validators`):
//!
//! - a request carries `Authorization: WECHATPAY2-SHA256-RSA2048 mchid="…",nonce_str="…",
//!   timestamp="…",serial_no="…",signature="…"`, signed with the merchant's API key over
//!   `"<METHOD>\n<path and query>\n<timestamp>\n<nonce>\n<body>\n"` (the body empty for a GET);
//! - an answer or a notification carries `Wechatpay-Timestamp`, `Wechatpay-Nonce`,
//!   `Wechatpay-Signature` and `Wechatpay-Serial`, signed with WeChat Pay's key over
//!   `"<timestamp>\n<nonce>\n<body>\n"`; it is believed only if the serial names the key Itinera
//!   holds, the signature verifies, and the timestamp is less than five minutes from now.
//!
//! Each side of a key pair is named by its serial: the merchant API certificate's serial number,
//! and WeChat Pay's public key id (`PUB_KEY_ID_…`). Only the public-key mode is supported: the
//! older platform certificates, downloaded from `/v3/certificates`, are not read here (their
//! public key can be taken out with `openssl x509 -pubkey`).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use rsa::pkcs1v15::{SigningKey, VerifyingKey};
use sha2::Sha256;

use crate::adapters::payments::rsa_keys;

/// The only signature scheme API v3 has.
pub const SCHEME: &str = "WECHATPAY2-SHA256-RSA2048";

/// How far an answer's or a notification's timestamp may be from now (the SDK's `FiveMinute`:
/// one five minutes off or more is refused).
pub const TOLERANCE_SECONDS: i64 = 300;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(
        "the WeChat Pay merchant API private key is not a PKCS#8 RSA key (PEM or base64 DER, as apiclient_key.pem)"
    )]
    Private,
    #[error(
        "the WeChat Pay public key is not an X.509 SubjectPublicKeyInfo RSA key (PEM or base64 DER, as pub_key.pem from the merchant platform)"
    )]
    Public,
    #[error("the {0} is empty: copy it from the WeChat Pay merchant platform")]
    Serial(&'static str),
}

/// A private key and the serial that names it: the merchant's in Itinera (WeChat Pay's in a fake).
/// `Debug` hides the key.
#[derive(Clone)]
pub struct Signer {
    key: Arc<SigningKey<Sha256>>,
    serial: String,
}

/// A public key and the serial that names it: WeChat Pay's in Itinera (the merchant's in a fake).
#[derive(Clone)]
pub struct Verifier {
    key: Arc<VerifyingKey<Sha256>>,
    serial: String,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Signer({}, ..)", self.serial)
    }
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Verifier({}, ..)", self.serial)
    }
}

fn serial(serial: &str, what: &'static str) -> Result<String, KeyError> {
    let serial = serial.trim();
    if serial.is_empty() {
        return Err(KeyError::Serial(what));
    }
    Ok(serial.to_string())
}

impl Signer {
    /// The merchant API key (`apiclient_key.pem`, PEM or base64 DER) and its certificate's
    /// serial number.
    pub fn parse(private_key: &str, serial_no: &str) -> Result<Signer, KeyError> {
        Ok(Signer {
            key: Arc::new(rsa_keys::signing_key(private_key).ok_or(KeyError::Private)?),
            serial: serial(serial_no, "merchant API certificate serial number")?,
        })
    }

    /// The base64 signature of `message`.
    pub fn sign(&self, message: &str) -> String {
        rsa_keys::sign(&self.key, message.as_bytes())
    }

    /// The `Authorization` header of a request from merchant `mch_id`, made now.
    pub fn authorization(&self, mch_id: &str, method: &str, url: &str, body: &str) -> String {
        let timestamp = Utc::now().timestamp().to_string();
        let nonce = nonce();
        let signature = self.sign(&request_message(method, url, &timestamp, &nonce, body));
        format!(
            r#"{SCHEME} mchid="{mch_id}",nonce_str="{nonce}",timestamp="{timestamp}",serial_no="{}",signature="{signature}""#,
            self.serial
        )
    }

    /// The `Wechatpay-*` headers of an answer or a notification signed at `timestamp`: what
    /// WeChat Pay sends, for fakes and for checking an endpoint by hand.
    pub fn signed_headers(&self, timestamp: i64, body: &str) -> Vec<(&'static str, String)> {
        let (timestamp, nonce) = (timestamp.to_string(), nonce());
        let signature = self.sign(&answer_message(&timestamp, &nonce, body));
        vec![
            ("Wechatpay-Timestamp", timestamp),
            ("Wechatpay-Nonce", nonce),
            ("Wechatpay-Signature", signature),
            ("Wechatpay-Serial", self.serial.clone()),
            ("Wechatpay-Signature-Type", SCHEME.to_string()),
        ]
    }
}

/// Why a signed answer or notification was not believed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Untrusted {
    #[error("a Wechatpay-Timestamp, -Nonce, -Signature or -Serial header is missing")]
    Unsigned,
    #[error("signed with a key whose serial Itinera was not given")]
    OtherKey,
    #[error("the signature does not verify")]
    BadSignature,
    #[error("signed five minutes or more away from now")]
    Stale,
}

impl Verifier {
    /// WeChat Pay's public key (`pub_key.pem`, PEM or base64 DER) and its id (`PUB_KEY_ID_…`).
    pub fn parse(public_key: &str, serial_no: &str) -> Result<Verifier, KeyError> {
        Ok(Verifier {
            key: Arc::new(rsa_keys::verifying_key(public_key).ok_or(KeyError::Public)?),
            serial: serial(serial_no, "WeChat Pay public key id")?,
        })
    }

    pub fn serial(&self) -> &str {
        &self.serial
    }

    /// Whether `signature` (base64) is this key's signature of `message`.
    pub fn verify(&self, message: &str, signature: &str) -> bool {
        rsa_keys::verify(&self.key, message.as_bytes(), signature)
    }

    /// Checks an answer's or a notification's `Wechatpay-*` headers (read through `header`)
    /// against its raw body.
    pub fn check(
        &self,
        header: impl Fn(&str) -> Option<String>,
        body: &str,
        now: DateTime<Utc>,
    ) -> Result<(), Untrusted> {
        let (Some(timestamp), Some(nonce), Some(signature), Some(serial)) = (
            header("Wechatpay-Timestamp"),
            header("Wechatpay-Nonce"),
            header("Wechatpay-Signature"),
            header("Wechatpay-Serial"),
        ) else {
            return Err(Untrusted::Unsigned);
        };
        if serial.trim() != self.serial {
            return Err(Untrusted::OtherKey);
        }
        if !self.verify(&answer_message(&timestamp, &nonce, body), &signature) {
            return Err(Untrusted::BadSignature);
        }
        let at = timestamp
            .trim()
            .parse::<i64>()
            .map_err(|_| Untrusted::BadSignature)?;
        if (now.timestamp() - at).abs() >= TOLERANCE_SECONDS {
            return Err(Untrusted::Stale);
        }
        Ok(())
    }
}

/// What a request's signature covers; `url` is the path with its query, as sent.
pub fn request_message(
    method: &str,
    url: &str,
    timestamp: &str,
    nonce: &str,
    body: &str,
) -> String {
    format!("{method}\n{url}\n{timestamp}\n{nonce}\n{body}\n")
}

/// What an answer's or a notification's signature covers.
pub fn answer_message(timestamp: &str, nonce: &str, body: &str) -> String {
    format!("{timestamp}\n{nonce}\n{body}\n")
}

/// A fresh 32-character random string (the SDK's nonces are 32 characters too).
pub fn nonce() -> String {
    uuid::Uuid::new_v4()
        .simple()
        .to_string()
        .to_ascii_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MERCHANT: &str = include_str!("../../../../tests/fixtures/wechat/merchant-private.pem");
    const MERCHANT_PUBLIC: &str =
        include_str!("../../../../tests/fixtures/wechat/merchant-public.pem");
    const PLATFORM: &str = include_str!("../../../../tests/fixtures/wechat/platform-private.pem");
    const PLATFORM_PUBLIC: &str =
        include_str!("../../../../tests/fixtures/wechat/platform-public.pem");

    fn headers(list: Vec<(&'static str, String)>) -> impl Fn(&str) -> Option<String> {
        move |name| {
            list.iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(name))
                .map(|(_, value)| value.clone())
        }
    }

    #[test]
    fn the_authorization_header_signs_method_url_time_nonce_and_body() {
        let merchant = Signer::parse(MERCHANT, "MERCHANT1").unwrap();
        let header = merchant.authorization("1900000109", "GET", "/v3/x?mchid=1", "");
        let fields = header.strip_prefix("WECHATPAY2-SHA256-RSA2048 ").unwrap();
        let field = |name: &str| {
            fields
                .split(',')
                .find_map(|part| part.strip_prefix(&format!("{name}=\"")))
                .and_then(|value| value.strip_suffix('"'))
                .unwrap()
                .to_string()
        };
        assert_eq!(field("mchid"), "1900000109");
        assert_eq!(field("serial_no"), "MERCHANT1");
        assert_eq!(field("nonce_str").len(), 32);
        let message = request_message(
            "GET",
            "/v3/x?mchid=1",
            &field("timestamp"),
            &field("nonce_str"),
            "",
        );
        let merchant_public = Verifier::parse(MERCHANT_PUBLIC, "MERCHANT1").unwrap();
        assert!(merchant_public.verify(&message, &field("signature")));
        assert!(!merchant_public.verify(&message.replace("GET", "POST"), &field("signature")));
    }

    #[test]
    fn an_answer_is_believed_only_signed_by_the_named_key_and_fresh() {
        let platform = Signer::parse(PLATFORM, "PUB_KEY_ID_1").unwrap();
        let verifier = Verifier::parse(PLATFORM_PUBLIC, "PUB_KEY_ID_1").unwrap();
        let now = Utc::now();
        let body = r#"{"code_url":"weixin://wxpay/bizpayurl?pr=1"}"#;
        let signed = platform.signed_headers(now.timestamp(), body);
        assert_eq!(verifier.check(headers(signed.clone()), body, now), Ok(()));
        assert_eq!(
            verifier.check(headers(signed.clone()), "{}", now),
            Err(Untrusted::BadSignature)
        );
        let other = Verifier::parse(PLATFORM_PUBLIC, "PUB_KEY_ID_2").unwrap();
        assert_eq!(
            other.check(headers(signed.clone()), body, now),
            Err(Untrusted::OtherKey)
        );
        let later = now + chrono::Duration::seconds(TOLERANCE_SECONDS);
        assert_eq!(
            verifier.check(headers(signed), body, later),
            Err(Untrusted::Stale)
        );
        let merchant = Signer::parse(MERCHANT, "PUB_KEY_ID_1").unwrap();
        assert_eq!(
            verifier.check(
                headers(merchant.signed_headers(now.timestamp(), body)),
                body,
                now
            ),
            Err(Untrusted::BadSignature)
        );
        assert_eq!(
            verifier.check(headers(Vec::new()), body, now),
            Err(Untrusted::Unsigned)
        );
    }

    #[test]
    fn keys_are_read_as_pem_or_base64_and_need_their_serial() {
        let body: String = PLATFORM_PUBLIC
            .lines()
            .filter(|line| !line.starts_with("-----"))
            .collect();
        assert!(Verifier::parse(&body, "PUB_KEY_ID_1").is_ok());
        assert!(matches!(
            Verifier::parse("nonsense", "PUB_KEY_ID_1"),
            Err(KeyError::Public)
        ));
        assert!(matches!(
            Signer::parse(PLATFORM_PUBLIC, "S"),
            Err(KeyError::Private)
        ));
        assert!(matches!(
            Signer::parse(MERCHANT, " "),
            Err(KeyError::Serial(_))
        ));
    }
}
