//! Sealing and opening: AES-256-GCM envelopes that name the key that sealed them.
//!
//! An envelope reads `v1:<key id>:<nonce>:<ciphertext>`, nonce and ciphertext (with its tag) in
//! unpadded base64url: plain text, so it fits a JSON string or a text column. The nonce is 96
//! random bits, fresh for every message. The associated data binds the version, the key id and the
//! caller's context (for a plan's travellers, the plan's id): an envelope edited, or copied into
//! another record, fails to open instead of opening as someone else's data.

use std::collections::HashMap;
use std::fmt;

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{Aead, Generate, KeyInit, Nonce, Payload};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::{CryptoError, KeyId, MasterKey};

const VERSION: &str = "v1";

/// The keys a process can open envelopes with, and the one it seals with.
pub struct Keyring {
    current: KeyId,
    ciphers: HashMap<KeyId, Aes256Gcm>,
}

impl Keyring {
    /// A keyring that seals with `current`.
    pub fn new(current: &MasterKey) -> Keyring {
        let id = current.id();
        let cipher = Aes256Gcm::new(current.bytes().into());
        Keyring {
            current: id.clone(),
            ciphers: HashMap::from([(id, cipher)]),
        }
    }

    /// The same keyring, also opening envelopes sealed with `key` (a key being rotated).
    pub fn also_opening(mut self, key: &MasterKey) -> Keyring {
        self.ciphers
            .entry(key.id())
            .or_insert_with(|| Aes256Gcm::new(key.bytes().into()));
        self
    }

    /// The key new envelopes are sealed with.
    pub fn current(&self) -> &KeyId {
        &self.current
    }

    /// Encrypts `plaintext` under the current key, bound to `context`.
    pub fn seal(&self, context: &str, plaintext: &[u8]) -> Result<String, CryptoError> {
        let cipher = self.cipher(&self.current)?;
        let nonce =
            Nonce::<Aes256Gcm>::try_generate().map_err(|e| CryptoError::Random(e.to_string()))?;
        let aad = associated_data(&self.current, context);
        let ciphertext = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| CryptoError::TooLarge)?;
        Ok(format!(
            "{VERSION}:{}:{}:{}",
            self.current,
            URL_SAFE_NO_PAD.encode(nonce),
            URL_SAFE_NO_PAD.encode(ciphertext)
        ))
    }

    /// Decrypts an envelope sealed for `context` by any key of the ring.
    pub fn open(&self, context: &str, envelope: &str) -> Result<Vec<u8>, CryptoError> {
        let mut parts = envelope.split(':');
        let (Some(VERSION), Some(key), Some(nonce), Some(ciphertext), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(CryptoError::Malformed(
                "expected v1:<key>:<nonce>:<ciphertext>",
            ));
        };
        let key = KeyId::parse(key).ok_or(CryptoError::Malformed("bad key id"))?;
        let nonce = URL_SAFE_NO_PAD
            .decode(nonce)
            .ok()
            .and_then(|bytes| Nonce::<Aes256Gcm>::try_from(bytes.as_slice()).ok())
            .ok_or(CryptoError::Malformed("bad nonce"))?;
        let ciphertext = URL_SAFE_NO_PAD
            .decode(ciphertext)
            .map_err(|_| CryptoError::Malformed("bad ciphertext"))?;
        let aad = associated_data(&key, context);
        self.cipher(&key)?
            .decrypt(
                &nonce,
                Payload {
                    msg: &ciphertext,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| CryptoError::Tampered { key })
    }

    fn cipher(&self, key: &KeyId) -> Result<&Aes256Gcm, CryptoError> {
        self.ciphers
            .get(key)
            .ok_or_else(|| CryptoError::UnknownKey {
                needed: key.clone(),
                available: self.current.clone(),
            })
    }
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("current", &self.current)
            .field("keys", &self.ciphers.keys().collect::<Vec<_>>())
            .finish()
    }
}

fn associated_data(key: &KeyId, context: &str) -> String {
    format!("{VERSION}:{key}:{context}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keyring() -> Keyring {
        Keyring::new(&MasterKey::generate().unwrap())
    }

    #[test]
    fn an_envelope_opens_to_what_was_sealed_and_shows_none_of_it() {
        let ring = keyring();
        let secret = br#"[{"passport_number":"X12345678"}]"#;
        let envelope = ring.seal("plan:1", secret).unwrap();
        assert!(
            envelope.starts_with(&format!("v1:{}:", ring.current())),
            "{envelope}"
        );
        assert!(!envelope.contains("X12345678"));
        assert_eq!(ring.open("plan:1", &envelope).unwrap(), secret);
        let again = ring.seal("plan:1", secret).unwrap();
        assert_ne!(again, envelope, "a fresh nonce every time");
    }

    #[test]
    fn another_key_names_the_key_it_needs() {
        let sealer = keyring();
        let envelope = sealer.seal("plan:1", b"Ada").unwrap();
        let other = keyring();
        match other.open("plan:1", &envelope) {
            Err(CryptoError::UnknownKey { needed, available }) => {
                assert_eq!(&needed, sealer.current());
                assert_eq!(&available, other.current());
            }
            result => panic!("expected an unknown key, got {result:?}"),
        }
    }

    #[test]
    fn a_tampered_or_moved_envelope_is_refused() {
        let ring = keyring();
        let envelope = ring.seal("plan:1", b"Ada Lovelace").unwrap();
        let (head, ciphertext) = envelope.rsplit_once(':').unwrap();
        let mut bytes = URL_SAFE_NO_PAD.decode(ciphertext).unwrap();
        bytes[0] ^= 1;
        let flipped = format!("{head}:{}", URL_SAFE_NO_PAD.encode(bytes));
        for (context, envelope) in [("plan:1", flipped.as_str()), ("plan:2", &envelope)] {
            assert!(
                matches!(
                    ring.open(context, envelope),
                    Err(CryptoError::Tampered { .. })
                ),
                "{context}"
            );
        }
        for garbage in [
            "",
            "Ada Lovelace",
            "v2:00000000:AAAA:AAAA",
            "v1:zz:AAAA:AAAA",
            "v1:00000000:AAAA:AAAA",
        ] {
            assert!(
                matches!(ring.open("plan:1", garbage), Err(CryptoError::Malformed(_))),
                "{garbage}"
            );
        }
    }
}
