//! The transactional outbox and its deliveries.
//!
//! A notice is written by the transaction that changes its order (`write`). A dispatcher then
//! writes one delivery per channel that wants it (`fan_out`), claims due deliveries under a
//! lease each (`claim_due`: instances never send the same one at once), and records what came of
//! each attempt (`finish`). A delivery is marked delivered only after the channel accepted it: a
//! crash in between sends it again, under the same notice id, which receivers use to drop it.

use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::{Any, AnyPool, Transaction};

use super::backend::Backend;
use super::leases::claim_into_leases;
use super::rows::{corrupt, db, from_json, get, time, to_json};
use super::timestamp::Timestamp;
use crate::domain::ids::OrderId;
use crate::domain::notice::{
    Delivery, DeliveryOutcome, DeliveryRecord, DeliveryState, OrderNotice,
};
use crate::ports::store::StoreError;

/// The lease a delivery is sent under. Notice ids hold no space; a channel may hold colons.
fn lease_key(notice_id: &str, channel: &str) -> String {
    format!("delivery:{notice_id} {channel}")
}

pub(super) async fn write(
    tx: &mut Transaction<'_, Any>,
    notice: &OrderNotice,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO outbox (id, owner, order_id, body, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&notice.id)
    .bind(notice.owner.as_str())
    .bind(notice.order_id.as_str())
    .bind(to_json(notice)?)
    .bind(Timestamp(notice.at))
    .execute(&mut **tx)
    .await
    .map_err(db)?;
    Ok(())
}

fn notice_from_row(row: &AnyRow) -> Result<OrderNotice, StoreError> {
    from_json("outbox notice", &get::<String>(row, "body")?)
}

/// Notices whose deliveries are not written yet, oldest first. One this version cannot read
/// (written by a newer one) is set aside (`fanned_out = 2`), logged, and never blocks the rest.
pub(super) async fn to_fan_out(pool: &AnyPool, limit: u32) -> Result<Vec<OrderNotice>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, body FROM outbox WHERE fanned_out = 0 ORDER BY seq LIMIT CAST($1 AS INTEGER)",
    )
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(db)?;
    let mut notices = Vec::with_capacity(rows.len());
    for row in &rows {
        match notice_from_row(row) {
            Ok(notice) => notices.push(notice),
            Err(error) => {
                let id: String = get(row, "id")?;
                tracing::warn!(notice = %id, %error, "a notice this version cannot read is set aside");
                sqlx::query("UPDATE outbox SET fanned_out = 2 WHERE id = $1")
                    .bind(&id)
                    .execute(pool)
                    .await
                    .map_err(db)?;
            }
        }
    }
    Ok(notices)
}

/// Writes each notice's deliveries (to its channels, due at `now`) and marks it fanned out,
/// the whole batch in one transaction. Done twice (two instances at once), each delivery is
/// still written once.
pub(super) async fn fan_out(
    pool: &AnyPool,
    batch: &[(String, Vec<String>)],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let mut tx = pool.begin().await.map_err(db)?;
    for (notice_id, channels) in batch {
        for channel in channels {
            sqlx::query(
                "INSERT INTO deliveries (notice_id, channel, state, attempts, next_at, updated_at) \
                 VALUES ($1, $2, 'pending', 0, $3, $3) ON CONFLICT (notice_id, channel) DO NOTHING",
            )
            .bind(notice_id)
            .bind(channel)
            .bind(Timestamp(now))
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        }
        sqlx::query("UPDATE outbox SET fanned_out = 1 WHERE id = $1")
            .bind(notice_id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
    }
    tx.commit().await.map_err(db)
}

/// Marks every notice not fanned out yet as fanned out, with no delivery.
pub(super) async fn fan_out_to_no_channel(pool: &AnyPool) -> Result<u64, StoreError> {
    sqlx::query("UPDATE outbox SET fanned_out = 1 WHERE fanned_out = 0")
        .execute(pool)
        .await
        .map(|done| done.rows_affected())
        .map_err(db)
}

/// Claims (leases for `holder` until `until`) up to `limit` pending deliveries to `channels`
/// (the ones this process can send) due by `now` that no process is sending, soonest due
/// first, and returns them with their notices.
pub(super) async fn claim_due(
    backend: Backend,
    pool: &AnyPool,
    holder: &str,
    until: DateTime<Utc>,
    now: DateTime<Utc>,
    channels: &[String],
    limit: u32,
) -> Result<Vec<Delivery>, StoreError> {
    if channels.is_empty() {
        return Ok(Vec::new());
    }
    let lock = backend.skip_locked("d");
    let ours = (0..channels.len())
        .map(|i| format!("${}", i + 5))
        .collect::<Vec<_>>()
        .join(", ");
    let due = format!(
        "SELECT 'delivery:' || d.notice_id || ' ' || d.channel AS key FROM deliveries d \
         WHERE d.state = 'pending' AND d.next_at <= $3 AND d.channel IN ({ours}) \
         AND NOT EXISTS (SELECT 1 FROM leases l \
             WHERE l.key = 'delivery:' || d.notice_id || ' ' || d.channel AND l.expires_at >= $3) \
         ORDER BY d.next_at LIMIT CAST($4 AS INTEGER) {lock}"
    );
    let sql = claim_into_leases(&due);
    let mut claim = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(holder)
        .bind(Timestamp(until))
        .bind(Timestamp(now))
        .bind(i64::from(limit));
    for channel in channels {
        claim = claim.bind(channel);
    }
    let keys: Vec<String> = claim.fetch_all(pool).await.map_err(db)?;
    let mut claimed = Vec::with_capacity(keys.len());
    for key in keys {
        let Some((notice_id, channel)) = key
            .strip_prefix("delivery:")
            .and_then(|rest| rest.split_once(' '))
        else {
            continue;
        };
        let row = sqlx::query(
            "SELECT d.attempts, o.body FROM deliveries d JOIN outbox o ON o.id = d.notice_id \
             WHERE d.notice_id = $1 AND d.channel = $2 AND d.state = 'pending'",
        )
        .bind(notice_id)
        .bind(channel)
        .fetch_optional(pool)
        .await
        .map_err(db)?;
        let Some(row) = row else { continue };
        match notice_from_row(&row) {
            Ok(notice) => claimed.push(Delivery {
                notice,
                channel: channel.to_string(),
                attempts: attempts(&row)?,
            }),
            // Written by a newer version: dead here, for the operator to queue again there.
            Err(error) => {
                sqlx::query(
                    "UPDATE deliveries SET state = 'dead', last_error = $1, updated_at = $2 \
                     WHERE notice_id = $3 AND channel = $4",
                )
                .bind(format!(
                    "this version of Itinera cannot read the notice: {error}"
                ))
                .bind(Timestamp(now))
                .bind(notice_id)
                .bind(channel)
                .execute(pool)
                .await
                .map_err(db)?;
            }
        }
    }
    Ok(claimed)
}

fn attempts(row: &AnyRow) -> Result<u32, StoreError> {
    u32::try_from(get::<i64>(row, "attempts")?).map_err(|e| corrupt("attempts", e))
}

/// Records one attempt's outcome and gives up the delivery's lease, in one transaction.
pub(super) async fn finish(
    pool: &AnyPool,
    delivery: &Delivery,
    holder: &str,
    outcome: &DeliveryOutcome,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let (state, next_at, error) = match outcome {
        DeliveryOutcome::Delivered => (DeliveryState::Delivered, now, None),
        DeliveryOutcome::Retry { at, error } => (DeliveryState::Pending, *at, Some(error)),
        DeliveryOutcome::Dead { error } => (DeliveryState::Dead, now, Some(error)),
        DeliveryOutcome::Skipped { reason } => (DeliveryState::Skipped, now, Some(reason)),
    };
    let mut tx = pool.begin().await.map_err(db)?;
    sqlx::query(
        "UPDATE deliveries SET state = $1, attempts = attempts + 1, next_at = $2, \
         last_error = COALESCE($3, last_error), updated_at = $4 \
         WHERE notice_id = $5 AND channel = $6 AND state = 'pending'",
    )
    .bind(state.as_str())
    .bind(Timestamp(next_at))
    .bind(error)
    .bind(Timestamp(now))
    .bind(&delivery.notice.id)
    .bind(&delivery.channel)
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    sqlx::query("DELETE FROM leases WHERE key = $1 AND holder = $2")
        .bind(lease_key(&delivery.notice.id, &delivery.channel))
        .bind(holder)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    tx.commit().await.map_err(db)
}

/// Deliveries in `state`, most recently changed first.
pub(super) async fn list(
    pool: &AnyPool,
    state: DeliveryState,
    limit: u32,
) -> Result<Vec<DeliveryRecord>, StoreError> {
    sqlx::query(
        "SELECT d.notice_id, d.channel, d.state, d.attempts, d.next_at, d.last_error, d.updated_at, \
         o.order_id, o.body FROM deliveries d JOIN outbox o ON o.id = d.notice_id \
         WHERE d.state = $1 ORDER BY d.updated_at DESC, d.notice_id LIMIT CAST($2 AS INTEGER)",
    )
    .bind(state.as_str())
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(db)?
    .iter()
    .map(|row| {
        let order_id: String = get(row, "order_id")?;
        let state: String = get(row, "state")?;
        Ok(DeliveryRecord {
            notice_id: get(row, "notice_id")?,
            order_id: OrderId::parse(&order_id).map_err(|e| corrupt("order id", e))?,
            kind: notice_from_row(row)?.kind,
            channel: get(row, "channel")?,
            state: DeliveryState::parse(&state).ok_or_else(|| corrupt("state", &state))?,
            attempts: attempts(row)?,
            next_attempt_at: time(row, "next_at")?,
            last_error: get(row, "last_error")?,
            updated_at: time(row, "updated_at")?,
        })
    })
    .collect()
}

/// Puts dead deliveries (of one notice, or all) back in the queue, due at `now`, with a fresh
/// count of attempts; how many.
pub(super) async fn requeue(
    pool: &AnyPool,
    notice_id: Option<&str>,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let requeued = sqlx::query(
        "UPDATE deliveries SET state = 'pending', attempts = 0, next_at = $1, updated_at = $1 \
         WHERE state = 'dead' AND ($2 IS NULL OR notice_id = $2)",
    )
    .bind(Timestamp(now))
    .bind(notice_id)
    .execute(pool)
    .await
    .map_err(db)?;
    Ok(requeued.rows_affected())
}

/// Notices written after position `seq` (0: from the first), in commit order on SQLite and in
/// sequence order on PostgreSQL, with their positions.
pub(super) async fn after(
    pool: &AnyPool,
    seq: i64,
    limit: u32,
) -> Result<Vec<(i64, OrderNotice)>, StoreError> {
    sqlx::query(
        "SELECT seq, body FROM outbox WHERE seq > $1 ORDER BY seq LIMIT CAST($2 AS INTEGER)",
    )
    .bind(seq)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(db)?
    .iter()
    .filter_map(|row| {
        let seq = get::<i64>(row, "seq");
        match (seq, notice_from_row(row)) {
            (Ok(seq), Ok(notice)) => Some(Ok((seq, notice))),
            // Left out: the cursor waits on the hole it leaves, then moves past it.
            (Ok(seq), Err(error)) => {
                tracing::warn!(seq, %error, "an order notice this version cannot read");
                None
            }
            (Err(error), _) => Some(Err(error)),
        }
    })
    .collect()
}

/// The position of the last notice written (0 when there is none).
pub(super) async fn last_seq(pool: &AnyPool) -> Result<i64, StoreError> {
    sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM outbox")
        .fetch_one(pool)
        .await
        .map_err(db)
}
