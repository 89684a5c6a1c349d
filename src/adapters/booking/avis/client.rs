//! Talking to Avis: a client-credentials token asked for the way ABG's gateway wants it (a GET
//! with `client_id` and `client_secret` headers, not RFC 6749's form POST), kept until a minute
//! before it expires and asked for again when the gateway refuses it; every call carries the
//! token and the `client_id` header; an error answer read into the booking port's errors,
//! keeping Avis's business code.

use reqwest::header::ACCEPT;
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::NAME;
use super::wire::{ApiError, ErrorBody};
pub use crate::adapters::booking::client_token::Credentials;
use crate::adapters::booking::client_token::{self, Token, TokenCache};
use crate::adapters::booking::refusal;
use crate::adapters::http::Answer;
use crate::ports::ProviderError;
use crate::ports::booking::BookingError;

/// What to check when Avis refuses Itinera's credentials.
const CHECK_CREDENTIALS: &str = "ITINERA_AVIS_CLIENT_ID and ITINERA_AVIS_CLIENT_SECRET";

pub struct Client {
    http: reqwest::Client,
    base_url: String,
    credentials: Credentials,
    token: TokenCache,
}

/// A call that did not give its answer: Avis refused it (what it said is kept, for the caller to
/// tell a sold-out car from a bad request), or it failed on the way.
pub type Failure = refusal::Failure<Refusal>;

impl Client {
    pub fn new(http: reqwest::Client, base_url: &str, credentials: Credentials) -> Client {
        Client {
            http,
            base_url: base_url.trim_end_matches('/').to_string(),
            credentials,
            token: TokenCache::default(),
        }
    }

    pub async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, Failure> {
        let answer = self
            .authorised(|| self.request(Method::GET, path).query(query))
            .await?;
        refusal::decode(NAME, answer)
    }

    /// A JSON body sent with `method` (POST to price or reserve, PUT to cancel).
    pub async fn send<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: &B,
    ) -> Result<T, Failure> {
        let answer = self
            .authorised(|| self.request(method.clone(), path).json(body))
            .await?;
        refusal::decode(NAME, answer)
    }

    /// Signs in again, whatever token is kept: what `itinera doctor` asks.
    pub async fn sign_in(&self) -> Result<(), BookingError> {
        self.token(true).await.map(|_| ())
    }

    fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base_url))
            .header(ACCEPT, "application/json")
            .header("client_id", &self.credentials.client_id)
    }

    /// Sends with the kept token, signing in again once when the gateway refuses it.
    async fn authorised(
        &self,
        request: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<Answer, BookingError> {
        self.token
            .authorised(NAME, || self.fetch_token(), token_refused, request)
            .await
    }

    async fn token(&self, renew: bool) -> Result<String, BookingError> {
        self.token.get(renew, || self.fetch_token()).await
    }

    /// `GET /oauth/token/v2` with the credentials as headers, as ABG's getting-started guide and
    /// every public client of the gateway send them.
    async fn fetch_token(&self) -> Result<Token, BookingError> {
        let request = self
            .http
            .get(format!("{}/oauth/token/v2", self.base_url))
            .header(ACCEPT, "application/json")
            .header("client_id", &self.credentials.client_id)
            .header("client_secret", &self.credentials.client_secret);
        let answer = client_token::send_checked(NAME, request)
            .await
            .map_err(|error| client_token::sign_in_unanswered(NAME, error))?;
        client_token::read_token(NAME, "Avis", CHECK_CREDENTIALS, answer)
    }
}

/// Whether the gateway refused the token itself (expired early, revoked): its OAuth answer
/// (`WWW-Authenticate: … error="invalid_token"`, or `{"error": "invalid_grant"}`), given before
/// Avis acts. Any other 401 is a refusal to read, not a reason to send again.
fn token_refused(answer: &Answer) -> bool {
    if answer.status != StatusCode::UNAUTHORIZED {
        return false;
    }
    let challenged = answer
        .headers
        .get(reqwest::header::WWW_AUTHENTICATE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.contains("invalid_token"));
    let said = serde_json::from_str::<serde_json::Value>(&answer.body)
        .ok()
        .and_then(|body| body["error"].as_str().map(str::to_string))
        .is_some_and(|error| error == "invalid_grant" || error == "invalid_token");
    challenged || said
}

/// Avis's refusal: its status, its code and what it said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Whether the body was Avis's error list.
    readable: bool,
    pub status: StatusCode,
    /// Avis's business code (`"14036"`), or the status again when it gave none.
    pub code: Option<String>,
    pub message: String,
}

impl Refusal {
    pub fn is_one_of(&self, codes: &[&str]) -> bool {
        self.code
            .as_deref()
            .is_some_and(|code| codes.contains(&code))
    }
}

impl refusal::Refusal for Refusal {
    fn read(answer: &Answer) -> Refusal {
        let errors = serde_json::from_str::<ErrorBody>(&answer.body)
            .map(ErrorBody::all)
            .unwrap_or_default();
        let Some(error) = most_specific(&errors, answer.status) else {
            return Refusal {
                readable: false,
                status: answer.status,
                code: None,
                message: format!("HTTP {} without a readable error", answer.status.as_u16()),
            };
        };
        let message = match (&error.reason, &error.details) {
            (Some(reason), Some(details)) if reason != details => format!("{reason}: {details}"),
            (Some(text), _) | (None, Some(text)) => text.clone(),
            (None, None) => format!("HTTP {}", answer.status.as_u16()),
        };
        Refusal {
            readable: true,
            status: answer.status,
            code: Some(error.code.clone()),
            message,
        }
    }
}

/// The error that says most: the first with a business code of Avis's own, else the first
/// (Avis lists the generic `"400"` before the code that names the problem).
fn most_specific(errors: &[ApiError], status: StatusCode) -> Option<&ApiError> {
    let generic = status.as_u16().to_string();
    errors
        .iter()
        .find(|error| error.code != generic)
        .or_else(|| errors.first())
}

impl From<Refusal> for ProviderError {
    fn from(refusal: Refusal) -> ProviderError {
        let code = match (&refusal.code, refusal.readable) {
            (Some(code), true) => code.clone(),
            _ => format!("http_{}", refusal.status.as_u16()),
        };
        let hint = match refusal.status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                format!(" (check {CHECK_CREDENTIALS})")
            }
            StatusCode::NOT_FOUND if !refusal.readable => {
                ": not Avis's answer; check ITINERA_AVIS_BASE_URL".to_string()
            }
            _ => String::new(),
        };
        ProviderError::rejected(NAME, code, format!("{}{hint}", refusal.message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::booking::refusal::Refusal as _;

    fn answer(status: u16, body: &str) -> Answer {
        Answer {
            status: StatusCode::from_u16(status).unwrap(),
            headers: Default::default(),
            body: body.into(),
        }
    }

    #[test]
    fn the_business_code_is_kept_in_either_shape() {
        let example = r#"{"status": {"request_time": "2019-01-04T15:15:30Z", "request_errors": 2,
            "errors": [{"code": "400", "message": "Bad Request", "reason": "invalid_request", "details": "- Missing required field 'brand'"},
                       {"code": "14528", "message": "Bad Request", "reason": "Invalid rate_code.", "details": "Rate Code entered is invalid."}]}}"#;
        let read = Refusal::read(&answer(400, example));
        assert_eq!(read.code.as_deref(), Some("14528"));
        assert_eq!(
            read.message,
            "Invalid rate_code.: Rate Code entered is invalid."
        );
        let schema = r#"{"request_time": "2019-01-04T15:15:30Z", "request_errors": 1,
            "errors": [{"code": "14036", "message": "Not Found", "reason": "Reservation already cancelled", "details": "Reservation already cancelled"}]}"#;
        let read = Refusal::read(&answer(404, schema));
        assert!(read.is_one_of(&["14036"]));
        assert_eq!(read.message, "Reservation already cancelled");
        let proxy = Refusal::read(&answer(404, "<html>not found</html>"));
        let error = ProviderError::from(proxy);
        assert!(
            error.to_string().contains("ITINERA_AVIS_BASE_URL"),
            "{error}"
        );
    }
}
