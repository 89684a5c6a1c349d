//! A stand-in for an OAuth 2.1 authorization server as a resource server sees it: it publishes
//! its signing keys at `/jwks` (RFC 7517) and issues RS256 access tokens; tests mint tokens with
//! whatever claims a case needs (expired, another audience, another issuer, a key it does not
//! publish).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::routing::get;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};

pub const ISSUER: &str = "https://auth.itinera.test";
const PUBLISHED_KID: &str = "test-key-1";

pub struct AuthServer {
    pub jwks_url: String,
    fetches: Arc<AtomicUsize>,
}

impl AuthServer {
    pub async fn start() -> AuthServer {
        let jwks: Value =
            serde_json::from_str(include_str!("../fixtures/jwks.json")).expect("jwks fixture");
        let fetches = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&fetches);
        let app = Router::new().route(
            "/jwks",
            get(move || {
                counter.fetch_add(1, Ordering::SeqCst);
                let jwks = jwks.clone();
                async move { axum::Json(jwks) }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        AuthServer {
            jwks_url: format!("http://{addr}/jwks"),
            fetches,
        }
    }

    /// How many times the key set was fetched.
    pub fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

/// The claims of a good token for `user` meant for `audience`, valid for an hour.
pub fn claims(user: &str, audience: &str) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({"iss": ISSUER, "sub": user, "aud": audience, "iat": now, "exp": now + 3600})
}

/// A token signed with the published key.
pub fn token(claims: &Value) -> String {
    signed(
        claims,
        PUBLISHED_KID,
        include_bytes!("../fixtures/jwt_signing_key.der"),
    )
}

/// A token signed with a key the server does not publish, under `kid`.
pub fn token_signed_elsewhere(claims: &Value, kid: &str) -> String {
    signed(
        claims,
        kid,
        include_bytes!("../fixtures/jwt_unpublished_key.der"),
    )
}

fn signed(claims: &Value, kid: &str, der: &[u8]) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.to_string());
    encode(&header, claims, &EncodingKey::from_rsa_der(der)).unwrap()
}
