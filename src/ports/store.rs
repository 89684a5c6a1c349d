//! Persistence of offers, plans, approvals and orders, scoped by owner.
//!
//! Every change to an order is saved together with its timeline event in one transaction, and only
//! if the order is still in the status the caller read: two writers can never both move it.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::crypto::CryptoError;
use crate::domain::approval::{Approval, ApprovalMethod, ApprovalStatus};
use crate::domain::audit::AuditEntry;
use crate::domain::ids::{ApprovalId, OfferId, OrderId, OwnerId, PlanId};
use crate::domain::ids::{PaymentMethodToken, SetupId};
use crate::domain::metrics::MetricFacts;
use crate::domain::notice::{
    Delivery, DeliveryOutcome, DeliveryRecord, DeliveryState, OrderNotice,
};
use crate::domain::offer::Offer;
use crate::domain::order::{Order, OrderEvent, OrderStatus, OrderTotals};
use crate::domain::plan::TravelPlan;
use crate::domain::platform::PlatformAccount;
use crate::domain::saga::{SagaStep, StepState};
use crate::domain::saved_method::{MethodSetup, SavedMethod};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "the order changed while this request was working on it; call get_booking_status to see where it stands"
    )]
    Conflict,
    #[error("stored data could not be read ({0}); the database may be from a newer Itinera")]
    Corrupt(String),
    /// Another process uses the store in a way this one cannot share.
    #[error("{0}")]
    InUse(String),
    /// Encrypted personal data that this server's keys cannot open.
    #[error("{what} cannot be opened: {source}")]
    Sealed { what: String, source: CryptoError },
    #[error("database error: {0}")]
    Database(String),
    #[error("this payment method was saved by someone else and cannot be saved again")]
    MethodTaken,
}

/// How a pending setup ended.
#[derive(Debug, Clone)]
pub enum SetupOutcome {
    Saved(SavedMethod),
    Abandoned(String),
}

/// Whether an order was created by this call or already existed for the approval.
#[derive(Debug)]
pub enum Created {
    New(Order),
    Existing(Order),
}

/// Which orders to list.
#[derive(Debug, Clone, Default)]
pub struct OrderFilter {
    pub status: Option<OrderStatus>,
    pub plan: Option<PlanId>,
    pub limit: u32,
}

#[async_trait]
pub trait Store: Send + Sync {
    /// Keeps search results so plans can be built from offer ids.
    async fn remember_offers(&self, owner: &OwnerId, offers: &[Offer]) -> Result<(), StoreError>;
    async fn offer(&self, owner: &OwnerId, id: &OfferId) -> Result<Option<Offer>, StoreError>;

    async fn insert_plan(&self, plan: &TravelPlan) -> Result<(), StoreError>;
    async fn update_plan(&self, plan: &TravelPlan) -> Result<(), StoreError>;
    async fn plan(&self, owner: &OwnerId, id: &PlanId) -> Result<Option<TravelPlan>, StoreError>;

    async fn insert_approval(&self, approval: &Approval) -> Result<(), StoreError>;
    /// The most recent approval requested for the plan.
    async fn latest_approval(
        &self,
        owner: &OwnerId,
        plan: &PlanId,
    ) -> Result<Option<Approval>, StoreError>;
    async fn approval(&self, id: &ApprovalId) -> Result<Option<Approval>, StoreError>;
    /// Records the person's answer, only while the approval is still pending.
    async fn decide_approval(
        &self,
        id: &ApprovalId,
        status: ApprovalStatus,
        method: ApprovalMethod,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool, StoreError>;

    /// Creates the order for an approval, or returns the one that already exists: one approval
    /// can only ever be executed once.
    async fn create_order(&self, order: &Order, event: &OrderEvent) -> Result<Created, StoreError>;
    /// Saves the order and appends `event`, if the stored status is still `expected`.
    async fn save_order(
        &self,
        order: &Order,
        expected: OrderStatus,
        event: &OrderEvent,
    ) -> Result<(), StoreError>;
    async fn order(&self, owner: &OwnerId, id: &OrderId) -> Result<Option<Order>, StoreError>;
    async fn timeline(&self, owner: &OwnerId, id: &OrderId) -> Result<Vec<OrderEvent>, StoreError>;
    async fn list_orders(
        &self,
        owner: &OwnerId,
        filter: &OrderFilter,
    ) -> Result<Vec<Order>, StoreError>;

    /// Writes the intent of an outbound call before it is made; a call sent again under the same
    /// key (after a restart) counts one more attempt and is an intent again. Returns the state the
    /// step was in before, if it was sent already.
    async fn begin_step(&self, step: &SagaStep) -> Result<Option<StepState>, StoreError>;
    /// Records what came of the call, and how many more times it was sent to get there.
    async fn finish_step(
        &self,
        key: &str,
        state: StepState,
        detail: &str,
        resends: u32,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), StoreError>;
    /// An order's saga log, oldest first.
    async fn steps(&self, owner: &OwnerId, order: &OrderId) -> Result<Vec<SagaStep>, StoreError>;
    /// Orders of every owner whose saga log shows something a person may have to settle: a
    /// cancellation, release or refund the provider refused, or a call still unanswered.
    async fn orders_needing_attention(&self) -> Result<Vec<Order>, StoreError>;
    /// Appends an audit entry for something that changed no other record (a refusal, say).
    async fn record_audit(
        &self,
        owner: &OwnerId,
        action: &str,
        subject: &str,
        detail: &str,
    ) -> Result<(), StoreError>;
    /// Audit entries, oldest first: one owner's, or (for verification) everyone's.
    async fn audit_log(&self, owner: Option<&OwnerId>) -> Result<Vec<AuditEntry>, StoreError>;
    /// The order paid by this payment at this provider, whoever owns it (provider events name
    /// the payment, not the owner).
    async fn order_for_payment(
        &self,
        provider: &str,
        reference: &str,
    ) -> Result<Option<Order>, StoreError>;
    /// Whether a provider event was already handled.
    /// The mode (`sandbox` or `live`) the store belongs to: `mode` if it had none yet (it is
    /// recorded), else the one recorded, which may differ.
    async fn claim_mode(&self, mode: &str) -> Result<String, StoreError>;
    /// Whether the database answers (a readiness check).
    async fn ping(&self) -> Result<(), StoreError>;
    /// Takes the lease on `key` for `holder` until `until`, when nobody holds it, it expired
    /// (before `now`), or `holder` has it already; whether `holder` has it now.
    async fn claim_lease(
        &self,
        key: &str,
        holder: &str,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Extends a lease `holder` still has; false when it was lost (expired and taken, or gone).
    async fn renew_lease(
        &self,
        key: &str,
        holder: &str,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Gives up a lease `holder` has (nothing when it has none).
    async fn release_lease(&self, key: &str, holder: &str) -> Result<(), StoreError>;
    /// Every process holding a lease now.
    async fn lease_holders(&self) -> Result<Vec<String>, StoreError>;
    /// Drops every lease of `holder`, a process known to be gone; how many.
    async fn release_leases_of(&self, holder: &str) -> Result<u64, StoreError>;
    /// Claims (leases `order:<id>` for `holder` until `until`) up to `limit` unsettled orders of
    /// every owner that no process holds, oldest first, created after `after` (the last order of
    /// the previous page), and returns them: what one recovery pass resumes, page by page.
    /// Processes claiming at once never get the same order.
    async fn claim_unsettled_orders(
        &self,
        holder: &str,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
        after: Option<&Order>,
        limit: u32,
    ) -> Result<Vec<Order>, StoreError>;
    /// What the business metrics of orders created since `since` are computed from: one
    /// owner's, or (for the operator) everyone's.
    async fn metric_facts(
        &self,
        owner: Option<&OwnerId>,
        since: DateTime<Utc>,
    ) -> Result<MetricFacts, StoreError>;
    /// Notices (the outbox every order change writes to) whose deliveries are not written yet,
    /// oldest first.
    async fn notices_to_fan_out(&self, limit: u32) -> Result<Vec<OrderNotice>, StoreError>;
    /// Writes each notice's delivery to each of its channels (`(notice id, channels)`), due at
    /// `now`, and marks it fanned out, the batch in one transaction; done twice, each delivery
    /// is still written once.
    async fn fan_out_notices(
        &self,
        batch: &[(String, Vec<String>)],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Marks every notice not yet fanned out as fanned out, with no delivery, without reading
    /// them: what a process with no channel does (one statement instead of reading, decoding
    /// and marking each). The number marked.
    async fn fan_out_to_no_channel(&self) -> Result<u64, StoreError>;
    /// Claims (leases `delivery:<notice> <channel>` for `holder` until `until`) up to `limit`
    /// pending deliveries to `channels` due by `now` that no process is sending; processes
    /// claiming at once never get the same one, and none gets a channel it cannot send.
    async fn claim_deliveries(
        &self,
        holder: &str,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
        channels: &[String],
        limit: u32,
    ) -> Result<Vec<Delivery>, StoreError>;
    /// Records what came of one attempt at a claimed delivery and gives up its lease.
    async fn finish_delivery(
        &self,
        delivery: &Delivery,
        holder: &str,
        outcome: &DeliveryOutcome,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Deliveries in `state` (the dead-letter list: `Dead`), most recently changed first.
    async fn deliveries(
        &self,
        state: DeliveryState,
        limit: u32,
    ) -> Result<Vec<DeliveryRecord>, StoreError>;
    /// Queues dead deliveries again (one notice's, or every one), due at `now`; how many.
    async fn requeue_deliveries(
        &self,
        notice_id: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError>;
    /// Notices written after position `seq`, with their positions, in position order: what a
    /// process follows to tell its MCP clients about orders that changed anywhere.
    async fn notices_after(
        &self,
        seq: i64,
        limit: u32,
    ) -> Result<Vec<(i64, OrderNotice)>, StoreError>;
    /// Changes after each commit of this process that wrote a notice.
    fn notices_written(&self) -> tokio::sync::watch::Receiver<()>;
    /// The position of the last notice written (0: none yet).
    async fn last_notice_seq(&self) -> Result<i64, StoreError>;
    async fn delivered(&self, provider: &str, event_id: &str) -> Result<bool, StoreError>;
    /// Notes a provider event as handled; false when it already was.
    async fn record_delivery(
        &self,
        provider: &str,
        event_id: &str,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool, StoreError>;
    /// The totals of the owner's orders created since `since`, oldest first, for spending
    /// limits and risk checks.
    async fn order_totals_since(
        &self,
        owner: &OwnerId,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<OrderTotals>, StoreError>;

    /// Records a page opened for the person to save a payment method.
    async fn insert_method_setup(&self, setup: &MethodSetup) -> Result<(), StoreError>;
    /// The owner's setups created since `since`, newest first.
    async fn method_setups(
        &self,
        owner: &OwnerId,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<MethodSetup>, StoreError>;
    /// Ends a pending setup of the owner's, saving the method with it; false (and nothing
    /// changed) when it was no longer pending, so asking twice never saves twice. A token
    /// already saved by someone else is refused.
    async fn settle_method_setup(
        &self,
        owner: &OwnerId,
        setup: &SetupId,
        outcome: &SetupOutcome,
    ) -> Result<bool, StoreError>;
    /// The owner's saved payment methods, oldest first.
    async fn saved_methods(&self, owner: &OwnerId) -> Result<Vec<SavedMethod>, StoreError>;
    /// The saved method with this token, whoever saved it: to refuse someone else's.
    async fn saved_method(
        &self,
        token: &PaymentMethodToken,
    ) -> Result<Option<SavedMethod>, StoreError>;
    /// The owner's customer at this provider from an earlier setup, to attach new methods to.
    async fn provider_customer(
        &self,
        owner: &OwnerId,
        provider: &str,
    ) -> Result<Option<String>, StoreError>;

    /// Keeps the person's platform account (the token vault), its tokens sealed. `replacing`:
    /// `None` for a sign-in (it replaces any earlier one); for a refresh, when the account read
    /// was refreshed, and it is written only if it is still that one (false: another writer
    /// got there first, nothing written).
    async fn save_platform_account(
        &self,
        account: &PlatformAccount,
        replacing: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<bool, StoreError>;
    /// The person's account at `platform`, tokens opened.
    async fn platform_account(
        &self,
        owner: &OwnerId,
        platform: &str,
    ) -> Result<Option<PlatformAccount>, StoreError>;
    /// Forgets the person's account at `platform` (with `only_if_refreshed_at`, only if it is
    /// still the one refreshed then); whether one was deleted.
    async fn delete_platform_account(
        &self,
        owner: &OwnerId,
        platform: &str,
        only_if_refreshed_at: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<bool, StoreError>;
}
