//! Plans as the store keeps them: with their travellers sealed.
//!
//! The `travellers` array (names, passport numbers, dates of birth, phones, e-mails) is replaced
//! in the stored JSON by one envelope of its JSON, bound to the plan's id. Names are sealed too:
//! they are personal data as much as the rest. Items, prices and ids stay readable, so orders can
//! still be followed and the store examined without the key.

use serde_json::Value;

use crate::crypto::{CryptoError, Keyring};
use crate::domain::plan::TravelPlan;
use crate::ports::store::StoreError;

const TRAVELLERS: &str = "travellers";

/// The plan's JSON with its travellers sealed.
pub(super) fn seal_plan(keyring: &Keyring, plan: &TravelPlan) -> Result<String, StoreError> {
    let id = plan.id.as_str();
    let travellers = serde_json::to_vec(&plan.travellers).map_err(corrupt)?;
    let envelope = keyring
        .seal(&context(id), &travellers)
        .map_err(|source| sealed(id, source))?;
    let mut body = serde_json::to_value(plan).map_err(corrupt)?;
    let Value::Object(fields) = &mut body else {
        return Err(corrupt("a plan is not a JSON object"));
    };
    fields.insert(TRAVELLERS.into(), Value::String(envelope));
    Ok(body.to_string())
}

/// The plan from its stored JSON, travellers opened.
pub(super) fn open_plan(keyring: &Keyring, body: &str) -> Result<TravelPlan, StoreError> {
    let Opened {
        mut body,
        travellers,
        ..
    } = opened(keyring, body)?;
    let travellers: Value = serde_json::from_slice(&travellers).map_err(corrupt)?;
    if let Value::Object(fields) = &mut body {
        fields.insert(TRAVELLERS.into(), travellers);
    }
    serde_json::from_value(body).map_err(corrupt)
}

/// The stored JSON with its travellers sealed again under the keyring's current key (a key
/// rotation); everything else is kept as it was.
pub(super) fn reseal_plan(keyring: &Keyring, body: &str) -> Result<String, StoreError> {
    let Opened {
        mut body,
        id,
        travellers,
    } = opened(keyring, body)?;
    let envelope = keyring
        .seal(&context(&id), &travellers)
        .map_err(|source| sealed(&id, source))?;
    if let Value::Object(fields) = &mut body {
        fields.insert(TRAVELLERS.into(), Value::String(envelope));
    }
    Ok(body.to_string())
}

/// A stored plan read, its travellers' envelope opened.
struct Opened {
    /// The stored JSON (a JSON object), travellers still sealed.
    body: Value,
    id: String,
    /// The travellers' JSON.
    travellers: Vec<u8>,
}

fn opened(keyring: &Keyring, body: &str) -> Result<Opened, StoreError> {
    let body: Value = serde_json::from_str(body).map_err(corrupt)?;
    let Value::Object(fields) = &body else {
        return Err(corrupt("a plan is not a JSON object"));
    };
    let id = fields
        .get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| corrupt("a plan has no id"))?
        .to_string();
    let Some(Value::String(envelope)) = fields.get(TRAVELLERS) else {
        return Err(sealed(
            &id,
            CryptoError::Malformed("stored in plaintext, from before personal data was sealed"),
        ));
    };
    let travellers = keyring
        .open(&context(&id), envelope)
        .map_err(|source| sealed(&id, source))?;
    Ok(Opened {
        body,
        id,
        travellers,
    })
}

fn context(plan: &str) -> String {
    format!("plan:{plan}:travellers")
}

fn sealed(plan: &str, source: CryptoError) -> StoreError {
    StoreError::Sealed {
        what: format!("the travellers of plan {plan}"),
        source,
    }
}

fn corrupt(error: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("plan: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::MasterKey;
    use crate::domain::fixtures::paris_plan;

    fn keyring() -> Keyring {
        Keyring::new(&MasterKey::generate().unwrap())
    }

    #[test]
    fn the_stored_plan_shows_its_items_but_not_its_travellers() {
        let ring = keyring();
        let mut plan = paris_plan();
        plan.travellers[0].passport_number = Some("X12345678".into());
        let body = seal_plan(&ring, &plan).unwrap();
        for secret in ["X12345678", "Lovelace", "Ada"] {
            assert!(!body.contains(secret), "{secret} in {body}");
        }
        assert!(body.contains(plan.items[0].offer.id.as_str()));
        assert_eq!(open_plan(&ring, &body).unwrap(), plan);
    }

    #[test]
    fn travellers_moved_to_another_plan_or_left_in_plaintext_are_refused() {
        let ring = keyring();
        let (first, second) = (paris_plan(), paris_plan());
        let mut body: Value = serde_json::from_str(&seal_plan(&ring, &second).unwrap()).unwrap();
        let stolen: Value = serde_json::from_str(&seal_plan(&ring, &first).unwrap()).unwrap();
        body[TRAVELLERS] = stolen[TRAVELLERS].clone();
        let error = open_plan(&ring, &body.to_string()).unwrap_err();
        assert!(
            matches!(
                &error,
                StoreError::Sealed {
                    source: CryptoError::Tampered { .. },
                    ..
                }
            ),
            "{error:?}"
        );

        let plaintext = serde_json::to_string(&first).unwrap();
        let error = open_plan(&ring, &plaintext).unwrap_err().to_string();
        assert!(
            error.starts_with(&format!(
                "the travellers of plan {} cannot be opened",
                first.id
            )) && error.contains("plaintext"),
            "{error}"
        );
    }
}
