//! Talking to Duffel: the headers every call carries, the `{"data": …}` envelope, and the
//! reading of an error answer into the booking port's errors, keeping Duffel's code and message.

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::wire::{ApiError, Envelope, ErrorBody, ErrorType, Page};
use crate::adapters::http::{self, Answer};
use crate::ports::ProviderError;
use crate::ports::booking::BookingError;

/// Duffel's largest page.
const PAGE_LIMIT: &str = "200";

/// The API version the wire structs follow (the JS SDK's default).
pub const API_VERSION: &str = "v2";

/// One per product: Duffel's errors are reported as the product's (`duffel`, `duffel_stays`,
/// `duffel_cars`), the name the person sees in a search or a booking that failed.
pub struct Client {
    provider: &'static str,
    http: reqwest::Client,
    base_url: String,
    token: String,
}

impl Client {
    pub fn new(
        provider: &'static str,
        http: reqwest::Client,
        base_url: &str,
        token: &str,
    ) -> Client {
        Client {
            provider,
            http,
            base_url: base_url.trim_end_matches('/').to_string(),
            token: token.to_string(),
        }
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base_url))
            .bearer_auth(&self.token)
            .header("Duffel-Version", API_VERSION)
            .header("Accept", "application/json")
    }

    /// One airline's page: a cheap answer that proves Duffel takes the token (any product).
    pub async fn probe(&self) -> Result<(), BookingError> {
        self.get_page::<serde::de::IgnoredAny>("/air/airlines", &[("limit", "1")])
            .await
            .map(|_| ())
    }

    /// A GET of something that may be gone: a 404 is `None`, whatever Duffel's code for it.
    pub async fn get_if_found<T: DeserializeOwned>(
        &self,
        path: &str,
    ) -> Result<Option<T>, BookingError> {
        let answer = self
            .answer(self.request(reqwest::Method::GET, path))
            .await?;
        // Gone only when Duffel says so: a 404 without its error body is another server (a
        // wrong ITINERA_DUFFEL_BASE_URL), reported as such rather than as a vanished offer.
        if answer.status == StatusCode::NOT_FOUND
            && serde_json::from_str::<ErrorBody>(&answer.body).is_ok()
        {
            return Ok(None);
        }
        self.decode::<Envelope<T>>(answer)
            .map(|envelope| Some(envelope.data))
    }

    /// One page of a list, with its cursor.
    pub async fn get_page<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<Page<T>, BookingError> {
        let answer = self
            .answer(self.request(reqwest::Method::GET, path).query(query))
            .await?;
        self.decode(answer)
    }

    /// The first item of a paginated list that `matches`, following the cursor for at most
    /// `max_pages` pages (`limit` per page). More pages than that leave the answer unknown:
    /// the item may be on a page not read.
    pub async fn find_in_pages<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
        max_pages: usize,
        matches: impl Fn(&T) -> bool,
    ) -> Result<Option<T>, BookingError> {
        let mut after: Option<String> = None;
        for _ in 0..max_pages {
            let mut page_query = query.to_vec();
            page_query.push(("limit", PAGE_LIMIT));
            if let Some(cursor) = &after {
                page_query.push(("after", cursor.as_str()));
            }
            let page: Page<T> = self.get_page(path, &page_query).await?;
            if let Some(found) = page.data.into_iter().find(|item| matches(item)) {
                return Ok(Some(found));
            }
            match page.meta.after {
                Some(cursor) => after = Some(cursor),
                None => return Ok(None),
            }
        }
        tracing::warn!("more than {max_pages} pages of {path} to search; the answer is unknown");
        Err(unknown(self.provider).into())
    }

    /// Cancels the booking at `path` (`…/actions/cancel`) unless an earlier attempt already
    /// did; returns it as cancelled. A booking Duffel does not know is refused; one Duffel
    /// does not show cancelled after its cancellation is unsettled.
    pub async fn cancel_once<T: DeserializeOwned>(
        &self,
        path: &str,
        is_cancelled: impl Fn(&T) -> bool,
    ) -> Result<T, BookingError> {
        let Some(booking) = self.get_if_found::<T>(path).await? else {
            return Err(ProviderError::rejected(
                self.provider,
                "not_found",
                format!("Duffel has no booking at {path}"),
            )
            .into());
        };
        if is_cancelled(&booking) {
            return Ok(booking);
        }
        let cancelled: T = self
            .post::<(), T>(&format!("{path}/actions/cancel"), None)
            .await?;
        if !is_cancelled(&cancelled) {
            return Err(unknown(self.provider).into());
        }
        Ok(cancelled)
    }

    /// A quote (`POST {path}` with `{rate_id}`) for the rate an offer names; a
    /// rate Duffel no longer has (`not_found`, `rate_unavailable`) is no longer available.
    pub async fn quote_rate<T: DeserializeOwned>(
        &self,
        path: &str,
        offer: &crate::domain::offer::Offer,
    ) -> Result<T, BookingError> {
        #[derive(Serialize)]
        struct CreateQuote<'a> {
            rate_id: &'a str,
        }
        self.post(
            path,
            Some(&CreateQuote {
                rate_id: offer.id.as_str(),
            }),
        )
        .await
        .map_err(|error| match error {
            BookingError::Provider(ProviderError::Rejected { code, .. })
                if code == "not_found" || code == "rate_unavailable" =>
            {
                BookingError::NoLongerAvailable {
                    provider: self.provider.into(),
                    offer: offer.id.to_string(),
                }
            }
            other => other,
        })
    }

    /// A POST with `body` wrapped in `{"data": …}`, or no body at all (confirm actions).
    pub async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: Option<&B>,
    ) -> Result<T, BookingError> {
        let request = self.request(reqwest::Method::POST, path);
        let request = match body {
            Some(body) => request.json(&Envelope { data: body }),
            None => request,
        };
        self.decode::<Envelope<T>>(self.answer(request).await?)
            .map(|envelope| envelope.data)
    }

    /// The answer, unless the call got none or its status alone says what went wrong.
    async fn answer(&self, request: reqwest::RequestBuilder) -> Result<Answer, BookingError> {
        let answer = http::send(self.provider, request).await?;
        if let Some(error) = http::status_error(self.provider, answer.status, &answer.headers) {
            return Err(with_reset(error, &answer.headers, Utc::now()).into());
        }
        Ok(answer)
    }

    /// A success read as `T`, or Duffel's refusal.
    fn decode<T: DeserializeOwned>(&self, answer: Answer) -> Result<T, BookingError> {
        if !answer.status.is_success() {
            return Err(refusal(
                self.provider,
                answer.status,
                &answer.headers,
                &answer.body,
            ));
        }
        // Duffel acted but we cannot read what it did: only a lookup can tell.
        serde_json::from_str(&answer.body).map_err(|error| {
            tracing::warn!(%error, "unreadable answer from Duffel");
            unknown(self.provider).into()
        })
    }
}

pub fn unknown(provider: &str) -> ProviderError {
    ProviderError::OutcomeUnknown {
        provider: provider.to_string(),
    }
}

/// A rate limit without `Retry-After` takes its wait from `ratelimit-reset`, the time (an HTTP
/// date, as the Ruby SDK reads it) at which Duffel's window reopens.
fn with_reset(error: ProviderError, headers: &HeaderMap, now: DateTime<Utc>) -> ProviderError {
    match error {
        ProviderError::RateLimited {
            provider,
            retry_after: None,
        } => ProviderError::RateLimited {
            provider,
            retry_after: reset_in(headers, now),
        },
        other => other,
    }
}

fn reset_in(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    let text = headers.get("ratelimit-reset")?.to_str().ok()?;
    let reset = DateTime::parse_from_rfc2822(text.trim()).ok()?;
    // The date has whole seconds: a second more, as the Ruby SDK waits, lands after the reset.
    Some(
        (reset.with_timezone(&Utc) - now)
            .to_std()
            .unwrap_or(Duration::ZERO)
            + Duration::from_secs(1),
    )
}

/// Duffel's error answer as ours. The first error says what happened; its type says whether
/// sending again can help.
fn refusal(provider: &str, status: StatusCode, headers: &HeaderMap, body: &str) -> BookingError {
    let Some(error) = serde_json::from_str::<ErrorBody>(body)
        .ok()
        .and_then(|body| body.errors.into_iter().next())
    else {
        let hint = match status {
            StatusCode::UNAUTHORIZED => ": check ITINERA_DUFFEL_ACCESS_TOKEN",
            StatusCode::NOT_FOUND => ": not Duffel's answer; check ITINERA_DUFFEL_BASE_URL",
            _ => "",
        };
        return ProviderError::rejected(
            provider,
            format!("http_{}", status.as_u16()),
            format!("HTTP {} without a readable error{hint}", status.as_u16()),
        )
        .into();
    };
    let message = message_of(&error);
    let code = error
        .code
        .clone()
        .unwrap_or_else(|| error.kind.as_str().to_string());
    match error.kind {
        ErrorType::RateLimitError => ProviderError::RateLimited {
            provider: provider.to_string(),
            retry_after: http::retry_after(headers).or_else(|| reset_in(headers, Utc::now())),
        },
        // Duffel's own failure, not an answer about the request: it may pass.
        ErrorType::ApiError => ProviderError::Unavailable {
            provider: provider.to_string(),
            message: format!("{code}: {message}"),
            retry_after: http::retry_after(headers),
        },
        ErrorType::AuthenticationError => ProviderError::Rejected {
            provider: provider.to_string(),
            code,
            message: format!(
                "{message} (Duffel refused the access token: check ITINERA_DUFFEL_ACCESS_TOKEN)"
            ),
        },
        ErrorType::AirlineError
        | ErrorType::InvalidRequestError
        | ErrorType::InvalidStateError
        | ErrorType::ValidationError
        | ErrorType::Other => ProviderError::Rejected {
            provider: provider.to_string(),
            code,
            message,
        },
    }
    .into()
}

fn message_of(error: &ApiError) -> String {
    match (&error.title, &error.message) {
        (Some(title), Some(message)) if !message.starts_with(title.as_str()) => {
            format!("{title}: {message}")
        }
        (_, Some(message)) => message.clone(),
        (Some(title), None) => title.clone(),
        (None, None) => error.kind.as_str().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::booking::duffel::NAME;
    use reqwest::header::HeaderValue;

    #[test]
    fn a_rate_limit_waits_until_duffel_s_reset_time() {
        let now = DateTime::parse_from_rfc3339("2026-11-26T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let mut headers = HeaderMap::new();
        headers.insert(
            "ratelimit-reset",
            HeaderValue::from_static("Thu, 26 Nov 2026 10:00:07 GMT"),
        );
        let limited = ProviderError::RateLimited {
            provider: NAME.into(),
            retry_after: None,
        };
        assert_eq!(
            with_reset(limited, &headers, now).retry_after(),
            Some(Duration::from_secs(8))
        );
        let past = now + chrono::Duration::minutes(1);
        assert_eq!(reset_in(&headers, past), Some(Duration::from_secs(1)));
    }

    #[test]
    fn an_error_without_duffel_s_body_keeps_the_status() {
        let error = refusal(NAME, StatusCode::FORBIDDEN, &HeaderMap::new(), "<html>");
        assert_eq!(
            error,
            BookingError::Provider(ProviderError::rejected(
                NAME,
                "http_403",
                "HTTP 403 without a readable error"
            ))
        );
    }
}
