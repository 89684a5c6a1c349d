//! The store's side of saved payment methods: setups (pages opened at a provider) and the methods
//! saved from them. A setup is settled once, in one transaction with its method and its audit
//! entry, so asking the provider twice never saves twice.

use chrono::{DateTime, Utc};
use sqlx::AnyPool;
use sqlx::any::AnyRow;

use crate::domain::ids::{OwnerId, PaymentMethodToken, SetupId};
use crate::domain::saved_method::{MethodSetup, SavedMethod, SetupStatus};
use crate::ports::store::{SetupOutcome, StoreError};

use super::audit_chain::append_audit;
use super::backend::Backend;
use super::rows::{corrupt, db, get, time};
use super::timestamp::Timestamp;

pub(super) async fn insert_setup(pool: &AnyPool, setup: &MethodSetup) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO payment_method_setups (id, owner, provider, session_id, url, customer, status, reason, \
         created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(setup.id.as_str())
    .bind(setup.owner.as_str())
    .bind(&setup.provider)
    .bind(&setup.session_id)
    .bind(&setup.url)
    .bind(&setup.customer)
    .bind(setup.status.as_str())
    .bind(match &setup.status {
        SetupStatus::Abandoned(reason) => Some(reason.as_str()),
        SetupStatus::Pending | SetupStatus::Saved => None,
    })
    .bind(Timestamp(setup.created_at))
    .bind(Timestamp(setup.expires_at))
    .execute(pool)
    .await
    .map_err(db)?;
    Ok(())
}

pub(super) async fn setups(
    pool: &AnyPool,
    owner: &OwnerId,
    since: DateTime<Utc>,
) -> Result<Vec<MethodSetup>, StoreError> {
    sqlx::query(
        "SELECT * FROM payment_method_setups WHERE owner = $1 AND created_at >= $2 \
         ORDER BY created_at DESC, rowid DESC",
    )
    .bind(owner.as_str())
    .bind(Timestamp(since))
    .fetch_all(pool)
    .await
    .map_err(db)?
    .iter()
    .map(setup_from_row)
    .collect()
}

pub(super) async fn settle(
    backend: Backend,
    pool: &AnyPool,
    owner: &OwnerId,
    setup: &SetupId,
    outcome: &SetupOutcome,
) -> Result<bool, StoreError> {
    let mut tx = backend.begin_write(pool).await?;
    let (status, reason) = match outcome {
        SetupOutcome::Saved(_) => ("saved", None),
        SetupOutcome::Abandoned(reason) => ("abandoned", Some(reason.as_str())),
    };
    let updated = sqlx::query(
        "UPDATE payment_method_setups SET status = $1, reason = $2 \
         WHERE id = $3 AND owner = $4 AND status = 'pending'",
    )
    .bind(status)
    .bind(reason)
    .bind(setup.as_str())
    .bind(owner.as_str())
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    if updated.rows_affected() != 1 {
        return Ok(false);
    }
    if let SetupOutcome::Saved(method) = outcome {
        // A token saved at the same moment by another setup: the insert waits for it and then
        // does nothing, and the token's owner below decides.
        let added = sqlx::query(
            "INSERT INTO saved_payment_methods (token, owner, provider, label, customer, setup_id, added_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (token) DO NOTHING",
        )
        .bind(method.token.as_str())
        .bind(owner.as_str())
        .bind(&method.provider)
        .bind(&method.label)
        .bind(&method.customer)
        .bind(setup.as_str())
        .bind(Timestamp(method.added_at))
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        if added.rows_affected() == 0 {
            let saver: String =
                sqlx::query_scalar("SELECT owner FROM saved_payment_methods WHERE token = $1")
                    .bind(method.token.as_str())
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(db)?;
            if saver != owner.as_str() {
                return Err(StoreError::MethodTaken);
            }
            // The same method saved again by the same person (PayPal vaults a payer once): the
            // setup is done and the method is listed already.
            tx.commit().await.map_err(db)?;
            return Ok(true);
        }
        append_audit(
            backend,
            &mut tx,
            owner,
            "payment_method.saved",
            setup.as_str(),
            &format!(
                "{}: {} ({})",
                method.provider,
                method.label,
                method.token.masked()
            ),
        )
        .await?;
    }
    tx.commit().await.map_err(db)?;
    Ok(true)
}

pub(super) async fn saved_methods(
    pool: &AnyPool,
    owner: &OwnerId,
) -> Result<Vec<SavedMethod>, StoreError> {
    sqlx::query("SELECT * FROM saved_payment_methods WHERE owner = $1 ORDER BY added_at, rowid")
        .bind(owner.as_str())
        .fetch_all(pool)
        .await
        .map_err(db)?
        .iter()
        .map(method_from_row)
        .collect()
}

pub(super) async fn saved_method(
    pool: &AnyPool,
    token: &PaymentMethodToken,
) -> Result<Option<SavedMethod>, StoreError> {
    sqlx::query("SELECT * FROM saved_payment_methods WHERE token = $1")
        .bind(token.as_str())
        .fetch_optional(pool)
        .await
        .map_err(db)?
        .as_ref()
        .map(method_from_row)
        .transpose()
}

pub(super) async fn provider_customer(
    pool: &AnyPool,
    owner: &OwnerId,
    provider: &str,
) -> Result<Option<String>, StoreError> {
    let customer: Option<Option<String>> = sqlx::query_scalar(
        "SELECT customer FROM payment_method_setups WHERE owner = $1 AND provider = $2 \
         AND customer IS NOT NULL ORDER BY created_at DESC, rowid DESC LIMIT 1",
    )
    .bind(owner.as_str())
    .bind(provider)
    .fetch_optional(pool)
    .await
    .map_err(db)?;
    Ok(customer.flatten())
}

fn setup_id(row: &AnyRow, column: &str) -> Result<SetupId, StoreError> {
    SetupId::parse(&get::<String>(row, column)?).map_err(|e| corrupt("setup id", e))
}

fn setup_from_row(row: &AnyRow) -> Result<MethodSetup, StoreError> {
    let status: String = get(row, "status")?;
    let reason: Option<String> = get(row, "reason")?;
    Ok(MethodSetup {
        id: setup_id(row, "id")?,
        owner: OwnerId::new(get::<String>(row, "owner")?),
        provider: get(row, "provider")?,
        session_id: get(row, "session_id")?,
        url: get(row, "url")?,
        customer: get(row, "customer")?,
        status: match status.as_str() {
            "pending" => SetupStatus::Pending,
            "saved" => SetupStatus::Saved,
            "abandoned" => SetupStatus::Abandoned(reason.unwrap_or_default()),
            other => return Err(corrupt("setup status", other)),
        },
        created_at: time(row, "created_at")?,
        expires_at: time(row, "expires_at")?,
    })
}

fn method_from_row(row: &AnyRow) -> Result<SavedMethod, StoreError> {
    Ok(SavedMethod {
        owner: OwnerId::new(get::<String>(row, "owner")?),
        provider: get(row, "provider")?,
        token: PaymentMethodToken::parse(&get::<String>(row, "token")?)
            .map_err(|e| corrupt("saved token", e))?,
        label: get(row, "label")?,
        customer: get(row, "customer")?,
        setup_id: setup_id(row, "setup_id")?,
        added_at: time(row, "added_at")?,
    })
}
