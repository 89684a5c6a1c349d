//! How the sandbox reports failures, its own and injected ones, as a remote provider would.

use std::time::Duration;

use super::faults::Effect;
use super::ledger::LedgerError;
use crate::ports::ProviderError;

pub(super) fn rejected(provider: &str, code: &str, message: impl Into<String>) -> ProviderError {
    ProviderError::Rejected {
        provider: provider.into(),
        code: code.into(),
        message: message.into(),
    }
}

/// A ledger failure seen from outside: a reused key is refused, anything else is an outage.
pub(super) fn ledger_failure(provider: &str, error: LedgerError) -> ProviderError {
    match error {
        LedgerError::KeyReuse { key } => rejected(
            provider,
            "idempotency_error",
            format!("key {key} was used for a different request"),
        ),
        LedgerError::Database(message) => ProviderError::unavailable(provider, message),
    }
}

/// The answer an injected fault gives to `operation` on `subject` (e.g. "hotel", "book").
pub(super) fn injected(
    provider: &str,
    effect: Option<Effect>,
    subject: &str,
    operation: &str,
) -> Result<(), ProviderError> {
    match effect {
        // A lost answer strikes after the provider acted: see `answer_lost`.
        None | Some(Effect::PriceRise(_) | Effect::Lost) => Ok(()),
        Some(Effect::Fail) => Err(rejected(
            provider,
            &format!("{subject}_{operation}_failed"),
            format!("the {subject} provider could not {operation} (injected fault)"),
        )),
        Some(Effect::Timeout) => Err(ProviderError::OutcomeUnknown {
            provider: provider.into(),
        }),
        Some(Effect::Unavailable) => Err(ProviderError::unavailable(
            provider,
            "service unavailable (injected fault)",
        )),
        Some(Effect::RateLimited) => Err(ProviderError::RateLimited {
            provider: provider.into(),
            retry_after: Some(Duration::from_millis(100)),
        }),
    }
}

/// After the provider acted: a `lost` fault drops the answer, so the caller cannot tell.
pub(super) fn answer_lost<T, E: From<ProviderError>>(
    provider: &str,
    effect: Option<Effect>,
    answer: Result<T, E>,
) -> Result<T, E> {
    match effect {
        Some(Effect::Lost) => Err(ProviderError::OutcomeUnknown {
            provider: provider.into(),
        }
        .into()),
        _ => answer,
    }
}
