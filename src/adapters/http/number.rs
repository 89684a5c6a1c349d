//! Prices providers send as JSON numbers (`21.75`), read and written as exact decimals: from the
//! number's own text, never through a float, so `21.75` is exactly 21.75 and `0.1` is 0.1.

use rust_decimal::Decimal;
use serde::de::Error as _;
use serde::ser::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A decimal carried as a JSON number. A JSON string or a number that is not a plain decimal is
/// refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonDecimal(pub Decimal);

impl<'de> Deserialize<'de> for JsonDecimal {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Box::<serde_json::value::RawValue>::deserialize(deserializer)?;
        let text = raw.get().trim();
        if !text.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
            return Err(D::Error::custom(format!(
                "a price must be a number, not {text}"
            )));
        }
        text.parse::<Decimal>()
            .or_else(|_| Decimal::from_scientific(text))
            .map(JsonDecimal)
            .map_err(|_| D::Error::custom(format!("'{text}' is not a decimal price")))
    }
}

/// Written as the decimal's own digits (`91.00`), a JSON number, with no float in between.
impl Serialize for JsonDecimal {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serde_json::value::RawValue::from_string(self.0.to_string())
            .map_err(S::Error::custom)?
            .serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_read_and_written_from_their_text() {
        let read: JsonDecimal = serde_json::from_str("21.75").unwrap();
        assert_eq!(read.0, Decimal::new(2175, 2));
        let read: JsonDecimal = serde_json::from_str("0.1").unwrap();
        assert_eq!(read.0, Decimal::new(1, 1));
        assert!(serde_json::from_str::<JsonDecimal>(r#""21.75""#).is_err());
        let written = serde_json::to_string(&JsonDecimal(Decimal::new(9100, 2))).unwrap();
        assert_eq!(written, "91.00");
        let back: serde_json::Value = serde_json::from_str(&written).unwrap();
        assert!(back.is_number());
    }
}
