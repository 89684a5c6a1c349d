//! Several instances on one PostgreSQL: two real `itinera serve --http` processes share the order
//! store (and the sandbox's ledger). Two hundred plans of four users are executed at once, half
//! through each instance, and one instance is killed with SIGKILL mid-way. The survivor takes over
//! the dead one's orders once their leases expire; in the end every order has settled, agrees
//! with the ledger, and nothing was booked or captured twice.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use common::db::TestDb;
use common::{Answer, Person, User, assert_owners_orders_match_ledger, call_tool};
use futures::StreamExt;
use itinera::config::Config;
use serde_json::json;

const USERS: [&str; 4] = ["ana", "ben", "chloe", "dev"];
const PLANS: usize = 200;

fn token(user: &str) -> String {
    format!("{user}-token-0123456789abcdef0123456789")
}

struct Instance {
    child: tokio::process::Child,
    url: String,
}

/// Starts `itinera serve --http` on a free port over the shared store and data folder.
async fn start(dir: &std::path::Path, database: &str) -> Instance {
    let tokens: Vec<String> = USERS.iter().map(|u| format!("{u}:{}", token(u))).collect();
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_itinera"));
    command
        .args(["serve", "--http", "127.0.0.1:0"])
        .env("ITINERA_DATA_DIR", dir)
        .env("ITINERA_DATABASE_URL", database)
        .env("ITINERA_HTTP_TOKENS", tokens.join(","))
        // Approved at confirmation, with no prompt: the test is about executing.
        .env("ITINERA_AUTO_APPROVE_LIMIT", "100000 EUR")
        .env("ITINERA_RISK_VELOCITY_MAX_ORDERS", "0")
        .env("ITINERA_RISK_UNUSUAL_MULTIPLE", "0")
        .env("ITINERA_RISK_NEW_METHOD_AMOUNTS", "off")
        // Each provider call takes a moment, so the kill finds executions under way.
        .env("ITINERA_SANDBOX_FAULTS", "*.latency=40ms")
        .env("ITINERA_LEASE_SECONDS", "2")
        .env("ITINERA_RECOVERY_INTERVAL_SECONDS", "1")
        .env("RUST_LOG", "warn");
    let (child, url) = common::spawn_http_server(command).await;
    Instance { child, url }
}

async fn user(instance: &Instance, name: &str) -> Arc<User> {
    let token = token(name);
    let client = common::http_client(&instance.url, &token, Person::new(Answer::Approve)).await;
    Arc::new(User { client })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_one_killed_every_order_settles_once() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // One after the other: the first creates the key file and the sandbox's ledger.
    let doomed = start(dir.path(), &db.url()).await;
    let survivor = start(dir.path(), &db.url()).await;
    let mut clients = BTreeMap::new();
    for name in USERS {
        clients.insert((0, name), user(&doomed, name).await);
        clients.insert((1, name), user(&survivor, name).await);
    }

    // Two hundred one-flight plans, each on a day of its own (so no two plans hold one offer),
    // approved at once; plan i is executed through instance i % 2.
    let today = chrono::Utc::now().date_naive();
    let clients = &clients;
    let plans: Vec<(usize, Arc<User>, String)> = futures::stream::iter(0..PLANS)
        .map(|i| async move {
            let name = USERS[i % USERS.len()];
            let through = i % 2;
            let client = &clients[&(through, name)];
            let day = (today + chrono::Duration::days(10 + i as i64)).to_string();
            let found = client
                .ok(
                    "search_flights",
                    json!({"origin": "LHR", "destination": "CDG", "date": day, "currency": "EUR"}),
                )
                .await;
            let plan = client
                .ok(
                    "create_travel_plan",
                    json!({
                        "title": format!("Trip {i}"),
                        "travellers": [{"given_name": "Ada", "family_name": "Lovelace"}],
                        "payment_method": "pm_sandbox_visa",
                        "items": [{"offer_id": found["offers"][0]["id"]}],
                    }),
                )
                .await;
            let plan_id = plan["plan_id"].as_str().unwrap().to_string();
            let approval = client
                .ok("confirm_travel_plan", json!({"plan_id": plan_id}))
                .await;
            assert_eq!(approval["status"], "approved", "{approval}");
            (through, Arc::clone(client), plan_id)
        })
        .buffer_unordered(16)
        .collect()
        .await;

    // All at once; the first instance dies while they run.
    let executions: Vec<_> = plans
        .iter()
        .map(|(through, client, plan_id)| {
            let (through, client, plan_id) = (*through, Arc::clone(client), plan_id.clone());
            let call = tokio::spawn(async move {
                let call = call_tool(
                    &client.client,
                    "execute_travel_plan",
                    json!({"plan_id": plan_id}),
                );
                let answer = tokio::time::timeout(Duration::from_secs(90), call).await;
                answer.is_ok_and(|result| result.is_error != Some(true))
            });
            (through, call)
        })
        .collect();
    let mut config = Config::in_dir(dir.path());
    config.database_url = db.url();
    let store = itinera::app::open_store(&config).await.unwrap();
    // Orders the dead instance had started and not finished: the survivor must take them over.
    let doomed_plans: std::collections::BTreeSet<&str> = plans
        .iter()
        .filter(|(through, _, _)| *through == 0)
        .map(|(_, _, plan_id)| plan_id.as_str())
        .collect();
    let orphans_of = |orders: Vec<itinera::domain::order::Order>| -> Vec<_> {
        orders
            .into_iter()
            .filter(|order| doomed_plans.contains(order.plan_id.as_str()))
            .collect()
    };
    // Killed once a few of its executions are under way (whatever the machine's pace).
    for _ in 0..1_000 {
        if unsettled(&orphans_of(all_orders(&store).await)) >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut doomed = doomed;
    doomed.child.start_kill().unwrap();
    doomed.child.wait().await.unwrap();
    let orphans = orphans_of(all_orders(&store).await);
    let cut_off = unsettled(&orphans);
    assert!(
        cut_off > 0,
        "the kill found none of its executions under way"
    );
    let mut answered = 0;
    for (through, execution) in executions {
        if through == 0 {
            // A call to the instance that died never gets its answer.
            execution.abort();
        } else if execution.await.unwrap_or(false) {
            answered += 1;
        }
    }
    assert_eq!(
        answered,
        PLANS / 2,
        "the survivor answered all of its own executions"
    );

    // The survivor finishes the dead instance's orders once their leases have expired.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    let orders = loop {
        let orders = all_orders(&store).await;
        if unsettled(&orders) == 0 || tokio::time::Instant::now() > deadline {
            break orders;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    store.close().await;
    // Every plan the survivor was given has its order; the dead one's, those it had admitted.
    assert!(orders.len() >= PLANS / 2, "{} orders", orders.len());
    let statuses: BTreeMap<&str, usize> =
        orders.iter().fold(BTreeMap::new(), |mut counts, order| {
            *counts.entry(order.status.as_str()).or_default() += 1;
            counts
        });
    eprintln!(
        "{cut_off} of its orders under way when the instance was killed; in the end, by status: {statuses:?}"
    );
    assert!(
        statuses.get("confirmed").copied().unwrap_or(0) >= PLANS / 2,
        "{statuses:?}"
    );

    let ledger =
        itinera::adapters::sandbox::ledger::SandboxLedger::open(&config.sandbox.ledger_url)
            .await
            .unwrap();
    assert_owners_orders_match_ledger(&config, &ledger, &USERS).await;
    drop(survivor);
}

async fn all_orders(
    store: &itinera::adapters::store::SqlStore,
) -> Vec<itinera::domain::order::Order> {
    use itinera::ports::Store;
    let filter = itinera::ports::store::OrderFilter {
        limit: 1_000,
        ..Default::default()
    };
    let mut orders = Vec::new();
    for name in USERS {
        orders.extend(
            store
                .list_orders(&itinera::domain::ids::OwnerId::new(name), &filter)
                .await
                .unwrap(),
        );
    }
    orders
}

/// How many orders have not settled.
fn unsettled(orders: &[itinera::domain::order::Order]) -> usize {
    orders
        .iter()
        .filter(|order| {
            matches!(
                order.status.as_str(),
                "draft"
                    | "payment_pending"
                    | "payment_action_required"
                    | "payment_processing"
                    | "refund_requested"
            )
        })
        .count()
}
