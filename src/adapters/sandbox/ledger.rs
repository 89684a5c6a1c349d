//! The sandbox's own books: offers it issued, bookings, payments and every money movement.
//!
//! It lives in its own SQLite file and commits independently of the order store, as a remote
//! provider would. Tests read it to check that what the order store claims really happened:
//! a capture only with bookings, a void after a rollback, refunds that match the policy.
//!
//! Effectful calls honour idempotency keys the way Stripe does: the same key with the same request
//! replays the first answer and changes nothing; the same key with a different request is refused.
//! The key and the effect are written in one transaction, so a replay can never double an effect.

use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::{Row, Sqlite, SqliteExecutor, SqlitePool, Transaction};

use crate::adapters::store::open_pool;
use crate::domain::money::{Currency, Money};
use crate::domain::offer::{ItemKind, Offer};
use crate::domain::plan::Traveller;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sandbox");

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("idempotency key {key} was already used with a different request")]
    KeyReuse { key: String },
    #[error("sandbox ledger: {0}")]
    Database(String),
}

impl From<sqlx::Error> for LedgerError {
    fn from(error: sqlx::Error) -> Self {
        LedgerError::Database(error.to_string())
    }
}

/// A booking as the sandbox provider holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerBooking {
    pub reference: String,
    pub offer_id: String,
    pub kind: ItemKind,
    pub confirmation: String,
    /// `booked` or `cancelled`.
    pub status: String,
    pub price: Money,
    pub refund: Option<Money>,
    /// The [`travellers_fingerprint`] of the travellers it was booked for.
    pub travellers: String,
}

/// A payment as the sandbox provider holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerPayment {
    pub id: String,
    pub method: String,
    /// `requires_action`, `authorized`, `captured`, `voided` or `failed`.
    pub status: String,
    /// The amount held.
    pub amount: Money,
    pub captured: Money,
    pub refunded: Money,
    pub failure: Option<String>,
}

/// One money movement: `hold`, `capture`, `void` or `refund`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerMovement {
    pub payment_id: String,
    pub kind: String,
    pub amount: Money,
}

/// What an idempotent call answers: the first time, or a replay of the first time.
pub type Stored = Value;

#[derive(Clone)]
pub struct SandboxLedger {
    pool: SqlitePool,
}

fn hash_request(request: &Value) -> String {
    hex::encode(Sha256::digest(request.to_string().as_bytes()))
}

/// What the sandbox keeps of a booking's travellers: a real provider keeps the details, but the
/// sandbox's file sits unencrypted beside the order store, so it keeps a fingerprint that proves
/// which details it was given without holding them.
pub fn travellers_fingerprint(travellers: &[Traveller]) -> String {
    hash_request(&serde_json::json!(travellers))
}

fn money_of(row: &sqlx::sqlite::SqliteRow, column: &str) -> Result<Money, LedgerError> {
    let currency: String = row.try_get("currency")?;
    let amount: String = row.try_get(column)?;
    Money::parse(&amount, &currency).map_err(|e| LedgerError::Database(format!("{column}: {e}")))
}

impl SandboxLedger {
    pub async fn open(url: &str) -> Result<SandboxLedger, LedgerError> {
        let pool = open_pool(url)
            .await
            .map_err(|e| LedgerError::Database(e.to_string()))?;
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|e| LedgerError::Database(format!("migrating {url}: {e}")))?;
        Ok(SandboxLedger { pool })
    }

    pub(super) fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Starts a write transaction holding SQLite's write lock, so concurrent retries serialize.
    pub(super) async fn begin(&self) -> Result<Transaction<'static, Sqlite>, LedgerError> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// The stored answer for `key`, if this exact request was made before.
    pub(super) async fn replay(
        tx: &mut Transaction<'_, Sqlite>,
        key: &str,
        operation: &str,
        request: &Value,
    ) -> Result<Option<Stored>, LedgerError> {
        let row =
            sqlx::query("SELECT operation, request_hash, response FROM idempotency WHERE key = ?")
                .bind(key)
                .fetch_optional(&mut **tx)
                .await?;
        let Some(row) = row else { return Ok(None) };
        let stored_operation: String = row.try_get("operation")?;
        let stored_hash: String = row.try_get("request_hash")?;
        if stored_operation != operation || stored_hash != hash_request(request) {
            return Err(LedgerError::KeyReuse {
                key: key.to_string(),
            });
        }
        let response: String = row.try_get("response")?;
        serde_json::from_str(&response)
            .map(Some)
            .map_err(|e| LedgerError::Database(e.to_string()))
    }

    /// Records the answer for `key` in the same transaction as the effect.
    pub(super) async fn remember(
        tx: &mut Transaction<'_, Sqlite>,
        key: &str,
        operation: &str,
        request: &Value,
        response: &Stored,
    ) -> Result<(), LedgerError> {
        sqlx::query(
            "INSERT INTO idempotency (key, operation, request_hash, response, created_at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(key)
        .bind(operation)
        .bind(hash_request(request))
        .bind(response.to_string())
        .bind(Utc::now())
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    pub(super) async fn store_offers(&self, offers: &[Offer]) -> Result<(), LedgerError> {
        let mut tx = self.begin().await?;
        for offer in offers {
            let body =
                serde_json::to_string(offer).map_err(|e| LedgerError::Database(e.to_string()))?;
            sqlx::query(
                "INSERT INTO offers (id, body) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET body = excluded.body",
            )
            .bind(offer.id.as_str())
            .bind(body)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub(super) async fn insert_booking(
        tx: &mut Transaction<'_, Sqlite>,
        booking: &LedgerBooking,
    ) -> Result<(), LedgerError> {
        sqlx::query(
            "INSERT INTO bookings (reference, offer_id, kind, confirmation, status, price, currency, travellers, \
             created_at) VALUES (?, ?, ?, ?, 'booked', ?, ?, ?, ?)",
        )
        .bind(&booking.reference)
        .bind(&booking.offer_id)
        .bind(booking.kind.as_str())
        .bind(&booking.confirmation)
        .bind(booking.price.amount().to_string())
        .bind(booking.price.currency().code())
        .bind(&booking.travellers)
        .bind(Utc::now())
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    pub(super) async fn mark_cancelled(
        tx: &mut Transaction<'_, Sqlite>,
        reference: &str,
        refund: &Money,
    ) -> Result<(), LedgerError> {
        sqlx::query("UPDATE bookings SET status = 'cancelled', refund = ?, cancelled_at = ? WHERE reference = ?")
            .bind(refund.amount().to_string())
            .bind(Utc::now())
            .bind(reference)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    pub(super) async fn insert_payment(
        tx: &mut Transaction<'_, Sqlite>,
        payment: &LedgerPayment,
    ) -> Result<(), LedgerError> {
        sqlx::query(
            "INSERT INTO payments (id, method, status, amount, captured, refunded, currency, failure, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&payment.id)
        .bind(&payment.method)
        .bind(&payment.status)
        .bind(payment.amount.amount().to_string())
        .bind(payment.captured.amount().to_string())
        .bind(payment.refunded.amount().to_string())
        .bind(payment.amount.currency().code())
        .bind(&payment.failure)
        .bind(Utc::now())
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    pub(super) async fn update_payment(
        tx: &mut Transaction<'_, Sqlite>,
        payment: &LedgerPayment,
    ) -> Result<(), LedgerError> {
        sqlx::query(
            "UPDATE payments SET status = ?, captured = ?, refunded = ?, failure = ? WHERE id = ?",
        )
        .bind(&payment.status)
        .bind(payment.captured.amount().to_string())
        .bind(payment.refunded.amount().to_string())
        .bind(&payment.failure)
        .bind(&payment.id)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    pub(super) async fn record_movement(
        tx: &mut Transaction<'_, Sqlite>,
        payment_id: &str,
        kind: &str,
        amount: &Money,
    ) -> Result<(), LedgerError> {
        sqlx::query(
            "INSERT INTO movements (payment_id, kind, amount, currency, at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(payment_id)
        .bind(kind)
        .bind(amount.amount().to_string())
        .bind(amount.currency().code())
        .bind(Utc::now())
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// A payment by id, as the sandbox holds it.
    pub async fn payment(&self, id: &str) -> Result<Option<LedgerPayment>, LedgerError> {
        find_payment(&self.pool, id).await
    }

    /// Every payment, oldest first: what a customer's statement would list.
    pub async fn payments(&self) -> Result<Vec<LedgerPayment>, LedgerError> {
        sqlx::query("SELECT * FROM payments ORDER BY created_at, rowid")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(payment_from_row)
            .collect()
    }

    /// A booking by its reference.
    pub async fn booking(&self, reference: &str) -> Result<Option<LedgerBooking>, LedgerError> {
        find_booking(&self.pool, reference).await
    }

    /// Every booking, oldest first.
    pub async fn bookings(&self) -> Result<Vec<LedgerBooking>, LedgerError> {
        sqlx::query("SELECT * FROM bookings ORDER BY created_at, rowid")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(booking_from_row)
            .collect()
    }

    /// Every money movement of a payment, in order.
    pub async fn movements(&self, payment_id: &str) -> Result<Vec<LedgerMovement>, LedgerError> {
        sqlx::query("SELECT * FROM movements WHERE payment_id = ? ORDER BY seq")
            .bind(payment_id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| {
                Ok(LedgerMovement {
                    payment_id: row.try_get("payment_id")?,
                    kind: row.try_get("kind")?,
                    amount: money_of(row, "amount")?,
                })
            })
            .collect()
    }

    /// The customer completed 3-D Secure: the hold is placed. Visiting twice changes nothing.
    pub(super) async fn complete_action(
        &self,
        id: &str,
    ) -> Result<Option<LedgerPayment>, LedgerError> {
        let mut tx = self.begin().await?;
        let Some(mut payment) = find_payment(&mut *tx, id).await? else {
            return Ok(None);
        };
        if payment.status == "requires_action" {
            payment.status = "authorized".into();
            Self::update_payment(&mut tx, &payment).await?;
            Self::record_movement(&mut tx, id, "hold", &payment.amount).await?;
        }
        tx.commit().await?;
        Ok(Some(payment))
    }
}

// Reads take any executor: the pool, or the connection of a write transaction. A read made through
// the pool while a transaction holds SQLite's write lock could wait for a free connection while
// every other connection waits for the lock.

pub(super) async fn find_offer<'e>(
    db: impl SqliteExecutor<'e>,
    id: &str,
) -> Result<Option<Offer>, LedgerError> {
    let body: Option<String> = sqlx::query_scalar("SELECT body FROM offers WHERE id = ?")
        .bind(id)
        .fetch_optional(db)
        .await?;
    body.map(|body| serde_json::from_str(&body).map_err(|e| LedgerError::Database(e.to_string())))
        .transpose()
}

pub(super) async fn find_booking<'e>(
    db: impl SqliteExecutor<'e>,
    reference: &str,
) -> Result<Option<LedgerBooking>, LedgerError> {
    let row = sqlx::query("SELECT * FROM bookings WHERE reference = ?")
        .bind(reference)
        .fetch_optional(db)
        .await?;
    row.map(|row| booking_from_row(&row)).transpose()
}

pub(super) async fn find_payment<'e>(
    db: impl SqliteExecutor<'e>,
    id: &str,
) -> Result<Option<LedgerPayment>, LedgerError> {
    let row = sqlx::query("SELECT * FROM payments WHERE id = ?")
        .bind(id)
        .fetch_optional(db)
        .await?;
    row.map(|row| payment_from_row(&row)).transpose()
}

fn booking_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<LedgerBooking, LedgerError> {
    let refund: Option<String> = row.try_get("refund")?;
    let kind: String = row.try_get("kind")?;
    let currency: String = row.try_get("currency")?;
    let currency = Currency::parse(&currency).map_err(|e| LedgerError::Database(e.to_string()))?;
    Ok(LedgerBooking {
        reference: row.try_get("reference")?,
        offer_id: row.try_get("offer_id")?,
        kind: ItemKind::parse(&kind)
            .ok_or_else(|| LedgerError::Database(format!("unknown booking kind {kind}")))?,
        confirmation: row.try_get("confirmation")?,
        status: row.try_get("status")?,
        price: money_of(row, "price")?,
        refund: refund
            .map(|amount| Money::parse(&amount, currency.code()))
            .transpose()
            .map_err(|e| LedgerError::Database(e.to_string()))?,
        travellers: row.try_get("travellers")?,
    })
}

fn payment_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<LedgerPayment, LedgerError> {
    Ok(LedgerPayment {
        id: row.try_get("id")?,
        method: row.try_get("method")?,
        status: row.try_get("status")?,
        amount: money_of(row, "amount")?,
        captured: money_of(row, "captured")?,
        refunded: money_of(row, "refunded")?,
        failure: row.try_get("failure")?,
    })
}
