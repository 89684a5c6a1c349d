//! The person's platform sign-ins the operator set up: each OAuth client Itinera has at a
//! platform (client id, optional secret, endpoints, scopes). Endpoints must be https, except on
//! the loopback interface (a local authorization server, as in tests).

use super::{ConfigError, Settings};
use crate::platforms::{OAuthSettings, registry};

impl Settings {
    pub(super) fn platform_logins(&self) -> Result<Vec<OAuthSettings>, ConfigError> {
        let Some(client_id) = &self.bookingcom_oauth_client_id else {
            return Ok(Vec::new());
        };
        let (Some(authorize_url), Some(token_url)) = (
            &self.bookingcom_oauth_authorize_url,
            &self.bookingcom_oauth_token_url,
        ) else {
            return Err(ConfigError::OAuthSettingsMissing {
                platform: "booking_com",
                needs: "ITINERA_BOOKINGCOM_OAUTH_CLIENT_ID, ITINERA_BOOKINGCOM_OAUTH_AUTHORIZE_URL and ITINERA_BOOKINGCOM_OAUTH_TOKEN_URL",
            });
        };
        let spec = registry::platform("booking_com").ok_or(ConfigError::OAuthSettingsMissing {
            platform: "booking_com",
            needs: "a registry entry",
        })?;
        let scopes = match &self.bookingcom_oauth_scopes {
            Some(scopes) => scopes.split_whitespace().map(str::to_string).collect(),
            None => spec.scopes.iter().map(|scope| scope.to_string()).collect(),
        };
        Ok(vec![OAuthSettings {
            platform: spec.id,
            client_id: client_id.clone(),
            client_secret: self.bookingcom_oauth_client_secret.clone(),
            authorize_url: endpoint("ITINERA_BOOKINGCOM_OAUTH_AUTHORIZE_URL", authorize_url)?,
            token_url: endpoint("ITINERA_BOOKINGCOM_OAUTH_TOKEN_URL", token_url)?,
            revoke_url: self
                .bookingcom_oauth_revoke_url
                .as_deref()
                .map(|url| endpoint("ITINERA_BOOKINGCOM_OAUTH_REVOKE_URL", url))
                .transpose()?,
            scopes,
        }])
    }
}

/// An endpoint the code, the verifier and the tokens go to: https, or plain http on loopback.
fn endpoint(variable: &'static str, url: &str) -> Result<String, ConfigError> {
    if https_or_loopback(url) {
        Ok(url.to_string())
    } else {
        Err(ConfigError::OAuthUrl { variable })
    }
}

/// Whether secrets may be sent to `url`: https, or plain http on the loopback interface.
pub(super) fn https_or_loopback(url: &str) -> bool {
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return false;
    };
    let loopback = matches!(parsed.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    match parsed.scheme() {
        "https" => true,
        "http" => loopback,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_https_or_loopback() {
        assert!(endpoint("X", "https://account.example/oauth2/token").is_ok());
        assert!(endpoint("X", "http://127.0.0.1:9000/token").is_ok());
        for refused in ["http://account.example/token", "ftp://x/y", "not a url"] {
            assert!(
                matches!(
                    endpoint("X", refused),
                    Err(ConfigError::OAuthUrl { variable: "X" })
                ),
                "{refused}"
            );
        }
    }
}
