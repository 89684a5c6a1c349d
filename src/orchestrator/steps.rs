//! Every outbound call goes through here: its intent is written before it is sent, its outcome
//! after, under an idempotency key derived from order, item and operation.

use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use crate::domain::idempotency::{IdempotencyKey, Operation};
use crate::domain::ids::{ItemId, OrderId};
use crate::domain::saga::{SagaStep, StepState};
use crate::ports::{BookingError, PaymentError, ProviderError};

use super::{ExecutionError, Orchestrator};

/// An error a provider call can end in, and whether the call may have taken effect anyway.
pub(super) trait CallError: std::fmt::Display {
    fn provider_failure(&self) -> Option<&ProviderError>;

    /// Sent, but no answer: the provider may have acted.
    fn outcome_unknown(&self) -> bool {
        matches!(
            self.provider_failure(),
            Some(ProviderError::OutcomeUnknown { .. })
        )
    }

    /// Not refused: sending it again under the same key is the way forward.
    fn retryable(&self) -> bool {
        self.provider_failure()
            .is_some_and(ProviderError::is_retryable)
    }

    fn retry_after(&self) -> Option<Duration> {
        self.provider_failure().and_then(ProviderError::retry_after)
    }
}

impl CallError for BookingError {
    fn provider_failure(&self) -> Option<&ProviderError> {
        match self {
            BookingError::Provider(failure) => Some(failure),
            BookingError::NoLongerAvailable { .. }
            | BookingError::OfferExpired { .. }
            | BookingError::MayHoldABooking { .. } => None,
        }
    }
}

impl CallError for PaymentError {
    fn provider_failure(&self) -> Option<&ProviderError> {
        match self {
            PaymentError::Provider(failure) => Some(failure),
            PaymentError::Declined { .. } => None,
        }
    }
}

/// A test hook: pause forever after the Nth write to the saga log, so a test can kill the
/// process at exactly that step boundary (`ITINERA_PAUSE_AT_STEP`).
#[derive(Debug, Default)]
pub struct StepPause {
    at: Option<u32>,
    writes: AtomicU32,
}

impl StepPause {
    pub fn at(step: Option<u32>) -> StepPause {
        StepPause {
            at: step,
            writes: AtomicU32::new(0),
        }
    }

    async fn passed_a_boundary(&self) {
        let write = self.writes.fetch_add(1, Ordering::SeqCst) + 1;
        if self.at == Some(write) {
            eprintln!("itinera: paused at saga step {write} (ITINERA_PAUSE_AT_STEP)");
            std::future::pending::<()>().await;
        }
    }
}

impl Orchestrator {
    /// Logs the intent, sends the call (retrying what the provider did not refuse), logs the
    /// outcome; returns the call's own result.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn step<T, E, F, Fut>(
        &self,
        provider: &str,
        order: &OrderId,
        item: Option<&ItemId>,
        operation: Operation,
        key: &IdempotencyKey,
        call: F,
    ) -> Result<Result<T, E>, ExecutionError>
    where
        E: CallError + From<ProviderError>,
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let intent = SagaStep::intent(order, item, provider, operation, key, self.clock.now());
        let before = self.store.begin_step(&intent).await?;
        self.pause.passed_a_boundary().await;
        let (mut result, sends) = self.send(provider, call).await;
        // Sent before with no answer seen: until the provider answers, it may have acted. A
        // refusal to take the call now (an outage, an open circuit) does not change that.
        let may_have_acted = matches!(
            before,
            Some(StepState::Intent | StepState::PendingReconciliation)
        );
        if may_have_acted
            && result
                .as_ref()
                .is_err_and(|e| e.retryable() && !e.outcome_unknown())
        {
            result = Err(E::from(ProviderError::OutcomeUnknown {
                provider: provider.to_string(),
            }));
        }
        let (state, detail) = match &result {
            Ok(_) => (StepState::Succeeded, "ok".to_string()),
            Err(error) if error.outcome_unknown() => {
                (StepState::PendingReconciliation, error.to_string())
            }
            Err(error) => (StepState::Failed, error.to_string()),
        };
        self.store
            .finish_step(
                key.as_str(),
                state,
                &detail,
                sends.saturating_sub(1),
                self.clock.now(),
            )
            .await?;
        self.pause.passed_a_boundary().await;
        Ok(result)
    }

    /// Sends the call until it gets an answer worth keeping; returns it and how many sends it took.
    async fn send<T, E, F, Fut>(&self, provider: &str, call: F) -> (Result<T, E>, u32)
    where
        E: CallError + From<ProviderError>,
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let policy = &self.retry;
        let started = Instant::now();
        let mut last_error: Option<E> = None;
        for attempt in 1..=policy.attempts.max(1) {
            if let Some(open_for) = self.breakers.open_for(provider) {
                // A call that may already have acted stays unknown: never report it as not sent.
                let refused = last_error.unwrap_or_else(|| {
                    E::from(ProviderError::unavailable(
                        provider,
                        format!(
                            "it failed repeatedly, so calls to it are paused for {} s; try again later",
                            open_for.as_secs().max(1)
                        ),
                    ))
                });
                return (Err(refused), attempt - 1);
            }
            let result = match tokio::time::timeout(policy.call_timeout, call()).await {
                Ok(result) => result,
                Err(_) => Err(E::from(ProviderError::OutcomeUnknown {
                    provider: provider.to_string(),
                })),
            };
            let error = match result {
                Ok(value) => {
                    self.breakers.record(provider, false, policy);
                    return (Ok(value), attempt);
                }
                Err(error) => error,
            };
            self.breakers.record(provider, error.retryable(), policy);
            let delay = policy.delay(attempt, error.retry_after());
            let unknown_before = last_error.as_ref().is_some_and(CallError::outcome_unknown);
            // Once an outcome is unknown, a later "unavailable" does not make it known.
            let error = if unknown_before && !error.outcome_unknown() && error.retryable() {
                last_error.take().unwrap_or(error)
            } else {
                error
            };
            if !error.retryable()
                || attempt == policy.attempts
                || started.elapsed() + delay > policy.budget
            {
                return (Err(error), attempt);
            }
            tracing::debug!(provider, attempt, ?delay, "retrying: {error}");
            last_error = Some(error);
            tokio::time::sleep(delay).await;
        }
        let unknown = || {
            E::from(ProviderError::OutcomeUnknown {
                provider: provider.to_string(),
            })
        };
        (Err(last_error.unwrap_or_else(unknown)), policy.attempts)
    }
}
