//! Where order notices go: the operator's webhook subscribers and the traveller's e-mail.

use std::time::Duration;

use super::platforms::https_or_loopback;
use super::{ConfigError, Secret, Settings};
use crate::adapters::notify::EmailSettings;
use crate::adapters::notify::webhook::channel_name;
use crate::notify::NotifySettings;

/// The shortest webhook signing secret accepted (a random 32 characters or more).
const MIN_SECRET_LENGTH: usize = 32;

/// The notice channels of the configuration.
#[derive(Clone, Default)]
pub struct NotifyConfig {
    /// Every order status change is POSTed, signed, to each.
    pub webhooks: Vec<reqwest::Url>,
    /// Signs the webhooks; set whenever `webhooks` is not empty.
    pub webhook_secret: Option<Secret>,
    /// The traveller is e-mailed the confirmation and the changes that matter to them.
    pub email: Option<EmailSettings>,
    pub dispatch: NotifySettings,
}

/// Shows the channels by name (`channel_name`), never an address's secrets.
impl std::fmt::Debug for NotifyConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NotifyConfig")
            .field(
                "webhooks",
                &self.webhooks.iter().map(channel_name).collect::<Vec<_>>(),
            )
            .field("webhook_secret", &self.webhook_secret)
            .field("email", &self.email)
            .field("dispatch", &self.dispatch)
            .finish()
    }
}

impl Settings {
    pub(super) fn notify(&self) -> Result<NotifyConfig, ConfigError> {
        let webhooks = self
            .notify_webhook_urls
            .iter()
            .flat_map(|urls| urls.split(','))
            .map(str::trim)
            .filter(|url| !url.is_empty())
            .enumerate()
            .map(|(index, url)| match reqwest::Url::parse(url) {
                Ok(parsed) if https_or_loopback(url) => Ok(parsed),
                // Not repeated: it may hold the subscriber's token.
                _ => Err(ConfigError::Notify(format!(
                    "ITINERA_NOTIFY_WEBHOOK_URLS: address {} is not an https:// address (http:// only on loopback)",
                    index + 1
                ))),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let webhook_secret = match (&self.notify_webhook_secret, webhooks.is_empty()) {
            (Some(secret), _) if secret.expose().len() < MIN_SECRET_LENGTH => {
                return Err(ConfigError::Notify(format!(
                    "ITINERA_NOTIFY_WEBHOOK_SECRET must be at least {MIN_SECRET_LENGTH} random characters"
                )));
            }
            (None, false) => {
                return Err(ConfigError::Notify(
                    "ITINERA_NOTIFY_WEBHOOK_URLS needs ITINERA_NOTIFY_WEBHOOK_SECRET, the secret subscribers check signatures with".into(),
                ));
            }
            (secret, _) => secret.clone(),
        };
        let email = match (&self.smtp_url, &self.email_from) {
            (None, None) => None,
            (Some(url), Some(from)) => Some(EmailSettings {
                url: encrypted_unless_local(url)?,
                from: from.parse().map_err(|e| {
                    ConfigError::Notify(format!(
                        "ITINERA_EMAIL_FROM is not an address like \"Itinera <trips@example.com>\": {e}"
                    ))
                })?,
            }),
            (Some(_), None) => {
                return Err(ConfigError::Notify(
                    "ITINERA_SMTP_URL needs ITINERA_EMAIL_FROM, the sender's address".into(),
                ));
            }
            (None, Some(_)) => {
                return Err(ConfigError::Notify(
                    "ITINERA_EMAIL_FROM needs ITINERA_SMTP_URL, the mail server to send through".into(),
                ));
            }
        };
        Ok(NotifyConfig {
            webhooks,
            webhook_secret,
            email,
            dispatch: NotifySettings {
                poll: Duration::from_millis(within(
                    "ITINERA_NOTIFY_POLL_MS",
                    self.notify_poll_ms,
                    10,
                    60_000,
                )?),
                backoff: Duration::from_millis(within(
                    "ITINERA_NOTIFY_BACKOFF_MS",
                    self.notify_backoff_ms,
                    10,
                    3_600_000,
                )?),
                max_attempts: u32::try_from(within(
                    "ITINERA_NOTIFY_MAX_ATTEMPTS",
                    u64::from(self.notify_max_attempts),
                    1,
                    100,
                )?)
                .unwrap_or(10),
            },
        })
    }
}

fn within(name: &str, value: u64, low: u64, high: u64) -> Result<u64, ConfigError> {
    if (low..=high).contains(&value) {
        Ok(value)
    } else {
        Err(ConfigError::Notify(format!(
            "{name} is {value}: give {low} to {high}"
        )))
    }
}

/// The mail server's address, refused when the password and the travellers' mail would cross a
/// network in clear: TLS (`smtps://`) or STARTTLS required (`?tls=required`), except on
/// loopback.
fn encrypted_unless_local(url: &Secret) -> Result<Secret, ConfigError> {
    let parsed = reqwest::Url::parse(url.expose()).map_err(|_| {
        ConfigError::Notify(
            "ITINERA_SMTP_URL is not a URL like smtps://user:password@smtp.example.com".into(),
        )
    })?;
    let tls = parsed
        .query_pairs()
        .find(|(key, _)| key == "tls")
        .map(|(_, value)| value.into_owned());
    let loopback = matches!(parsed.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    match (parsed.scheme(), tls.as_deref()) {
        ("smtps", _) | ("smtp", Some("required")) => Ok(url.clone()),
        ("smtp", None) if loopback => Ok(url.clone()),
        _ => Err(ConfigError::Notify(
            "ITINERA_SMTP_URL must encrypt: smtps://user:password@host (TLS) or smtp://user:password@host:587?tls=required (STARTTLS); plain smtp:// only to a relay on this machine".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mail_leaves_the_machine_only_encrypted() {
        let check = |url: &str| encrypted_unless_local(&Secret::from(url.to_string())).is_ok();
        assert!(check("smtps://user:pw@smtp.example.com"));
        assert!(check("smtp://user:pw@smtp.example.com:587?tls=required"));
        assert!(check("smtp://127.0.0.1:2525"));
        assert!(!check("smtp://user:pw@smtp.example.com:587"));
        assert!(!check("smtp://smtp.example.com?tls=opportunistic"));
        assert!(!check("http://smtp.example.com"));
    }
}
