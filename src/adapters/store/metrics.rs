//! What the business metrics are computed from: the orders created in a window (one person's,
//! or everyone's), their saga calls with the provider each went to, and the approvals given in
//! it. Only the columns the metrics need are read.

use chrono::{DateTime, Utc};
use sqlx::AnyPool;
use sqlx::any::AnyRow;

use super::rows::{corrupt, db, get, money, time, time_opt};
use super::timestamp::Timestamp;
use crate::domain::ids::OwnerId;
use crate::domain::metrics::{ApprovalFact, MetricFacts, OrderFact, StepFact};
use crate::domain::money::Currency;
use crate::domain::order::OrderStatus;
use crate::domain::saga::StepState;
use crate::ports::store::StoreError;

/// Statuses that mean the order was confirmed, as an SQL list.
const CONFIRMED: &str = "('confirmed', 'partially_confirmed')";

/// What `sql` selects, given the window's start (`$1`) and the owner or none (`$2`), each row
/// read by `read`.
async fn select<T>(
    pool: &AnyPool,
    sql: &str,
    since: DateTime<Utc>,
    owner: Option<&OwnerId>,
    read: fn(&AnyRow) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
        .bind(Timestamp(since))
        .bind(owner.map(OwnerId::as_str))
        .fetch_all(pool)
        .await
        .map_err(db)?
        .iter()
        .map(read)
        .collect()
}

pub(super) async fn facts(
    pool: &AnyPool,
    owner: Option<&OwnerId>,
    since: DateTime<Utc>,
) -> Result<MetricFacts, StoreError> {
    let orders = format!(
        "SELECT o.status, o.currency, o.captured, o.refunded, o.created_at, \
         (SELECT MIN(e.at) FROM order_events e WHERE e.order_id = o.id AND e.status IN {CONFIRMED}) AS confirmed_at \
         FROM orders o WHERE o.created_at >= $1 AND ($2 IS NULL OR o.owner = $2)"
    );
    let steps = "SELECT COALESCE(s.provider, i.provider, o.payment_via) AS provider, s.operation, s.state, \
         s.attempts, s.started_at, s.finished_at FROM saga_steps s JOIN orders o ON o.id = s.order_id \
         LEFT JOIN order_items i ON i.order_id = s.order_id AND i.item_id = s.item_id \
         WHERE o.created_at >= $1 AND ($2 IS NULL OR o.owner = $2)";
    // Per plan: approved again after a change and then executed is one plan executed.
    let approvals = "SELECT MAX(a.expires_at) AS expires_at, CAST(CASE WHEN EXISTS \
         (SELECT 1 FROM orders o WHERE o.plan_id = a.plan_id) THEN 1 ELSE 0 END AS BIGINT) AS executed \
         FROM approvals a WHERE a.status = 'approved' AND a.created_at >= $1 AND ($2 IS NULL OR a.owner = $2) \
         GROUP BY a.plan_id";
    Ok(MetricFacts {
        orders: select(pool, &orders, since, owner, order_fact).await?,
        steps: select(pool, steps, since, owner, step_fact).await?,
        approvals: select(pool, approvals, since, owner, approval_fact).await?,
    })
}

fn order_fact(row: &AnyRow) -> Result<OrderFact, StoreError> {
    let status: String = get(row, "status")?;
    let currency =
        Currency::parse(&get::<String>(row, "currency")?).map_err(|e| corrupt("currency", e))?;
    Ok(OrderFact {
        status: OrderStatus::parse(&status).ok_or_else(|| corrupt("status", &status))?,
        currency,
        captured: money("captured", &get::<String>(row, "captured")?, currency)?,
        refunded: money("refunded", &get::<String>(row, "refunded")?, currency)?,
        created_at: time(row, "created_at")?,
        confirmed_at: time_opt(row, "confirmed_at")?,
    })
}

fn step_fact(row: &AnyRow) -> Result<StepFact, StoreError> {
    let state: String = get(row, "state")?;
    Ok(StepFact {
        provider: get(row, "provider")?,
        operation: get(row, "operation")?,
        state: StepState::parse(&state).ok_or_else(|| corrupt("step state", &state))?,
        attempts: u32::try_from(get::<i64>(row, "attempts")?)
            .map_err(|e| corrupt("attempts", e))?,
        started_at: time(row, "started_at")?,
        finished_at: time_opt(row, "finished_at")?,
    })
}

fn approval_fact(row: &AnyRow) -> Result<ApprovalFact, StoreError> {
    Ok(ApprovalFact {
        expires_at: time(row, "expires_at")?,
        executed: get::<i64>(row, "executed")? == 1,
    })
}
