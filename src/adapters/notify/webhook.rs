//! Webhooks to the operator's subscribers, signed the way Stripe signs its own:
//! `Itinera-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">` under the
//! shared secret. The timestamp is signed with the body, so a receiver that refuses old
//! timestamps (five minutes, say) cannot be fed a captured delivery again later; the notice id
//! (in the body and in `Itinera-Notice-Id`) lets it drop a repeated one.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::adapters::http::{ClientError, client_without_redirects};
use crate::config::Secret;
use crate::domain::notice::OrderNotice;
use crate::ports::{Notifier, NotifyError};

pub const SIGNATURE_HEADER: &str = "Itinera-Signature";
pub const NOTICE_ID_HEADER: &str = "Itinera-Notice-Id";

/// How long a subscriber may take to answer one delivery.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);

/// The signature header's value for `body` sent at `at`.
pub fn sign(secret: &str, at: DateTime<Utc>, body: &[u8]) -> String {
    let timestamp = at.timestamp();
    // HMAC takes a key of any length; the error case cannot happen.
    let signature = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).map_or_else(
        |_| String::new(),
        |mut mac| {
            mac.update(timestamp.to_string().as_bytes());
            mac.update(b".");
            mac.update(body);
            hex::encode(mac.finalize().into_bytes())
        },
    );
    format!("t={timestamp},v1={signature}")
}

/// How a subscriber's deliveries are named in the store, logs and `itinera notifications`:
/// its address without credentials or query (which may hold the subscriber's own token); when
/// it has either, a digest of the whole address tells such endpoints apart.
pub fn channel_name(url: &reqwest::Url) -> String {
    let mut shown = url.clone();
    let private = !url.username().is_empty() || url.password().is_some() || url.query().is_some();
    // Only a URL that cannot hold credentials refuses these, and this one is http(s).
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_query(None);
    shown.set_fragment(None);
    if private {
        let digest = Sha256::digest(url.as_str().as_bytes());
        format!("webhook:{shown}#{}", &hex::encode(digest)[..8])
    } else {
        format!("webhook:{shown}")
    }
}

/// One subscriber's endpoint.
pub struct WebhookNotifier {
    channel: String,
    url: reqwest::Url,
    secret: Secret,
    http: reqwest::Client,
}

impl WebhookNotifier {
    pub fn new(url: reqwest::Url, secret: Secret) -> Result<WebhookNotifier, ClientError> {
        Ok(WebhookNotifier {
            channel: channel_name(&url),
            url,
            secret,
            http: client_without_redirects(DELIVERY_TIMEOUT)?,
        })
    }
}

#[async_trait]
impl Notifier for WebhookNotifier {
    fn channel(&self) -> &str {
        &self.channel
    }

    /// Every status change; subscribers filter on the notice's `type`.
    fn wants(&self, notice: &OrderNotice) -> bool {
        notice.changes_status()
    }

    async fn deliver(&self, notice: &OrderNotice) -> Result<(), NotifyError> {
        let body = serde_json::to_vec(notice).map_err(|e| {
            NotifyError::Undeliverable(format!("the notice cannot be encoded: {e}"))
        })?;
        // The wall clock, not the app's: the receiver checks the time against its own clock.
        let signature = sign(self.secret.expose(), Utc::now(), &body);
        let answer = self
            .http
            .post(self.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, signature)
            .header(NOTICE_ID_HEADER, &notice.id)
            .body(body)
            .send()
            .await
            // Without the URL: it may carry the subscriber's own token in its query.
            .map_err(|e| NotifyError::Failed(format!("not delivered: {}", e.without_url())))?;
        let status = answer.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(NotifyError::Failed(format!(
                "the subscriber answered {status}"
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_channel_is_named_without_the_subscribers_secrets() {
        let plain = "https://hooks.example.com/itinera".parse().unwrap();
        assert_eq!(
            channel_name(&plain),
            "webhook:https://hooks.example.com/itinera"
        );
        let private = "https://user:pw@hooks.example.com/in?token=s3cret"
            .parse()
            .unwrap();
        let name = channel_name(&private);
        assert!(
            name.starts_with("webhook:https://hooks.example.com/in#"),
            "{name}"
        );
        assert!(!name.contains("s3cret") && !name.contains("pw"), "{name}");
        let other = "https://hooks.example.com/in?token=other".parse().unwrap();
        assert_ne!(
            channel_name(&other),
            name,
            "two endpoints stay two channels"
        );
    }

    #[test]
    fn the_signature_is_stripes_scheme() {
        let at = Utc.timestamp_opt(1_700_000_000, 0).unwrap();
        let header = sign("whsec_test", at, b"{\"id\":\"evt_1\"}");
        // The same secret, time and body pass Stripe's verification as Itinera implements it.
        crate::webhooks::stripe::verify(&header, b"{\"id\":\"evt_1\"}", "whsec_test", at).unwrap();
        assert!(header.starts_with("t=1700000000,v1="));
        assert!(
            crate::webhooks::stripe::verify(&header, b"{\"id\":\"evt_2\"}", "whsec_test", at)
                .is_err(),
            "another body must not pass"
        );
    }
}
