//! Talking to Viator: the headers every call carries (the key, the versioned `Accept`), and the
//! reading of an error answer into the booking port's errors, keeping Viator's code and message.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::NAME;
use super::wire::ErrorBody;
use crate::adapters::http::{self, Answer};
use crate::ports::ProviderError;
use crate::ports::booking::BookingError;

/// Viator's versioning is in the media type: a missing or other version is refused with 400
/// `INVALID_HEADER_VALUE`.
pub const MEDIA_TYPE: &str = "application/json;version=2.0";

/// Viator says a booking can take more than 90 s with some suppliers and recommends waiting
/// 120 s before taking its outcome as unknown.
pub const BOOK_TIMEOUT: Duration = Duration::from_secs(120);

pub struct Client {
    http: reqwest::Client,
    base_url: String,
    api_key: String,
}

impl Client {
    pub fn new(http: reqwest::Client, base_url: &str, api_key: &str) -> Client {
        Client {
            http,
            base_url: base_url.trim_end_matches('/').to_string(),
            api_key: api_key.to_string(),
        }
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base_url))
            .header("exp-api-key", &self.api_key)
            .header("Accept", MEDIA_TYPE)
            .header("Accept-Language", "en-US")
    }

    fn with_body<B: Serialize>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<reqwest::RequestBuilder, BookingError> {
        // `.json()` would set a Content-Type without Viator's version.
        let body = serde_json::to_vec(body)
            .map_err(|e| ProviderError::rejected(NAME, "unsendable_request", e.to_string()))?;
        Ok(self
            .request(reqwest::Method::POST, path)
            .header("Content-Type", MEDIA_TYPE)
            .body(body))
    }

    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, BookingError> {
        decode(
            self.answer(self.request(reqwest::Method::GET, path))
                .await?,
        )
    }

    pub async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, BookingError> {
        decode(self.answer(self.with_body(path, body)?).await?)
    }

    /// A POST that may take as long as Viator says a booking can.
    pub async fn post_slow<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, BookingError> {
        let request = self.with_body(path, body)?.timeout(BOOK_TIMEOUT);
        decode(self.answer(request).await?)
    }

    /// A POST about something that may not exist: Viator's 404 is `None`. A 404 without
    /// Viator's error body is another server (a wrong `ITINERA_VIATOR_BASE_URL`), an error.
    pub async fn post_if_found<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<Option<T>, BookingError> {
        let answer = self.answer(self.with_body(path, body)?).await?;
        if answer.status == StatusCode::NOT_FOUND
            && serde_json::from_str::<ErrorBody>(&answer.body).is_ok()
        {
            return Ok(None);
        }
        decode(answer).map(Some)
    }

    /// The answer, unless the call got none or its status alone says what went wrong.
    async fn answer(&self, request: reqwest::RequestBuilder) -> Result<Answer, BookingError> {
        let answer = http::send(NAME, request).await?;
        if let Some(error) = http::status_error(NAME, answer.status, &answer.headers) {
            return Err(with_reset(error, &answer.headers).into());
        }
        Ok(answer)
    }
}

/// A success read as `T`, or Viator's refusal.
fn decode<T: DeserializeOwned>(answer: Answer) -> Result<T, BookingError> {
    if !answer.status.is_success() {
        return Err(refusal(answer.status, &answer.body));
    }
    // Viator acted but we cannot read what it did: only a lookup can tell.
    serde_json::from_str(&answer.body).map_err(|error| {
        tracing::warn!(%error, "unreadable answer from Viator");
        unknown().into()
    })
}

pub fn unknown() -> ProviderError {
    ProviderError::OutcomeUnknown {
        provider: NAME.to_string(),
    }
}

/// A rate limit without `Retry-After` waits for `RateLimit-Reset`: the seconds until Viator's
/// rolling 10 s window is full again.
fn with_reset(error: ProviderError, headers: &HeaderMap) -> ProviderError {
    match error {
        ProviderError::RateLimited {
            provider,
            retry_after: None,
        } => ProviderError::RateLimited {
            provider,
            retry_after: reset_in(headers),
        },
        other => other,
    }
}

fn reset_in(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get("ratelimit-reset")?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

/// Viator's error answer as ours: its code and message, kept; a refused key says what to fix.
fn refusal(status: StatusCode, body: &str) -> BookingError {
    let key_hint = " (Viator refused the API key: check ITINERA_VIATOR_API_KEY)";
    let Ok(error) = serde_json::from_str::<ErrorBody>(body) else {
        let hint = match status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => key_hint,
            StatusCode::NOT_FOUND => ": not Viator's answer; check ITINERA_VIATOR_BASE_URL",
            _ => "",
        };
        return ProviderError::rejected(
            NAME,
            format!("http_{}", status.as_u16()),
            format!("HTTP {} without a readable error{hint}", status.as_u16()),
        )
        .into();
    };
    if let Some(tracking) = &error.tracking_id {
        tracing::info!(code = %error.code, tracking_id = %tracking, "Viator refused a request");
    }
    let message = match status {
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => format!("{}{key_hint}", error.message),
        _ => error.message,
    };
    ProviderError::rejected(NAME, error.code, message).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn a_rate_limit_without_retry_after_waits_for_the_reset() {
        let mut headers = HeaderMap::new();
        headers.insert("ratelimit-reset", HeaderValue::from_static("7"));
        let limited = ProviderError::RateLimited {
            provider: NAME.into(),
            retry_after: None,
        };
        assert_eq!(
            with_reset(limited, &headers).retry_after(),
            Some(Duration::from_secs(7))
        );
    }

    #[test]
    fn refusals_keep_viator_s_code_and_message() {
        let body = r#"{"code":"BAD_REQUEST","message":"Invalid travelDate","timestamp":"2026-01-01T00:00:00Z","trackingId":"X"}"#;
        assert_eq!(
            refusal(StatusCode::BAD_REQUEST, body),
            BookingError::Provider(ProviderError::rejected(
                NAME,
                "BAD_REQUEST",
                "Invalid travelDate"
            ))
        );
        let refused = refusal(StatusCode::UNAUTHORIZED, "<html>").to_string();
        assert!(refused.contains("ITINERA_VIATOR_API_KEY"), "{refused}");
    }
}
