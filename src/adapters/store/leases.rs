//! Leases: which process works on an order (or admits a person's next order) until when. A
//! claim succeeds on a key nobody holds, on an expired lease, or on the claimant's own; the
//! holder renews it while working and deletes it when done.
//!
//! Times are the processes' clocks (kept in step by NTP on any server): a lease lasts tens of
//! seconds, so a skew of milliseconds changes nothing.

use chrono::{DateTime, Utc};
use sqlx::AnyPool;

use super::backend::Backend;
use super::rows::db;
use super::timestamp::Timestamp;
use crate::domain::order::OrderStatus;
use crate::ports::store::StoreError;

/// `OrderStatus::UNSETTLED` as an SQL list.
fn unsettled() -> String {
    let statuses: Vec<String> = OrderStatus::UNSETTLED
        .iter()
        .map(|status| format!("'{}'", status.as_str()))
        .collect();
    format!("({})", statuses.join(", "))
}

pub(super) async fn claim(
    pool: &AnyPool,
    key: &str,
    holder: &str,
    until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let claimed = sqlx::query(
        "INSERT INTO leases (key, holder, expires_at) VALUES ($1, $2, $3) \
         ON CONFLICT (key) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
         WHERE leases.expires_at < $4 OR leases.holder = excluded.holder",
    )
    .bind(key)
    .bind(holder)
    .bind(Timestamp(until))
    .bind(Timestamp(now))
    .execute(pool)
    .await
    .map_err(db)?;
    Ok(claimed.rows_affected() == 1)
}

pub(super) async fn renew(
    pool: &AnyPool,
    key: &str,
    holder: &str,
    until: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let renewed = sqlx::query("UPDATE leases SET expires_at = $3 WHERE key = $1 AND holder = $2")
        .bind(key)
        .bind(holder)
        .bind(Timestamp(until))
        .execute(pool)
        .await
        .map_err(db)?;
    Ok(renewed.rows_affected() == 1)
}

/// Every process holding a lease now.
pub(super) async fn holders(pool: &AnyPool) -> Result<Vec<String>, StoreError> {
    sqlx::query_scalar("SELECT DISTINCT holder FROM leases")
        .fetch_all(pool)
        .await
        .map_err(db)
}

/// Drops every lease of `holder` (a process known to be gone).
pub(super) async fn release_all(pool: &AnyPool, holder: &str) -> Result<u64, StoreError> {
    let released = sqlx::query("DELETE FROM leases WHERE holder = $1")
        .bind(holder)
        .execute(pool)
        .await
        .map_err(db)?;
    Ok(released.rows_affected())
}

pub(super) async fn release(pool: &AnyPool, key: &str, holder: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM leases WHERE key = $1 AND holder = $2")
        .bind(key)
        .bind(holder)
        .execute(pool)
        .await
        .map_err(db)?;
    Ok(())
}

/// The statement that leases every key the query `due` selects (as `key`) to `$1` until `$2`,
/// unless someone holds it past `$3`, and returns the keys it leased; `$4` on are the query's.
/// One statement, so a key is never claimed by two processes at once.
pub(super) fn claim_into_leases(due: &str) -> String {
    format!(
        "WITH due AS ({due}) \
         INSERT INTO leases (key, holder, expires_at) SELECT key, $1, $2 FROM due WHERE true \
         ON CONFLICT (key) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
         WHERE leases.expires_at < $3 \
         RETURNING key"
    )
}

/// Claims up to `limit` unsettled orders that no process holds (this one included: an order it
/// holds is being worked on), oldest first, after `after` (the `(created_at, id)` of the last
/// order of the previous page, so a pass walks every unsettled order once); their ids.
/// Instances claiming at once take disjoint sets (`Backend::skip_locked`).
pub(super) async fn claim_unsettled(
    backend: Backend,
    pool: &AnyPool,
    holder: &str,
    until: DateTime<Utc>,
    now: DateTime<Utc>,
    after: Option<(DateTime<Utc>, &str)>,
    limit: u32,
) -> Result<Vec<String>, StoreError> {
    let lock = backend.skip_locked("o");
    let unsettled = unsettled();
    let due = format!(
        "SELECT 'order:' || o.id AS key FROM orders o WHERE o.status IN {unsettled} \
         AND NOT EXISTS (SELECT 1 FROM leases l WHERE l.key = 'order:' || o.id AND l.expires_at >= $3) \
         AND ($5 IS NULL OR o.created_at > $5 OR (o.created_at = $5 AND o.id > $6)) \
         ORDER BY o.created_at, o.id LIMIT CAST($4 AS INTEGER) {lock}"
    );
    let sql = claim_into_leases(&due);
    let keys: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(holder)
        .bind(Timestamp(until))
        .bind(Timestamp(now))
        .bind(i64::from(limit))
        .bind(after.map(|(at, _)| Timestamp(at)))
        .bind(after.map(|(_, id)| id.to_string()))
        .fetch_all(pool)
        .await
        .map_err(db)?;
    Ok(keys
        .into_iter()
        .filter_map(|key| key.strip_prefix("order:").map(str::to_string))
        .collect())
}
