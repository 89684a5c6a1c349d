//! Our reference for a booking at a provider that keeps one (Viator's `partnerBookingRef`,
//! GetYourGuide's `external_reference_id`): the saga's idempotency key, the same on every send,
//! hashed when longer than the provider takes.

use sha2::{Digest, Sha256};

use crate::domain::idempotency::IdempotencyKey;

pub fn for_key(prefix: &str, key: &IdempotencyKey, max_len: usize) -> String {
    let plain = format!("{prefix}{}", key.as_str());
    if plain.len() <= max_len {
        return plain;
    }
    format!(
        "{prefix}{}",
        hex::encode(Sha256::digest(key.as_str().as_bytes()))
    )
}
