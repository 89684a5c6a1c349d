//! How money is spread over the parts of a split payment (a voucher and a card, two cards).
//!
//! Every split is a fill, never a proportion: the parts are filled one after the other up to
//! what each can take. A fill depends only on the amount and the parts' sizes, so the same
//! request always asks each provider for the same amount — which is what lets a call sent again
//! under its idempotency key be replayed rather than refused as a different request.

use super::money::{Money, MoneyError};

/// Spreads `amount` over parts that can take at most `caps`, first part first. What the caps
/// cannot take is left out: the caller checks the amount fits.
pub fn fill_forward(amount: Money, caps: &[Money]) -> Result<Vec<Money>, MoneyError> {
    let mut left = amount;
    caps.iter()
        .map(|cap| {
            let share = left.min(cap)?;
            left = left.saturating_sub(&share)?;
            Ok(share)
        })
        .collect()
}

/// Spreads `amount` over the parts last part first: refunds go back to the method that paid
/// last (the card, when a voucher paid first) before they reach the others.
pub fn fill_backward(amount: Money, caps: &[Money]) -> Result<Vec<Money>, MoneyError> {
    let reversed: Vec<Money> = caps.iter().rev().copied().collect();
    let mut shares = fill_forward(amount, &reversed)?;
    shares.reverse();
    Ok(shares)
}

/// What each part refunds when `amount` more is refunded after `before` already was: the
/// difference of the two cumulative backward fills, so refunds in several steps add up to the
/// same per-part totals as one refund of the whole, and no part gives back more than it took.
pub fn refund_shares(
    before: Money,
    amount: Money,
    captured: &[Money],
) -> Result<Vec<Money>, MoneyError> {
    let after = fill_backward(before.checked_add(&amount)?, captured)?;
    let earlier = fill_backward(before, captured)?;
    after
        .iter()
        .zip(&earlier)
        .map(|(after, earlier)| after.saturating_sub(earlier))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eur(amount: &str) -> Money {
        Money::parse(amount, "EUR").unwrap()
    }

    fn eurs(amounts: &[&str]) -> Vec<Money> {
        amounts.iter().map(|amount| eur(amount)).collect()
    }

    #[test]
    fn a_capture_takes_the_first_parts_first_and_leaves_the_rest_untouched() {
        let parts = eurs(&["200.00", "500.00"]);
        assert_eq!(
            fill_forward(eur("700.00"), &parts).unwrap(),
            eurs(&["200.00", "500.00"])
        );
        assert_eq!(
            fill_forward(eur("350.00"), &parts).unwrap(),
            eurs(&["200.00", "150.00"])
        );
        assert_eq!(
            fill_forward(eur("120.00"), &parts).unwrap(),
            eurs(&["120.00", "0.00"])
        );
    }

    #[test]
    fn refunds_go_back_to_the_last_part_first_and_never_past_what_a_part_took() {
        let captured = eurs(&["200.00", "150.00"]);
        assert_eq!(
            refund_shares(eur("0.00"), eur("100.00"), &captured).unwrap(),
            eurs(&["0.00", "100.00"])
        );
        // The second refund finishes the card and moves on to the voucher.
        assert_eq!(
            refund_shares(eur("100.00"), eur("120.00"), &captured).unwrap(),
            eurs(&["70.00", "50.00"])
        );
        assert_eq!(
            refund_shares(eur("220.00"), eur("130.00"), &captured).unwrap(),
            eurs(&["130.00", "0.00"])
        );
    }

    #[test]
    fn refunds_in_steps_add_up_to_the_same_as_one_refund() {
        let captured = eurs(&["200.00", "150.00", "80.00"]);
        let steps = ["30.00", "100.00", "0.01", "150.00", "99.99"];
        let mut before = eur("0.00");
        let mut totals = eurs(&["0.00", "0.00", "0.00"]);
        for step in steps {
            let shares = refund_shares(before, eur(step), &captured).unwrap();
            assert_eq!(Money::sum(before.currency(), &shares).unwrap(), eur(step));
            for (total, share) in totals.iter_mut().zip(&shares) {
                *total = total.checked_add(share).unwrap();
            }
            before = before.checked_add(&eur(step)).unwrap();
        }
        assert_eq!(totals, fill_backward(before, &captured).unwrap());
    }
}
