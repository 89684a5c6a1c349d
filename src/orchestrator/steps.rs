//! Every outbound call goes through here: its intent is written before it is sent, its outcome
//! after, under an idempotency key derived from order, item and operation.

use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};

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
}

impl CallError for BookingError {
    fn provider_failure(&self) -> Option<&ProviderError> {
        match self {
            BookingError::Provider(failure) => Some(failure),
            BookingError::NoLongerAvailable { .. } | BookingError::OfferExpired { .. } => None,
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
    /// Logs the intent, makes the call, logs the outcome; returns the call's own result.
    pub(super) async fn step<T, E, F, Fut>(
        &self,
        order: &OrderId,
        item: Option<&ItemId>,
        operation: Operation,
        key: &IdempotencyKey,
        call: F,
    ) -> Result<Result<T, E>, ExecutionError>
    where
        E: CallError,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let intent = SagaStep::intent(order, item, operation, key, self.clock.now());
        self.store.begin_step(&intent).await?;
        self.pause.passed_a_boundary().await;
        let result = call().await;
        let (state, detail) = match &result {
            Ok(_) => (StepState::Succeeded, "ok".to_string()),
            Err(error) if error.outcome_unknown() => {
                (StepState::PendingReconciliation, error.to_string())
            }
            Err(error) => (StepState::Failed, error.to_string()),
        };
        self.store
            .finish_step(key.as_str(), state, &detail, self.clock.now())
            .await?;
        self.pause.passed_a_boundary().await;
        Ok(result)
    }
}
