//! One platform's OAuth 2.0 endpoints, through the `oauth2` crate: the authorization URL with
//! PKCE (S256) and state, the code exchange, the refresh, and revocation (RFC 7009).
//!
//! The crate refuses a revocation endpoint that is not https, and loopback test servers are
//! plain http, so revocation is the one request written here: a form post of the token and its
//! type, authenticated as the crate authenticates the others.

use std::time::Duration;

use chrono::{DateTime, Utc};
use oauth2::basic::{BasicClient, BasicTokenResponse};
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet,
    HttpClientError, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken,
    RequestTokenError, Scope, TokenResponse, TokenUrl,
};

use crate::config::Secret;
use crate::domain::platform::{PlatformTokens, Token};

/// How long one call to a platform's endpoints may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(20);

type Client = BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// Where a platform's OAuth 2.0 endpoints are, and who Itinera is to it.
#[derive(Debug, Clone)]
pub struct OAuthSettings {
    /// The platform's id in the registry.
    pub platform: &'static str,
    pub client_id: String,
    /// Absent for a public client (PKCE alone proves the sign-in).
    pub client_secret: Option<Secret>,
    pub authorize_url: String,
    pub token_url: String,
    /// RFC 7009 endpoint; without one, signing out only forgets the tokens.
    pub revoke_url: Option<String>,
    pub scopes: Vec<String>,
}

/// Why a platform's endpoint did not give what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OAuthError {
    /// The platform answered with an OAuth error (`invalid_grant`, `invalid_client`, …).
    #[error("{platform} refused: {error}{}", description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Refused {
        platform: &'static str,
        error: String,
        description: Option<String>,
    },
    #[error("{platform} could not be reached: {reason}")]
    Unreachable {
        platform: &'static str,
        reason: String,
    },
    #[error("{platform} answered something that is not an OAuth token answer: {reason}")]
    Unreadable {
        platform: &'static str,
        reason: String,
    },
    #[error("{platform}'s OAuth setting {setting} is not a URL: {reason}")]
    BadSetting {
        platform: &'static str,
        setting: &'static str,
        reason: String,
    },
}

fn form_encoded(text: &str) -> String {
    oauth2::url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// A sign-in begun: the URL for the person, and what checks its answer.
pub struct Begun {
    pub url: String,
    /// The `state` the callback must carry back.
    pub state: String,
    /// The PKCE verifier, sent only with the code.
    pub verifier: String,
}

/// A platform's endpoints, ready to use.
pub struct OAuthPlatform {
    settings: OAuthSettings,
    client: Client,
    http: reqwest::Client,
}

impl OAuthPlatform {
    pub fn new(settings: OAuthSettings, redirect_uri: &str) -> Result<OAuthPlatform, OAuthError> {
        let bad = |setting: &'static str| {
            move |error: oauth2::url::ParseError| OAuthError::BadSetting {
                platform: settings.platform,
                setting,
                reason: error.to_string(),
            }
        };
        let mut client = BasicClient::new(ClientId::new(settings.client_id.clone()))
            .set_auth_uri(
                AuthUrl::new(settings.authorize_url.clone()).map_err(bad("authorize URL"))?,
            )
            .set_token_uri(TokenUrl::new(settings.token_url.clone()).map_err(bad("token URL"))?)
            .set_redirect_uri(
                RedirectUrl::new(redirect_uri.to_string()).map_err(bad("redirect URL"))?,
            );
        if let Some(secret) = &settings.client_secret {
            client = client.set_client_secret(ClientSecret::new(secret.expose().to_string()));
        }
        // Never follow a redirect from a token endpoint: the code and the verifier would go
        // wherever it points.
        let http = reqwest::Client::builder()
            .user_agent(concat!("itinera/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .timeout(CALL_TIMEOUT)
            .build()
            .map_err(|error| OAuthError::Unreachable {
                platform: settings.platform,
                reason: error.to_string(),
            })?;
        Ok(OAuthPlatform {
            settings,
            client,
            http,
        })
    }

    /// The authorization URL with a fresh state and PKCE challenge.
    pub fn begin(&self) -> Begun {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state) = self
            .client
            .authorize_url(CsrfToken::new_random)
            .add_scopes(self.settings.scopes.iter().cloned().map(Scope::new))
            .set_pkce_challenge(challenge)
            .url();
        Begun {
            url: url.to_string(),
            state: state.secret().clone(),
            verifier: verifier.secret().clone(),
        }
    }

    /// The tokens for the code the callback brought, proven by the verifier.
    pub async fn exchange(
        &self,
        code: &str,
        verifier: String,
        now: DateTime<Utc>,
    ) -> Result<PlatformTokens, OAuthError> {
        let answer = self
            .client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .set_pkce_verifier(PkceCodeVerifier::new(verifier))
            .request_async(&self.http)
            .await
            .map_err(|error| self.error(error))?;
        Ok(self.tokens(&answer, None, &self.settings.scopes, now))
    }

    /// Fresh tokens; a platform that does not rotate refresh tokens keeps the old one, and one
    /// that names no scopes keeps those `granted` before (RFC 6749 §5.1).
    pub async fn refresh(
        &self,
        refresh_token: &Token,
        granted: &[String],
        now: DateTime<Utc>,
    ) -> Result<PlatformTokens, OAuthError> {
        let answer = self
            .client
            .exchange_refresh_token(&RefreshToken::new(refresh_token.expose().to_string()))
            .request_async(&self.http)
            .await
            .map_err(|error| self.error(error))?;
        Ok(self.tokens(&answer, Some(refresh_token), granted, now))
    }

    /// Revokes `token` (RFC 7009); `false` when the platform has no revocation endpoint.
    pub async fn revoke(&self, token: &Token, hint: &str) -> Result<bool, OAuthError> {
        let Some(url) = &self.settings.revoke_url else {
            return Ok(false);
        };
        let mut form = vec![("token", token.expose()), ("token_type_hint", hint)];
        let request = self.http.post(url).header("Accept", "application/json");
        let request = match &self.settings.client_secret {
            // RFC 6749 §2.3.1: both form-encoded before Basic, as the crate sends them.
            Some(secret) => request.basic_auth(
                form_encoded(&self.settings.client_id),
                Some(form_encoded(secret.expose())),
            ),
            None => {
                form.push(("client_id", &self.settings.client_id));
                request
            }
        };
        let answer = request
            .form(&form)
            .send()
            .await
            .map_err(|error| self.unreachable(error.to_string()))?;
        if answer.status().is_success() {
            return Ok(true);
        }
        let status = answer.status();
        let body: serde_json::Value = answer.json().await.unwrap_or_default();
        Err(OAuthError::Refused {
            platform: self.settings.platform,
            error: body["error"]
                .as_str()
                .map_or_else(|| format!("HTTP {}", status.as_u16()), str::to_string),
            description: body["error_description"].as_str().map(str::to_string),
        })
    }

    fn tokens(
        &self,
        answer: &BasicTokenResponse,
        previous_refresh: Option<&Token>,
        asked: &[String],
        now: DateTime<Utc>,
    ) -> PlatformTokens {
        let expires_at = answer
            .expires_in()
            .and_then(|lifetime| chrono::Duration::from_std(lifetime).ok())
            .and_then(|lifetime| now.checked_add_signed(lifetime));
        // RFC 6749 §5.1: no scope in the answer means the scopes asked for.
        let scopes = answer.scopes().map_or_else(
            || asked.to_vec(),
            |granted| granted.iter().map(|scope| scope.to_string()).collect(),
        );
        PlatformTokens {
            access_token: Token::new(answer.access_token().secret().clone()),
            refresh_token: answer
                .refresh_token()
                .map(|token| Token::new(token.secret().clone()))
                .or_else(|| previous_refresh.cloned()),
            expires_at,
            scopes,
        }
    }

    fn error(
        &self,
        error: RequestTokenError<
            HttpClientError<reqwest::Error>,
            oauth2::basic::BasicErrorResponse,
        >,
    ) -> OAuthError {
        let platform = self.settings.platform;
        match error {
            RequestTokenError::ServerResponse(answer) => OAuthError::Refused {
                platform,
                error: answer.error().to_string(),
                description: answer.error_description().cloned(),
            },
            RequestTokenError::Request(error) => self.unreachable(error.to_string()),
            RequestTokenError::Parse(error, _) => OAuthError::Unreadable {
                platform,
                reason: error.to_string(),
            },
            RequestTokenError::Other(reason) => OAuthError::Unreadable { platform, reason },
        }
    }

    fn unreachable(&self, reason: String) -> OAuthError {
        OAuthError::Unreachable {
            platform: self.settings.platform,
            reason,
        }
    }
}
