//! Talking to Booking.com: the headers every call carries (the API key as a bearer, the
//! affiliate id, JSON), every call a POST, and the reading of an error answer into the booking
//! port's errors, keeping Booking.com's error id and message.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::NAME;
use super::wire::ErrorBody;
use crate::adapters::booking::refusal;
use crate::adapters::http::{self, Answer};
use crate::ports::ProviderError;
use crate::ports::booking::BookingError;

/// Booking.com's header naming the affiliate; required on every call, sandbox included.
pub const AFFILIATE_HEADER: &str = "X-Affiliate-Id";

/// How long a rate limit is waited out when Booking.com gives no `Retry-After`: its docs say
/// access is restricted "typically 1 minute" before the counter resets (whether its 429s
/// carry `Retry-After` is not documented).
pub const RATE_LIMIT_WAIT: Duration = Duration::from_secs(60);

const KEY_HINT: &str = "check ITINERA_BOOKINGCOM_API_KEY and ITINERA_BOOKINGCOM_AFFILIATE_ID (the key must belong to that affiliate)";

pub struct Client {
    http: reqwest::Client,
    base_url: String,
    api_key: String,
    affiliate_id: u64,
}

impl Client {
    pub fn new(http: reqwest::Client, base_url: &str, api_key: &str, affiliate_id: u64) -> Client {
        Client {
            http,
            base_url: base_url.trim_end_matches('/').to_string(),
            api_key: api_key.to_string(),
            affiliate_id,
        }
    }

    /// A POST that reads and books nothing (a search, a preview, a lookup), read as `T`; a
    /// refusal is kept whole for the caller to read. Without an answer (a timeout, a 500, an
    /// answer that cannot be read) nothing happened that matters: Booking.com is unavailable.
    pub async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, Failure> {
        self.act(path, body).await.map_err(|failure| match failure {
            Failure::Failed(BookingError::Provider(ProviderError::OutcomeUnknown { .. })) => {
                Failure::Failed(
                    ProviderError::unavailable(NAME, "no answer, or one that cannot be read")
                        .into(),
                )
            }
            other => other,
        })
    }

    /// A POST that may act (create an order, cancel one): without an answer its outcome is
    /// unknown, to be settled by reading the order.
    pub async fn act<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, Failure> {
        let body = serde_json::to_vec(body).map_err(|e| {
            BookingError::from(ProviderError::rejected(
                NAME,
                "unsendable_request",
                e.to_string(),
            ))
        })?;
        let request = self
            .http
            .post(format!("{}{path}", self.base_url))
            .bearer_auth(&self.api_key)
            .header(AFFILIATE_HEADER, self.affiliate_id.to_string())
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, "application/json")
            .body(body);
        let answer = http::send(NAME, request)
            .await
            .map_err(BookingError::from)?;
        if let Some(error) = http::status_error(NAME, answer.status, &answer.headers) {
            return Err(Failure::Failed(with_wait(error).into()));
        }
        decode(answer)
    }
}

/// A rate limit without `Retry-After` waits Booking.com's usual minute rather than being sent
/// again at once.
fn with_wait(error: ProviderError) -> ProviderError {
    match error {
        ProviderError::RateLimited {
            provider,
            retry_after: None,
        } => ProviderError::RateLimited {
            provider,
            retry_after: Some(RATE_LIMIT_WAIT),
        },
        other => other,
    }
}

/// A success read as `T`, or Booking.com's refusal.
fn decode<T: DeserializeOwned>(answer: Answer) -> Result<T, Failure> {
    refusal::decode(NAME, answer)
}

pub fn unknown() -> ProviderError {
    ProviderError::OutcomeUnknown {
        provider: NAME.to_string(),
    }
}

/// A call that did not give its answer: Booking.com refused it (what it said is kept), or it
/// failed on the way (no answer, a rate limit, an outage).
pub type Failure = refusal::Failure<Refusal>;

/// Booking.com's refusal: the status, its error id and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: StatusCode,
    /// Booking.com's `errors[0].id`, or `http_<status>` when the body was not its error list.
    pub id: String,
    pub message: String,
    /// Whether the body was Booking.com's error list (a bare 404 is another server).
    readable: bool,
}

impl refusal::Refusal for Refusal {
    fn read(answer: &Answer) -> Refusal {
        let Some(body) = serde_json::from_str::<ErrorBody>(&answer.body).ok() else {
            return Refusal {
                status: answer.status,
                id: format!("http_{}", answer.status.as_u16()),
                message: format!("HTTP {} without a readable error", answer.status.as_u16()),
                readable: false,
            };
        };
        if let Some(request_id) = &body.request_id {
            tracing::info!(%request_id, status = answer.status.as_u16(), "Booking.com refused a request");
        }
        let mut errors = body.errors.into_iter();
        let Some(first) = errors.next() else {
            return Refusal {
                status: answer.status,
                id: format!("http_{}", answer.status.as_u16()),
                message: format!("HTTP {} with an empty error list", answer.status.as_u16()),
                readable: true,
            };
        };
        // Every error is told: a request may have more than one field wrong.
        let message = std::iter::once(&first)
            .chain(errors.as_slice())
            .map(|error| error.message.clone().unwrap_or_else(|| error.id.clone()))
            .collect::<Vec<_>>()
            .join("; ");
        Refusal {
            status: answer.status,
            id: first.id,
            message,
            readable: true,
        }
    }
}

impl Refusal {
    /// A refusal of the request as such (a 4xx from Booking.com itself, not the key's).
    pub fn is_of_the_request(&self) -> bool {
        self.readable
            && self.status.is_client_error()
            && !matches!(
                self.status,
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
            )
    }
}

impl From<Refusal> for ProviderError {
    fn from(refusal: Refusal) -> ProviderError {
        let message = match refusal.status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                format!(
                    "{} (Booking.com refused Itinera's credentials: {KEY_HINT})",
                    refusal.message
                )
            }
            StatusCode::NOT_FOUND if !refusal.readable => format!(
                "{}: not Booking.com's answer; check ITINERA_BOOKINGCOM_BASE_URL",
                refusal.message
            ),
            _ => refusal.message,
        };
        ProviderError::rejected(NAME, refusal.id, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::booking::refusal::Refusal as _;
    use reqwest::header::HeaderMap;

    fn answer(status: u16, body: &str) -> Answer {
        Answer {
            status: StatusCode::from_u16(status).unwrap(),
            headers: HeaderMap::new(),
            body: body.to_string(),
        }
    }

    #[test]
    fn refusals_keep_booking_com_s_id_and_message_and_a_bad_key_names_the_variables() {
        let refused = Refusal::read(&answer(
            400,
            r#"{"request_id":"01gw","errors":[{"id":"missing_parameter","message":"Parameter 'checkin' is missing."}]}"#,
        ));
        assert!(refused.is_of_the_request());
        assert_eq!(
            ProviderError::from(refused),
            ProviderError::rejected(NAME, "missing_parameter", "Parameter 'checkin' is missing.")
        );
        let key = ProviderError::from(Refusal::read(&answer(
            401,
            r#"{"request_id":"x","errors":[{"id":"unauthorised","message":"Unauthorised"}]}"#,
        )))
        .to_string();
        assert!(key.contains("ITINERA_BOOKINGCOM_API_KEY"), "{key}");
        let elsewhere = ProviderError::from(Refusal::read(&answer(404, "<html>"))).to_string();
        assert!(
            elsewhere.contains("ITINERA_BOOKINGCOM_BASE_URL"),
            "{elsewhere}"
        );
    }

    #[test]
    fn a_rate_limit_without_retry_after_waits_a_minute() {
        let limited = ProviderError::RateLimited {
            provider: NAME.into(),
            retry_after: None,
        };
        assert_eq!(with_wait(limited).retry_after(), Some(RATE_LIMIT_WAIT));
    }
}
