//! Reading and verifying the audit log; the store writes it, in the same transaction as each
//! change it records.

use std::sync::Arc;

use crate::domain::audit::{self, AuditBreak, AuditEntry};
use crate::domain::ids::OwnerId;
use crate::ports::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum TrailError {
    #[error("the audit log is broken: {0}")]
    Broken(#[from] AuditBreak),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Clone)]
pub struct AuditTrail {
    store: Arc<dyn Store>,
}

impl AuditTrail {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    /// The owner's most recent `limit` entries, oldest first.
    pub async fn recent(
        &self,
        owner: &OwnerId,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, TrailError> {
        let mut entries = self.store.audit_log(Some(owner)).await?;
        let skip = entries.len().saturating_sub(limit);
        Ok(entries.split_off(skip))
    }

    /// Checks the whole chain; returns how many entries it holds.
    pub async fn verify(&self) -> Result<usize, TrailError> {
        let entries = self.store.audit_log(None).await?;
        audit::verify(&entries)?;
        Ok(entries.len())
    }
}
