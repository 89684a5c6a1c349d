//! A provider call that did not give its answer, for adapters whose callers tell one refusal
//! from another (a vanished offer from a bad request) before it becomes a [`BookingError`].

use serde::de::DeserializeOwned;

use crate::adapters::http::Answer;
use crate::ports::ProviderError;
use crate::ports::booking::BookingError;

/// What a provider said when refusing a call, read from its answer.
pub trait Refusal: Into<ProviderError> {
    fn read(answer: &Answer) -> Self;
}

/// The provider refused the call (what it said is kept), or it failed on the way (no answer, a
/// rate limit, an outage).
#[derive(Debug)]
pub enum Failure<R> {
    Refused(R),
    Failed(BookingError),
}

impl<R> From<BookingError> for Failure<R> {
    fn from(error: BookingError) -> Failure<R> {
        Failure::Failed(error)
    }
}

impl<R: Refusal> From<Failure<R>> for BookingError {
    fn from(failure: Failure<R>) -> BookingError {
        match failure {
            Failure::Refused(refusal) => BookingError::Provider(refusal.into()),
            Failure::Failed(error) => error,
        }
    }
}

/// A success read as `T`, or `provider`'s refusal. A success that cannot be read is an unknown
/// outcome: the provider acted, and only a lookup can tell what it did.
pub fn decode<T: DeserializeOwned, R: Refusal>(
    provider: &str,
    answer: Answer,
) -> Result<T, Failure<R>> {
    if !answer.status.is_success() {
        return Err(Failure::Refused(R::read(&answer)));
    }
    serde_json::from_str(&answer.body).map_err(|error| {
        tracing::warn!(%error, provider, "unreadable answer");
        Failure::Failed(
            ProviderError::OutcomeUnknown {
                provider: provider.to_string(),
            }
            .into(),
        )
    })
}
