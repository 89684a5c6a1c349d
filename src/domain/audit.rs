//! The audit log: an append-only, hash-chained record of everything that touches money or
//! authority — approvals asked for and given, every step of every order, payments, refunds,
//! cancellations.
//!
//! Each entry carries the hash of the one before it, and its own hash covers its sequence number,
//! so editing an entry, inserting one or deleting one breaks the chain where it happened.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The hash the first entry links to.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One entry of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AuditEntry {
    /// Position in the log, from 1, without gaps.
    pub seq: i64,
    pub owner: String,
    pub at: DateTime<Utc>,
    /// What happened, e.g. `approval.approved`, `order.event`.
    pub action: String,
    /// What it happened to: a plan, approval or order id.
    pub subject: String,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

/// The hash an entry must carry, given the previous entry's hash.
pub fn entry_hash(
    prev_hash: &str,
    seq: i64,
    owner: &str,
    at: &DateTime<Utc>,
    action: &str,
    subject: &str,
    detail: &str,
) -> String {
    let mut hasher = Sha256::new();
    for part in [
        prev_hash,
        &seq.to_string(),
        owner,
        &at.to_rfc3339(),
        action,
        subject,
        detail,
    ] {
        hasher.update(part.as_bytes());
        hasher.update([0u8]);
    }
    hex::encode(hasher.finalize())
}

/// Where the chain breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuditBreak {
    #[error("entry {found} stands where entry {expected} should: entries were deleted or inserted")]
    Gap { expected: i64, found: i64 },
    #[error(
        "entry {seq} does not link to the entry before it: an entry before it was changed, deleted or inserted"
    )]
    Link { seq: i64 },
    #[error("entry {seq} was changed after it was written: its hash no longer matches its content")]
    Content { seq: i64 },
}

/// Checks a whole log, in sequence order, from its first entry.
pub fn verify(entries: &[AuditEntry]) -> Result<(), AuditBreak> {
    let mut prev_hash = GENESIS.to_string();
    for (index, entry) in entries.iter().enumerate() {
        let expected = index as i64 + 1;
        if entry.seq != expected {
            return Err(AuditBreak::Gap {
                expected,
                found: entry.seq,
            });
        }
        if entry.prev_hash != prev_hash {
            return Err(AuditBreak::Link { seq: entry.seq });
        }
        let recomputed = entry_hash(
            &entry.prev_hash,
            entry.seq,
            &entry.owner,
            &entry.at,
            &entry.action,
            &entry.subject,
            &entry.detail,
        );
        if recomputed != entry.hash {
            return Err(AuditBreak::Content { seq: entry.seq });
        }
        prev_hash = entry.hash.clone();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(details: &[&str]) -> Vec<AuditEntry> {
        let mut prev = GENESIS.to_string();
        let at = Utc::now();
        details
            .iter()
            .enumerate()
            .map(|(index, detail)| {
                let seq = index as i64 + 1;
                let hash = entry_hash(&prev, seq, "local", &at, "order.event", "ord_1", detail);
                let entry = AuditEntry {
                    seq,
                    owner: "local".into(),
                    at,
                    action: "order.event".into(),
                    subject: "ord_1".into(),
                    detail: detail.to_string(),
                    prev_hash: prev.clone(),
                    hash: hash.clone(),
                };
                prev = hash;
                entry
            })
            .collect()
    }

    #[test]
    fn an_intact_chain_verifies() {
        assert_eq!(verify(&chain(&["a", "b", "c"])), Ok(()));
    }

    #[test]
    fn edits_deletions_and_insertions_are_caught_where_they_happened() {
        let mut edited = chain(&["a", "b", "c"]);
        edited[1].detail = "refunded 1000".into();
        assert_eq!(verify(&edited), Err(AuditBreak::Content { seq: 2 }));

        let mut deleted = chain(&["a", "b", "c"]);
        deleted.remove(1);
        assert_eq!(
            verify(&deleted),
            Err(AuditBreak::Gap {
                expected: 2,
                found: 3
            })
        );

        let mut renumbered = chain(&["a", "b", "c"]);
        renumbered.remove(1);
        renumbered[1].seq = 2;
        assert_eq!(verify(&renumbered), Err(AuditBreak::Link { seq: 2 }));
    }
}
