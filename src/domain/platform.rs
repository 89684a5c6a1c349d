//! The person's accounts at travel platforms (Booking.com, Turkish Airlines, …): the tokens a
//! sign-in gave Itinera, and how a sign-in under way stands.

use std::fmt;

use chrono::{DateTime, Utc};

use super::ids::OwnerId;

/// A bearer credential: `Debug` never shows it, and nothing serialises it but the vault.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    pub fn new(secret: String) -> Token {
        Token(secret)
    }

    /// The token itself, for the call that sends it and the vault that seals it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(..)")
    }
}

/// What a platform's token endpoint gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformTokens {
    pub access_token: Token,
    pub refresh_token: Option<Token>,
    /// When the access token stops working; `None`: the platform did not say.
    pub expires_at: Option<DateTime<Utc>>,
    /// The scopes granted (which may be fewer than asked for).
    pub scopes: Vec<String>,
}

impl PlatformTokens {
    /// Whether the access token still works at `at`.
    pub fn usable_at(&self, at: DateTime<Utc>) -> bool {
        self.expires_at.is_none_or(|expires| expires > at)
    }
}

/// A platform account the person connected, as the vault keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformAccount {
    pub owner: OwnerId,
    /// The platform's id in the registry, e.g. `booking_com`.
    pub platform: String,
    pub tokens: PlatformTokens,
    pub connected_at: DateTime<Utc>,
    pub refreshed_at: DateTime<Utc>,
}
