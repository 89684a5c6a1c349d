//! The master key: 32 bytes, named by a short id that reveals nothing about it.

use std::fmt;
use std::path::PathBuf;

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{Generate, Key};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use sha2::{Digest, Sha256};

use super::{CryptoError, Keyring, key_file};

/// Bytes in an AES-256 key.
const KEY_BYTES: usize = 32;

/// An AES-256 key. `Debug` shows its id, never the key.
#[derive(Clone, PartialEq, Eq)]
pub struct MasterKey([u8; KEY_BYTES]);

/// Names a key in envelopes and error messages: the first 8 hex digits of the key's SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyId(String);

impl MasterKey {
    /// Reads 64 hex digits, or the base64 (standard or URL-safe alphabet) of 32 bytes; whitespace
    /// around it, such as a file's final newline, is ignored. The error never repeats the text.
    pub fn parse(text: &str) -> Result<MasterKey, CryptoError> {
        let text = text.trim();
        let bytes = if text.len() == 2 * KEY_BYTES {
            hex::decode(text).map_err(|_| "its 64 characters are not all hex digits")
        } else {
            STANDARD
                .decode(text)
                .or_else(|_| URL_SAFE.decode(text))
                .map_err(|_| "this is neither")
        };
        let bytes = bytes.map_err(|problem| CryptoError::BadKey(problem.into()))?;
        <[u8; KEY_BYTES]>::try_from(bytes.as_slice())
            .map(MasterKey)
            .map_err(|_| CryptoError::BadKey(format!("this decodes to {} bytes", bytes.len())))
    }

    /// A fresh key from the operating system's random source.
    pub fn generate() -> Result<MasterKey, CryptoError> {
        let key =
            Key::<Aes256Gcm>::try_generate().map_err(|e| CryptoError::Random(e.to_string()))?;
        Ok(MasterKey(key.into()))
    }

    pub fn id(&self) -> KeyId {
        KeyId(hex::encode(&Sha256::digest(self.0)[..4]))
    }

    /// The key as 64 hex digits, as the key file holds it.
    pub(super) fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    pub(super) fn bytes(&self) -> &[u8; KEY_BYTES] {
        &self.0
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MasterKey({})", self.id())
    }
}

impl KeyId {
    /// A key id as read from an envelope: 8 lowercase hex digits.
    pub(super) fn parse(text: &str) -> Option<KeyId> {
        (text.len() == 8 && text.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f')))
            .then(|| KeyId(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where the master key comes from.
#[derive(Debug, Clone)]
pub enum KeySource {
    /// Given in the configuration (`ITINERA_MASTER_KEY`).
    Given(MasterKey),
    /// A key file, created with a fresh key the first time it is needed.
    File(PathBuf),
}

impl KeySource {
    /// The keyring that seals with this key, creating the key file if there is none yet.
    pub fn keyring(&self) -> Result<Keyring, CryptoError> {
        match self {
            KeySource::Given(key) => Ok(Keyring::new(key)),
            KeySource::File(path) => {
                let ring = Keyring::new(&key_file::load_or_create(path)?);
                // A rotation interrupted after re-sealing: its key opens what it sealed.
                Ok(match key_file::load_next(path)? {
                    Some(next) => ring.also_opening(&next),
                    None => ring,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    #[test]
    fn keys_are_read_as_hex_or_base64() {
        let key = MasterKey::parse(HEX).unwrap();
        let base64 = STANDARD.encode(key.bytes());
        assert_eq!(MasterKey::parse(&format!("  {base64}\n")).unwrap(), key);
        assert_eq!(
            MasterKey::parse(&URL_SAFE.encode(key.bytes())).unwrap(),
            key
        );
        assert_eq!(MasterKey::parse(&HEX.to_uppercase()).unwrap(), key);
        assert_eq!(key.to_hex(), HEX);
    }

    #[test]
    fn a_bad_key_says_what_a_key_looks_like_without_repeating_it() {
        let short = STANDARD.encode([7u8; 31]);
        let not_hex = HEX.replace('0', "g");
        for (text, problem) in [
            ("", "this decodes to 0 bytes"),
            (&HEX[..62], "this is neither"),
            (not_hex.as_str(), "not all hex digits"),
            (short.as_str(), "this decodes to 31 bytes"),
        ] {
            let error = MasterKey::parse(text).unwrap_err().to_string();
            assert!(
                error.contains("64 hex digits or the base64 of 32 bytes"),
                "{error}"
            );
            assert!(error.contains(problem), "{text}: {error}");
            assert!(text.len() < 8 || !error.contains(text), "{error}");
        }
    }

    #[test]
    fn the_key_id_is_a_hash_prefix_and_debug_shows_only_it() {
        let key = MasterKey::parse(HEX).unwrap();
        let id = key.id();
        assert_eq!(id.as_str(), &hex::encode(Sha256::digest(key.bytes()))[..8]);
        assert_eq!(format!("{key:?}"), format!("MasterKey({id})"));
        let other = MasterKey::generate().unwrap();
        assert_ne!(other.id(), id);
        assert_eq!(KeyId::parse(id.as_str()), Some(id));
        assert_eq!(KeyId::parse("ABCDEF12"), None);
    }
}
