//! Who is calling: every request to `/mcp` carries `Authorization: Bearer <token>`, a static token
//! of the operator's or a JWT from the authorization server. A request without a valid one gets
//! 401 with `WWW-Authenticate` pointing at the protected-resource metadata, as the MCP
//! authorization spec asks, and reaches no tool.
//!
//! The user the token names travels with the request (`Caller`) to the tools, which act for
//! that user alone. A session is bound to the user who opened it: another user's token on it is
//! answered as for a session that does not exist.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::jwt::{JwtVerifier, TokenRefused};
use super::settings::{HttpSettings, StaticTokens};
use crate::domain::ids::OwnerId;

const SESSION_HEADER: &str = "mcp-session-id";
/// A session unused this long is forgotten here (rmcp ends idle sessions well before).
const SESSION_MEMORY: Duration = Duration::from_secs(3600);

/// The user a request acts for, put in the request's extensions once the token is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller(pub OwnerId);

pub struct Authenticator {
    tokens: StaticTokens,
    jwt: Option<JwtVerifier>,
    metadata_url: String,
    /// Which user opened each session, and when it was last used.
    sessions: Mutex<HashMap<String, (OwnerId, Instant)>>,
}

enum Refusal {
    NoToken,
    Token(TokenRefused),
}

impl Authenticator {
    pub fn new(settings: &HttpSettings) -> Result<Authenticator, reqwest::Error> {
        Ok(Authenticator {
            tokens: settings.tokens.clone(),
            jwt: settings.jwt.clone().map(JwtVerifier::new).transpose()?,
            metadata_url: settings.metadata_url(),
            sessions: Mutex::new(HashMap::new()),
        })
    }

    async fn caller(&self, headers: &HeaderMap) -> Result<Caller, Refusal> {
        let token = headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| {
                value
                    .strip_prefix("Bearer ")
                    .or_else(|| value.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|token| !token.is_empty())
            .ok_or(Refusal::NoToken)?;
        if let Some(user) = self.tokens.user(token) {
            return Ok(Caller(user.clone()));
        }
        match &self.jwt {
            // A static token is opaque; anything with two dots is tried as a JWT.
            Some(jwt) if token.matches('.').count() == 2 => {
                jwt.verify(token).await.map(Caller).map_err(Refusal::Token)
            }
            _ => Err(Refusal::Token(TokenRefused::Invalid(
                "unknown token".into(),
            ))),
        }
    }

    /// The map of sessions, even after a panic elsewhere held it: a map insert or removal
    /// never leaves it half-changed, and refusing every session would be worse than using it.
    fn sessions(&self) -> MutexGuard<'_, HashMap<String, (OwnerId, Instant)>> {
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Who opened the session, marking it used.
    fn session_owner(&self, session: &str) -> Option<OwnerId> {
        let mut sessions = self.sessions();
        let (owner, used) = sessions.get_mut(session)?;
        *used = Instant::now();
        Some(owner.clone())
    }

    fn bind_session(&self, session: &str, owner: &OwnerId) {
        let mut sessions = self.sessions();
        sessions.retain(|_, (_, used)| used.elapsed() < SESSION_MEMORY);
        sessions.insert(session.to_string(), (owner.clone(), Instant::now()));
    }

    fn end_session(&self, session: &str) {
        self.sessions().remove(session);
    }

    fn refused(&self, refusal: Refusal) -> Response {
        let (status, challenge, description) = match &refusal {
            Refusal::NoToken => (
                StatusCode::UNAUTHORIZED,
                format!("Bearer resource_metadata=\"{}\"", self.metadata_url),
                "send Authorization: Bearer <token>".to_string(),
            ),
            Refusal::Token(TokenRefused::KeysUnavailable(reason)) => {
                tracing::warn!("could not check an access token: {reason}");
                return (
                    StatusCode::SERVICE_UNAVAILABLE,
                    [(header::RETRY_AFTER, HeaderValue::from_static("5"))],
                    axum::Json(json!({
                        "error": "temporarily_unavailable",
                        "error_description": "the access token could not be checked now: try again shortly",
                    })),
                )
                    .into_response();
            }
            Refusal::Token(refused) => (
                StatusCode::UNAUTHORIZED,
                format!(
                    "Bearer resource_metadata=\"{}\", error=\"invalid_token\", error_description=\"{}\"",
                    self.metadata_url,
                    refused.to_string().replace('"', "'")
                ),
                refused.to_string(),
            ),
        };
        let mut response = (
            status,
            axum::Json(json!({
                "error": if matches!(refusal, Refusal::NoToken) { "unauthorized" } else { "invalid_token" },
                "error_description": description,
            })),
        )
            .into_response();
        if let Ok(value) = HeaderValue::from_str(&challenge) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
        response
    }
}

/// The middleware in front of `/mcp`.
pub async fn require_bearer(
    State(auth): State<Arc<Authenticator>>,
    mut request: Request,
    next: Next,
) -> Response {
    let caller = match auth.caller(request.headers()).await {
        Ok(caller) => caller,
        Err(refusal) => return auth.refused(refusal),
    };
    let session = request
        .headers()
        .get(SESSION_HEADER)
        .and_then(|value| value.to_str().ok())
        .map(str::to_string);
    if let Some(session) = &session
        && let Some(owner) = auth.session_owner(session)
        && owner != caller.0
    {
        tracing::warn!(
            user = caller.0.as_str(),
            "refused a request on another user's session"
        );
        return (StatusCode::NOT_FOUND, "Not Found: Session not found").into_response();
    }
    let ending = request.method() == axum::http::Method::DELETE;
    request.extensions_mut().insert(caller.clone());
    let response = next.run(request).await;
    match (&session, ending) {
        (Some(session), true) if response.status().is_success() => auth.end_session(session),
        (None, _) => {
            if let Some(opened) = response
                .headers()
                .get(SESSION_HEADER)
                .and_then(|value| value.to_str().ok())
            {
                auth.bind_session(opened, &caller.0);
            }
        }
        _ => {}
    }
    response
}
