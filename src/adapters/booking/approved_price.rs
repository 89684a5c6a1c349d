//! The price a person approved is the price booked: an offer that now costs anything else books
//! nothing, and says what it costs now.

use crate::domain::money::Money;
use crate::ports::ProviderError;
use crate::ports::booking::BookingError;

/// `Ok` when `now` is the `approved` price; otherwise the refusal naming both. `thing` says
/// what is priced ("room", "car", "activity").
pub fn unchanged(
    provider: &str,
    thing: &str,
    now: Money,
    approved: Money,
) -> Result<(), BookingError> {
    if now == approved {
        return Ok(());
    }
    Err(ProviderError::rejected(
        provider,
        "price_changed",
        format!("the {thing} now costs {now}, not the {approved} approved"),
    )
    .into())
}
