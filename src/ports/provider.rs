//! Failures every provider call can have, whatever the provider sells.

/// A provider call that failed at the provider or on the way there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// The provider answered and refused; `code` and `message` are the provider's own.
    #[error("{provider} refused the request ({code}): {message}")]
    Rejected {
        provider: String,
        code: String,
        message: String,
    },
    /// The request may have reached the provider but no answer came back: it may have acted.
    #[error("{provider} did not answer in time; the outcome is unknown")]
    OutcomeUnknown { provider: String },
    /// The provider could not be reached, or answered that it cannot serve now; nothing happened.
    #[error("{provider} is unavailable: {message}")]
    Unavailable { provider: String, message: String },
}
