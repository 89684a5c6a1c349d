//! Amounts in Stripe's form: integers of the currency's minor unit as Stripe counts it, which is
//! ISO 4217's except where Stripe says otherwise (stripe.com/docs/currencies#special-cases):
//!
//! - ISK stays two-decimal in Stripe's API (100 is one króna) although only whole krónur may be
//!   charged: our ISK has no decimals, so Stripe's figure is ours times 100.
//! - Three-decimal currencies (BHD, JOD, KWD, OMR, TND) are sent in thousandths, but Stripe's
//!   partners need the last digit to be 0: an amount that is not a whole number of hundredths
//!   is refused before the call, never rounded (a rounded hold or capture is not what the
//!   person approved).
//! - HUF and TWD are two-decimal for charges (only payouts are whole units): ISO's rule holds.

use crate::domain::money::{Currency, Money, MoneyError};

/// Stripe takes at most eight digits in one payment, in every currency and counted in its own
/// figure (stripe.com/docs/currencies#minimum-and-maximum-charge-amounts): 999,999.99 EUR,
/// ¥99,999,999, but only 999,999 ISK.
const MAX_FIGURE: i64 = 99_999_999;

/// Currencies Stripe counts in hundredths although ISO 4217 gives them no decimals.
const HUNDREDTHS_ALTHOUGH_WHOLE: [&str; 1] = ["ISK"];

/// Our amount as Stripe's integer, or why Stripe cannot take it.
pub(super) fn to_stripe(amount: &Money) -> Result<i64, String> {
    let figure = figure(amount)?;
    if figure > MAX_FIGURE {
        return Err(format!(
            "Stripe takes at most eight digits in one payment, and {amount} is more"
        ));
    }
    Ok(figure)
}

fn figure(amount: &Money) -> Result<i64, String> {
    let minor = amount.minor_units().map_err(|e| e.to_string())?;
    let currency = amount.currency();
    if HUNDREDTHS_ALTHOUGH_WHOLE.contains(&currency.code()) {
        return minor
            .checked_mul(100)
            .ok_or_else(|| format!("{amount} is too large for Stripe"));
    }
    if currency.exponent() == 3 && minor % 10 != 0 {
        return Err(format!(
            "Stripe charges {} only in whole hundredths, and {amount} is not: pay with another provider",
            currency.code()
        ));
    }
    Ok(minor)
}

/// Stripe's integer back as our amount.
pub(super) fn from_stripe(minor: i64, currency: Currency) -> Result<Money, MoneyError> {
    if HUNDREDTHS_ALTHOUGH_WHOLE.contains(&currency.code()) {
        // A fraction of a króna cannot be charged; one in an answer is not ours to round.
        if minor % 100 != 0 {
            return Err(MoneyError::NotADecimal(format!("{minor}/100 ISK")));
        }
        return Money::from_minor_units(minor / 100, currency);
    }
    Money::from_minor_units(minor, currency)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn money(amount: &str, currency: &str) -> Money {
        Money::parse(amount, currency).unwrap()
    }

    #[test]
    fn most_currencies_are_their_iso_minor_units_both_ways() {
        for (amount, currency, minor) in [
            ("12.34", "EUR", 1234),
            ("500", "JPY", 500),
            ("1234.50", "HUF", 123450),
            ("5.120", "KWD", 5120),
        ] {
            let ours = money(amount, currency);
            assert_eq!(to_stripe(&ours), Ok(minor), "{ours}");
            assert_eq!(from_stripe(minor, ours.currency()).unwrap(), ours);
        }
    }

    #[test]
    fn icelandic_kronur_are_sent_in_hundredths_as_stripe_keeps_them() {
        let isk = money("500", "ISK");
        assert_eq!(to_stripe(&isk), Ok(50_000));
        assert_eq!(from_stripe(50_000, isk.currency()).unwrap(), isk);
        assert!(from_stripe(50_050, isk.currency()).is_err());
    }

    #[test]
    fn eight_digits_are_the_most_counted_in_stripe_s_figure() {
        assert_eq!(to_stripe(&money("999999.99", "EUR")), Ok(99_999_999));
        assert!(to_stripe(&money("1000000.00", "EUR")).is_err());
        assert_eq!(to_stripe(&money("999999", "ISK")), Ok(99_999_900));
        assert_eq!(
            to_stripe(&money("1000000", "ISK")),
            Err("Stripe takes at most eight digits in one payment, and ISK 1000000 is more".into())
        );
    }

    #[test]
    fn a_three_decimal_amount_stripe_cannot_take_is_refused_not_rounded() {
        let error = to_stripe(&money("5.124", "KWD")).unwrap_err();
        assert!(error.contains("whole hundredths"), "{error}");
    }
}
