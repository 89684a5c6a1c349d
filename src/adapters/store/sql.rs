//! The order store, one set of queries on either database: an embedded SQLite file, or a
//! PostgreSQL server that several instances share. Migrations are applied at open.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::{Any, AnyPool, Transaction};

use crate::crypto::Keyring;
use crate::domain::approval::{Approval, ApprovalMethod, ApprovalStatus};
use crate::domain::audit::AuditEntry;
use crate::domain::ids::{
    ApprovalId, ItemId, OfferId, OrderId, OwnerId, PaymentMethodToken, PlanId, SetupId,
};
use crate::domain::metrics::MetricFacts;
use crate::domain::money::Currency;
use crate::domain::notice::{
    Delivery, DeliveryOutcome, DeliveryRecord, DeliveryState, OrderNotice,
};
use crate::domain::offer::Offer;
use crate::domain::order::{Order, OrderEvent, OrderStatus, OrderTotals, PaymentRecord};
use crate::domain::plan::TravelPlan;
use crate::domain::platform::PlatformAccount;
use crate::domain::saga::{SagaStep, StepState};
use crate::domain::saved_method::{MethodSetup, SavedMethod};
use crate::ports::store::{Created, OrderFilter, SetupOutcome, Store, StoreError};

use super::audit_chain::{append_audit, audit_from_row};
use super::backend::Backend;
use super::hold::{Access, Hold};
use super::leases;
use super::metrics;
use super::outbox;
use super::rows::{
    approval_from_row, corrupt, db, enum_text, from_json, get, item_from_row, money, risk_codes,
    step_from_row, time, time_opt, to_json, totals_from_row,
};
use super::sealed::{open_plan, reseal_plan, seal_plan};
use super::timestamp::Timestamp;
use super::{platform_accounts, saved_methods};

/// How many envelopes a key rotation sealed again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resealed {
    pub plans: u64,
    pub accounts: u64,
}

/// The order store.
#[derive(Clone)]
pub struct SqlStore {
    backend: Backend,
    /// Held while the store is open: shared by servers, alone for a key rotation.
    hold: Arc<Hold>,
    pool: AnyPool,
    /// Seals travellers' personal data before it is written, and opens it when it is read.
    keyring: Arc<Keyring>,
    /// Told after every commit that wrote a notice, so this process's dispatcher and order
    /// watch need not wait for their next poll.
    notices_written: Arc<tokio::sync::watch::Sender<()>>,
}

impl SqlStore {
    /// Opens (creating if needed) the database at `url`, applies pending migrations, and checks
    /// that `keyring` opens the personal data already stored.
    pub async fn open(url: &str, keyring: Arc<Keyring>) -> Result<SqlStore, StoreError> {
        SqlStore::open_with(url, keyring, Access::Shared).await
    }

    /// Opens the store for this process alone, as a key rotation needs it: refused while a
    /// server (or `doctor`, `webhooks`) has it open, whose keyring would go on sealing with
    /// the old key.
    pub async fn open_alone(url: &str, keyring: Arc<Keyring>) -> Result<SqlStore, StoreError> {
        SqlStore::open_with(url, keyring, Access::Exclusive).await
    }

    async fn open_with(
        url: &str,
        keyring: Arc<Keyring>,
        access: Access,
    ) -> Result<SqlStore, StoreError> {
        let backend = Backend::of(url)?;
        // The `Any` connections below find their database's driver here (once per process).
        sqlx::any::install_default_drivers();
        let hold = Arc::new(Hold::take(backend, url, access).await?);
        let pool = backend.connect(url).await?;
        backend.migrate(&pool).await?;
        let store = SqlStore {
            backend,
            hold,
            pool,
            keyring,
            notices_written: Arc::new(tokio::sync::watch::Sender::new(())),
        };
        store.check_keyring().await?;
        Ok(store)
    }

    /// Closes the pool and lets go of the store: every write is on disk, and a key rotation
    /// may start.
    pub async fn close(&self) {
        self.pool.close().await;
        self.hold.release().await;
    }

    /// Seals every envelope again under the keyring's current key, in one transaction: the
    /// travellers of every plan and every platform account's tokens (a key rotation). Either all
    /// are re-sealed or none; then the tables are rewritten so that no page keeps an old one.
    pub async fn reseal_all(&self) -> Result<Resealed, StoreError> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        let plans: Vec<(String, String)> = sqlx::query_as("SELECT id, body FROM plans")
            .fetch_all(&mut *tx)
            .await
            .map_err(db)?;
        for (id, body) in &plans {
            sqlx::query("UPDATE plans SET body = $1 WHERE id = $2")
                .bind(reseal_plan(&self.keyring, body)?)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
        }
        let accounts = platform_accounts::reseal(&mut tx, &self.keyring).await?;
        tx.commit().await.map_err(db)?;
        self.backend.compact(&self.pool).await?;
        Ok(Resealed {
            plans: plans.len() as u64,
            accounts,
        })
    }

    /// Refuses a key that cannot open the latest plan: serving with it would seal new plans under
    /// one key beside older ones no key at hand opens, and fail on those later, mid-flow.
    async fn check_keyring(&self) -> Result<(), StoreError> {
        let latest: Option<String> = sqlx::query_scalar(
            "SELECT body FROM plans ORDER BY updated_at DESC, rowid DESC LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        if let Some(body) = latest {
            open_plan(&self.keyring, &body)?;
        }
        platform_accounts::check(&self.pool, &self.keyring).await
    }
}

impl SqlStore {
    /// The stored JSON document (offer, plan) of the owner's, by id.
    async fn body_of(
        &self,
        query: &'static str,
        owner: &OwnerId,
        id: &str,
    ) -> Result<Option<String>, StoreError> {
        sqlx::query_scalar(query)
            .bind(owner.as_str())
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)
    }

    async fn load_order(&self, row: &AnyRow) -> Result<Order, StoreError> {
        let currency = Currency::parse(&get::<String>(row, "currency")?)
            .map_err(|e| corrupt("currency", e))?;
        let id: String = get(row, "id")?;
        let status: String = get(row, "status")?;
        let items = sqlx::query("SELECT * FROM order_items WHERE order_id = $1 ORDER BY position")
            .bind(&id)
            .fetch_all(&self.pool)
            .await
            .map_err(db)?
            .iter()
            .map(|item| item_from_row(item, currency))
            .collect::<Result<Vec<_>, _>>()?;
        let provider: Option<String> = get(row, "payment_provider")?;
        let reference: Option<String> = get(row, "payment_reference")?;
        let payment = match (provider, reference) {
            (Some(provider), Some(reference)) => Some(PaymentRecord {
                provider,
                reference,
                action_url: get(row, "payment_action_url")?,
            }),
            _ => None,
        };
        Ok(Order {
            id: OrderId::parse(&id).map_err(|e| corrupt("order id", e))?,
            owner: OwnerId::new(get::<String>(row, "owner")?),
            plan_id: PlanId::parse(&get::<String>(row, "plan_id")?)
                .map_err(|e| corrupt("plan id", e))?,
            approval_id: ApprovalId::parse(&get::<String>(row, "approval_id")?)
                .map_err(|e| corrupt("approval id", e))?,
            status: OrderStatus::parse(&status).ok_or_else(|| corrupt("order status", &status))?,
            currency,
            authorized: money("authorized", &get::<String>(row, "authorized")?, currency)?,
            captured: money("captured", &get::<String>(row, "captured")?, currency)?,
            refunded: money("refunded", &get::<String>(row, "refunded")?, currency)?,
            goodwill_refunded: money(
                "goodwill_refunded",
                &get::<String>(row, "goodwill_refunded")?,
                currency,
            )?,
            goodwill_pending: get::<Option<String>>(row, "goodwill_pending")?
                .map(|amount| money("goodwill_pending", &amount, currency))
                .transpose()?,
            payment_via: get(row, "payment_via")?,
            payment_return_url: get(row, "payment_return_url")?,
            payment_due_by: time_opt(row, "payment_due_by")?,
            payment_method: get::<Option<String>>(row, "payment_method")?
                .map(|method| {
                    PaymentMethodToken::parse(&method).map_err(|e| corrupt("payment method", e))
                })
                .transpose()?,
            payment_failed_over: get::<String>(row, "payment_failed_over")?
                .split(',')
                .filter(|name| !name.is_empty())
                .map(str::to_string)
                .collect(),
            payment_parts: from_json("payment parts", &get::<String>(row, "payment_parts")?)?,
            payment,
            items,
            failure: get(row, "failure")?,
            created_at: time(row, "created_at")?,
            updated_at: time(row, "updated_at")?,
        })
    }

    async fn load_orders(&self, rows: &[AnyRow]) -> Result<Vec<Order>, StoreError> {
        let mut orders = Vec::with_capacity(rows.len());
        for row in rows {
            orders.push(self.load_order(row).await?);
        }
        Ok(orders)
    }

    async fn write_items(tx: &mut Transaction<'_, Any>, order: &Order) -> Result<(), StoreError> {
        for (position, item) in order.items.iter().enumerate() {
            sqlx::query(
                "INSERT INTO order_items (order_id, position, item_id, kind, title, provider, offer_id, priority, \
                 price, cancellation, status, reference, confirmation, failure, refunded) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
                 ON CONFLICT (order_id, item_id) DO UPDATE SET status = excluded.status, \
                 reference = excluded.reference, confirmation = excluded.confirmation, \
                 failure = excluded.failure, refunded = excluded.refunded, price = excluded.price",
            )
            .bind(order.id.as_str())
            .bind(position as i64)
            .bind(item.item_id.as_str())
            .bind(enum_text(&item.kind)?)
            .bind(&item.title)
            .bind(&item.provider)
            .bind(item.offer_id.as_str())
            .bind(enum_text(&item.priority)?)
            .bind(item.price.amount().to_string())
            .bind(to_json(&item.cancellation)?)
            .bind(item.status.as_str())
            .bind(&item.reference)
            .bind(&item.confirmation)
            .bind(&item.failure)
            .bind(item.refunded.map(|m| m.amount().to_string()))
            .execute(&mut **tx)
            .await
            .map_err(db)?;
        }
        Ok(())
    }

    /// Appends the order's timeline event, the event to the audit log (see `append_audit`),
    /// then its notice to the outbox (`previous`: the status before, `None` for a new order).
    async fn append_event(
        &self,
        tx: &mut Transaction<'_, Any>,
        order: &Order,
        previous: Option<OrderStatus>,
        event: &OrderEvent,
    ) -> Result<(), StoreError> {
        let sequence: i64 = sqlx::query_scalar(
            "INSERT INTO order_events (order_id, at, status, message) VALUES ($1, $2, $3, $4) \
             RETURNING seq",
        )
        .bind(order.id.as_str())
        .bind(Timestamp(event.at))
        .bind(event.status.as_str())
        .bind(&event.message)
        .fetch_one(&mut **tx)
        .await
        .map_err(db)?;
        let detail = format!("[{}] {}", event.status, event.message);
        append_audit(
            self.backend,
            tx,
            &order.owner,
            "order.event",
            order.id.as_str(),
            &detail,
        )
        .await?;
        // After the audit chain's lock (PostgreSQL): positions are then taken in commit order,
        // which the order watch relies on (only a rolled-back transaction leaves a hole).
        let notice_id = format!("evt_{}", uuid::Uuid::new_v4().simple());
        outbox::write(
            tx,
            &OrderNotice::of(notice_id, sequence, order, previous, event),
        )
        .await
    }
}

#[async_trait]
impl Store for SqlStore {
    async fn remember_offers(&self, owner: &OwnerId, offers: &[Offer]) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        let now = Utc::now();
        for offer in offers {
            sqlx::query(
                "INSERT INTO offers (owner, id, body, stored_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (owner, id) DO UPDATE SET body = excluded.body, stored_at = excluded.stored_at",
            )
            .bind(owner.as_str())
            .bind(offer.id.as_str())
            .bind(to_json(offer)?)
            .bind(Timestamp(now))
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        }
        tx.commit().await.map_err(db)
    }

    async fn offer(&self, owner: &OwnerId, id: &OfferId) -> Result<Option<Offer>, StoreError> {
        self.body_of(
            "SELECT body FROM offers WHERE owner = $1 AND id = $2",
            owner,
            id.as_str(),
        )
        .await?
        .map(|body| from_json("offer", &body))
        .transpose()
    }

    async fn insert_plan(&self, plan: &TravelPlan) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO plans (id, owner, body, created_at, updated_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(plan.id.as_str())
        .bind(plan.owner.as_str())
        .bind(seal_plan(&self.keyring, plan)?)
        .bind(Timestamp(plan.created_at))
        .bind(Timestamp(plan.updated_at))
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn update_plan(&self, plan: &TravelPlan) -> Result<(), StoreError> {
        let updated =
            sqlx::query("UPDATE plans SET body = $1, updated_at = $2 WHERE id = $3 AND owner = $4")
                .bind(seal_plan(&self.keyring, plan)?)
                .bind(Timestamp(plan.updated_at))
                .bind(plan.id.as_str())
                .bind(plan.owner.as_str())
                .execute(&self.pool)
                .await
                .map_err(db)?;
        if updated.rows_affected() == 1 {
            Ok(())
        } else {
            Err(StoreError::Conflict)
        }
    }

    async fn plan(&self, owner: &OwnerId, id: &PlanId) -> Result<Option<TravelPlan>, StoreError> {
        self.body_of(
            "SELECT body FROM plans WHERE owner = $1 AND id = $2",
            owner,
            id.as_str(),
        )
        .await?
        .map(|body| open_plan(&self.keyring, &body))
        .transpose()
    }

    async fn insert_approval(&self, approval: &Approval) -> Result<(), StoreError> {
        let mut tx = self.backend.begin_write(&self.pool).await?;
        sqlx::query(
            "INSERT INTO approvals (id, plan_id, owner, digest, cap_amount, currency, expires_at, status, method, \
             decided_at, created_at, risks) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(approval.id.as_str())
        .bind(approval.plan_id.as_str())
        .bind(approval.owner.as_str())
        .bind(&approval.digest.0)
        .bind(approval.amount_cap.amount().to_string())
        .bind(approval.amount_cap.currency().code())
        .bind(Timestamp(approval.expires_at))
        .bind(approval.status.as_str())
        .bind(approval.method.map(ApprovalMethod::as_str))
        .bind(approval.decided_at.map(Timestamp))
        .bind(Timestamp(approval.created_at))
        .bind(risk_codes(&approval.risks))
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        let (action, detail) = match approval.method {
            Some(method) => (
                "approval.approved",
                format!(
                    "plan {} approved by {} for up to {}",
                    approval.plan_id,
                    method.as_str(),
                    approval.amount_cap
                ),
            ),
            None => (
                "approval.requested",
                format!(
                    "approval of plan {} for up to {} asked for",
                    approval.plan_id, approval.amount_cap
                ),
            ),
        };
        append_audit(
            self.backend,
            &mut tx,
            &approval.owner,
            action,
            approval.id.as_str(),
            &detail,
        )
        .await?;
        tx.commit().await.map_err(db)
    }

    async fn latest_approval(
        &self,
        owner: &OwnerId,
        plan: &PlanId,
    ) -> Result<Option<Approval>, StoreError> {
        sqlx::query(
            "SELECT * FROM approvals WHERE owner = $1 AND plan_id = $2 ORDER BY created_at DESC, rowid DESC LIMIT 1",
        )
        .bind(owner.as_str())
        .bind(plan.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        .map(|row| approval_from_row(&row))
        .transpose()
    }

    async fn approval(&self, id: &ApprovalId) -> Result<Option<Approval>, StoreError> {
        sqlx::query("SELECT * FROM approvals WHERE id = $1")
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?
            .map(|row| approval_from_row(&row))
            .transpose()
    }

    async fn decide_approval(
        &self,
        id: &ApprovalId,
        status: ApprovalStatus,
        method: ApprovalMethod,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.backend.begin_write(&self.pool).await?;
        let decided: Option<(String, String)> = sqlx::query_as(
            "UPDATE approvals SET status = $1, method = $2, decided_at = $3 WHERE id = $4 AND status = 'pending' \
             RETURNING owner, plan_id",
        )
        .bind(status.as_str())
        .bind(method.as_str())
        .bind(Timestamp(at))
        .bind(id.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?;
        let Some((owner, plan)) = decided else {
            return Ok(false);
        };
        let detail = format!("plan {plan} {} by {}", status.as_str(), method.as_str());
        append_audit(
            self.backend,
            &mut tx,
            &OwnerId::new(owner),
            &format!("approval.{}", status.as_str()),
            id.as_str(),
            &detail,
        )
        .await?;
        tx.commit().await.map_err(db)?;
        Ok(true)
    }

    async fn create_order(&self, order: &Order, event: &OrderEvent) -> Result<Created, StoreError> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        let inserted = sqlx::query(
            "INSERT INTO orders (id, owner, plan_id, approval_id, status, currency, authorized, captured, refunded, \
             failure, created_at, updated_at, payment_via, payment_return_url, payment_method, payment_parts) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
             ON CONFLICT (approval_id) DO NOTHING",
        )
        .bind(order.id.as_str())
        .bind(order.owner.as_str())
        .bind(order.plan_id.as_str())
        .bind(order.approval_id.as_str())
        .bind(order.status.as_str())
        .bind(order.currency.code())
        .bind(order.authorized.amount().to_string())
        .bind(order.captured.amount().to_string())
        .bind(order.refunded.amount().to_string())
        .bind(&order.failure)
        .bind(Timestamp(order.created_at))
        .bind(Timestamp(order.updated_at))
        .bind(&order.payment_via)
        .bind(&order.payment_return_url)
        .bind(order.payment_method.as_ref().map(PaymentMethodToken::as_str))
        .bind(to_json(&order.payment_parts)?)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        if inserted.rows_affected() == 0 {
            tx.rollback().await.map_err(db)?;
            let row = sqlx::query("SELECT * FROM orders WHERE approval_id = $1 AND owner = $2")
                .bind(order.approval_id.as_str())
                .bind(order.owner.as_str())
                .fetch_one(&self.pool)
                .await
                .map_err(db)?;
            return Ok(Created::Existing(self.load_order(&row).await?));
        }
        Self::write_items(&mut tx, order).await?;
        self.append_event(&mut tx, order, None, event).await?;
        tx.commit().await.map_err(db)?;
        self.notices_written.send_replace(());
        Ok(Created::New(order.clone()))
    }

    async fn save_order(
        &self,
        order: &Order,
        expected: OrderStatus,
        event: &OrderEvent,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        let payment = order.payment.as_ref();
        let updated = sqlx::query(
            "UPDATE orders SET status = $1, authorized = $2, captured = $3, refunded = $4, payment_provider = $5, \
             payment_reference = $6, payment_action_url = $7, payment_due_by = $8, payment_via = $9, \
             payment_method = $10, payment_failed_over = $11, payment_parts = $12, goodwill_refunded = $13, \
             goodwill_pending = $14, failure = $15, updated_at = $16 \
             WHERE id = $17 AND owner = $18 AND status = $19",
        )
        .bind(order.status.as_str())
        .bind(order.authorized.amount().to_string())
        .bind(order.captured.amount().to_string())
        .bind(order.refunded.amount().to_string())
        .bind(payment.map(|p| p.provider.as_str()))
        .bind(payment.map(|p| p.reference.as_str()))
        .bind(payment.and_then(|p| p.action_url.as_deref()))
        .bind(order.payment_due_by.map(Timestamp))
        .bind(&order.payment_via)
        .bind(order.payment_method.as_ref().map(PaymentMethodToken::as_str))
        .bind(order.payment_failed_over.join(","))
        .bind(to_json(&order.payment_parts)?)
        .bind(order.goodwill_refunded.amount().to_string())
        .bind(order.goodwill_pending.map(|amount| amount.amount().to_string()))
        .bind(&order.failure)
        .bind(Timestamp(order.updated_at))
        .bind(order.id.as_str())
        .bind(order.owner.as_str())
        .bind(expected.as_str())
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        if updated.rows_affected() != 1 {
            tx.rollback().await.map_err(db)?;
            return Err(StoreError::Conflict);
        }
        Self::write_items(&mut tx, order).await?;
        self.append_event(&mut tx, order, Some(expected), event)
            .await?;
        tx.commit().await.map_err(db)?;
        self.notices_written.send_replace(());
        Ok(())
    }

    async fn order(&self, owner: &OwnerId, id: &OrderId) -> Result<Option<Order>, StoreError> {
        let row = sqlx::query("SELECT * FROM orders WHERE owner = $1 AND id = $2")
            .bind(owner.as_str())
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?;
        match row {
            Some(row) => Ok(Some(self.load_order(&row).await?)),
            None => Ok(None),
        }
    }

    async fn timeline(&self, owner: &OwnerId, id: &OrderId) -> Result<Vec<OrderEvent>, StoreError> {
        sqlx::query(
            "SELECT e.at, e.status, e.message FROM order_events e JOIN orders o ON o.id = e.order_id \
             WHERE o.owner = $1 AND e.order_id = $2 ORDER BY e.seq",
        )
        .bind(owner.as_str())
        .bind(id.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(db)?
        .iter()
        .map(|row| {
            let status: String = get(row, "status")?;
            Ok(OrderEvent {
                at: time(row, "at")?,
                status: OrderStatus::parse(&status).ok_or_else(|| corrupt("event status", &status))?,
                message: get(row, "message")?,
            })
        })
        .collect()
    }

    async fn list_orders(
        &self,
        owner: &OwnerId,
        filter: &OrderFilter,
    ) -> Result<Vec<Order>, StoreError> {
        let rows = sqlx::query(
            "SELECT * FROM orders WHERE owner = $1 AND ($2 IS NULL OR status = $2) AND ($3 IS NULL OR plan_id = $3) \
             ORDER BY created_at DESC, rowid DESC LIMIT CAST($4 AS INTEGER)",
        )
        .bind(owner.as_str())
        .bind(filter.status.map(OrderStatus::as_str))
        .bind(filter.plan.as_ref().map(PlanId::as_str))
        .bind(i64::from(filter.limit.max(1)))
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        self.load_orders(&rows).await
    }

    async fn begin_step(&self, step: &SagaStep) -> Result<Option<StepState>, StoreError> {
        let mut tx = self.backend.begin_write(&self.pool).await?;
        // Inserted first: of two writers beginning the same step at once, one inserts and the
        // other, once the first has committed, finds its intent (a read first would let both
        // see no step on PostgreSQL, and both send the call as if for the first time).
        let inserted = sqlx::query(
            "INSERT INTO saga_steps (key, order_id, item_id, operation, state, attempts, started_at, provider) \
             VALUES ($1, $2, $3, $4, 'intent', 1, $5, $6) ON CONFLICT (key) DO NOTHING",
        )
        .bind(&step.key)
        .bind(step.order_id.as_str())
        .bind(step.item_id.as_ref().map(ItemId::as_str))
        .bind(&step.operation)
        .bind(Timestamp(step.started_at))
        .bind(step.provider.as_deref())
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        if inserted.rows_affected() == 1 {
            tx.commit().await.map_err(db)?;
            return Ok(None);
        }
        // FOR UPDATE is SQLite's default under its write lock; PostgreSQL needs it said.
        let previous_sql = match self.backend {
            Backend::Sqlite => "SELECT state FROM saga_steps WHERE key = $1",
            Backend::Postgres => "SELECT state FROM saga_steps WHERE key = $1 FOR UPDATE",
        };
        let previous: String = sqlx::query_scalar(previous_sql)
            .bind(&step.key)
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
        sqlx::query(
            "UPDATE saga_steps SET state = 'intent', attempts = attempts + 1, finished_at = NULL WHERE key = $1",
        )
        .bind(&step.key)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)?;
        StepState::parse(&previous)
            .map(Some)
            .ok_or_else(|| corrupt("step state", &previous))
    }

    async fn finish_step(
        &self,
        key: &str,
        state: StepState,
        detail: &str,
        resends: u32,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE saga_steps SET state = $1, detail = $2, attempts = attempts + $3, finished_at = $4 WHERE key = $5",
        )
        .bind(state.as_str())
        .bind(detail)
        .bind(i64::from(resends))
        .bind(Timestamp(at))
        .bind(key)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn steps(&self, owner: &OwnerId, order: &OrderId) -> Result<Vec<SagaStep>, StoreError> {
        sqlx::query(
            "SELECT s.* FROM saga_steps s JOIN orders o ON o.id = s.order_id \
             WHERE o.owner = $1 AND s.order_id = $2 ORDER BY s.started_at, s.rowid",
        )
        .bind(owner.as_str())
        .bind(order.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(db)?
        .iter()
        .map(step_from_row)
        .collect()
    }

    async fn orders_needing_attention(&self) -> Result<Vec<Order>, StoreError> {
        let rows = sqlx::query(
            "SELECT * FROM orders o WHERE EXISTS ( \
                 SELECT 1 FROM saga_steps s WHERE s.order_id = o.id AND ( \
                     (s.operation IN ('cancel', 'void', 'refund') AND s.state = 'failed') \
                     OR (s.operation = 'book' AND s.state = 'failed' AND s.detail LIKE $1) \
                     OR (s.state IN ('intent', 'pending_reconciliation') \
                         AND (o.status IN ('draft', 'payment_pending', 'payment_processing', 'refund_requested') \
                              OR (s.operation = 'refund' AND o.goodwill_pending IS NOT NULL))))) \
             ORDER BY o.created_at, o.rowid",
        )
        .bind(format!("%{}%", crate::ports::booking::MAY_HOLD_A_BOOKING))
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        self.load_orders(&rows).await
    }

    async fn record_audit(
        &self,
        owner: &OwnerId,
        action: &str,
        subject: &str,
        detail: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.backend.begin_write(&self.pool).await?;
        append_audit(self.backend, &mut tx, owner, action, subject, detail).await?;
        tx.commit().await.map_err(db)
    }

    async fn audit_log(&self, owner: Option<&OwnerId>) -> Result<Vec<AuditEntry>, StoreError> {
        sqlx::query("SELECT * FROM audit_log WHERE ($1 IS NULL OR owner = $1) ORDER BY seq")
            .bind(owner.map(OwnerId::as_str))
            .fetch_all(&self.pool)
            .await
            .map_err(db)?
            .iter()
            .map(audit_from_row)
            .collect()
    }

    async fn order_for_payment(
        &self,
        provider: &str,
        reference: &str,
    ) -> Result<Option<Order>, StoreError> {
        let row = sqlx::query(self.backend.order_for_payment_sql())
            .bind(provider)
            .bind(reference)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?;
        match row {
            Some(row) => Ok(Some(self.load_order(&row).await?)),
            None => Ok(None),
        }
    }

    async fn claim_mode(&self, mode: &str) -> Result<String, StoreError> {
        sqlx::query("INSERT INTO store_mode (id, mode) VALUES (1, $1) ON CONFLICT (id) DO NOTHING")
            .bind(mode)
            .execute(&self.pool)
            .await
            .map_err(db)?;
        sqlx::query_scalar("SELECT mode FROM store_mode WHERE id = 1")
            .fetch_one(&self.pool)
            .await
            .map_err(db)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(drop)
            .map_err(db)
    }

    async fn claim_lease(
        &self,
        key: &str,
        holder: &str,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        leases::claim(&self.pool, key, holder, until, now).await
    }

    async fn renew_lease(
        &self,
        key: &str,
        holder: &str,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        leases::renew(&self.pool, key, holder, until).await
    }

    async fn release_lease(&self, key: &str, holder: &str) -> Result<(), StoreError> {
        leases::release(&self.pool, key, holder).await
    }

    async fn lease_holders(&self) -> Result<Vec<String>, StoreError> {
        leases::holders(&self.pool).await
    }

    async fn release_leases_of(&self, holder: &str) -> Result<u64, StoreError> {
        leases::release_all(&self.pool, holder).await
    }

    async fn claim_unsettled_orders(
        &self,
        holder: &str,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
        after: Option<&Order>,
        limit: u32,
    ) -> Result<Vec<Order>, StoreError> {
        let after = after.map(|order| (order.created_at, order.id.as_str()));
        let ids =
            leases::claim_unsettled(self.backend, &self.pool, holder, until, now, after, limit)
                .await?;
        let mut orders = Vec::with_capacity(ids.len());
        for id in ids {
            let row = sqlx::query("SELECT * FROM orders WHERE id = $1")
                .bind(&id)
                .fetch_one(&self.pool)
                .await
                .map_err(db)?;
            orders.push(self.load_order(&row).await?);
        }
        // RETURNING promises no order; the caller pages on the last one.
        orders.sort_by(|a, b| (a.created_at, a.id.as_str()).cmp(&(b.created_at, b.id.as_str())));
        Ok(orders)
    }

    async fn metric_facts(
        &self,
        owner: Option<&OwnerId>,
        since: DateTime<Utc>,
    ) -> Result<MetricFacts, StoreError> {
        metrics::facts(&self.pool, owner, since).await
    }

    async fn notices_to_fan_out(&self, limit: u32) -> Result<Vec<OrderNotice>, StoreError> {
        outbox::to_fan_out(&self.pool, limit).await
    }

    async fn fan_out_notices(
        &self,
        batch: &[(String, Vec<String>)],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        outbox::fan_out(&self.pool, batch, now).await
    }

    async fn fan_out_to_no_channel(&self) -> Result<u64, StoreError> {
        outbox::fan_out_to_no_channel(&self.pool).await
    }

    async fn claim_deliveries(
        &self,
        holder: &str,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
        channels: &[String],
        limit: u32,
    ) -> Result<Vec<Delivery>, StoreError> {
        outbox::claim_due(
            self.backend,
            &self.pool,
            holder,
            until,
            now,
            channels,
            limit,
        )
        .await
    }

    async fn finish_delivery(
        &self,
        delivery: &Delivery,
        holder: &str,
        outcome: &DeliveryOutcome,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        outbox::finish(&self.pool, delivery, holder, outcome, now).await
    }

    async fn deliveries(
        &self,
        state: DeliveryState,
        limit: u32,
    ) -> Result<Vec<DeliveryRecord>, StoreError> {
        outbox::list(&self.pool, state, limit).await
    }

    async fn requeue_deliveries(
        &self,
        notice_id: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        outbox::requeue(&self.pool, notice_id, now).await
    }

    async fn notices_after(
        &self,
        seq: i64,
        limit: u32,
    ) -> Result<Vec<(i64, OrderNotice)>, StoreError> {
        outbox::after(&self.pool, seq, limit).await
    }

    fn notices_written(&self) -> tokio::sync::watch::Receiver<()> {
        self.notices_written.subscribe()
    }

    async fn last_notice_seq(&self) -> Result<i64, StoreError> {
        outbox::last_seq(&self.pool).await
    }

    async fn delivered(&self, provider: &str, event_id: &str) -> Result<bool, StoreError> {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM webhook_events WHERE provider = $1 AND event_id = $2",
        )
        .bind(provider)
        .bind(event_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        Ok(found.is_some())
    }

    async fn record_delivery(
        &self,
        provider: &str,
        event_id: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let inserted = sqlx::query(
            "INSERT INTO webhook_events (provider, event_id, received_at) VALUES ($1, $2, $3) \
             ON CONFLICT (provider, event_id) DO NOTHING",
        )
        .bind(provider)
        .bind(event_id)
        .bind(Timestamp(at))
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(inserted.rows_affected() == 1)
    }

    async fn order_totals_since(
        &self,
        owner: &OwnerId,
        since: DateTime<Utc>,
    ) -> Result<Vec<OrderTotals>, StoreError> {
        sqlx::query(
            "SELECT plan_id, status, currency, authorized, captured, refunded, created_at FROM orders \
             WHERE owner = $1 AND created_at >= $2 ORDER BY created_at, rowid",
        )
        .bind(owner.as_str())
        .bind(Timestamp(since))
        .fetch_all(&self.pool)
        .await
        .map_err(db)?
        .iter()
        .map(totals_from_row)
        .collect()
    }

    async fn insert_method_setup(&self, setup: &MethodSetup) -> Result<(), StoreError> {
        saved_methods::insert_setup(&self.pool, setup).await
    }

    async fn method_setups(
        &self,
        owner: &OwnerId,
        since: DateTime<Utc>,
    ) -> Result<Vec<MethodSetup>, StoreError> {
        saved_methods::setups(&self.pool, owner, since).await
    }

    async fn settle_method_setup(
        &self,
        owner: &OwnerId,
        setup: &SetupId,
        outcome: &SetupOutcome,
    ) -> Result<bool, StoreError> {
        saved_methods::settle(self.backend, &self.pool, owner, setup, outcome).await
    }

    async fn saved_methods(&self, owner: &OwnerId) -> Result<Vec<SavedMethod>, StoreError> {
        saved_methods::saved_methods(&self.pool, owner).await
    }

    async fn saved_method(
        &self,
        token: &PaymentMethodToken,
    ) -> Result<Option<SavedMethod>, StoreError> {
        saved_methods::saved_method(&self.pool, token).await
    }

    async fn provider_customer(
        &self,
        owner: &OwnerId,
        provider: &str,
    ) -> Result<Option<String>, StoreError> {
        saved_methods::provider_customer(&self.pool, owner, provider).await
    }

    async fn save_platform_account(
        &self,
        account: &PlatformAccount,
        replacing: Option<DateTime<Utc>>,
    ) -> Result<bool, StoreError> {
        platform_accounts::save(&self.pool, &self.keyring, account, replacing).await
    }

    async fn platform_account(
        &self,
        owner: &OwnerId,
        platform: &str,
    ) -> Result<Option<PlatformAccount>, StoreError> {
        platform_accounts::find(&self.pool, &self.keyring, owner, platform).await
    }

    async fn delete_platform_account(
        &self,
        owner: &OwnerId,
        platform: &str,
        only_if_refreshed_at: Option<DateTime<Utc>>,
    ) -> Result<bool, StoreError> {
        platform_accounts::delete(&self.pool, owner, platform, only_if_refreshed_at).await
    }
}
