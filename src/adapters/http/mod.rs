//! What every HTTP provider adapter shares: one reqwest client (rustls, a per-call timeout, a user
//! agent naming Itinera), every call sent through `dispatch` (which logs it at debug level with
//! secrets and personal data redacted), and the reading of an answer's status into our provider
//! errors. Each adapter maps its provider's error body; this module decides what the status
//! alone says.

mod number;
mod redact;

pub use number::JsonDecimal;

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};

use crate::ports::ProviderError;

/// How long one provider call may take before its outcome counts as unknown.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
#[error("the HTTP client could not be built: {0}")]
pub struct ClientError(String);

/// The client all adapters use.
pub fn client(timeout: Duration) -> Result<reqwest::Client, ClientError> {
    built(timeout, reqwest::redirect::Policy::default())
}

/// The same, never following a redirect: what posts signed notices, which must reach the
/// address configured and no other.
pub fn client_without_redirects(timeout: Duration) -> Result<reqwest::Client, ClientError> {
    built(timeout, reqwest::redirect::Policy::none())
}

fn built(
    timeout: Duration,
    redirects: reqwest::redirect::Policy,
) -> Result<reqwest::Client, ClientError> {
    reqwest::Client::builder()
        .user_agent(concat!("itinera/", env!("CARGO_PKG_VERSION")))
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .redirect(redirects)
        .build()
        .map_err(|e| ClientError(e.to_string()))
}

/// An answer read whole.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

/// Sends `request`: the one place every provider call goes out, logged at debug level as
/// `redact` shows it, with its status and how long it took.
pub async fn dispatch(
    provider: &str,
    request: reqwest::RequestBuilder,
) -> Result<reqwest::Response, ProviderError> {
    let (client, request) = request.build_split();
    let request = request
        .map_err(|e| ProviderError::rejected(provider, "unsendable_request", e.to_string()))?;
    if tracing::enabled!(tracing::Level::DEBUG) {
        tracing::debug!(provider, "sending {}", redact::describe(&request));
    }
    let started = Instant::now();
    let sent = client.execute(request).await;
    let took_ms = started.elapsed().as_millis();
    // A transport error's text carries the address with its query (a family name searched
    // for): it is dropped before the error is logged or kept.
    let sent = sent.map_err(reqwest::Error::without_url);
    match &sent {
        Ok(response) => tracing::debug!(
            provider,
            status = response.status().as_u16(),
            took_ms,
            "answered"
        ),
        Err(error) => tracing::debug!(provider, took_ms, "no answer: {error}"),
    }
    sent.map_err(|e| transport_error(provider, &e))
}

/// Sends `request` and reads its whole answer. No answer, or one cut short, is a transport
/// error: nothing happened, or the outcome is unknown.
pub async fn send(
    provider: &str,
    request: reqwest::RequestBuilder,
) -> Result<Answer, ProviderError> {
    let response = dispatch(provider, request).await?;
    let status = response.status();
    let headers = response.headers().clone();
    let body = match response.text().await {
        Ok(body) => body,
        // A status that decides on its own (429, 5xx) still does; any other answer whose body
        // was lost leaves the outcome unknown.
        Err(_) => {
            return Err(status_error(provider, status, &headers).unwrap_or(
                ProviderError::OutcomeUnknown {
                    provider: provider.to_string(),
                },
            ));
        }
    };
    Ok(Answer {
        status,
        headers,
        body,
    })
}

/// A request that got no answer. Before the request was sent (no connection), nothing can have
/// happened; after, the provider may have acted.
fn transport_error(provider: &str, error: &reqwest::Error) -> ProviderError {
    if error.is_connect() {
        ProviderError::unavailable(provider, format!("cannot connect: {error}"))
    } else {
        ProviderError::OutcomeUnknown {
            provider: provider.to_string(),
        }
    }
}

/// What the status says before the body is read: rate limiting, an outage, or `None` when the
/// body (an answer or the provider's own refusal) must be read.
pub fn status_error(
    provider: &str,
    status: StatusCode,
    headers: &HeaderMap,
) -> Option<ProviderError> {
    let retry_after = retry_after(headers);
    match status {
        StatusCode::TOO_MANY_REQUESTS => Some(ProviderError::RateLimited {
            provider: provider.to_string(),
            retry_after,
        }),
        // A 500, or a server or gateway that gave up waiting (ABG answers its back end's
        // timeouts with 408), may come after the provider acted; the same key replays whatever
        // it did.
        StatusCode::INTERNAL_SERVER_ERROR
        | StatusCode::REQUEST_TIMEOUT
        | StatusCode::BAD_GATEWAY
        | StatusCode::GATEWAY_TIMEOUT => Some(ProviderError::OutcomeUnknown {
            provider: provider.to_string(),
        }),
        status if status.is_server_error() => Some(ProviderError::Unavailable {
            provider: provider.to_string(),
            message: format!("HTTP {}", status.as_u16()),
            retry_after,
        }),
        _ => None,
    }
}

/// `Retry-After` in seconds (the HTTP-date form is not used by these providers).
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn the_status_alone_tells_rate_limits_and_outages() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(
            status_error("p", StatusCode::TOO_MANY_REQUESTS, &headers),
            Some(ProviderError::RateLimited {
                provider: "p".into(),
                retry_after: Some(Duration::from_secs(7)),
            })
        );
        assert!(matches!(
            status_error("p", StatusCode::SERVICE_UNAVAILABLE, &headers),
            Some(ProviderError::Unavailable { retry_after: Some(d), .. }) if d == Duration::from_secs(7)
        ));
        for acted_maybe in [
            StatusCode::INTERNAL_SERVER_ERROR,
            StatusCode::REQUEST_TIMEOUT,
            StatusCode::BAD_GATEWAY,
            StatusCode::GATEWAY_TIMEOUT,
        ] {
            assert!(matches!(
                status_error("p", acted_maybe, &headers),
                Some(ProviderError::OutcomeUnknown { .. })
            ));
        }
        assert_eq!(
            status_error("p", StatusCode::PAYMENT_REQUIRED, &headers),
            None
        );
        assert_eq!(status_error("p", StatusCode::OK, &headers), None);
    }

    #[tokio::test]
    async fn a_call_that_cannot_connect_keeps_no_address_or_query_in_its_error() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = closed.local_addr().unwrap();
        drop(closed);
        let request = client(Duration::from_secs(2)).unwrap().get(format!(
            "http://{address}/air/orders?passenger_name[]=Lovelace"
        ));
        let error = dispatch("duffel", request).await.unwrap_err();
        let ProviderError::Unavailable { message, .. } = &error else {
            panic!("nothing was sent: {error:?}");
        };
        assert!(message.starts_with("cannot connect"), "{message}");
        assert!(!error.to_string().contains("Lovelace"), "{error}");
    }

    #[test]
    fn a_retry_after_that_is_not_seconds_is_ignored() {
        let mut headers = HeaderMap::new();
        headers.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2026 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&headers), None);
    }
}
