//! The secrets that let a person, and only a person, answer an approval request: the page link,
//! the page form's CSRF token and the out-of-band code.
//!
//! Each is an HMAC-SHA256 of the approval id under a key drawn at start and never stored, so
//! nothing secret sits in the database, a link or code cannot be forged without the key, and a
//! restart voids every link and code still out (confirm_travel_plan issues new ones). "One-time"
//! comes from the approval itself: it can be decided once, and every secret is bound to it.
//!
//! A link is minted for whoever will carry it. One that reaches the person without passing
//! through the model (the client's URL prompt, the person's own channel) approves with a click.
//! One returned in tool output has been seen by the model, which may be able to fetch it, so
//! approving through it also takes the out-of-band code.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::domain::approval::PlanDigest;
use crate::domain::ids::ApprovalId;

type HmacSha256 = Hmac<Sha256>;

/// Crockford's base32: no I, L, O or U, so a code read aloud or copied by hand survives.
const CODE_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// 8 characters of 5 bits: 2^40 codes against a handful of allowed guesses.
const CODE_CHARS: usize = 8;

#[derive(Debug, thiserror::Error)]
#[error("the approval key could not be made: {0}")]
pub struct KeyError(String);

/// Who a page link is handed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Straight to the person: the client's URL prompt, or the person's channel.
    Person,
    /// Through the model, in tool output: approving also takes the code.
    Assistant,
}

impl Audience {
    fn purpose(self) -> &'static str {
        match self {
            Audience::Person => "link:person",
            Audience::Assistant => "link:assistant",
        }
    }
}

/// The per-process key and what is derived from it.
pub struct ApprovalSecrets {
    /// HMAC-SHA256 keyed once; each use clones it.
    keyed: HmacSha256,
}

impl std::fmt::Debug for ApprovalSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApprovalSecrets(..)")
    }
}

impl ApprovalSecrets {
    pub fn generate() -> Result<ApprovalSecrets, KeyError> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(|e| KeyError(e.to_string()))?;
        let keyed = HmacSha256::new_from_slice(&key).map_err(|e| KeyError(e.to_string()))?;
        Ok(ApprovalSecrets { keyed })
    }

    fn mac(&self, purpose: &str, parts: &[&str]) -> HmacSha256 {
        let mut mac = self.keyed.clone();
        mac.update(purpose.as_bytes());
        for part in parts {
            mac.update(&[0]);
            mac.update(part.as_bytes());
        }
        mac
    }

    fn verify(&self, purpose: &str, parts: &[&str], hex_tag: &str) -> bool {
        hex::decode(hex_tag).is_ok_and(|tag| self.mac(purpose, parts).verify_slice(&tag).is_ok())
    }

    /// The secret part of the approval page's URL, for its audience.
    pub fn link_token(&self, approval: &ApprovalId, audience: Audience) -> String {
        hex::encode(
            self.mac(audience.purpose(), &[approval.as_str()])
                .finalize()
                .into_bytes(),
        )
    }

    /// Whom the link was minted for, if it is genuine.
    pub fn verify_link(&self, approval: &ApprovalId, token: &str) -> Option<Audience> {
        [Audience::Person, Audience::Assistant]
            .into_iter()
            .find(|audience| self.verify(audience.purpose(), &[approval.as_str()], token))
    }

    /// The page form's CSRF token, bound to the plan version the page showed.
    pub fn csrf_token(&self, approval: &ApprovalId, digest: &PlanDigest) -> String {
        hex::encode(
            self.mac("csrf", &[approval.as_str(), &digest.0])
                .finalize()
                .into_bytes(),
        )
    }

    pub fn verify_csrf(&self, approval: &ApprovalId, digest: &PlanDigest, token: &str) -> bool {
        self.verify("csrf", &[approval.as_str(), &digest.0], token)
    }

    /// The out-of-band code, as shown to the person: `ABCD-EFGH`.
    pub fn code(&self, approval: &ApprovalId) -> String {
        let code = self.raw_code(approval);
        format!("{}-{}", &code[..CODE_CHARS / 2], &code[CODE_CHARS / 2..])
    }

    fn raw_code(&self, approval: &ApprovalId) -> String {
        let tag = self
            .mac("code", &[approval.as_str()])
            .finalize()
            .into_bytes();
        let bits = tag
            .iter()
            .take(CODE_CHARS * 5 / 8)
            .fold(0u64, |acc, byte| (acc << 8) | u64::from(*byte));
        (0..CODE_CHARS)
            .rev()
            .map(|i| char::from(CODE_ALPHABET[((bits >> (i * 5)) & 31) as usize]))
            .collect()
    }

    /// Compares a code as the person typed it: any case, with or without the dash or spaces,
    /// O read as 0 and I or L as 1.
    pub fn verify_code(&self, approval: &ApprovalId, typed: &str) -> bool {
        let normalized: String = typed
            .chars()
            .filter(|c| !matches!(c, '-' | ' '))
            .map(|c| match c.to_ascii_uppercase() {
                'O' => '0',
                'I' | 'L' => '1',
                other => other,
            })
            .collect();
        let expected = self.raw_code(approval);
        // Constant time: compare HMACs of both rather than the strings.
        let tag = self.mac("compare", &[&expected]).finalize().into_bytes();
        self.mac("compare", &[&normalized])
            .verify_slice(&tag)
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets() -> ApprovalSecrets {
        ApprovalSecrets::generate().unwrap()
    }

    #[test]
    fn a_link_is_bound_to_its_approval_and_its_key() {
        let (keys, other_keys) = (secrets(), secrets());
        let (approval, other) = (ApprovalId::generate(), ApprovalId::generate());
        let token = keys.link_token(&approval, Audience::Person);
        assert_eq!(token.len(), 64);
        assert_eq!(keys.verify_link(&approval, &token), Some(Audience::Person));
        let shared = keys.link_token(&approval, Audience::Assistant);
        assert_ne!(shared, token);
        assert_eq!(
            keys.verify_link(&approval, &shared),
            Some(Audience::Assistant)
        );
        assert_eq!(keys.verify_link(&other, &token), None);
        assert_eq!(other_keys.verify_link(&approval, &token), None);
        assert_eq!(keys.verify_link(&approval, "not hex"), None);
        assert_eq!(keys.verify_link(&approval, &token[..62]), None);
    }

    #[test]
    fn a_csrf_token_is_bound_to_the_plan_version() {
        let keys = secrets();
        let approval = ApprovalId::generate();
        let (shown, edited) = (PlanDigest("a".repeat(64)), PlanDigest("b".repeat(64)));
        let token = keys.csrf_token(&approval, &shown);
        assert!(keys.verify_csrf(&approval, &shown, &token));
        assert!(!keys.verify_csrf(&approval, &edited, &token));
        assert_ne!(token, keys.link_token(&approval, Audience::Person));
    }

    #[test]
    fn a_code_is_accepted_however_it_is_typed_and_only_for_its_approval() {
        let keys = secrets();
        let approval = ApprovalId::generate();
        let code = keys.code(&approval);
        assert_eq!(code.len(), 9);
        assert_eq!(code.as_bytes()[4], b'-');
        assert!(keys.verify_code(&approval, &code));
        assert!(keys.verify_code(&approval, &code.replace('-', " ").to_lowercase()));
        assert!(!keys.verify_code(&ApprovalId::generate(), &code));
        assert!(!secrets().verify_code(&approval, &code));
        assert!(!keys.verify_code(&approval, ""));
    }
}
