//! Idempotency keys derived from what an operation is, never minted by the model.
//!
//! A retry of the same operation on the same order and item produces the same key, so a provider
//! that saw the first attempt answers the retry with the first result instead of acting twice.

use std::fmt;

use sha2::{Digest, Sha256};

use super::ids::{ItemId, OrderId, SetupId};

/// The outbound operations a saga performs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Authorize,
    Book,
    Capture,
    Cancel,
    Void,
    Refund,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Authorize => "authorize",
            Operation::Book => "book",
            Operation::Capture => "capture",
            Operation::Cancel => "cancel",
            Operation::Void => "void",
            Operation::Refund => "refund",
        }
    }
}

/// A key such as `itn_3f9a…`, 36 characters: short enough for every provider's limit.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// `group` separates deliberate repeats of an operation (a second partial refund is a new
    /// refund, not a retry of the first).
    pub fn derive(
        order: &OrderId,
        item: Option<&ItemId>,
        operation: Operation,
        group: &str,
    ) -> Self {
        hashed(&[
            order.as_str(),
            item.map_or("-", ItemId::as_str),
            operation.as_str(),
            group,
        ])
    }

    /// The key of part `index` of a split payment, derived from the whole call's key: a call
    /// sent again sends every part under the key that part had.
    pub fn part(&self, index: usize) -> IdempotencyKey {
        hashed(&[self.0.as_str(), "part", &index.to_string()])
    }

    /// The key of one step (`customer`, `session`, `vault`) of saving a payment method: asking
    /// again for the same setup replays the provider's first answer instead of opening a second
    /// page or creating a second customer.
    pub fn for_setup(setup: &SetupId, step: &str) -> Self {
        let digest = hex::encode(Sha256::digest(format!("{setup}\0{step}").as_bytes()));
        IdempotencyKey(format!("itn_{}", &digest[..32]))
    }

    /// The key of a further call made on behalf of this one (refunding what a part whose
    /// release was refused shows taken): never the same key for two different requests.
    pub fn then(&self, step: &str) -> IdempotencyKey {
        hashed(&[self.0.as_str(), "then", step])
    }

    /// A key read back from the saga log, where every key was derived before it was sent.
    pub fn recorded(key: String) -> IdempotencyKey {
        IdempotencyKey(key)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The key for a sequence of pieces: NUL-separated so no two sequences hash alike.
fn hashed(pieces: &[&str]) -> IdempotencyKey {
    let mut hasher = Sha256::new();
    for piece in pieces {
        hasher.update(piece.as_bytes());
        hasher.update([0u8]);
    }
    let digest = hex::encode(hasher.finalize());
    IdempotencyKey(format!("itn_{}", &digest[..32]))
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_operation_gives_the_same_key_and_others_differ() {
        let order = OrderId::generate();
        let item = ItemId::generate();
        let key = IdempotencyKey::derive(&order, Some(&item), Operation::Book, "1");
        assert_eq!(
            key,
            IdempotencyKey::derive(&order, Some(&item), Operation::Book, "1")
        );
        assert_ne!(
            key,
            IdempotencyKey::derive(&order, Some(&item), Operation::Cancel, "1")
        );
        assert_ne!(
            key,
            IdempotencyKey::derive(&order, None, Operation::Book, "1")
        );
        assert_ne!(
            key,
            IdempotencyKey::derive(&order, Some(&item), Operation::Book, "2")
        );
        assert_eq!(key.as_str().len(), 36);
        assert_eq!(key.part(1), key.part(1));
        assert_ne!(key.part(0), key.part(1));
        assert_ne!(key.part(0), key);
        assert_eq!(key.part(0).as_str().len(), 36);
        assert_ne!(key.then("refund"), key);
        assert_ne!(key.then("refund"), key.part(0));
    }
}
