//! An OAuth 2.0 client-credentials token shared by every call to one provider (Amadeus, Avis):
//! fetched once, reused until a minute before it expires, fetched again when the provider says
//! it no longer takes it. The providers differ in how the token is asked for (a form POST, a
//! GET with headers) and in how they say a token is refused; what comes back, what a refusal
//! of the sign-in looks like, and sending a call with the token, they share.

use std::future::Future;
use std::time::{Duration, Instant};

use serde::Deserialize;
use tokio::sync::Mutex;

use crate::adapters::http::{self, Answer};
use crate::ports::ProviderError;
use crate::ports::booking::BookingError;

/// The client id and secret. `Debug` hides the secret.
#[derive(Clone)]
pub struct Credentials {
    pub client_id: String,
    pub client_secret: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// A token is renewed this long before the provider would stop taking it.
const RENEW_BEFORE_EXPIRY: Duration = Duration::from_secs(60);

/// The token endpoint's answer.
#[derive(Debug, Deserialize)]
pub struct Token {
    pub access_token: String,
    /// Seconds (Amadeus: 1799; Avis: 7140 in its documentation).
    pub expires_in: u64,
}

/// The token endpoint's refusal, as RFC 6749 §5.2 words it: `{error, error_description}`.
#[derive(Debug, Deserialize)]
struct TokenRefusal {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

struct Cached {
    value: String,
    renew_at: Instant,
}

/// The current token. The lock also makes concurrent calls share one fetch.
#[derive(Default)]
pub struct TokenCache {
    cached: Mutex<Option<Cached>>,
}

impl TokenCache {
    /// The cached token, or one from `fetch` when there is none, it is about to expire, or
    /// `renew` (the provider refused the cached one).
    pub async fn get<Fetch, Fetched>(
        &self,
        renew: bool,
        fetch: Fetch,
    ) -> Result<String, BookingError>
    where
        Fetch: FnOnce() -> Fetched,
        Fetched: Future<Output = Result<Token, BookingError>>,
    {
        let mut cached = self.cached.lock().await;
        if let Some(token) = cached
            .as_ref()
            .filter(|t| !renew && Instant::now() < t.renew_at)
        {
            return Ok(token.value.clone());
        }
        let fresh = fetch().await?;
        let lifetime = Duration::from_secs(fresh.expires_in).saturating_sub(RENEW_BEFORE_EXPIRY);
        *cached = Some(Cached {
            value: fresh.access_token.clone(),
            // A lifetime past what the clock can count is renewed at the next call.
            renew_at: Instant::now()
                .checked_add(lifetime)
                .unwrap_or_else(Instant::now),
        });
        Ok(fresh.access_token)
    }
}

impl TokenCache {
    /// Sends `request` with the kept token. When the provider refuses the token itself
    /// (`refused`: it expired early or was revoked), signs in again with `sign_in` and sends once
    /// more: such a refusal comes before the provider acts, so the second send books nothing
    /// twice.
    pub async fn authorised<SignIn, Signed>(
        &self,
        provider: &str,
        sign_in: SignIn,
        refused: fn(&Answer) -> bool,
        request: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<Answer, BookingError>
    where
        SignIn: Fn() -> Signed,
        Signed: Future<Output = Result<Token, BookingError>>,
    {
        let token = self.get(false, &sign_in).await?;
        let answer = send_checked(provider, request().bearer_auth(&token)).await?;
        if !refused(&answer) {
            return Ok(answer);
        }
        let token = self.get(true, &sign_in).await?;
        send_checked(provider, request().bearer_auth(&token)).await
    }
}

/// The answer, unless the call got none or its status alone says what went wrong.
pub async fn send_checked(
    provider: &str,
    request: reqwest::RequestBuilder,
) -> Result<Answer, BookingError> {
    let answer = http::send(provider, request).await?;
    if let Some(error) = http::status_error(provider, answer.status, &answer.headers) {
        return Err(error.into());
    }
    Ok(answer)
}

/// A sign-in books nothing: one that got no answer is an outage, never an unknown outcome.
pub fn sign_in_unanswered(provider: &str, error: BookingError) -> BookingError {
    match error {
        BookingError::Provider(ProviderError::OutcomeUnknown { .. }) => {
            ProviderError::unavailable(provider, "no answer to the sign-in").into()
        }
        other => other,
    }
}

/// The token endpoint's answer read: the token, or the refusal with its OAuth error code and
/// the settings to check (`check`, e.g. "ITINERA_AVIS_CLIENT_ID and ITINERA_AVIS_CLIENT_SECRET").
pub fn read_token(
    provider: &str,
    label: &str,
    check: &str,
    answer: Answer,
) -> Result<Token, BookingError> {
    if answer.status.is_success() {
        return serde_json::from_str(&answer.body).map_err(|error| {
            ProviderError::unavailable(provider, format!("unreadable token answer: {error}")).into()
        });
    }
    let refusal: Option<TokenRefusal> = serde_json::from_str(&answer.body).ok();
    let (code, reason) = match refusal {
        Some(refusal) => (refusal.error, refusal.error_description.unwrap_or_default()),
        None => (format!("http_{}", answer.status.as_u16()), String::new()),
    };
    Err(ProviderError::rejected(
        provider,
        code,
        format!(
            "{label} refused Itinera's sign-in{}{reason}: check {check}",
            if reason.is_empty() { "" } else { ": " }
        ),
    )
    .into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_token_is_fetched_once_until_renewed() {
        let cache = TokenCache::default();
        let issue = |value: &'static str| {
            move || async move {
                Ok(Token {
                    access_token: value.into(),
                    expires_in: 3600,
                })
            }
        };
        assert_eq!(cache.get(false, issue("first")).await.unwrap(), "first");
        assert_eq!(cache.get(false, issue("second")).await.unwrap(), "first");
        assert_eq!(cache.get(true, issue("third")).await.unwrap(), "third");
        // A token shorter-lived than the renewal margin is fetched on every call.
        let brief = TokenCache::default();
        let short = |value: &'static str| {
            move || async move {
                Ok(Token {
                    access_token: value.into(),
                    expires_in: 30,
                })
            }
        };
        brief.get(false, short("a")).await.unwrap();
        assert_eq!(brief.get(false, short("b")).await.unwrap(), "b");
    }
}
