//! Reading rows into domain values and writing values as the store keeps them on both
//! databases: JSON, enums as their serde names, amounts as decimal strings, times as RFC 3339
//! text; each failure named by what was being read.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::any::AnyRow;
use sqlx::{Any, Row};

use crate::domain::approval::{Approval, ApprovalMethod, ApprovalStatus, PlanDigest};
use crate::domain::ids::{ApprovalId, ItemId, OfferId, OrderId, OwnerId, PlanId};
use crate::domain::money::{Currency, Money};
use crate::domain::order::{ItemStatus, OrderItem, OrderStatus, OrderTotals};
use crate::domain::risk::RiskKind;
use crate::domain::saga::{SagaStep, StepState};
use crate::ports::store::StoreError;

use super::timestamp::Timestamp;

pub(super) fn db(error: sqlx::Error) -> StoreError {
    StoreError::Database(error.to_string())
}

pub(super) fn corrupt(what: &str, error: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {error}"))
}

pub(super) fn to_json<T: Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| corrupt("encoding", e))
}

pub(super) fn from_json<T: DeserializeOwned>(what: &str, text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| corrupt(what, e))
}

/// A serde enum as the bare string it serializes to (`"must_have"`).
pub(super) fn enum_text<T: Serialize>(value: &T) -> Result<String, StoreError> {
    match serde_json::to_value(value).map_err(|e| corrupt("encoding", e))? {
        serde_json::Value::String(text) => Ok(text),
        other => Err(corrupt("encoding", format!("{other} is not a plain enum"))),
    }
}

pub(super) fn enum_from<T: DeserializeOwned>(what: &str, text: &str) -> Result<T, StoreError> {
    serde_json::from_value(serde_json::Value::String(text.to_string()))
        .map_err(|e| corrupt(what, e))
}

pub(super) fn money(what: &str, amount: &str, currency: Currency) -> Result<Money, StoreError> {
    Money::parse(amount, currency.code()).map_err(|e| corrupt(what, e))
}

pub(super) fn get<'r, T>(row: &'r AnyRow, column: &str) -> Result<T, StoreError>
where
    T: sqlx::Decode<'r, Any> + sqlx::Type<Any>,
{
    row.try_get(column).map_err(|e| corrupt(column, e))
}

pub(super) fn time(row: &AnyRow, column: &str) -> Result<DateTime<Utc>, StoreError> {
    get::<Timestamp>(row, column).map(|at| at.0)
}

pub(super) fn time_opt(row: &AnyRow, column: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
    get::<Option<Timestamp>>(row, column).map(|at| at.map(|at| at.0))
}

pub(super) fn approval_from_row(row: &AnyRow) -> Result<Approval, StoreError> {
    let currency =
        Currency::parse(&get::<String>(row, "currency")?).map_err(|e| corrupt("currency", e))?;
    let status: String = get(row, "status")?;
    let method: Option<String> = get(row, "method")?;
    Ok(Approval {
        id: ApprovalId::parse(&get::<String>(row, "id")?).map_err(|e| corrupt("approval id", e))?,
        plan_id: PlanId::parse(&get::<String>(row, "plan_id")?)
            .map_err(|e| corrupt("plan id", e))?,
        owner: OwnerId::new(get::<String>(row, "owner")?),
        digest: PlanDigest(get(row, "digest")?),
        amount_cap: money("cap", &get::<String>(row, "cap_amount")?, currency)?,
        expires_at: time(row, "expires_at")?,
        status: ApprovalStatus::parse(&status)
            .ok_or_else(|| corrupt("approval status", &status))?,
        method: method
            .map(|m| ApprovalMethod::parse(&m).ok_or_else(|| corrupt("approval method", &m)))
            .transpose()?,
        decided_at: time_opt(row, "decided_at")?,
        created_at: time(row, "created_at")?,
        risks: get::<String>(row, "risks")?
            .split(',')
            .filter(|code| !code.is_empty())
            .map(|code| RiskKind::parse(code).ok_or_else(|| corrupt("risk", code)))
            .collect::<Result<_, _>>()?,
    })
}

/// The risk codes an approval records, comma-separated.
pub(super) fn risk_codes(risks: &[RiskKind]) -> String {
    risks
        .iter()
        .map(|risk| risk.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

pub(super) fn item_from_row(row: &AnyRow, currency: Currency) -> Result<OrderItem, StoreError> {
    let status: String = get(row, "status")?;
    let refunded: Option<String> = get(row, "refunded")?;
    Ok(OrderItem {
        item_id: ItemId::parse(&get::<String>(row, "item_id")?)
            .map_err(|e| corrupt("item id", e))?,
        kind: enum_from("item kind", &get::<String>(row, "kind")?)?,
        title: get(row, "title")?,
        provider: get(row, "provider")?,
        offer_id: OfferId::parse(&get::<String>(row, "offer_id")?)
            .map_err(|e| corrupt("offer id", e))?,
        priority: enum_from("priority", &get::<String>(row, "priority")?)?,
        price: money("item price", &get::<String>(row, "price")?, currency)?,
        cancellation: from_json("cancellation policy", &get::<String>(row, "cancellation")?)?,
        status: ItemStatus::parse(&status).ok_or_else(|| corrupt("item status", &status))?,
        reference: get(row, "reference")?,
        confirmation: get(row, "confirmation")?,
        failure: get(row, "failure")?,
        refunded: refunded
            .map(|amount| money("item refund", &amount, currency))
            .transpose()?,
    })
}

pub(super) fn totals_from_row(row: &AnyRow) -> Result<OrderTotals, StoreError> {
    let currency =
        Currency::parse(&get::<String>(row, "currency")?).map_err(|e| corrupt("currency", e))?;
    let status: String = get(row, "status")?;
    Ok(OrderTotals {
        plan_id: PlanId::parse(&get::<String>(row, "plan_id")?)
            .map_err(|e| corrupt("plan id", e))?,
        status: OrderStatus::parse(&status).ok_or_else(|| corrupt("order status", &status))?,
        currency,
        authorized: money("authorized", &get::<String>(row, "authorized")?, currency)?,
        captured: money("captured", &get::<String>(row, "captured")?, currency)?,
        refunded: money("refunded", &get::<String>(row, "refunded")?, currency)?,
        created_at: time(row, "created_at")?,
    })
}

pub(super) fn step_from_row(row: &AnyRow) -> Result<SagaStep, StoreError> {
    let state: String = get(row, "state")?;
    let item: Option<String> = get(row, "item_id")?;
    let attempts: i64 = get(row, "attempts")?;
    Ok(SagaStep {
        order_id: OrderId::parse(&get::<String>(row, "order_id")?)
            .map_err(|e| corrupt("order id", e))?,
        item_id: item
            .map(|id| ItemId::parse(&id).map_err(|e| corrupt("item id", e)))
            .transpose()?,
        operation: get(row, "operation")?,
        provider: get(row, "provider")?,
        key: get(row, "key")?,
        state: StepState::parse(&state).ok_or_else(|| corrupt("step state", &state))?,
        detail: get(row, "detail")?,
        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
        started_at: time(row, "started_at")?,
        finished_at: time_opt(row, "finished_at")?,
    })
}
