//! Encryption at rest: AES-256-GCM under a master key, in envelopes that name their key.
//!
//! The store seals travellers' personal data with a [`Keyring`] before it writes it, and opens it
//! when it reads it back. Every envelope carries the id of the key that sealed it, so a keyring can
//! later hold older keys beside the current one and keys can be rotated without rewriting
//! everything at once. The master key comes from `ITINERA_MASTER_KEY` or from a key file that is
//! created, readable by its owner only, on first run ([`KeySource`]).

mod key;
mod key_file;
mod keyring;
mod rotation;

use std::path::PathBuf;

pub use key::{KeyId, KeySource, MasterKey};
pub use keyring::Keyring;
pub use rotation::{Rotated, Rotation};

/// Why a key could not be had, or sealed data could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error(
        "a master key must be 64 hex digits or the base64 of 32 bytes, and {0}; make one with `openssl rand -hex 32`"
    )]
    BadKey(String),
    #[error(
        "the key file {} can be read or changed by other users (mode {mode:03o}): run `chmod 600 {}`",
        path.display(),
        path.display()
    )]
    ExposedKeyFile { path: PathBuf, mode: u32 },
    #[error("key file {}: {problem}", path.display())]
    KeyFile { path: PathBuf, problem: String },
    #[error("the operating system gave no random bytes: {0}")]
    Random(String),
    #[error(
        "it was sealed with key {needed}, and this server has key {available}: set ITINERA_MASTER_KEY to, \
         or restore the master.key file with, the key that was in use when it was written"
    )]
    UnknownKey { needed: KeyId, available: KeyId },
    #[error(
        "it fails its integrity check under key {key}: it was altered, or copied from another record"
    )]
    Tampered { key: KeyId },
    #[error("it is not a sealed envelope ({0})")]
    Malformed(&'static str),
    #[error("it is too large to seal")]
    TooLarge,
    #[error(
        "rotating ITINERA_MASTER_KEY needs the new key in ITINERA_NEW_MASTER_KEY (make one with `openssl rand -hex 32`)"
    )]
    NewKeyNeeded,
    #[error("the new master key is the key in use: make another with `openssl rand -hex 32`")]
    SameKey,
    #[error(
        "ITINERA_NEW_MASTER_KEY is only for a key given in ITINERA_MASTER_KEY: with the key file, `itinera keys rotate` makes the new key itself; unset it and run again"
    )]
    NewKeyForKeyFile,
}
