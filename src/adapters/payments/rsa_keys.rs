//! SHA256withRSA (PKCS#1 v1.5) as the wallet providers use it: keys given as PEM or as the bare
//! base64 DER their consoles show, signatures carried as standard base64. Antom and WeChat Pay
//! differ only in what they sign and how they carry the signature.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::signature::{SignatureEncoding, Signer, Verifier};
use rsa::{RsaPrivateKey, RsaPublicKey};
use sha2::Sha256;

fn der(text: &str) -> Option<Vec<u8>> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    STANDARD.decode(compact).ok()
}

/// A PKCS#8 private key, PEM or base64 DER; `None` if it is neither.
pub fn signing_key(text: &str) -> Option<SigningKey<Sha256>> {
    if text.contains("-----BEGIN") {
        RsaPrivateKey::from_pkcs8_pem(text).ok()
    } else {
        der(text).and_then(|bytes| RsaPrivateKey::from_pkcs8_der(&bytes).ok())
    }
    .map(SigningKey::new)
}

/// An X.509 SubjectPublicKeyInfo public key, PEM or base64 DER; `None` if it is neither.
pub fn verifying_key(text: &str) -> Option<VerifyingKey<Sha256>> {
    if text.contains("-----BEGIN") {
        RsaPublicKey::from_public_key_pem(text).ok()
    } else {
        der(text).and_then(|bytes| RsaPublicKey::from_public_key_der(&bytes).ok())
    }
    .map(VerifyingKey::new)
}

/// The base64 signature of `message`.
pub fn sign(key: &SigningKey<Sha256>, message: &[u8]) -> String {
    STANDARD.encode(key.sign(message).to_bytes())
}

/// Whether `signature` (base64) is `key`'s signature of `message`.
pub fn verify(key: &VerifyingKey<Sha256>, message: &[u8], signature: &str) -> bool {
    STANDARD
        .decode(signature.trim())
        .ok()
        .and_then(|bytes| Signature::try_from(bytes.as_slice()).ok())
        .is_some_and(|signature| key.verify(message, &signature).is_ok())
}
