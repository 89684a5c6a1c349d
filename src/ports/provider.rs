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
    /// The provider could not be reached, or answered that it cannot serve now (HTTP 5xx before
    /// acting); nothing happened. `retry_after` is the provider's `Retry-After`, if it sent one.
    #[error("{provider} is unavailable: {message}")]
    Unavailable {
        provider: String,
        message: String,
        retry_after: Option<std::time::Duration>,
    },
    /// The provider asks us to slow down (HTTP 429), and when to try again if it said.
    #[error("{provider} is rate limiting requests")]
    RateLimited {
        provider: String,
        retry_after: Option<std::time::Duration>,
    },
}

impl ProviderError {
    /// The provider cannot serve now and said nothing about when to come back.
    pub fn unavailable(provider: &str, message: impl Into<String>) -> ProviderError {
        ProviderError::Unavailable {
            provider: provider.to_string(),
            message: message.into(),
            retry_after: None,
        }
    }

    /// The provider (or the adapter, for a request it cannot send) refused, for good.
    pub fn rejected(
        provider: &str,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> ProviderError {
        ProviderError::Rejected {
            provider: provider.to_string(),
            code: code.into(),
            message: message.into(),
        }
    }

    /// When the provider asked to be called again, if it did (`Retry-After` on a 429 or 503).
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            ProviderError::Unavailable { retry_after, .. }
            | ProviderError::RateLimited { retry_after, .. } => *retry_after,
            ProviderError::Rejected { .. } | ProviderError::OutcomeUnknown { .. } => None,
        }
    }

    /// Whether sending the same request again, under the same idempotency key, is the right
    /// next move: the provider did not refuse it, it just did not (visibly) handle it.
    pub fn is_retryable(&self) -> bool {
        !matches!(self, ProviderError::Rejected { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn refusals_are_final_and_everything_else_is_sent_again_when_the_provider_says() {
        let refused = ProviderError::Rejected {
            provider: "p".into(),
            code: "sold_out".into(),
            message: "gone".into(),
        };
        assert!(!refused.is_retryable());
        let busy = ProviderError::Unavailable {
            provider: "p".into(),
            message: "503".into(),
            retry_after: Some(Duration::from_secs(2)),
        };
        let limited = ProviderError::RateLimited {
            provider: "p".into(),
            retry_after: Some(Duration::from_secs(1)),
        };
        let unknown = ProviderError::OutcomeUnknown {
            provider: "p".into(),
        };
        assert!(busy.is_retryable() && limited.is_retryable() && unknown.is_retryable());
        assert_eq!(busy.retry_after(), Some(Duration::from_secs(2)));
        assert_eq!(limited.retry_after(), Some(Duration::from_secs(1)));
        assert_eq!(ProviderError::unavailable("p", "down").retry_after(), None);
    }
}
