//! A search that prices each product with its own call: the offers of those priced; when none
//! was priced because every call failed, the first failure, so the search says why.

use crate::domain::offer::Offer;
use crate::ports::booking::BookingError;

pub fn gathered<I: IntoIterator<Item = Offer>>(
    provider: &str,
    priced: Vec<Result<I, BookingError>>,
) -> Result<Vec<Offer>, BookingError> {
    let mut offers = Vec::new();
    let mut first_error = None;
    for result in priced {
        match result {
            Ok(more) => offers.extend(more),
            Err(error) => {
                tracing::warn!(provider, %error, "product not priced");
                first_error.get_or_insert(error);
            }
        }
    }
    match first_error {
        Some(error) if offers.is_empty() => Err(error),
        _ => Ok(offers),
    }
}
