//! What a provider call looks like in the debug log: method, address and body with every
//! secret and every personal detail replaced, so `RUST_LOG=itinera=debug` can be turned on in
//! front of a real customer's booking without writing their card, name or the provider keys to
//! a log file.

use serde_json::Value;

const HIDDEN: &str = "[redacted]";

/// Parts of field names whose values are never logged: credentials and signatures, card and
/// bank details, and what identifies or reaches a person. Matching is by substring on the
/// lowercased name without `_`/`-`, so `cardNumber`, `card_number` and `card[number]` all
/// match; hiding a harmless field (a hotel's name) is the price of never missing a sensitive one.
const SENSITIVE: &[&str] = &[
    "token",
    "secret",
    "password",
    "authorization",
    "signature",
    "apikey",
    "clientid",
    "card",
    "cvc",
    "cvv",
    "expiry",
    "securitycode",
    "number",
    "iban",
    "account",
    "email",
    "phone",
    "name",
    "born",
    "birth",
    "passport",
    "holder",
    "address",
    "postal",
    "identity",
    "document",
    "gender",
    "title",
    "customer",
    "payer",
    "payee",
    "openid",
    "buyer",
];

/// Headers whose values are logged: everything else (authorization, API keys, signatures) is not.
const SHOWN_HEADERS: &[&str] = &[
    "accept",
    "content-type",
    "duffel-version",
    "idempotency-key",
    "paypal-request-id",
    "prefer",
];

pub fn is_sensitive(field: &str) -> bool {
    let plain: String = field
        .chars()
        .filter(|c| !matches!(c, '_' | '-'))
        .flat_map(char::to_lowercase)
        .collect();
    SENSITIVE.iter().any(|part| plain.contains(part))
}

/// One line for the log: `POST https://host/path?query {body}` with the headers worth seeing.
pub fn describe(request: &reqwest::Request) -> String {
    let mut url = request.url().clone();
    let query: Vec<(String, String)> = url
        .query_pairs()
        .map(|(key, value)| {
            let shown = if is_sensitive(&key) {
                HIDDEN.to_string()
            } else {
                value.into_owned()
            };
            (key.into_owned(), shown)
        })
        .collect();
    if query.is_empty() {
        url.set_query(None);
    } else {
        url.query_pairs_mut().clear().extend_pairs(&query);
    }
    let headers: Vec<String> = request
        .headers()
        .iter()
        .filter(|(name, _)| SHOWN_HEADERS.contains(&name.as_str()))
        .map(|(name, value)| format!("{name}: {}", value.to_str().unwrap_or("?")))
        .collect();
    let body = request
        .body()
        .and_then(reqwest::Body::as_bytes)
        .map(body)
        .unwrap_or_default();
    format!(
        "{} {url} [{}]{}{body}",
        request.method(),
        headers.join(", "),
        if body.is_empty() { "" } else { " " }
    )
}

/// A JSON or form body with sensitive values hidden; anything else only by its length.
fn body(bytes: &[u8]) -> String {
    if let Ok(mut json) = serde_json::from_slice::<Value>(bytes) {
        hide_in(&mut json);
        return json.to_string();
    }
    if let Ok(text) = std::str::from_utf8(bytes)
        && let Ok(pairs) = serde_urlencoded::from_str::<Vec<(String, String)>>(text)
        && !pairs.is_empty()
    {
        return pairs
            .into_iter()
            .map(|(key, value)| {
                let shown = if is_sensitive(&key) { HIDDEN } else { &value };
                format!("{key}={shown}")
            })
            .collect::<Vec<_>>()
            .join("&");
    }
    format!("({} bytes)", bytes.len())
}

fn hide_in(value: &mut Value) {
    match value {
        Value::Object(fields) => {
            for (key, field) in fields.iter_mut() {
                if is_sensitive(key) {
                    *field = Value::String(HIDDEN.into());
                } else {
                    hide_in(field);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(hide_in),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_booking_with_a_card_and_travellers_logs_neither() {
        let request = reqwest::Client::new()
            .post("https://test.api.amadeus.com/v2/booking/hotel-orders?hotelIds=FKPARLUM")
            .bearer_auth("SECRET-TOKEN")
            .header("Content-Type", "application/vnd.amadeus+json")
            .json(&json!({"data": {
                "type": "hotel-order",
                "guests": [{"tid": 1, "firstName": "ADA", "lastName": "LOVELACE", "email": "ada@example.com", "phone": "+33612345678"}],
                "roomAssociations": [{"hotelOfferId": "FAKEOFFER1"}],
                "payment": {"method": "CREDIT_CARD", "paymentCard": {"paymentCardInfo": {"cardNumber": "4111111111111111", "securityCode": "123", "expiryDate": "2027-08"}}},
            }}))
            .build()
            .unwrap();
        let line = describe(&request);
        for secret in [
            "SECRET-TOKEN",
            "ADA",
            "LOVELACE",
            "ada@example.com",
            "+33612345678",
            "4111111111111111",
            "\"123\"",
            "2027-08",
        ] {
            assert!(!line.contains(secret), "{secret} leaked: {line}");
        }
        assert!(
            line.starts_with(
                "POST https://test.api.amadeus.com/v2/booking/hotel-orders?hotelIds=FKPARLUM"
            ),
            "{line}"
        );
        assert!(
            line.contains("\"hotelOfferId\":\"FAKEOFFER1\""),
            "what was booked stays readable: {line}"
        );
        assert!(line.contains("\"type\":\"hotel-order\""), "{line}");
    }

    #[test]
    fn form_bodies_and_queries_hide_credentials_and_names() {
        let request = reqwest::Client::new()
            .post("https://api.duffel.com/air/orders?passenger_name[]=Lovelace&limit=200")
            .header("Idempotency-Key", "itn-key-1")
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_secret", "shh"),
                ("payment_method_data[card][number]", "4242424242424242"),
                ("amount", "1999"),
            ])
            .build()
            .unwrap();
        let line = describe(&request);
        assert!(
            !line.contains("Lovelace") && !line.contains("shh") && !line.contains("4242"),
            "{line}"
        );
        assert!(
            line.contains("limit=200") && line.contains("amount=1999"),
            "{line}"
        );
        assert!(line.contains("grant_type=client_credentials"), "{line}");
        assert!(line.contains("idempotency-key: itn-key-1"), "{line}");
    }

    #[test]
    fn a_body_that_is_neither_json_nor_a_form_shows_only_its_length() {
        assert_eq!(body(b"\xff\xfe binary"), "(9 bytes)");
    }
}
