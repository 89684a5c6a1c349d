//! Antom's message signatures: SHA256withRSA over `"<METHOD> <path>\n<client-id>.<time>.<body>"`,
//! sent as `Signature: algorithm=RSA256,keyVersion=1,signature=<URL-encoded base64>`. Requests
//! are signed with the merchant's private key; responses and notifications are verified with
//! Antom's public key.

use std::sync::Arc;

use rsa::pkcs1v15::{SigningKey, VerifyingKey};
use sha2::Sha256;

use crate::adapters::payments::rsa_keys;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the Antom merchant private key is not a PKCS#8 RSA key (PEM or base64 DER)")]
    Private,
    #[error("Antom's public key is not an X.509 SubjectPublicKeyInfo RSA key (PEM or base64 DER)")]
    Public,
}

/// The merchant's signing key and Antom's verifying key (shared: RSA keys are large).
#[derive(Clone)]
pub struct Keys(Arc<KeyPair>);

struct KeyPair {
    signing: SigningKey<Sha256>,
    verifying: VerifyingKey<Sha256>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(..)")
    }
}

impl Keys {
    /// Keys as Antom's console gives them (base64 DER) or as PEM.
    pub fn parse(merchant_private: &str, antom_public: &str) -> Result<Keys, KeyError> {
        Ok(Keys(Arc::new(KeyPair {
            signing: rsa_keys::signing_key(merchant_private).ok_or(KeyError::Private)?,
            verifying: rsa_keys::verifying_key(antom_public).ok_or(KeyError::Public)?,
        })))
    }

    /// The `Signature` header of a request.
    pub fn sign(&self, path: &str, client_id: &str, time: &str, body: &str) -> String {
        let signature = rsa_keys::sign(
            &self.0.signing,
            signed_text(path, client_id, time, body).as_bytes(),
        );
        format!(
            "algorithm=RSA256,keyVersion=1,signature={}",
            url_encode(&signature)
        )
    }

    /// Whether a response's or notification's `signature` header is Antom's.
    pub fn verify(
        &self,
        path: &str,
        client_id: &str,
        time: &str,
        body: &str,
        header: &str,
    ) -> bool {
        let Some(value) = header
            .split(',')
            .find_map(|part| part.trim().strip_prefix("signature="))
        else {
            return false;
        };
        url_decode(value).is_some_and(|signature| {
            rsa_keys::verify(
                &self.0.verifying,
                signed_text(path, client_id, time, body).as_bytes(),
                &signature,
            )
        })
    }
}

/// What is signed: the method (always POST), the path, the client id, the time, the body.
pub fn signed_text(path: &str, client_id: &str, time: &str, body: &str) -> String {
    format!("POST {path}\n{client_id}.{time}.{body}")
}

/// Percent-encodes the three characters base64 uses that URLs reserve.
pub fn url_encode(base64: &str) -> String {
    base64
        .replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D")
}

fn url_decode(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '%' {
            let hex: String = chars.by_ref().take(2).collect();
            out.push(char::from(u8::from_str_radix(&hex, 16).ok()?));
        } else {
            out.push(c);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MERCHANT: &str = include_str!("../../../../tests/fixtures/antom/merchant-private.pem");
    const MERCHANT_PUBLIC: &str =
        include_str!("../../../../tests/fixtures/antom/merchant-public.pem");
    const ANTOM: &str = include_str!("../../../../tests/fixtures/antom/antom-private.pem");
    const ANTOM_PUBLIC: &str = include_str!("../../../../tests/fixtures/antom/antom-public.pem");

    #[test]
    fn what_one_side_signs_the_other_verifies_and_nothing_else() {
        let merchant = Keys::parse(MERCHANT, ANTOM_PUBLIC).unwrap();
        let antom = Keys::parse(ANTOM, MERCHANT_PUBLIC).unwrap();
        let path = "/ams/sandbox/api/v1/payments/pay";
        let header = merchant.sign(path, "SANDBOX_1", "1712345678901", "{}");
        assert!(header.starts_with("algorithm=RSA256,keyVersion=1,signature="));
        assert!(antom.verify(path, "SANDBOX_1", "1712345678901", "{}", &header));
        assert!(!antom.verify(path, "SANDBOX_1", "1712345678901", "{ }", &header));
        assert!(!antom.verify(path, "SANDBOX_2", "1712345678901", "{}", &header));
        assert!(!merchant.verify(path, "SANDBOX_1", "1712345678901", "{}", &header));
        assert!(!antom.verify(path, "SANDBOX_1", "1712345678901", "{}", "signature=%ZZ"));
    }

    #[test]
    fn keys_are_read_as_pem_or_as_base64_der() {
        let body: String = ANTOM_PUBLIC
            .lines()
            .filter(|line| !line.starts_with("-----"))
            .collect();
        assert!(Keys::parse(MERCHANT, &body).is_ok());
        assert!(matches!(
            Keys::parse("nonsense", ANTOM_PUBLIC),
            Err(KeyError::Private)
        ));
        assert!(matches!(
            Keys::parse(MERCHANT, "nonsense"),
            Err(KeyError::Public)
        ));
    }
}
