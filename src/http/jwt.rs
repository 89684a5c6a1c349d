//! Checking OAuth 2.1 access tokens that are JWTs: signed by a key the authorization server
//! publishes (its JWKS), issued by it, meant for Itinera (audience), in their validity period,
//! and naming a user (`sub`), who is then the person the tools act for, as `oauth:<sub>`.
//!
//! The keys are fetched at the first token and kept for `KEYS_MAX_AGE` (so a key the authorization
//! server withdraws stops being trusted), and fetched again early when a token names a key not
//! seen yet (a rotation there), at most once every `REFRESH_AT_MOST_EVERY`, so a stream of tokens
//! with made-up key ids cannot turn Itinera into a flood of requests to the authorization server.
//! One fetch runs at a time, and tokens whose key is known are checked meanwhile. When the keys
//! cannot be fetched, the answer is "unavailable" (503), never "invalid token" (401): a client
//! must not throw away a good token because the authorization server was unreachable.

use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{Jwk, JwkSet, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde::Deserialize;
use tokio::sync::{Mutex, RwLock};

use super::settings::JwtSettings;
use crate::domain::ids::OwnerId;

const REFRESH_AT_MOST_EVERY: Duration = Duration::from_secs(30);
const KEYS_MAX_AGE: Duration = Duration::from_secs(600);
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
    keys: RwLock<Keys>,
    /// Held by the one fetch under way.
    fetching: Mutex<()>,
}

#[derive(Default)]
struct Keys {
    set: Option<JwkSet>,
    fetched_at: Option<Instant>,
    tried_at: Option<Instant>,
    /// Why the last fetch failed, if it did.
    failure: Option<String>,
}

impl Keys {
    fn fresh(&self) -> bool {
        self.fetched_at
            .is_some_and(|at| at.elapsed() < KEYS_MAX_AGE)
    }

    /// The key for a token signed with `alg` under `kid`, if the fresh set has one.
    fn find(&self, kid: Option<&str>, alg: Algorithm) -> Option<Result<DecodingKey, TokenRefused>> {
        if !self.fresh() {
            return None;
        }
        find(self.set.as_ref()?, kid, alg)
    }
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
            keys: RwLock::new(Keys::default()),
            fetching: Mutex::new(()),
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
        let key = self.key(header.kid.as_deref(), header.alg).await?;
        let mut validation = Validation::new(header.alg);
        validation.validate_nbf = true;
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
        // A namespace of their own: a `sub` chosen at the authorization server (a user name, an
        // e-mail) never lands on an operator's static-token user or the stdio profile.
        Ok(OwnerId::new(format!("oauth:{}", data.claims.sub)))
    }

    /// The published key `kid` names (or the only one, for a token without `kid`), fetching
    /// the keys again when they are old or the key is not known yet.
    async fn key(&self, kid: Option<&str>, alg: Algorithm) -> Result<DecodingKey, TokenRefused> {
        if let Some(found) = self.keys.read().await.find(kid, alg) {
            return found;
        }
        let _one_fetch = self.fetching.lock().await;
        {
            // Another request may have fetched them while this one waited.
            let keys = self.keys.read().await;
            if let Some(found) = keys.find(kid, alg) {
                return found;
            }
            let recently = keys
                .tried_at
                .is_some_and(|at| at.elapsed() < REFRESH_AT_MOST_EVERY);
            if recently {
                return Err(match &keys.failure {
                    Some(failure) => TokenRefused::KeysUnavailable(failure.clone()),
                    None => not_published(),
                });
            }
        }
        let fetched = self.fetch().await;
        let mut keys = self.keys.write().await;
        keys.tried_at = Some(Instant::now());
        match fetched {
            Ok(set) => {
                keys.set = Some(set);
                keys.fetched_at = Some(Instant::now());
                keys.failure = None;
                keys.find(kid, alg).unwrap_or_else(|| Err(not_published()))
            }
            Err(failure) => {
                keys.failure = Some(failure.clone());
                Err(TokenRefused::KeysUnavailable(failure))
            }
        }
    }

    async fn fetch(&self) -> Result<JwkSet, String> {
        let unavailable = |e: reqwest::Error| e.to_string();
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

fn not_published() -> TokenRefused {
    TokenRefused::Invalid(
        "it is signed with a key the authorization server does not publish".into(),
    )
}

/// The signing key `kid` names in `set` (or its only one), if it may verify `alg`: a key
/// published for encryption, or for another algorithm, is not used.
fn find(
    set: &JwkSet,
    kid: Option<&str>,
    alg: Algorithm,
) -> Option<Result<DecodingKey, TokenRefused>> {
    let jwk: &Jwk = match kid {
        Some(kid) => set.find(kid)?,
        None if set.keys.len() == 1 => &set.keys[0],
        None => return None,
    };
    let for_signing = matches!(
        jwk.common.public_key_use,
        None | Some(PublicKeyUse::Signature)
    );
    let for_alg = jwk
        .common
        .key_algorithm
        .is_none_or(|published| published == KeyAlgorithm::from(alg));
    if !for_signing || !for_alg {
        return Some(Err(TokenRefused::Invalid(
            "its key is not published for this kind of signature".into(),
        )));
    }
    Some(
        DecodingKey::from_jwk(jwk)
            .map_err(|e| TokenRefused::Invalid(format!("the published key is unusable ({e})"))),
    )
}
