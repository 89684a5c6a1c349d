//! The audit log's hash chain: each entry appended inside the caller's transaction, linked to
//! the one before it.

use chrono::Utc;
use sqlx::any::AnyRow;
use sqlx::{Any, Transaction};

use crate::domain::audit::{self, AuditEntry};
use crate::domain::ids::OwnerId;
use crate::ports::store::StoreError;

use super::backend::Backend;
use super::rows::{db, get, time};

/// Appends an audit entry inside the caller's transaction, chained to the last one. The chain is
/// locked for the rest of the transaction first, so two appends can never link to the same
/// entry: call this after the transaction's other writes.
pub(super) async fn append_audit(
    backend: Backend,
    tx: &mut Transaction<'_, Any>,
    owner: &OwnerId,
    action: &str,
    subject: &str,
    detail: &str,
) -> Result<(), StoreError> {
    backend.lock_audit_chain(tx).await?;
    let last: Option<(i64, String)> =
        sqlx::query_as("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut **tx)
            .await
            .map_err(db)?;
    let (seq, prev_hash) = match last {
        Some((seq, hash)) => (seq + 1, hash),
        None => (1, audit::GENESIS.to_string()),
    };
    let at = Utc::now();
    let hash = audit::entry_hash(
        &prev_hash,
        seq,
        owner.as_str(),
        &at,
        action,
        subject,
        detail,
    );
    sqlx::query(
        "INSERT INTO audit_log (seq, owner, at, action, subject, detail, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(seq)
    .bind(owner.as_str())
    .bind(at.to_rfc3339())
    .bind(action)
    .bind(subject)
    .bind(detail)
    .bind(prev_hash)
    .bind(hash)
    .execute(&mut **tx)
    .await
    .map_err(db)?;
    Ok(())
}

pub(super) fn audit_from_row(row: &AnyRow) -> Result<AuditEntry, StoreError> {
    Ok(AuditEntry {
        seq: get(row, "seq")?,
        owner: get(row, "owner")?,
        at: time(row, "at")?,
        action: get(row, "action")?,
        subject: get(row, "subject")?,
        detail: get(row, "detail")?,
        prev_hash: get(row, "prev_hash")?,
        hash: get(row, "hash")?,
    })
}
