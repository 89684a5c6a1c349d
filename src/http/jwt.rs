//! Checking OAuth 2.1 access tokens that are JWTs: signed by a key the authorization server
//! publishes (its JWKS), issued by it, meant for Itinera (audience), unexpired, and naming a user
//! (`sub`), who is then the person the tools act for.
//!
//! The keys are fetched once and again only when a token names a key not seen yet (a rotation at
//! the authorization server), at most once every `REFRESH_AT_MOST_EVERY`, so a stream of tokens
//! with made-up key ids cannot turn Itinera into a flood of requests to the authorization server.

use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde::Deserialize;
use tokio::sync::Mutex;

use super::settings::JwtSettings;
use crate::domain::ids::OwnerId;

const REFRESH_AT_MOST_EVERY: Duration = Duration::from_secs(30);
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// Signature algorithms accepted: public-key ones only, so a token can never be "signed" with a
/// published key used as a shared secret.
const ACCEPTED: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// Why a token was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum TokenRefused {
    #[error("the access token has expired: get a new one from the authorization server")]
    Expired,
    #[error("the access token is not valid here: {0}")]
    Invalid(String),
    /// Itinera could not check it: not the caller's fault.
    #[error("the authorization server's signing keys could not be fetched: {0}")]
    KeysUnavailable(String),
}

#[derive(Deserialize)]
struct Claims {
    sub: String,
}

pub struct JwtVerifier {
    settings: JwtSettings,
    http: reqwest::Client,
    keys: Mutex<Keys>,
}

#[derive(Default)]
struct Keys {
    set: Option<JwkSet>,
    fetched_at: Option<Instant>,
}

impl JwtVerifier {
    pub fn new(settings: JwtSettings) -> Result<JwtVerifier, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("itinera/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(JwtVerifier {
            settings,
            http,
            keys: Mutex::new(Keys::default()),
        })
    }

    /// The user a valid token acts for.
    pub async fn verify(&self, token: &str) -> Result<OwnerId, TokenRefused> {
        let header = decode_header(token)
            .map_err(|e| TokenRefused::Invalid(format!("unreadable token ({e})")))?;
        if !ACCEPTED.contains(&header.alg) {
            return Err(TokenRefused::Invalid(format!(
                "tokens signed with {:?} are not accepted",
                header.alg
            )));
        }
        let key = self.key(header.kid.as_deref()).await?;
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.settings.issuer]);
        validation.set_audience(&[&self.settings.audience]);
        // Otherwise issuer and audience are only compared when present.
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 30;
        let data =
            decode::<Claims>(token, &key, &validation).map_err(|error| match error.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenRefused::Expired,
                _ => TokenRefused::Invalid(error.to_string()),
            })?;
        if data.claims.sub.trim().is_empty() {
            return Err(TokenRefused::Invalid(
                "the token names no user (sub)".into(),
            ));
        }
        Ok(OwnerId::new(data.claims.sub))
    }

    /// The published key `kid` names (or the only one, for a token without `kid`), fetching
    /// the keys again if it is not known yet.
    async fn key(&self, kid: Option<&str>) -> Result<DecodingKey, TokenRefused> {
        let mut keys = self.keys.lock().await;
        if let Some(found) = keys.set.as_ref().and_then(|set| find(set, kid)) {
            return found;
        }
        let may_fetch = keys
            .fetched_at
            .is_none_or(|at| at.elapsed() >= REFRESH_AT_MOST_EVERY);
        if may_fetch {
            keys.fetched_at = Some(Instant::now());
            keys.set = Some(self.fetch().await?);
        }
        keys.set
            .as_ref()
            .and_then(|set| find(set, kid))
            .unwrap_or_else(|| {
                Err(TokenRefused::Invalid(
                    "it is signed with a key the authorization server does not publish".into(),
                ))
            })
    }

    async fn fetch(&self) -> Result<JwkSet, TokenRefused> {
        let unavailable = |e: reqwest::Error| TokenRefused::KeysUnavailable(e.to_string());
        self.http
            .get(&self.settings.jwks_url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(unavailable)?
            .json::<JwkSet>()
            .await
            .map_err(unavailable)
    }
}

fn find(set: &JwkSet, kid: Option<&str>) -> Option<Result<DecodingKey, TokenRefused>> {
    let jwk = match kid {
        Some(kid) => set.find(kid)?,
        None if set.keys.len() == 1 => &set.keys[0],
        None => return None,
    };
    Some(
        DecodingKey::from_jwk(jwk)
            .map_err(|e| TokenRefused::Invalid(format!("the published key is unusable ({e})"))),
    )
}
