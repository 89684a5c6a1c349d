//! WeChat Pay's notifications (payment and refund results posted to `notify_url`): the headers
//! `Wechatpay-Timestamp`, `-Nonce`, `-Signature` and `-Serial` sign `"<timestamp>\n<nonce>\n<raw
//! body>\n"` with WeChat Pay's key, as its answers do, and must be less than five minutes old;
//! the body's `resource` is then decrypted with the APIv3 key (AES-256-GCM), which also proves it
//! unaltered. The notification's `id` identifies it, so a redelivery is a duplicate.
//!
//! WeChat Pay takes a 200 or 204 as received; anything else, best with
//! `{"code":"FAIL","message":…}`, has it deliver again ([`failure`]).

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::adapters::payments::wechat::{ApiV3Key, NotificationError, SCHEME, Untrusted, Verifier};

use super::{ProviderEvent, WebhookError};

/// Checks the delivery's signature, its signing key's serial and its age.
pub fn verify(
    platform: &Verifier,
    header: impl Fn(&str) -> Option<String>,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<(), WebhookError> {
    if header("Wechatpay-Signature-Type").is_some_and(|kind| kind != SCHEME) {
        return Err(WebhookError::BadSignature);
    }
    let body = std::str::from_utf8(body).map_err(|e| WebhookError::Malformed(e.to_string()))?;
    platform.check(header, body, now).map_err(|why| match why {
        Untrusted::Stale => WebhookError::Stale,
        Untrusted::Unsigned | Untrusted::OtherKey | Untrusted::BadSignature => {
            WebhookError::BadSignature
        }
    })
}

/// The event, once its resource decrypts: about the order (`out_trade_no`) it names.
pub fn parse(body: &[u8], key: &ApiV3Key) -> Result<ProviderEvent, WebhookError> {
    let opened = key.open(body).map_err(|error| match error {
        NotificationError::Undecryptable => WebhookError::Undecryptable(error.to_string()),
        NotificationError::Malformed(_) | NotificationError::Algorithm(_) => {
            WebhookError::Malformed(error.to_string())
        }
    })?;
    Ok(ProviderEvent {
        id: opened.id,
        kind: opened.event_type,
        payment: opened.out_trade_no,
    })
}

/// The body of a refusal, in the shape WeChat Pay reads.
pub fn failure(message: &str) -> String {
    json!({"code": "FAIL", "message": message}).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::payments::wechat::{Notification, Signer};

    const PLATFORM: &str = include_str!("../../tests/fixtures/wechat/platform-private.pem");
    const PLATFORM_PUBLIC: &str = include_str!("../../tests/fixtures/wechat/platform-public.pem");
    const MERCHANT: &str = include_str!("../../tests/fixtures/wechat/merchant-private.pem");
    const SERIAL: &str = "PUB_KEY_ID_0119000001092026112500112233000000";
    const KEY: &str = "ItineraFakeWeChatPayApiV3Key0032";

    fn notification() -> Notification {
        ApiV3Key::parse(KEY)
            .unwrap()
            .notification(
                "EV-2018022511223320873",
                "TRANSACTION.SUCCESS",
                br#"{"out_trade_no":"0f3c2a","trade_state":"SUCCESS","amount":{"total":100}}"#,
            )
            .unwrap()
    }

    fn body(notification: &Notification) -> String {
        serde_json::to_string(notification).unwrap()
    }

    fn headers(list: Vec<(&'static str, String)>) -> impl Fn(&str) -> Option<String> {
        move |name| {
            list.iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(name))
                .map(|(_, value)| value.clone())
        }
    }

    fn platform() -> Verifier {
        Verifier::parse(PLATFORM_PUBLIC, SERIAL).unwrap()
    }

    #[test]
    fn a_signed_fresh_notification_is_read_as_an_event_about_its_order() {
        let now = Utc::now();
        let body = body(&notification());
        let signed = Signer::parse(PLATFORM, SERIAL)
            .unwrap()
            .signed_headers(now.timestamp(), &body);
        verify(&platform(), headers(signed), body.as_bytes(), now).unwrap();
        let event = parse(body.as_bytes(), &ApiV3Key::parse(KEY).unwrap()).unwrap();
        assert_eq!(
            event,
            ProviderEvent {
                id: "EV-2018022511223320873".into(),
                kind: "TRANSACTION.SUCCESS".into(),
                payment: Some("0f3c2a".into()),
            }
        );
    }

    #[test]
    fn forged_stale_or_other_key_notifications_are_refused() {
        let now = Utc::now();
        let body = body(&notification());
        let forged = Signer::parse(MERCHANT, SERIAL)
            .unwrap()
            .signed_headers(now.timestamp(), &body);
        assert!(matches!(
            verify(&platform(), headers(forged), body.as_bytes(), now),
            Err(WebhookError::BadSignature)
        ));
        let platform_key = Signer::parse(PLATFORM, SERIAL).unwrap();
        let stale = platform_key.signed_headers(now.timestamp() - 301, &body);
        assert!(matches!(
            verify(&platform(), headers(stale), body.as_bytes(), now),
            Err(WebhookError::Stale)
        ));
        let other_serial = Signer::parse(PLATFORM, "PUB_KEY_ID_OLD")
            .unwrap()
            .signed_headers(now.timestamp(), &body);
        assert!(matches!(
            verify(&platform(), headers(other_serial), body.as_bytes(), now),
            Err(WebhookError::BadSignature)
        ));
        let signed = platform_key.signed_headers(now.timestamp(), &body);
        let altered = body.replace("EV-2018", "EV-2019");
        assert!(matches!(
            verify(&platform(), headers(signed), altered.as_bytes(), now),
            Err(WebhookError::BadSignature)
        ));
    }

    #[test]
    fn a_resource_that_does_not_decrypt_is_refused() {
        let mut tampered = notification();
        let mut bytes = base64::Engine::decode(
            &base64::engine::general_purpose::STANDARD,
            &tampered.resource.ciphertext,
        )
        .unwrap();
        bytes[0] ^= 1;
        tampered.resource.ciphertext =
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, bytes);
        let key = ApiV3Key::parse(KEY).unwrap();
        assert!(matches!(
            parse(body(&tampered).as_bytes(), &key),
            Err(WebhookError::Undecryptable(_))
        ));
        let other_key = ApiV3Key::parse("AnotherWeChatPayApiV3Key00000032").unwrap();
        assert!(matches!(
            parse(body(&notification()).as_bytes(), &other_key),
            Err(WebhookError::Undecryptable(_))
        ));
        assert!(matches!(
            parse(b"{\"id\":1}", &key),
            Err(WebhookError::Malformed(_))
        ));
    }
}
