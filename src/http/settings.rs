//! What `itinera serve --http` needs to know: where it listens, the address people reach it at,
//! and who may call it (static bearer tokens, and JWT access tokens from an authorization
//! server).

use std::collections::HashMap;
use std::net::SocketAddr;

use sha2::{Digest, Sha256};

use crate::domain::ids::OwnerId;

/// A static token shorter than this is refused at start: it could be guessed.
pub const MIN_TOKEN_LENGTH: usize = 24;

#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub listen: SocketAddr,
    /// The address people (and the metadata document) use, without a trailing slash, e.g.
    /// `https://itinera.example.com`; the MCP endpoint is this plus `/mcp`.
    pub public_url: String,
    /// `Host` values accepted besides loopback (DNS-rebinding protection).
    pub allowed_hosts: Vec<String>,
    pub tokens: StaticTokens,
    pub jwt: Option<JwtSettings>,
    /// What a scraper must send to read `/metrics`; without one, `/metrics` is off.
    pub metrics_token: Option<MetricsToken>,
}

impl HttpSettings {
    /// The protected resource's identifier: what JWT audiences name by default.
    pub fn resource(&self) -> String {
        format!("{}/mcp", self.public_url)
    }

    /// Where the protected-resource metadata document is (RFC 9728, path-suffixed form).
    pub fn metadata_url(&self) -> String {
        format!(
            "{}/.well-known/oauth-protected-resource/mcp",
            self.public_url
        )
    }
}

/// Access tokens from an OAuth 2.1 authorization server, checked against its published keys.
#[derive(Debug, Clone)]
pub struct JwtSettings {
    pub jwks_url: String,
    /// The `iss` every token must carry; also the authorization server the metadata names.
    pub issuer: String,
    /// The `aud` every token must carry (default: the resource, `<public url>/mcp`).
    pub audience: String,
}

/// Operator-issued bearer tokens, each naming the user it acts for. Only their SHA-256 digests
/// are kept, so a memory dump or a debug print shows no token.
#[derive(Clone, Default)]
pub struct StaticTokens(HashMap<[u8; 32], OwnerId>);

impl StaticTokens {
    /// From `user:token,user:token`; refuses a short token, a user without one, or one token
    /// given to two users.
    pub fn parse(text: &str) -> Result<StaticTokens, String> {
        let mut tokens = HashMap::new();
        for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let Some((user, token)) = entry.split_once(':') else {
                return Err("an entry of ITINERA_HTTP_TOKENS is not user:token".into());
            };
            let (user, token) = (user.trim(), token.trim());
            if user.is_empty() {
                return Err("an entry of ITINERA_HTTP_TOKENS has no user before the colon".into());
            }
            if token.len() < MIN_TOKEN_LENGTH {
                return Err(format!(
                    "the token of {user} in ITINERA_HTTP_TOKENS is shorter than {MIN_TOKEN_LENGTH} characters: use a random one, e.g. `openssl rand -hex 32`"
                ));
            }
            if tokens
                .insert(digest(token), OwnerId::new(user.to_string()))
                .is_some()
            {
                return Err(format!(
                    "the token of {user} in ITINERA_HTTP_TOKENS is also another user's"
                ));
            }
        }
        Ok(StaticTokens(tokens))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The user a token acts for.
    pub fn user(&self, token: &str) -> Option<&OwnerId> {
        self.0.get(&digest(token))
    }
}

impl std::fmt::Debug for StaticTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StaticTokens({} users)", self.0.len())
    }
}

/// The operator's token for `/metrics` (every person's figures): only its digest is kept.
#[derive(Clone, PartialEq, Eq)]
pub struct MetricsToken([u8; 32]);

impl MetricsToken {
    pub fn parse(token: &str) -> Result<MetricsToken, String> {
        if token.len() < MIN_TOKEN_LENGTH {
            return Err(format!(
                "ITINERA_METRICS_TOKEN is shorter than {MIN_TOKEN_LENGTH} characters: use a random one, e.g. `openssl rand -hex 32`"
            ));
        }
        Ok(MetricsToken(digest(token)))
    }

    pub fn matches(&self, token: &str) -> bool {
        self.0 == digest(token)
    }
}

impl std::fmt::Debug for MetricsToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MetricsToken([redacted])")
    }
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALICE: &str = "alice-token-0123456789abcdef";
    const BOB: &str = "bob-token-0123456789abcdefgh";

    #[test]
    fn tokens_name_their_users() {
        let tokens = StaticTokens::parse(&format!("alice:{ALICE}, bob:{BOB}")).unwrap();
        assert_eq!(tokens.user(ALICE), Some(&OwnerId::new("alice")));
        assert_eq!(tokens.user(BOB), Some(&OwnerId::new("bob")));
        assert_eq!(tokens.user("alice"), None);
        assert!(!format!("{tokens:?}").contains(ALICE));
    }

    #[test]
    fn weak_or_ambiguous_tokens_are_refused() {
        assert!(
            StaticTokens::parse("alice:short")
                .unwrap_err()
                .contains("shorter")
        );
        assert!(StaticTokens::parse(&format!(":{ALICE}")).is_err());
        assert!(
            StaticTokens::parse(ALICE)
                .unwrap_err()
                .contains("user:token")
        );
        let twice = StaticTokens::parse(&format!("alice:{ALICE},bob:{ALICE}")).unwrap_err();
        assert!(twice.contains("another user's"), "{twice}");
        assert!(StaticTokens::parse("").unwrap().is_empty());
    }
}
