//! The platforms Itinera knows: how each is signed in to, and which providers' items need it.
//!
//! Two kinds of credentials live here. The operator's (API keys and client credentials for
//! Duffel, Amadeus, Booking.com's Demand API, Viator, GetYourGuide, Stripe, PayPal, Antom,
//! WeChat Pay) come from the environment and serve everyone. The person's own accounts (OAuth
//! 2.0 with PKCE) are signed in to by the person and kept in the token vault; a plan whose
//! items come from a provider needing one cannot run until the person has signed in.

use schemars::JsonSchema;
use serde::Serialize;

/// How a platform is signed in to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuthKind {
    /// The person signs in (authorization code with PKCE S256 and state).
    Oauth2Pkce,
    /// The operator's client id and secret, exchanged for a token by Itinera.
    ClientCredentials,
    /// The operator's API key or access token.
    ApiKey,
}

/// One platform of the registry.
#[derive(Debug)]
pub struct PlatformSpec {
    pub id: &'static str,
    pub name: &'static str,
    pub auth: AuthKind,
    /// The scopes asked at sign-in (OAuth platforms).
    pub scopes: &'static [&'static str],
    /// The booking or payment providers (as `list_platforms` and offers name them) that use it.
    pub used_by: &'static [&'static str],
    /// Where its credentials are set.
    pub configured_by: &'static str,
    /// Why it cannot be used, when nothing Itinera could configure would make it work.
    pub unavailable: Option<&'static str>,
}

impl PlatformSpec {
    /// Whether the person, not the operator, signs in.
    pub fn personal(&self) -> bool {
        self.auth == AuthKind::Oauth2Pkce
    }
}

/// Every platform Itinera knows.
pub const PLATFORMS: &[PlatformSpec] = &[
    PlatformSpec {
        id: "booking_com",
        name: "Booking.com account",
        auth: AuthKind::Oauth2Pkce,
        scopes: &["reservations"],
        used_by: &["booking_com"],
        configured_by: "ITINERA_BOOKINGCOM_OAUTH_CLIENT_ID, _AUTHORIZE_URL, _TOKEN_URL (and _CLIENT_SECRET, _REVOKE_URL, _SCOPES)",
        unavailable: None,
    },
    PlatformSpec {
        id: "turkish_airlines",
        name: "Turkish Airlines Miles&Smiles",
        auth: AuthKind::Oauth2Pkce,
        scopes: &["booking_management"],
        used_by: &[],
        configured_by: "-",
        unavailable: Some(
            "Turkish Airlines documents no Miles&Smiles sign-in and no booking API (see the README)",
        ),
    },
    PlatformSpec {
        id: "booking_com_demand",
        name: "Booking.com Demand API",
        auth: AuthKind::ApiKey,
        scopes: &[],
        used_by: &["booking_com"],
        configured_by: "ITINERA_BOOKINGCOM_API_KEY, ITINERA_BOOKINGCOM_AFFILIATE_ID",
        unavailable: None,
    },
    PlatformSpec {
        id: "duffel",
        name: "Duffel",
        auth: AuthKind::ApiKey,
        scopes: &[],
        used_by: &["duffel", "duffel_stays", "duffel_cars"],
        configured_by: "ITINERA_DUFFEL_ACCESS_TOKEN",
        unavailable: None,
    },
    PlatformSpec {
        id: "amadeus",
        name: "Amadeus Self-Service",
        auth: AuthKind::ClientCredentials,
        scopes: &[],
        used_by: &["amadeus"],
        configured_by: "ITINERA_AMADEUS_CLIENT_ID, ITINERA_AMADEUS_CLIENT_SECRET",
        unavailable: None,
    },
    PlatformSpec {
        id: "viator",
        name: "Viator Partner API",
        auth: AuthKind::ApiKey,
        scopes: &[],
        used_by: &["viator"],
        configured_by: "ITINERA_VIATOR_API_KEY",
        unavailable: None,
    },
    PlatformSpec {
        id: "getyourguide",
        name: "GetYourGuide Partner API",
        auth: AuthKind::ApiKey,
        scopes: &[],
        used_by: &["getyourguide"],
        configured_by: "ITINERA_GETYOURGUIDE_ACCESS_TOKEN",
        unavailable: None,
    },
    PlatformSpec {
        id: "stripe",
        name: "Stripe",
        auth: AuthKind::ApiKey,
        scopes: &[],
        used_by: &["stripe"],
        configured_by: "ITINERA_STRIPE_SECRET_KEY",
        unavailable: None,
    },
    PlatformSpec {
        id: "paypal",
        name: "PayPal",
        auth: AuthKind::ClientCredentials,
        scopes: &[],
        used_by: &["paypal"],
        configured_by: "ITINERA_PAYPAL_CLIENT_ID, ITINERA_PAYPAL_CLIENT_SECRET",
        unavailable: None,
    },
    PlatformSpec {
        id: "antom",
        name: "Antom (Alipay+)",
        auth: AuthKind::ApiKey,
        scopes: &[],
        used_by: &["antom"],
        configured_by: "ITINERA_ANTOM_CLIENT_ID, ITINERA_ANTOM_PRIVATE_KEY",
        unavailable: None,
    },
    PlatformSpec {
        id: "wechat_pay",
        name: "WeChat Pay",
        auth: AuthKind::ApiKey,
        scopes: &[],
        used_by: &["wechat"],
        configured_by: "ITINERA_WECHAT_* (merchant id, serial, private key, platform key, API v3 key)",
        unavailable: None,
    },
];

/// The platform with this id.
pub fn platform(id: &str) -> Option<&'static PlatformSpec> {
    PLATFORMS.iter().find(|spec| spec.id == id)
}

/// The ids of every platform, for an error that lists them.
pub fn known_ids() -> String {
    PLATFORMS
        .iter()
        .map(|spec| spec.id)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_only_personal_platforms_ask_for_scopes() {
        for (i, spec) in PLATFORMS.iter().enumerate() {
            assert!(
                PLATFORMS[i + 1..].iter().all(|other| other.id != spec.id),
                "{} twice",
                spec.id
            );
            assert_eq!(spec.personal(), !spec.scopes.is_empty(), "{}", spec.id);
        }
    }
}
