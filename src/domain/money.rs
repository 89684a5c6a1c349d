//! Money: an exact decimal amount in an ISO-4217 currency.
//!
//! Amounts never pass through floating point. A `Money` is always valid for its currency: it is
//! not negative and has no more decimal places than the currency's exponent allows (USD 2,
//! JPY 0, KWD 3), so converting to the minor units that payment providers want is exact.

use std::fmt;

use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why an amount or a currency was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error(
        "unknown currency '{0}': use a three-letter ISO-4217 code such as USD, EUR, GBP or JPY"
    )]
    UnknownCurrency(String),
    #[error("'{0}' is not a decimal amount: write it as a string such as \"129.50\"")]
    NotADecimal(String),
    #[error("amount {amount} is negative: amounts must be zero or more")]
    Negative { amount: Decimal },
    #[error("amount {amount} has more decimal places than {currency} allows ({exponent})")]
    OverPrecise {
        amount: Decimal,
        currency: &'static str,
        exponent: u32,
    },
    #[error("cannot combine {left} with {right}: amounts are in different currencies")]
    CurrencyMismatch {
        left: &'static str,
        right: &'static str,
    },
    #[error("amount {0} is too large")]
    Overflow(Decimal),
}

/// An ISO-4217 currency with the number of decimal places its minor unit uses.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency {
    code: &'static str,
    exponent: u32,
}

/// The currencies Itinera accepts, with their ISO-4217 exponents.
const CURRENCIES: &[(&str, u32)] = &[
    ("AED", 2),
    ("AUD", 2),
    ("BHD", 3),
    ("BRL", 2),
    ("CAD", 2),
    ("CHF", 2),
    ("CLP", 0),
    ("CNY", 2),
    ("CZK", 2),
    ("DKK", 2),
    ("EGP", 2),
    ("EUR", 2),
    ("GBP", 2),
    ("HKD", 2),
    ("HUF", 2),
    ("IDR", 2),
    ("ILS", 2),
    ("INR", 2),
    ("ISK", 0),
    ("JOD", 3),
    ("JPY", 0),
    ("KRW", 0),
    ("KWD", 3),
    ("MAD", 2),
    ("MXN", 2),
    ("MYR", 2),
    ("NOK", 2),
    ("NZD", 2),
    ("OMR", 3),
    ("PHP", 2),
    ("PLN", 2),
    ("QAR", 2),
    ("SAR", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("THB", 2),
    ("TND", 3),
    ("TRY", 2),
    ("TWD", 2),
    ("USD", 2),
    ("VND", 0),
    ("ZAR", 2),
];

impl Currency {
    /// Looks a currency up by its ISO-4217 code (case-insensitive).
    pub fn parse(code: &str) -> Result<Self, MoneyError> {
        let upper = code.trim().to_ascii_uppercase();
        CURRENCIES
            .iter()
            .find(|(known, _)| *known == upper)
            .map(|&(code, exponent)| Currency { code, exponent })
            .ok_or_else(|| MoneyError::UnknownCurrency(code.to_string()))
    }

    pub fn code(&self) -> &'static str {
        self.code
    }

    /// Decimal places of the minor unit: 2 for USD (cents), 0 for JPY, 3 for KWD.
    pub fn exponent(&self) -> u32 {
        self.exponent
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code)
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code)
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code)
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = String::deserialize(deserializer)?;
        Currency::parse(&code).map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for Currency {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Currency".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "ISO-4217 currency code, e.g. USD, EUR, GBP, JPY",
            "pattern": "^[A-Za-z]{3}$"
        })
    }
}

/// An exact, non-negative amount of one currency.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, JsonSchema)]
pub struct Money {
    /// Decimal string, e.g. "129.50"; never more decimal places than the currency allows.
    #[serde(serialize_with = "serialize_amount")]
    #[schemars(with = "String")]
    amount: Decimal,
    currency: Currency,
}

fn serialize_amount<S: Serializer>(amount: &Decimal, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&amount.to_string())
}

impl Money {
    /// Builds a valid amount, refusing negatives and more decimal places than the currency has.
    pub fn new(amount: Decimal, currency: Currency) -> Result<Self, MoneyError> {
        if amount.is_sign_negative() && !amount.is_zero() {
            return Err(MoneyError::Negative { amount });
        }
        let normalized = amount.normalize();
        if normalized.scale() > currency.exponent {
            return Err(MoneyError::OverPrecise {
                amount,
                currency: currency.code,
                exponent: currency.exponent,
            });
        }
        let mut rescaled = normalized;
        rescaled.rescale(currency.exponent);
        Ok(Money {
            amount: rescaled,
            currency,
        })
    }

    /// Parses a decimal string such as "129.50" in the given currency code.
    pub fn parse(amount: &str, currency: &str) -> Result<Self, MoneyError> {
        let currency = Currency::parse(currency)?;
        let decimal: Decimal = amount
            .trim()
            .parse()
            .map_err(|_| MoneyError::NotADecimal(amount.to_string()))?;
        Money::new(decimal, currency)
    }

    pub fn zero(currency: Currency) -> Self {
        Money {
            amount: Decimal::new(0, currency.exponent),
            currency,
        }
    }

    /// Converts integer minor units (cents, yen, fils) back into an amount.
    pub fn from_minor_units(minor: i64, currency: Currency) -> Result<Self, MoneyError> {
        Money::new(Decimal::new(minor, currency.exponent), currency)
    }

    /// Integer minor units, as Stripe and WeChat Pay expect (USD 12.34 → 1234, JPY 500 → 500).
    pub fn minor_units(&self) -> Result<i64, MoneyError> {
        let mut scaled = self.amount;
        scaled.rescale(self.currency.exponent);
        i64::try_from(scaled.mantissa()).map_err(|_| MoneyError::Overflow(self.amount))
    }

    pub fn amount(&self) -> Decimal {
        self.amount
    }

    pub fn currency(&self) -> Currency {
        self.currency
    }

    pub fn is_zero(&self) -> bool {
        self.amount.is_zero()
    }

    pub fn checked_add(&self, other: &Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        let sum = self
            .amount
            .checked_add(other.amount)
            .ok_or(MoneyError::Overflow(self.amount))?;
        Money::new(sum, self.currency)
    }

    /// `self - other`, floored at zero: a penalty larger than the price refunds nothing.
    pub fn saturating_sub(&self, other: &Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        let difference = (self.amount - other.amount).max(Decimal::ZERO);
        Money::new(difference, self.currency)
    }

    /// The smaller of two amounts of the same currency.
    pub fn min(&self, other: &Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        Ok(if self.amount <= other.amount {
            *self
        } else {
            *other
        })
    }

    /// Sums amounts that must all be in `currency`.
    pub fn sum<'a>(
        currency: Currency,
        amounts: impl IntoIterator<Item = &'a Money>,
    ) -> Result<Money, MoneyError> {
        amounts
            .into_iter()
            .try_fold(Money::zero(currency), |total, next| total.checked_add(next))
    }

    fn same_currency(&self, other: &Money) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch {
                left: self.currency.code,
                right: other.currency.code,
            })
        }
    }
}

impl PartialOrd for Money {
    /// Amounts of different currencies are not comparable.
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        (self.currency == other.currency).then(|| self.amount.cmp(&other.amount))
    }
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.currency.code, self.amount)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.currency.code, self.amount)
    }
}

/// The wire shape of money: `{"amount": "129.50", "currency": "EUR"}`.
#[derive(Deserialize)]
struct RawMoney {
    amount: String,
    currency: String,
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = RawMoney::deserialize(deserializer)?;
        Money::parse(&raw.amount, &raw.currency).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd(amount: &str) -> Money {
        Money::parse(amount, "USD").unwrap()
    }

    #[test]
    fn minor_units_follow_the_currency_exponent() {
        assert_eq!(usd("12.34").minor_units().unwrap(), 1234);
        assert_eq!(usd("12").minor_units().unwrap(), 1200);
        assert_eq!(
            Money::parse("500", "JPY").unwrap().minor_units().unwrap(),
            500
        );
        assert_eq!(
            Money::parse("1.5", "KWD").unwrap().minor_units().unwrap(),
            1500
        );
        let back = Money::from_minor_units(1500, Currency::parse("KWD").unwrap()).unwrap();
        assert_eq!(back, Money::parse("1.500", "KWD").unwrap());
    }

    #[test]
    fn over_precise_and_negative_amounts_are_refused() {
        assert!(matches!(
            Money::parse("10.505", "USD"),
            Err(MoneyError::OverPrecise { exponent: 2, .. })
        ));
        assert!(matches!(
            Money::parse("100.5", "JPY"),
            Err(MoneyError::OverPrecise { exponent: 0, .. })
        ));
        assert!(matches!(
            Money::parse("-1", "USD"),
            Err(MoneyError::Negative { .. })
        ));
        // Trailing zeros are not extra precision.
        assert_eq!(usd("10.500"), usd("10.5"));
    }

    #[test]
    fn unknown_currencies_and_non_decimals_are_refused() {
        assert!(matches!(
            Money::parse("1", "XYZ"),
            Err(MoneyError::UnknownCurrency(_))
        ));
        assert!(matches!(
            Money::parse("ten", "USD"),
            Err(MoneyError::NotADecimal(_))
        ));
        assert_eq!(Currency::parse("eur").unwrap().code(), "EUR");
    }

    #[test]
    fn arithmetic_refuses_mixed_currencies() {
        let eur = Money::parse("1", "EUR").unwrap();
        assert!(matches!(
            usd("1").checked_add(&eur),
            Err(MoneyError::CurrencyMismatch { .. })
        ));
        assert_eq!(usd("1.10").checked_add(&usd("2.25")).unwrap(), usd("3.35"));
        assert_eq!(usd("5").saturating_sub(&usd("7")).unwrap(), usd("0"));
        assert_eq!(
            Money::sum(usd("0").currency(), [&usd("1"), &usd("2.5")]).unwrap(),
            usd("3.50")
        );
        assert_eq!(usd("1").partial_cmp(&eur), None);
    }

    #[test]
    fn serializes_as_a_decimal_string_with_the_currency_scale() {
        let json = serde_json::to_value(usd("129.5")).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"amount": "129.50", "currency": "USD"})
        );
        let back: Money = serde_json::from_value(json).unwrap();
        assert_eq!(back, usd("129.50"));
        let err = serde_json::from_value::<Money>(
            serde_json::json!({"amount": "1.001", "currency": "USD"}),
        )
        .unwrap_err();
        assert!(err.to_string().contains("more decimal places"));
    }
}
