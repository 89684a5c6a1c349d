//! Typed identifiers, so a plan id can never be passed where an order id is expected.
//!
//! Our own ids are a prefix plus a random UUID (`plan_…`, `ord_…`); the prefix makes an id that
//! was pasted into the wrong argument obvious in the error message. Offer ids and payment method
//! tokens belong to the provider that issued them and are opaque to us.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Why a string was not accepted as an id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{value}' is not a valid {what}: expected something like '{example}'")]
pub struct IdError {
    pub value: String,
    pub what: &'static str,
    pub example: &'static str,
}

/// Conversions, display and access shared by every string-backed id.
macro_rules! string_id_impls {
    ($name:ident) => {
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

fn refused(value: &str, what: &'static str, example: &'static str) -> IdError {
    IdError {
        value: value.chars().take(80).collect(),
        what,
        example,
    }
}

/// Our own ids: a prefix and 32 hex digits.
macro_rules! prefixed_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
        #[serde(try_from = "String", into = "String")]
        #[schemars(with = "String")]
        pub struct $name(String);

        impl $name {
            /// A fresh random id.
            pub fn generate() -> Self {
                Self(format!("{}_{}", $prefix, uuid::Uuid::new_v4().simple()))
            }

            pub fn parse(value: &str) -> Result<Self, IdError> {
                let trimmed = value.trim();
                let valid = trimmed.strip_prefix(concat!($prefix, "_")).is_some_and(|rest| {
                    rest.len() == 32 && rest.bytes().all(|b| b.is_ascii_hexdigit())
                });
                if valid {
                    Ok(Self(trimmed.to_ascii_lowercase()))
                } else {
                    Err(refused(value, $what, concat!($prefix, "_8f14e45fceea167a5a36dedd4bea2543")))
                }
            }
        }

        string_id_impls!($name);
    };
}

/// Ids issued by someone else: opaque, bounded, letters, digits, `_` and `-` only.
macro_rules! opaque_id {
    ($(#[$doc:meta])* $name:ident, $what:literal, $example:literal, $max_len:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
        #[serde(try_from = "String", into = "String")]
        #[schemars(with = "String")]
        pub struct $name(String);

        impl $name {
            pub fn parse(value: &str) -> Result<Self, IdError> {
                let trimmed = value.trim();
                let valid = !trimmed.is_empty()
                    && trimmed.len() <= $max_len
                    && trimmed.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
                if valid { Ok(Self(trimmed.to_string())) } else { Err(refused(value, $what, $example)) }
            }
        }

        string_id_impls!($name);
    };
}

prefixed_id!(
    /// A travel plan the assistant assembled.
    PlanId,
    "plan",
    "travel plan id"
);
prefixed_id!(
    /// One item (flight, stay, activity, car) inside a plan and its order.
    ItemId,
    "item",
    "plan item id"
);
prefixed_id!(
    /// An order: one execution of an approved plan.
    OrderId,
    "ord",
    "order id"
);
prefixed_id!(
    /// A human approval of one exact version of a plan.
    ApprovalId,
    "apr",
    "approval id"
);
prefixed_id!(
    /// One page opened for the person to save a payment method (add_payment_method).
    SetupId,
    "setup",
    "payment method setup id"
);
prefixed_id!(
    /// One sign-in to a platform the person was asked to make (login_to_platform).
    LoginId,
    "login",
    "sign-in id"
);
opaque_id!(
    /// An offer id as issued by the provider.
    OfferId,
    "offer id",
    "off_fl_3f9a1c2b7d4e5f60",
    128
);
opaque_id!(
    /// A payment provider's token for the person's payment method (never card digits).
    PaymentMethodToken,
    "payment method token",
    "pm_sandbox_visa",
    255
);

impl PaymentMethodToken {
    /// The token as shown to the person: enough to recognise it, not enough to reuse it.
    pub fn masked(&self) -> String {
        let chars: Vec<char> = self.as_str().chars().collect();
        if chars.len() <= 8 {
            return "•".repeat(chars.len());
        }
        let head: String = chars[..3].iter().collect();
        let tail: String = chars[chars.len() - 4..].iter().collect();
        format!("{head}…{tail}")
    }
}

/// Whose data this is. Comes from the session (stdio: the local profile), never from a tool argument.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OwnerId(String);

impl OwnerId {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_masked_token_keeps_only_its_ends() {
        let token = PaymentMethodToken::parse("pm_sandbox_visa").unwrap();
        assert_eq!(token.masked(), "pm_…visa");
        assert_eq!(
            PaymentMethodToken::parse("pm_1234").unwrap().masked(),
            "•••••••"
        );
    }

    #[test]
    fn generated_ids_round_trip_and_carry_their_prefix() {
        let id = PlanId::generate();
        assert!(id.as_str().starts_with("plan_"));
        assert_eq!(PlanId::parse(id.as_str()).unwrap(), id);
    }

    #[test]
    fn an_id_of_the_wrong_kind_is_refused_with_an_example() {
        let order = OrderId::generate();
        let err = PlanId::parse(order.as_str()).unwrap_err();
        assert!(err.to_string().contains("not a valid travel plan id"));
        assert!(err.to_string().contains("plan_"));
    }

    #[test]
    fn offer_ids_are_bounded_and_plain() {
        assert!(OfferId::parse("off_fl_abc-123").is_ok());
        assert!(OfferId::parse("").is_err());
        assert!(OfferId::parse("drop table;").is_err());
        assert!(OfferId::parse(&"a".repeat(129)).is_err());
    }
}
