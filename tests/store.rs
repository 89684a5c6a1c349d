//! The order store's guarantees, on a real SQLite file: one order per approval, status
//! compare-and-set, every change with its timeline event, and owners never see each other's data.

use chrono::{Duration, Utc};
use std::sync::Arc;

use itinera::adapters::store::sqlite::SqliteStore;
use itinera::crypto::{Keyring, MasterKey};
use itinera::domain::approval::{Approval, ApprovalMethod, ApprovalStatus, PlanDigest};
use itinera::domain::ids::PaymentMethodToken;
use itinera::domain::ids::{ApprovalId, ItemId, OfferId, OrderId, OwnerId, PlanId};
use itinera::domain::money::{Currency, Money};
use itinera::domain::offer::{CancellationPolicy, ItemKind};
use itinera::domain::order::{ItemStatus, Order, OrderEvent, OrderItem, OrderStatus};
use itinera::domain::plan::{Priority, TravelPlan};
use itinera::domain::risk::RiskKind;
use itinera::ports::Store;
use itinera::ports::StoreError;
use itinera::ports::store::{Created, OrderFilter};

async fn store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("store.db").display());
    let keyring = Arc::new(Keyring::new(&MasterKey::generate().unwrap()));
    (dir, SqliteStore::open(&url, keyring).await.unwrap())
}

fn eur(amount: &str) -> Money {
    Money::parse(amount, "EUR").unwrap()
}

async fn plan_and_approval(store: &SqliteStore, owner: &OwnerId) -> (TravelPlan, Approval) {
    let now = Utc::now();
    let plan = TravelPlan {
        id: PlanId::generate(),
        owner: owner.clone(),
        title: "Test".into(),
        currency: Currency::parse("EUR").unwrap(),
        travellers: vec![],
        items: vec![],
        budget: None,
        payment_method: PaymentMethodToken::parse("pm_sandbox_visa").unwrap(),
        payment_preference: Default::default(),
        payment_split: Vec::new(),
        created_at: now,
        updated_at: now,
    };
    store.insert_plan(&plan).await.unwrap();
    let approval = Approval {
        id: ApprovalId::generate(),
        plan_id: plan.id.clone(),
        owner: owner.clone(),
        digest: PlanDigest("d".into()),
        amount_cap: eur("100"),
        expires_at: now + Duration::minutes(30),
        status: ApprovalStatus::Pending,
        method: None,
        decided_at: None,
        created_at: now,
        risks: vec![RiskKind::Velocity, RiskKind::NewPaymentMethod],
    };
    store.insert_approval(&approval).await.unwrap();
    (plan, approval)
}

fn order(plan: &TravelPlan, approval: &Approval) -> Order {
    let now = Utc::now();
    Order {
        id: OrderId::generate(),
        owner: plan.owner.clone(),
        plan_id: plan.id.clone(),
        approval_id: approval.id.clone(),
        status: OrderStatus::Draft,
        currency: plan.currency,
        authorized: eur("100"),
        captured: eur("0"),
        refunded: eur("0"),
        goodwill_refunded: eur("0"),
        goodwill_pending: None,
        payment_via: "stripe".into(),
        payment_return_url: Some("http://127.0.0.1:9/payment-complete".into()),
        payment_due_by: None,
        payment_method: None,
        payment_failed_over: Vec::new(),
        payment_parts: Vec::new(),
        payment: None,
        items: vec![OrderItem {
            item_id: ItemId::generate(),
            kind: ItemKind::Hotel,
            title: "Hotel".into(),
            provider: "sandbox".into(),
            offer_id: OfferId::parse("off_ht_1").unwrap(),
            priority: Priority::MustHave,
            price: eur("100"),
            cancellation: CancellationPolicy::NonRefundable,
            status: ItemStatus::Pending,
            reference: None,
            confirmation: None,
            failure: None,
            refunded: None,
        }],
        failure: None,
        created_at: now,
        updated_at: now,
    }
}

fn event(status: OrderStatus, message: &str) -> OrderEvent {
    OrderEvent {
        at: Utc::now(),
        status,
        message: message.into(),
    }
}

#[tokio::test]
async fn one_approval_yields_one_order() {
    let (_dir, store) = store().await;
    let owner = OwnerId::new("alice");
    let (plan, approval) = plan_and_approval(&store, &owner).await;
    let first = order(&plan, &approval);
    assert!(matches!(
        store
            .create_order(&first, &event(OrderStatus::Draft, "created"))
            .await
            .unwrap(),
        Created::New(_)
    ));
    let second = order(&plan, &approval);
    match store
        .create_order(&second, &event(OrderStatus::Draft, "created"))
        .await
        .unwrap()
    {
        Created::Existing(existing) => {
            assert_eq!(existing.id, first.id);
            assert_eq!(existing.payment_via, "stripe", "the provider is kept");
        }
        Created::New(_) => panic!("a second order was created for the same approval"),
    }
}

#[tokio::test]
async fn a_save_from_a_stale_status_is_refused_and_writes_nothing() {
    let (_dir, store) = store().await;
    let owner = OwnerId::new("alice");
    let (plan, approval) = plan_and_approval(&store, &owner).await;
    let mut stored = order(&plan, &approval);
    store
        .create_order(&stored, &event(OrderStatus::Draft, "created"))
        .await
        .unwrap();

    stored.status = OrderStatus::PaymentPending;
    stored.items[0].status = ItemStatus::Booked;
    store
        .save_order(
            &stored,
            OrderStatus::Draft,
            &event(OrderStatus::PaymentPending, "hold"),
        )
        .await
        .unwrap();

    let mut stale = stored.clone();
    stale.status = OrderStatus::Cancelled;
    let refused = store
        .save_order(
            &stale,
            OrderStatus::Draft,
            &event(OrderStatus::Cancelled, "late"),
        )
        .await;
    assert!(matches!(refused, Err(StoreError::Conflict)));

    let loaded = store.order(&owner, &stored.id).await.unwrap().unwrap();
    assert_eq!(loaded.status, OrderStatus::PaymentPending);
    assert_eq!(loaded.items[0].status, ItemStatus::Booked);
    let timeline = store.timeline(&owner, &stored.id).await.unwrap();
    assert_eq!(
        timeline
            .iter()
            .map(|e| e.message.as_str())
            .collect::<Vec<_>>(),
        ["created", "hold"]
    );
}

#[tokio::test]
async fn owners_never_see_each_others_data() {
    let (_dir, store) = store().await;
    let alice = OwnerId::new("alice");
    let bob = OwnerId::new("bob");
    let (plan, approval) = plan_and_approval(&store, &alice).await;
    let created = order(&plan, &approval);
    store
        .create_order(&created, &event(OrderStatus::Draft, "created"))
        .await
        .unwrap();

    assert!(store.plan(&bob, &plan.id).await.unwrap().is_none());
    assert!(
        store
            .latest_approval(&bob, &plan.id)
            .await
            .unwrap()
            .is_none()
    );
    assert!(store.order(&bob, &created.id).await.unwrap().is_none());
    assert!(store.timeline(&bob, &created.id).await.unwrap().is_empty());
    let filter = OrderFilter {
        limit: 10,
        ..Default::default()
    };
    assert!(store.list_orders(&bob, &filter).await.unwrap().is_empty());
    assert_eq!(store.list_orders(&alice, &filter).await.unwrap().len(), 1);
}

#[tokio::test]
async fn an_approval_is_decided_once() {
    let (_dir, store) = store().await;
    let owner = OwnerId::new("alice");
    let (plan, approval) = plan_and_approval(&store, &owner).await;
    let now = Utc::now();
    assert!(
        store
            .decide_approval(
                &approval.id,
                ApprovalStatus::Approved,
                ApprovalMethod::Elicitation,
                now
            )
            .await
            .unwrap()
    );
    assert!(
        !store
            .decide_approval(
                &approval.id,
                ApprovalStatus::Declined,
                ApprovalMethod::Elicitation,
                now
            )
            .await
            .unwrap()
    );
    let latest = store
        .latest_approval(&owner, &plan.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(latest.status, ApprovalStatus::Approved);
    assert_eq!(latest.method, Some(ApprovalMethod::Elicitation));
    assert_eq!(latest.risks, approval.risks, "acknowledged risks are kept");
    let by_id = store.approval(&approval.id).await.unwrap().unwrap();
    assert_eq!(by_id, latest);
    assert!(
        store
            .approval(&ApprovalId::generate())
            .await
            .unwrap()
            .is_none()
    );
}

/// Saved payment methods: a setup settles once, a token belongs to one owner, each owner lists
/// only their own, and the provider-side customer is kept for the next setup.
mod saved_methods {
    use super::*;
    use itinera::domain::ids::SetupId;
    use itinera::domain::saved_method::{MethodSetup, SavedMethod, SetupStatus};
    use itinera::ports::store::SetupOutcome;

    fn setup(owner: &OwnerId, customer: Option<&str>) -> MethodSetup {
        let now = Utc::now();
        let id = SetupId::generate();
        MethodSetup {
            session_id: format!("cs_{id}"),
            id,
            owner: owner.clone(),
            provider: "stripe".into(),
            url: "https://checkout.example/pay".into(),
            customer: customer.map(str::to_string),
            status: SetupStatus::Pending,
            created_at: now,
            expires_at: now + Duration::hours(24),
        }
    }

    fn saved(setup: &MethodSetup, token: &str) -> SetupOutcome {
        SetupOutcome::Saved(SavedMethod {
            owner: setup.owner.clone(),
            provider: setup.provider.clone(),
            token: PaymentMethodToken::parse(token).unwrap(),
            label: "Visa •••• 4242, expires 12/2030".into(),
            customer: setup.customer.clone(),
            setup_id: setup.id.clone(),
            added_at: Utc::now(),
        })
    }

    #[tokio::test]
    async fn a_setup_saves_its_method_once_and_only_for_its_owner() {
        let (_dir, store) = store().await;
        let (alice, bob) = (OwnerId::new("alice"), OwnerId::new("bob"));
        let first = setup(&alice, Some("cus_alice"));
        store.insert_method_setup(&first).await.unwrap();
        assert!(
            !store
                .settle_method_setup(&bob, &first.id, &saved(&first, "pm_1"))
                .await
                .unwrap(),
            "another owner cannot settle it"
        );
        assert!(
            store
                .settle_method_setup(&alice, &first.id, &saved(&first, "pm_1"))
                .await
                .unwrap()
        );
        assert!(
            !store
                .settle_method_setup(&alice, &first.id, &saved(&first, "pm_1"))
                .await
                .unwrap(),
            "settled once"
        );
        let mine = store.saved_methods(&alice).await.unwrap();
        assert_eq!(mine.len(), 1);
        assert_eq!(mine[0].customer.as_deref(), Some("cus_alice"));
        assert!(store.saved_methods(&bob).await.unwrap().is_empty());
        let token = PaymentMethodToken::parse("pm_1").unwrap();
        assert_eq!(
            store.saved_method(&token).await.unwrap().unwrap().owner,
            alice
        );
        assert_eq!(
            store.provider_customer(&alice, "stripe").await.unwrap(),
            Some("cus_alice".into())
        );
        assert_eq!(store.provider_customer(&bob, "stripe").await.unwrap(), None);

        // The same token from bob's setup is refused, and his setup stays pending.
        let theirs = setup(&bob, None);
        store.insert_method_setup(&theirs).await.unwrap();
        let taken = store
            .settle_method_setup(&bob, &theirs.id, &saved(&theirs, "pm_1"))
            .await
            .unwrap_err();
        assert!(matches!(taken, StoreError::MethodTaken), "{taken:?}");
        let pending = store
            .method_setups(&bob, Utc::now() - Duration::hours(1))
            .await
            .unwrap();
        assert_eq!(pending[0].status, SetupStatus::Pending);
        assert!(store.saved_methods(&bob).await.unwrap().is_empty());

        // Alice saving the same method again settles her setup and lists it once.
        let again = setup(&alice, Some("cus_alice"));
        store.insert_method_setup(&again).await.unwrap();
        assert!(
            store
                .settle_method_setup(&alice, &again.id, &saved(&again, "pm_1"))
                .await
                .unwrap()
        );
        assert_eq!(store.saved_methods(&alice).await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn an_abandoned_setup_keeps_its_reason_and_saves_nothing() {
        let (_dir, store) = store().await;
        let alice = OwnerId::new("alice");
        let page = setup(&alice, None);
        store.insert_method_setup(&page).await.unwrap();
        let outcome = SetupOutcome::Abandoned("the page expired".into());
        assert!(
            store
                .settle_method_setup(&alice, &page.id, &outcome)
                .await
                .unwrap()
        );
        let setups = store
            .method_setups(&alice, Utc::now() - Duration::hours(1))
            .await
            .unwrap();
        assert_eq!(
            setups[0].status,
            SetupStatus::Abandoned("the page expired".into())
        );
        assert!(store.saved_methods(&alice).await.unwrap().is_empty());
        assert!(
            !store
                .settle_method_setup(&alice, &page.id, &saved(&page, "pm_2"))
                .await
                .unwrap(),
            "an abandoned setup saves nothing later"
        );
    }
}
