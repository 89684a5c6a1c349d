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
    /// The provider asks us to slow down (HTTP 429), and when to try again if it said.
    #[error("{provider} is rate limiting requests")]
    RateLimited {
        provider: String,
        retry_after: Option<std::time::Duration>,
    },
}

impl ProviderError {
    /// Whether sending the same request again, under the same idempotency key, is the right
    /// next move: the provider did not refuse it, it just did not (visibly) handle it.
    pub fn is_retryable(&self) -> bool {
        !matches!(self, ProviderError::Rejected { .. })
    }
}
