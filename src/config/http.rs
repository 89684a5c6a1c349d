//! `itinera serve --http`: where it is reached and who may call it.

use std::net::SocketAddr;

use super::platforms::https_or_loopback;
use super::{ConfigError, Settings};
use crate::http::{HttpSettings, JwtSettings, MetricsToken, StaticTokens};

impl Settings {
    /// The HTTP server's settings for listening on `listen`; refused when nobody could get in,
    /// or when tokens or keys would travel in clear.
    pub fn http(&self, listen: SocketAddr) -> Result<HttpSettings, ConfigError> {
        let tokens = match &self.http_tokens {
            Some(tokens) => {
                StaticTokens::parse(tokens.expose()).map_err(ConfigError::HttpTokens)?
            }
            None => StaticTokens::default(),
        };
        let public_url = match &self.http_public_url {
            Some(url) if https_or_loopback(url) => url.trim_end_matches('/').to_string(),
            Some(_) => return Err(ConfigError::HttpUrl("ITINERA_HTTP_PUBLIC_URL")),
            None => format!("http://{listen}"),
        };
        let jwt = match (&self.jwt_jwks_url, &self.jwt_issuer) {
            (None, _) => None,
            (Some(_), None) => return Err(ConfigError::JwtWithoutIssuer),
            (Some(jwks_url), Some(issuer)) => {
                if !https_or_loopback(jwks_url) {
                    return Err(ConfigError::HttpUrl("ITINERA_JWT_JWKS_URL"));
                }
                Some(JwtSettings {
                    jwks_url: jwks_url.clone(),
                    issuer: issuer.clone(),
                    audience: self
                        .jwt_audience
                        .clone()
                        .unwrap_or_else(|| format!("{public_url}/mcp")),
                })
            }
        };
        if tokens.is_empty() && jwt.is_none() {
            return Err(ConfigError::HttpWithoutAuthentication);
        }
        Ok(HttpSettings {
            listen,
            public_url,
            allowed_hosts: self
                .http_allowed_hosts
                .iter()
                .flat_map(|hosts| hosts.split(','))
                .map(str::trim)
                .filter(|host| !host.is_empty())
                .map(str::to_string)
                .collect(),
            tokens,
            jwt,
            metrics_token: self
                .metrics_token
                .as_ref()
                .map(|token| MetricsToken::parse(token.expose()))
                .transpose()
                .map_err(ConfigError::HttpTokens)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::config::Cli;

    fn settings(args: &[&str]) -> Settings {
        Cli::try_parse_from([&["itinera"], args].concat())
            .unwrap()
            .settings
    }

    const ADDR: &str = "127.0.0.1:8080";

    #[test]
    fn serving_over_http_needs_a_way_in() {
        let none = settings(&[]).http(ADDR.parse().unwrap());
        assert!(matches!(none, Err(ConfigError::HttpWithoutAuthentication)));
        let tokens = settings(&["--http-tokens", "alice:0123456789abcdef0123456789"])
            .http(ADDR.parse().unwrap())
            .unwrap();
        assert_eq!(tokens.resource(), "http://127.0.0.1:8080/mcp");
    }

    #[test]
    fn jwt_needs_an_issuer_and_keys_over_https() {
        let without_issuer =
            settings(&["--jwt-jwks-url", "https://auth.example/jwks"]).http(ADDR.parse().unwrap());
        assert!(matches!(without_issuer, Err(ConfigError::JwtWithoutIssuer)));
        let clear = settings(&[
            "--jwt-jwks-url",
            "http://auth.example/jwks",
            "--jwt-issuer",
            "https://auth.example",
        ])
        .http(ADDR.parse().unwrap());
        assert!(matches!(
            clear,
            Err(ConfigError::HttpUrl("ITINERA_JWT_JWKS_URL"))
        ));
        let jwt = settings(&[
            "--jwt-jwks-url",
            "https://auth.example/jwks",
            "--jwt-issuer",
            "https://auth.example",
            "--http-public-url",
            "https://itinera.example/",
        ])
        .http(ADDR.parse().unwrap())
        .unwrap();
        let audience = jwt.jwt.map(|jwt| jwt.audience);
        assert_eq!(audience.as_deref(), Some("https://itinera.example/mcp"));
    }
}
