//! The saga log: every outbound call an order makes, written as an intent before the call and
//! completed with its outcome after it.
//!
//! The log is what recovery and the operator read: an intent without an outcome is a call whose
//! result nobody saw, to be looked up at the provider (by re-sending it under the same idempotency
//! key) before anything is retried or compensated.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::idempotency::{IdempotencyKey, Operation};
use super::ids::{ItemId, OrderId};

/// Where one outbound call stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StepState {
    /// Written before the call; no outcome recorded yet (the process may have stopped).
    Intent,
    Succeeded,
    /// The provider answered with a definite refusal.
    Failed,
    /// The call was sent but no answer came back: to be reconciled with the provider.
    PendingReconciliation,
}

impl StepState {
    pub fn as_str(self) -> &'static str {
        match self {
            StepState::Intent => "intent",
            StepState::Succeeded => "succeeded",
            StepState::Failed => "failed",
            StepState::PendingReconciliation => "pending_reconciliation",
        }
    }

    pub fn parse(value: &str) -> Option<StepState> {
        [
            StepState::Intent,
            StepState::Succeeded,
            StepState::Failed,
            StepState::PendingReconciliation,
        ]
        .into_iter()
        .find(|state| state.as_str() == value)
    }
}

/// One outbound call of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SagaStep {
    pub order_id: OrderId,
    pub item_id: Option<ItemId>,
    pub operation: String,
    /// The provider called; `None` on steps logged before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// The idempotency key the call is sent with, every time it is sent.
    #[schemars(with = "String")]
    pub key: String,
    pub state: StepState,
    /// The provider's answer, or why it failed, in words.
    pub detail: Option<String>,
    /// How many times the call was sent.
    pub attempts: u32,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl SagaStep {
    pub fn intent(
        order_id: &OrderId,
        item_id: Option<&ItemId>,
        provider: &str,
        operation: Operation,
        key: &IdempotencyKey,
        at: DateTime<Utc>,
    ) -> SagaStep {
        SagaStep {
            order_id: order_id.clone(),
            item_id: item_id.cloned(),
            provider: Some(provider.to_string()),
            operation: operation.as_str().to_string(),
            key: key.as_str().to_string(),
            state: StepState::Intent,
            detail: None,
            attempts: 0,
            started_at: at,
            finished_at: None,
        }
    }
}
