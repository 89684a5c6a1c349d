//! Talking to Amadeus: an OAuth 2.0 client-credentials token fetched once and reused until a
//! minute before it expires (or until Amadeus says it is no longer valid), the `{"data": …}`
//! envelope, and the reading of an error answer into the booking port's errors, keeping
//! Amadeus's numeric code and its title.

use reqwest::StatusCode;
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::NAME;
use super::wire::{ApiError, Envelope, ErrorBody};
pub use crate::adapters::booking::client_token::Credentials;
use crate::adapters::booking::client_token::{self, Token, TokenCache};
use crate::adapters::booking::refusal;
use crate::adapters::http::Answer;
use crate::ports::ProviderError;
use crate::ports::booking::BookingError;

/// The media type of Amadeus's JSON, which its specifications consume and produce.
const MEDIA_TYPE: &str = "application/vnd.amadeus+json";
/// Amadeus's code for an access token it no longer takes.
const INVALID_ACCESS_TOKEN: u32 = 38190;

pub struct Client {
    http: reqwest::Client,
    base_url: String,
    credentials: Credentials,
    /// One token for every call.
    token: TokenCache,
}

impl Client {
    pub fn new(http: reqwest::Client, base_url: &str, credentials: Credentials) -> Client {
        Client {
            http,
            base_url: base_url.trim_end_matches('/').to_string(),
            credentials,
            token: TokenCache::default(),
        }
    }

    /// A GET of `path` with `query`, read as `{"data": T}`.
    pub async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, Failure> {
        let answer = self
            .authorised(|| self.request(reqwest::Method::GET, path).query(query))
            .await?;
        decode::<Envelope<T>>(answer).map(|envelope| envelope.data)
    }

    /// A POST of `{"data": body}` in Amadeus's media type, read as `{"data": T}`.
    pub async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, Failure> {
        let body = serde_json::to_vec(&Envelope { data: body }).map_err(|error| {
            BookingError::from(ProviderError::rejected(
                NAME,
                "unsendable_request",
                error.to_string(),
            ))
        })?;
        let answer = self
            .authorised(|| {
                self.request(reqwest::Method::POST, path)
                    .header(CONTENT_TYPE, MEDIA_TYPE)
                    .body(body.clone())
            })
            .await?;
        decode::<Envelope<T>>(answer).map(|envelope| envelope.data)
    }

    /// Signs in again, whatever token is cached.
    pub async fn sign_in(&self) -> Result<(), BookingError> {
        self.token(true).await.map(|_| ())
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, self.url(path))
            .header(ACCEPT, format!("{MEDIA_TYPE}, application/json"))
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Sends with the current token, fetching a new one once when Amadeus says it is no longer
    /// valid (it was revoked, or Amadeus's clock ran ahead of ours).
    async fn authorised(
        &self,
        request: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<Answer, BookingError> {
        self.token
            .authorised(NAME, || self.fetch_token(), is_invalid_token, request)
            .await
    }

    /// The cached token, or a new one when there is none, it is about to expire, or `renew`.
    async fn token(&self, renew: bool) -> Result<String, BookingError> {
        self.token.get(renew, || self.fetch_token()).await
    }

    async fn fetch_token(&self) -> Result<Token, BookingError> {
        let request = self
            .http
            .post(self.url("/v1/security/oauth2/token"))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", self.credentials.client_id.as_str()),
                ("client_secret", self.credentials.client_secret.as_str()),
            ]);
        let answer = client_token::send_checked(NAME, request)
            .await
            .map_err(|error| client_token::sign_in_unanswered(NAME, error))?;
        client_token::read_token(
            NAME,
            "Amadeus",
            "ITINERA_AMADEUS_CLIENT_ID and ITINERA_AMADEUS_CLIENT_SECRET",
            answer,
        )
    }
}

fn is_invalid_token(answer: &Answer) -> bool {
    answer.status == StatusCode::UNAUTHORIZED
        && first_error(&answer.body).is_some_and(|e| e.code == Some(INVALID_ACCESS_TOKEN))
}

fn first_error(body: &str) -> Option<ApiError> {
    serde_json::from_str::<ErrorBody>(body)
        .ok()?
        .errors
        .into_iter()
        .next()
}

/// A call that did not give its answer: Amadeus refused it (what it said is kept, for the caller
/// to tell a vanished offer from a bad request), or it failed on the way.
pub type Failure = refusal::Failure<Refusal>;

/// A success read as `T`, or Amadeus's refusal.
fn decode<T: DeserializeOwned>(answer: Answer) -> Result<T, Failure> {
    refusal::decode(NAME, answer)
}

pub fn unknown() -> ProviderError {
    ProviderError::OutcomeUnknown {
        provider: NAME.to_string(),
    }
}

/// Amadeus's refusal: its status, its numeric code and what it said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Whether the body was Amadeus's error list.
    readable: bool,
    pub status: StatusCode,
    pub code: Option<u32>,
    pub message: String,
}

impl Refusal {
    /// Whether Amadeus answered with one of these codes.
    pub fn is_one_of(&self, codes: &[u32]) -> bool {
        self.code.is_some_and(|code| codes.contains(&code))
    }

    /// Not found, by Amadeus itself: a 404 with Amadeus's error body. A 404 without one is
    /// another server (a wrong ITINERA_AMADEUS_BASE_URL), not a vanished offer.
    pub fn is_not_found(&self) -> bool {
        self.status == StatusCode::NOT_FOUND && self.readable
    }
}

impl refusal::Refusal for Refusal {
    fn read(answer: &Answer) -> Refusal {
        let Some(error) = first_error(&answer.body) else {
            return Refusal {
                readable: false,
                status: answer.status,
                code: None,
                message: format!("HTTP {} without a readable error", answer.status.as_u16()),
            };
        };
        let message = match (error.title, error.detail) {
            (Some(title), Some(detail)) => format!("{title}: {detail}"),
            (Some(text), None) | (None, Some(text)) => text,
            (None, None) => format!("HTTP {}", answer.status.as_u16()),
        };
        Refusal {
            readable: true,
            status: answer.status,
            code: error.code,
            message,
        }
    }
}

impl From<Refusal> for ProviderError {
    fn from(refusal: Refusal) -> ProviderError {
        let code = match refusal.code {
            Some(code) => code.to_string(),
            None => format!("http_{}", refusal.status.as_u16()),
        };
        let hint = match refusal.status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                " (check ITINERA_AMADEUS_CLIENT_ID and ITINERA_AMADEUS_CLIENT_SECRET)"
            }
            StatusCode::NOT_FOUND if !refusal.readable => {
                ": not Amadeus's answer; check ITINERA_AMADEUS_BASE_URL"
            }
            _ => "",
        };
        ProviderError::rejected(NAME, code, format!("{}{hint}", refusal.message))
    }
}
