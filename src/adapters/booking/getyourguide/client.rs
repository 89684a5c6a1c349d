//! Talking to GetYourGuide: the headers every call carries (`X-ACCESS-TOKEN`, `Accept`), the
//! language and currency most calls must name, and the reading of an error answer into the
//! booking port's errors, keeping GetYourGuide's code and message.

use std::time::Duration;

use reqwest::StatusCode;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::NAME;
use super::wire::{ErrorBody, LANGUAGE};
use crate::adapters::http::{self, Answer};
use crate::domain::money::Currency;
use crate::ports::ProviderError;
use crate::ports::booking::BookingError;

/// GetYourGuide blocks a partner for 5 minutes once its rate limit (120 calls a minute) is
/// reached, and its 429 carries no detail: without a `Retry-After`, that is the wait.
const BLOCKED_FOR: Duration = Duration::from_secs(5 * 60);

/// What a refused token means, said where the person can fix it.
const TOKEN_HINT: &str =
    "GetYourGuide refused the access token: check ITINERA_GETYOURGUIDE_ACCESS_TOKEN";

pub struct Client {
    http: reqwest::Client,
    base_url: String,
    token: String,
}

impl Client {
    pub fn new(http: reqwest::Client, base_url: &str, token: &str) -> Client {
        Client {
            http,
            base_url: base_url.trim_end_matches('/').to_string(),
            token: token.to_string(),
        }
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base_url))
            .header("X-ACCESS-TOKEN", &self.token)
            .header("Accept", "application/json")
    }

    /// A GET naming the language and currency (required on every GET the adapter makes), with
    /// the other query fields.
    pub async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        currency: Currency,
        query: &[(&str, String)],
    ) -> Result<T, BookingError> {
        let request = self
            .request(reqwest::Method::GET, path)
            .query(&language_and(currency))
            .query(query);
        decode(self.answer(request).await?)
    }

    pub async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, BookingError> {
        let body = serde_json::to_vec(body)
            .map_err(|e| ProviderError::rejected(NAME, "unsendable_request", e.to_string()))?;
        let request = self
            .request(reqwest::Method::POST, path)
            .header("Content-Type", "application/json")
            .body(body);
        decode(self.answer(request).await?)
    }

    pub async fn delete<T: DeserializeOwned>(
        &self,
        path: &str,
        currency: Currency,
    ) -> Result<T, BookingError> {
        let request = self
            .request(reqwest::Method::DELETE, path)
            .query(&language_and(currency));
        decode(self.answer(request).await?)
    }

    /// The answer, unless the call got none or its status alone says what went wrong.
    async fn answer(&self, request: reqwest::RequestBuilder) -> Result<Answer, BookingError> {
        let answer = http::send(NAME, request).await?;
        if let Some(error) = http::status_error(NAME, answer.status, &answer.headers) {
            return Err(blocked_for(error).into());
        }
        Ok(answer)
    }
}

fn language_and(currency: Currency) -> [(&'static str, String); 2] {
    [
        ("cnt_language", LANGUAGE.to_string()),
        ("currency", currency.code().to_string()),
    ]
}

/// A rate limit without `Retry-After` waits out GetYourGuide's 5-minute block.
fn blocked_for(error: ProviderError) -> ProviderError {
    match error {
        ProviderError::RateLimited {
            provider,
            retry_after: None,
        } => ProviderError::RateLimited {
            provider,
            retry_after: Some(BLOCKED_FOR),
        },
        other => other,
    }
}

/// A success read as `T`, or GetYourGuide's refusal. Most answers sit under `data` (beside
/// `_metadata`); the spec shows a few bare (price-breakdown, a booking by hash): an answer with
/// a `data` is read from it, one without is read whole. Both are read from the text, so prices
/// keep their digits (an untagged enum would buffer them away).
fn decode<T: DeserializeOwned>(answer: Answer) -> Result<T, BookingError> {
    if !answer.status.is_success() {
        return Err(refusal(answer.status, &answer.body));
    }
    let wrapped =
        serde_json::from_str::<HasData>(&answer.body).is_ok_and(|envelope| envelope.data.is_some());
    let read = if wrapped {
        serde_json::from_str::<Data<T>>(&answer.body).map(|envelope| envelope.data)
    } else {
        serde_json::from_str::<T>(&answer.body)
    };
    // GetYourGuide acted but we cannot read what it did: only a lookup can tell.
    read.map_err(|error| {
        tracing::warn!(%error, "unreadable answer from GetYourGuide");
        unknown().into()
    })
}

#[derive(serde::Deserialize)]
struct HasData {
    data: Option<serde::de::IgnoredAny>,
}

#[derive(serde::Deserialize)]
struct Data<T> {
    data: T,
}

pub fn unknown() -> ProviderError {
    ProviderError::OutcomeUnknown {
        provider: NAME.to_string(),
    }
}

/// GetYourGuide's error answer as ours: its first `errorCode` and the messages, kept. 400, 401
/// and 404 carry that body; 403 and 405 carry none, and say so.
fn refusal(status: StatusCode, body: &str) -> BookingError {
    let parsed = serde_json::from_str::<ErrorBody>(body)
        .ok()
        .filter(|error| !error.errors.is_empty());
    let Some(error) = parsed else {
        let hint = match status {
            StatusCode::UNAUTHORIZED => format!(": {TOKEN_HINT}"),
            StatusCode::FORBIDDEN => ": the access token lacks the access level this call needs (booking needs BOOKING access and MasterBill payment, granted by GetYourGuide)".to_string(),
            StatusCode::NOT_FOUND => ": not GetYourGuide's answer; check ITINERA_GETYOURGUIDE_BASE_URL".to_string(),
            _ => String::new(),
        };
        return ProviderError::rejected(
            NAME,
            format!("http_{}", status.as_u16()),
            format!("HTTP {} without a readable error{hint}", status.as_u16()),
        )
        .into();
    };
    let code = error
        .errors
        .first()
        .and_then(|item| item.error_code)
        .map_or_else(
            || format!("http_{}", status.as_u16()),
            |code| code.to_string(),
        );
    let mut message = error
        .errors
        .iter()
        .filter_map(|item| item.error_message.as_deref())
        .collect::<Vec<_>>()
        .join("; ");
    if let Some(method) = &error.method {
        tracing::info!(%code, %method, "GetYourGuide refused a request");
    }
    if status == StatusCode::UNAUTHORIZED {
        message = format!("{message} ({TOKEN_HINT})");
    }
    ProviderError::rejected(NAME, code, message).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_keep_getyourguide_s_code_and_message() {
        let body = r#"{"descriptor":"GetYourGuide AG","apiVersion":"1","method":"getBookingByHashAction","date":"2026-01-01T00:00:00","status":"ERROR","query":"cnt_language=en&currency=eur","errors":[{"errorCode":25,"errorMessage":"Unauthorized. The access token is invalid."}],"helpURL":"https://api.getyourguide.com/doc"}"#;
        let BookingError::Provider(ProviderError::Rejected { code, message, .. }) =
            refusal(StatusCode::UNAUTHORIZED, body)
        else {
            panic!("a refusal");
        };
        assert_eq!(code, "25");
        assert!(message.starts_with("Unauthorized. The access token is invalid."));
        assert!(
            message.contains("ITINERA_GETYOURGUIDE_ACCESS_TOKEN"),
            "{message}"
        );
        let forbidden = refusal(StatusCode::FORBIDDEN, "").to_string();
        assert!(forbidden.contains("BOOKING access"), "{forbidden}");
    }

    #[test]
    fn a_rate_limit_without_retry_after_waits_out_the_block() {
        let limited = ProviderError::RateLimited {
            provider: NAME.into(),
            retry_after: None,
        };
        assert_eq!(blocked_for(limited).retry_after(), Some(BLOCKED_FOR));
    }
}
