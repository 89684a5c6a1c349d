//! The order store's guarantees, each case run on a real SQLite file and on a PostgreSQL schema
//! of its own: one order per approval, status compare-and-set, every change with its timeline
//! event, owners never see each other's data, and what must hold when several writers (tasks, or
//! instances sharing one PostgreSQL) meet: one audit chain, one order per approval, one saved
//! method per token, a refresh written only over the account it read.

#[path = "common/db.rs"]
mod db;

use chrono::{Duration, Utc};
use std::collections::BTreeSet;
use std::sync::Arc;

use itinera::adapters::store::SqlStore;
use itinera::crypto::{Keyring, MasterKey};
use itinera::domain::approval::{Approval, ApprovalMethod, ApprovalStatus, PlanDigest};
use itinera::domain::audit;
use itinera::domain::ids::{
    ApprovalId, ItemId, OfferId, OrderId, OwnerId, PaymentMethodToken, PlanId, SetupId,
};
use itinera::domain::money::{Currency, Money};
use itinera::domain::offer::{CancellationPolicy, ItemKind};
use itinera::domain::order::{
    ItemStatus, Order, OrderEvent, OrderItem, OrderStatus, PaymentPart, PaymentRecord,
};
use itinera::domain::plan::{Priority, TravelPlan};
use itinera::domain::platform::{PlatformAccount, PlatformTokens, Token};
use itinera::domain::risk::RiskKind;
use itinera::domain::saga::{SagaStep, StepState};
use itinera::domain::saved_method::{MethodSetup, SavedMethod, SetupStatus};
use itinera::ports::Store;
use itinera::ports::StoreError;
use itinera::ports::store::{Created, OrderFilter, SetupOutcome};

use db::TestDb;

async fn open(db: &TestDb) -> SqlStore {
    let keyring = Arc::new(Keyring::new(&MasterKey::generate().unwrap()));
    SqlStore::open(&db.url(), keyring).await.unwrap()
}

/// Runs each named case, `async fn case(store: SqlStore)`, once on SQLite and once on PostgreSQL.
macro_rules! on_both {
    ($($case:ident),* $(,)?) => {$(
        mod $case {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let db = super::TestDb::sqlite();
                super::$case(super::open(&db).await).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(db) = super::TestDb::postgres().await else {
                    return;
                };
                super::$case(super::open(&db).await).await;
            }
        }
    )*};
}

on_both!(
    one_approval_yields_one_order,
    a_save_from_a_stale_status_is_refused_and_writes_nothing,
    owners_never_see_each_others_data,
    an_approval_is_decided_once,
    a_setup_saves_its_method_once_and_only_for_its_owner,
    an_abandoned_setup_keeps_its_reason_and_saves_nothing,
    times_read_back_exactly_as_written,
    the_audit_chain_stays_one_chain_under_concurrent_writers,
    concurrent_executions_of_one_approval_make_one_order,
    one_token_saved_from_two_setups_at_once_is_saved_once,
    a_step_sent_again_counts_its_attempts,
    a_payment_event_finds_its_order_even_for_one_part_of_a_split,
    a_refresh_is_written_only_over_the_account_it_read,
    a_key_rotation_reseals_every_plan,
    a_lease_is_held_by_one_process_until_it_expires,
    processes_claiming_unsettled_orders_at_once_never_share_one,
    a_step_begun_twice_at_once_is_new_to_one_writer_only,
    every_order_change_commits_its_notice_and_each_delivery_is_claimed_once,
);

fn eur(amount: &str) -> Money {
    Money::parse(amount, "EUR").unwrap()
}

async fn plan_and_approval(store: &SqlStore, owner: &OwnerId) -> (TravelPlan, Approval) {
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

async fn one_approval_yields_one_order(store: SqlStore) {
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

async fn a_save_from_a_stale_status_is_refused_and_writes_nothing(store: SqlStore) {
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

async fn owners_never_see_each_others_data(store: SqlStore) {
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

async fn an_approval_is_decided_once(store: SqlStore) {
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

// Saved payment methods: a setup settles once, a token belongs to one owner, each owner lists
// only their own, and the provider-side customer is kept for the next setup.

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

async fn a_setup_saves_its_method_once_and_only_for_its_owner(store: SqlStore) {
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

async fn an_abandoned_setup_keeps_its_reason_and_saves_nothing(store: SqlStore) {
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

/// Times keep every digit through a round trip: a whole-struct comparison after reading, and a
/// compare-and-swap on a time, both depend on it.
async fn times_read_back_exactly_as_written(store: SqlStore) {
    let owner = OwnerId::new("alice");
    let (plan, approval) = plan_and_approval(&store, &owner).await;
    let odd = Utc::now() + Duration::nanoseconds(123_456_789);
    let mut order = order(&plan, &approval);
    order.created_at = odd;
    order.updated_at = odd;
    store
        .create_order(&order, &event(OrderStatus::Draft, "created"))
        .await
        .unwrap();
    order.status = OrderStatus::PaymentPending;
    order.payment_due_by = Some(odd + Duration::hours(1));
    store
        .save_order(
            &order,
            OrderStatus::Draft,
            &event(OrderStatus::PaymentPending, "held"),
        )
        .await
        .unwrap();
    let read = store.order(&owner, &order.id).await.unwrap().unwrap();
    assert_eq!(read, order);
    assert_eq!(
        store.approval(&approval.id).await.unwrap().unwrap(),
        approval
    );
    assert_eq!(store.plan(&owner, &plan.id).await.unwrap().unwrap(), plan);
    let recent = store
        .order_totals_since(&owner, odd - Duration::nanoseconds(1))
        .await
        .unwrap();
    assert_eq!(recent.len(), 1, "a time is compared as a time");
    assert!(
        store
            .order_totals_since(&owner, odd + Duration::nanoseconds(1))
            .await
            .unwrap()
            .is_empty()
    );
}

async fn the_audit_chain_stays_one_chain_under_concurrent_writers(store: SqlStore) {
    let writers = (0..8).map(|writer| {
        let store = store.clone();
        tokio::spawn(async move {
            let owner = OwnerId::new(format!("writer{writer}"));
            for entry in 0..10 {
                store
                    .record_audit(&owner, "test.entry", &format!("{writer}/{entry}"), "detail")
                    .await
                    .unwrap();
            }
        })
    });
    for writer in futures::future::join_all(writers).await {
        writer.unwrap();
    }
    let entries = store.audit_log(None).await.unwrap();
    assert_eq!(entries.len(), 80);
    audit::verify(&entries).expect("one unbroken chain");
    assert_eq!(
        store
            .audit_log(Some(&OwnerId::new("writer3")))
            .await
            .unwrap()
            .len(),
        10
    );
}

/// Two instances (or two calls) executing the same approved plan at once: one order.
async fn concurrent_executions_of_one_approval_make_one_order(store: SqlStore) {
    let owner = OwnerId::new("alice");
    let (plan, approval) = plan_and_approval(&store, &owner).await;
    let attempts = (0..8).map(|_| {
        let store = store.clone();
        let candidate = order(&plan, &approval);
        tokio::spawn(async move {
            store
                .create_order(&candidate, &event(OrderStatus::Draft, "created"))
                .await
                .unwrap()
        })
    });
    let mut new = Vec::new();
    let mut existing = Vec::new();
    for created in futures::future::join_all(attempts).await {
        match created.unwrap() {
            Created::New(order) => new.push(order.id),
            Created::Existing(order) => existing.push(order.id),
        }
    }
    assert_eq!(new.len(), 1, "exactly one order is created");
    assert!(
        existing.iter().all(|id| *id == new[0]),
        "the others find it"
    );
    let filter = OrderFilter {
        limit: 50,
        ..Default::default()
    };
    assert_eq!(store.list_orders(&owner, &filter).await.unwrap().len(), 1);
    assert_eq!(store.timeline(&owner, &new[0]).await.unwrap().len(), 1);
}

async fn one_token_saved_from_two_setups_at_once_is_saved_once(store: SqlStore) {
    let alice = OwnerId::new("alice");
    let bob = OwnerId::new("bob");
    let hers = setup(&alice, None);
    let his = setup(&bob, None);
    store.insert_method_setup(&hers).await.unwrap();
    store.insert_method_setup(&his).await.unwrap();
    let (her_method, his_method) = (saved(&hers, "pm_shared"), saved(&his, "pm_shared"));
    let (first, second) = tokio::join!(
        store.settle_method_setup(&alice, &hers.id, &her_method),
        store.settle_method_setup(&bob, &his.id, &his_method),
    );
    let outcomes = [first, second];
    assert_eq!(outcomes.iter().filter(|o| matches!(o, Ok(true))).count(), 1);
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| matches!(o, Err(StoreError::MethodTaken)))
            .count(),
        1,
        "{outcomes:?}"
    );
    let token = PaymentMethodToken::parse("pm_shared").unwrap();
    let owner = store.saved_method(&token).await.unwrap().unwrap().owner;
    let listed = store.saved_methods(&alice).await.unwrap().len()
        + store.saved_methods(&bob).await.unwrap().len();
    assert_eq!(listed, 1);
    assert!(owner == alice || owner == bob);
}

async fn a_step_sent_again_counts_its_attempts(store: SqlStore) {
    let owner = OwnerId::new("alice");
    let order = draft_order(&store, &owner).await;
    let step = step_of(&order, format!("{}:book", order.id));
    assert_eq!(store.begin_step(&step).await.unwrap(), None, "a new step");
    assert_eq!(
        store.begin_step(&step).await.unwrap(),
        Some(StepState::Intent),
        "sent again after a crash: its intent is found"
    );
    store
        .finish_step(&step.key, StepState::Succeeded, "booked", 1, Utc::now())
        .await
        .unwrap();
    let steps = store.steps(&owner, &order.id).await.unwrap();
    assert_eq!(steps.len(), 1);
    assert_eq!(steps[0].state, StepState::Succeeded);
    assert_eq!(steps[0].attempts, 3, "two begins and one resend");
    assert!(
        store
            .steps(&OwnerId::new("bob"), &order.id)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn a_payment_event_finds_its_order_even_for_one_part_of_a_split(store: SqlStore) {
    let owner = OwnerId::new("alice");
    let (plan, approval) = plan_and_approval(&store, &owner).await;
    let (single_plan, single_approval) = plan_and_approval(&store, &owner).await;
    let single = with_payment(order(&single_plan, &single_approval), "stripe", "pi_single");
    let mut split = with_payment(
        order(&plan, &approval),
        "split",
        r#"["pi_part","PAY-part"]"#,
    );
    let part = |provider: &str, amount: &str| PaymentPart {
        provider: provider.into(),
        method: PaymentMethodToken::parse("pm_sandbox_visa").unwrap(),
        amount: eur(amount),
        customer: None,
    };
    split.payment_parts = vec![part("stripe", "60"), part("paypal", "40")];
    for order in [&single, &split] {
        let draft = Order {
            status: OrderStatus::Draft,
            payment: None,
            ..order.clone()
        };
        store
            .create_order(&draft, &event(OrderStatus::Draft, "created"))
            .await
            .unwrap();
        store
            .save_order(
                order,
                OrderStatus::Draft,
                &event(OrderStatus::PaymentPending, "held"),
            )
            .await
            .unwrap();
    }
    let found = |provider: &'static str, reference: &'static str| {
        let store = store.clone();
        async move {
            store
                .order_for_payment(provider, reference)
                .await
                .unwrap()
                .map(|order| order.id)
        }
    };
    assert_eq!(found("stripe", "pi_single").await, Some(single.id.clone()));
    assert_eq!(found("paypal", "PAY-part").await, Some(split.id.clone()));
    assert_eq!(found("stripe", "pi_part").await, Some(split.id.clone()));
    assert_eq!(
        found("stripe", "PAY-part").await,
        None,
        "a part is found with its own provider"
    );
    assert_eq!(found("paypal", "pi_single").await, None);
    assert_eq!(found("stripe", "pi_unknown").await, None);
}

fn with_payment(mut order: Order, provider: &str, reference: &str) -> Order {
    order.status = OrderStatus::PaymentPending;
    order.payment = Some(PaymentRecord {
        provider: provider.into(),
        reference: reference.into(),
        action_url: None,
    });
    order
}

async fn a_refresh_is_written_only_over_the_account_it_read(store: SqlStore) {
    let owner = OwnerId::new("alice");
    let signed_in = Utc::now() + Duration::nanoseconds(987_654_321);
    let account = |access: &str, refreshed_at| PlatformAccount {
        owner: owner.clone(),
        platform: "booking_com".into(),
        tokens: PlatformTokens {
            access_token: Token::new(access.into()),
            refresh_token: Some(Token::new(format!("{access}-refresh"))),
            expires_at: Some(refreshed_at + Duration::hours(1)),
            scopes: vec!["bookings".into()],
        },
        connected_at: signed_in,
        refreshed_at,
    };
    assert!(
        store
            .save_platform_account(&account("first", signed_in), None)
            .await
            .unwrap()
    );
    let later = signed_in + Duration::minutes(55);
    assert!(
        store
            .save_platform_account(&account("second", later), Some(signed_in))
            .await
            .unwrap(),
        "a refresh over the account it read is written"
    );
    assert!(
        !store
            .save_platform_account(
                &account("stale", later + Duration::seconds(1)),
                Some(signed_in)
            )
            .await
            .unwrap(),
        "a refresh of an account refreshed since is not"
    );
    let stored = store
        .platform_account(&owner, "booking_com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.tokens.access_token.expose(), "second");
    assert_eq!(stored.refreshed_at, later);
    assert!(
        !store
            .delete_platform_account(&owner, "booking_com", Some(signed_in))
            .await
            .unwrap()
    );
    assert!(
        store
            .delete_platform_account(&owner, "booking_com", Some(later))
            .await
            .unwrap()
    );
    assert!(
        store
            .platform_account(&owner, "booking_com")
            .await
            .unwrap()
            .is_none()
    );
}

async fn a_key_rotation_reseals_every_plan(store: SqlStore) {
    let owner = OwnerId::new("alice");
    let (plan, _) = plan_and_approval(&store, &owner).await;
    let resealed = store.reseal_all().await.unwrap();
    assert_eq!(resealed.plans, 1);
    assert_eq!(store.plan(&owner, &plan.id).await.unwrap().unwrap(), plan);
}

/// A key rotation needs the store alone: refused while another process (here, another open
/// store) has it, and a server cannot open it while a rotation has it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_and_a_server_never_hold_one_store_together_on_postgres() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let key = MasterKey::generate().unwrap();
    let open = |alone: bool| {
        let (url, keyring) = (db.url(), Arc::new(Keyring::new(&key)));
        async move {
            if alone {
                SqlStore::open_alone(&url, keyring).await
            } else {
                SqlStore::open(&url, keyring).await
            }
        }
    };
    let serving = open(false).await.unwrap();
    let refused = open(true).await.err().expect("refused while serving");
    assert!(
        refused.to_string().contains("in use by a running Itinera"),
        "{refused}"
    );
    serving.close().await;
    drop(serving);
    let rotating = open(true).await.unwrap();
    let waiting = open(false).await.err().expect("refused while rotating");
    assert!(
        waiting.to_string().contains("being re-encrypted"),
        "{waiting}"
    );
    drop(rotating);
}

async fn a_lease_is_held_by_one_process_until_it_expires(store: SqlStore) {
    let now = Utc::now();
    let until = now + Duration::seconds(30);
    let key = "order:ord_1";
    assert!(store.claim_lease(key, "inst_a", until, now).await.unwrap());
    assert!(
        !store.claim_lease(key, "inst_b", until, now).await.unwrap(),
        "held by another"
    );
    assert!(
        store.claim_lease(key, "inst_a", until, now).await.unwrap(),
        "the holder claims again"
    );
    assert!(store.renew_lease(key, "inst_a", until).await.unwrap());
    assert!(!store.renew_lease(key, "inst_b", until).await.unwrap());
    store.release_lease(key, "inst_b").await.unwrap();
    assert!(
        !store.claim_lease(key, "inst_b", until, now).await.unwrap(),
        "only the holder releases"
    );
    // Once it has expired, another takes it, and the old holder can no longer renew it.
    let later = until + Duration::seconds(1);
    assert!(
        store
            .claim_lease(key, "inst_b", later + Duration::seconds(30), later)
            .await
            .unwrap()
    );
    assert!(!store.renew_lease(key, "inst_a", later).await.unwrap());
    store.release_lease(key, "inst_b").await.unwrap();
    assert!(store.claim_lease(key, "inst_c", until, now).await.unwrap());
}

async fn processes_claiming_unsettled_orders_at_once_never_share_one(store: SqlStore) {
    let owner = OwnerId::new("alice");
    let mut unsettled = BTreeSet::new();
    for _ in 0..12 {
        let (plan, approval) = plan_and_approval(&store, &owner).await;
        let draft = order(&plan, &approval);
        store
            .create_order(&draft, &event(OrderStatus::Draft, "created"))
            .await
            .unwrap();
        unsettled.insert(draft.id.to_string());
    }
    let now = Utc::now();
    let until = now + Duration::seconds(30);
    // Rounds of three processes claiming at once, until no order is left.
    let mut claimed = Vec::new();
    for _ in 0..12 {
        let claimants = ["inst_a", "inst_b", "inst_c"].map(|holder| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .claim_unsettled_orders(holder, until, now, None, 2)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|order| (holder, order.id.to_string()))
                    .collect::<Vec<_>>()
            })
        });
        let before = holders_of(&claimed).len();
        for claimant in futures::future::join_all(claimants).await {
            claimed.extend(claimant.unwrap());
        }
        if holders_of(&claimed).len() == before {
            break;
        }
    }
    let holders = holders_of(&claimed);
    assert!(
        holders.values().all(|who| who.len() == 1),
        "an order claimed by two processes: {holders:?}"
    );
    assert_eq!(holders.keys().cloned().collect::<BTreeSet<_>>(), unsettled);
    // While their leases last nobody else gets them; once they expire, another process does.
    assert!(
        store
            .claim_unsettled_orders("inst_d", until, now, None, 50)
            .await
            .unwrap()
            .is_empty()
    );
    // Once they expire, another process takes them over, a page of five at a time.
    let later = until + Duration::seconds(1);
    let mut taken_over = BTreeSet::new();
    let mut after = None;
    loop {
        let page = store
            .claim_unsettled_orders(
                "inst_d",
                later + Duration::seconds(30),
                later,
                after.as_ref(),
                5,
            )
            .await
            .unwrap();
        let Some(last) = page.last().cloned() else {
            break;
        };
        assert!(page.len() <= 5);
        taken_over.extend(page.into_iter().map(|order| order.id.to_string()));
        after = Some(last);
    }
    assert_eq!(taken_over, unsettled);
}

/// Which processes claimed each order.
fn holders_of(
    claimed: &[(&'static str, String)],
) -> std::collections::BTreeMap<String, BTreeSet<&'static str>> {
    let mut holders = std::collections::BTreeMap::<String, BTreeSet<&'static str>>::new();
    for (holder, id) in claimed {
        holders.entry(id.clone()).or_default().insert(holder);
    }
    holders
}

/// Two writers beginning one step at once: one sends it as new, the other finds its intent (and
/// so looks the answer up instead of sending blind).
async fn a_step_begun_twice_at_once_is_new_to_one_writer_only(store: SqlStore) {
    let owner = OwnerId::new("alice");
    let order = draft_order(&store, &owner).await;
    for round in 0..10 {
        let step = step_of(&order, format!("{}:authorize:{round}", order.id));
        let (first, second) = tokio::join!(
            {
                let store = store.clone();
                let step = step.clone();
                tokio::spawn(async move { store.begin_step(&step).await.unwrap() })
            },
            {
                let store = store.clone();
                let step = step.clone();
                tokio::spawn(async move { store.begin_step(&step).await.unwrap() })
            },
        );
        let mut seen = [first.unwrap(), second.unwrap()];
        seen.sort_by_key(|previous| previous.is_some());
        assert_eq!(seen, [None, Some(StepState::Intent)], "round {round}");
    }
}

/// A new order of `owner`'s, created as a draft.
async fn draft_order(store: &SqlStore, owner: &OwnerId) -> Order {
    let (plan, approval) = plan_and_approval(store, owner).await;
    let draft = order(&plan, &approval);
    store
        .create_order(&draft, &event(OrderStatus::Draft, "created"))
        .await
        .unwrap();
    draft
}

/// A saga step of `order`'s about to be sent under `key`.
fn step_of(order: &Order, key: String) -> SagaStep {
    SagaStep {
        order_id: order.id.clone(),
        item_id: Some(order.items[0].item_id.clone()),
        operation: "book".into(),
        provider: Some("sandbox".into()),
        key,
        state: StepState::Intent,
        detail: None,
        attempts: 1,
        started_at: Utc::now(),
        finished_at: None,
    }
}

/// The outbox: a notice per committed change (none for a refused one), fanned out once, each
/// delivery claimed by one process at a time, recorded, dead-lettered and queued again; and read
/// in position order by whoever follows it.
async fn every_order_change_commits_its_notice_and_each_delivery_is_claimed_once(store: SqlStore) {
    use itinera::domain::notice::{DeliveryOutcome, DeliveryState};
    let start = store.last_notice_seq().await.unwrap();
    let owner = OwnerId::new("alice");
    let mut drafts = Vec::new();
    for _ in 0..6 {
        drafts.push(draft_order(&store, &owner).await);
    }
    let mut moved = drafts[0].clone();
    moved.status = OrderStatus::PaymentPending;
    store
        .save_order(
            &moved,
            OrderStatus::Draft,
            &event(OrderStatus::PaymentPending, "held"),
        )
        .await
        .unwrap();
    // A save from a stale status is refused, and writes no notice.
    assert!(
        store
            .save_order(
                &moved,
                OrderStatus::Draft,
                &event(OrderStatus::PaymentPending, "again")
            )
            .await
            .is_err()
    );
    let followed = store.notices_after(start, 100).await.unwrap();
    assert_eq!(followed.len(), 7);
    assert!(followed.windows(2).all(|pair| pair[0].0 < pair[1].0));
    let last = &followed[6].1;
    assert_eq!(
        (last.kind.as_str(), last.previous_status),
        ("order.payment_pending", Some(OrderStatus::Draft))
    );
    assert_eq!(last.order_id, moved.id);
    assert_eq!(store.last_notice_seq().await.unwrap(), followed[6].0);

    let notices = store.notices_to_fan_out(100).await.unwrap();
    assert_eq!(notices.len(), 7);
    let channels = vec![
        "webhook:https://a.example/hooks".to_string(),
        "email".to_string(),
    ];
    let now = Utc::now();
    let batch: Vec<(String, Vec<String>)> = notices
        .iter()
        .map(|notice| (notice.id.clone(), channels.clone()))
        .collect();
    store.fan_out_notices(&batch, now).await.unwrap();
    // Twice (another instance at the same time) writes nothing more.
    store.fan_out_notices(&batch, now).await.unwrap();
    assert!(store.notices_to_fan_out(100).await.unwrap().is_empty());

    // Three processes claiming at once never get the same delivery.
    let until = now + Duration::seconds(60);
    let claimants = ["inst_a", "inst_b", "inst_c"].map(|holder| {
        let (store, channels) = (store.clone(), channels.clone());
        tokio::spawn(async move {
            let mut got = Vec::new();
            loop {
                let batch = store
                    .claim_deliveries(holder, until, now, &channels, 3)
                    .await
                    .unwrap();
                if batch.is_empty() {
                    return got;
                }
                got.extend(batch.into_iter().map(|d| (holder, d)));
            }
        })
    });
    let mut claimed = Vec::new();
    for claimant in futures::future::join_all(claimants).await {
        claimed.extend(claimant.unwrap());
    }
    let keys: BTreeSet<(String, String)> = claimed
        .iter()
        .map(|(_, d)| (d.notice.id.clone(), d.channel.clone()))
        .collect();
    assert_eq!(claimed.len(), 14, "seven notices, two channels");
    assert_eq!(keys.len(), 14, "no delivery claimed twice");

    for (index, (holder, delivery)) in claimed.iter().enumerate() {
        let outcome = match index % 3 {
            0 => DeliveryOutcome::Delivered,
            1 => DeliveryOutcome::Retry {
                at: now + Duration::seconds(30),
                error: "503".into(),
            },
            _ => DeliveryOutcome::Dead {
                error: "gave up".into(),
            },
        };
        store
            .finish_delivery(delivery, holder, &outcome, now)
            .await
            .unwrap();
    }
    // Delivered and dead ones are never claimed again; a retry only once due.
    assert!(
        store
            .claim_deliveries("inst_d", until, now, &channels, 50)
            .await
            .unwrap()
            .is_empty()
    );
    // A process that sends e-mail only is never given a webhook's delivery.
    let later = now + Duration::seconds(31);
    let mailer = store
        .claim_deliveries(
            "inst_d",
            later + Duration::seconds(60),
            later,
            &channels[1..],
            50,
        )
        .await
        .unwrap();
    assert!(mailer.iter().all(|d| d.channel == "email"), "{mailer:?}");
    let rest = store
        .claim_deliveries(
            "inst_e",
            later + Duration::seconds(60),
            later,
            &channels,
            50,
        )
        .await
        .unwrap();
    assert!(rest.iter().all(|d| d.channel != "email"), "{rest:?}");
    let due: Vec<_> = mailer.into_iter().chain(rest).collect();
    assert_eq!(due.len(), 5);
    assert!(due.iter().all(|d| d.attempts == 1));
    let dead = store.deliveries(DeliveryState::Dead, 50).await.unwrap();
    assert_eq!(dead.len(), 4);
    assert!(
        dead.iter()
            .all(|d| d.last_error.as_deref() == Some("gave up"))
    );
    // Queued again by notice (each of its dead channels), then all the rest.
    let first = &dead[0].notice_id;
    let of_first = dead.iter().filter(|d| &d.notice_id == first).count() as u64;
    assert_eq!(
        store.requeue_deliveries(Some(first), now).await.unwrap(),
        of_first
    );
    assert_eq!(
        store.requeue_deliveries(None, now).await.unwrap(),
        4 - of_first
    );
    assert!(
        store
            .deliveries(DeliveryState::Dead, 50)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .deliveries(DeliveryState::Delivered, 50)
            .await
            .unwrap()
            .len(),
        5
    );

    // A process with no channel marks what is written next as fanned out, unread, and no
    // delivery comes of it.
    let unsent = [
        draft_order(&store, &owner).await,
        draft_order(&store, &owner).await,
    ];
    assert_eq!(store.fan_out_to_no_channel().await.unwrap(), 2);
    assert!(store.notices_to_fan_out(100).await.unwrap().is_empty());
    assert_eq!(store.fan_out_to_no_channel().await.unwrap(), 0);
    let pending = store
        .claim_deliveries("inst_a", until, now + Duration::days(1), &channels, 50)
        .await
        .unwrap();
    assert!(
        pending
            .iter()
            .all(|d| unsent.iter().all(|order| d.notice.order_id != order.id)),
        "{pending:?}"
    );
}
