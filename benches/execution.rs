//! Plan execution, measured: `cargo bench --bench execution`.
//!
//! 1. Against the critical path: every sandbox call takes a fixed latency, so the least time an
//!    execution can take is re-quote (parallel) + hold + one call per booking phase + capture.
//!    The report gives measured / bound, and the time booking the same items one by one would take.
//! 2. Throughput with zero-latency providers: executions per second, through the MCP tools.
//! 3. Recovery: 1,000 orders interrupted before their capture, resumed in one recovery pass.
//!
//! Figures, not pass/fail: nothing here asserts a time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use itinera::adapters::sandbox::faults::Faults;
use itinera::app::App;
use itinera::config::Config;
use itinera::domain::money::Money;
use itinera::domain::risk::RiskRules;
use itinera::orchestrator::RetryPolicy;
use itinera::ports::SystemClock;
use rmcp::model::CallToolRequestParams;
use rmcp::service::RunningService;
use rmcp::{RoleClient, ServiceExt};
use serde_json::{Value, json};

struct Bench {
    _dir: tempfile::TempDir,
    app: App,
    client: RunningService<RoleClient, ()>,
}

impl Bench {
    async fn start(faults: &str) -> Bench {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config::in_dir(dir.path());
        config.sandbox.faults = Faults::parse(faults).expect("fault spec");
        // Benchmarks measure execution, not the person: approve everything automatically.
        config.approvals.auto_approve_limit = Some(Money::parse("1000000", "EUR").expect("limit"));
        // Hundreds of orders a minute are the point here, not a risk to put to a person.
        config.risk = RiskRules::off();
        // One send per call: an interrupted order is left for recovery at once.
        config.retry = RetryPolicy {
            attempts: 1,
            ..RetryPolicy::default()
        };
        let app = App::start(&config, Arc::new(SystemClock))
            .await
            .expect("app");
        let (server_io, client_io) = tokio::io::duplex(1 << 20);
        let server = app.server();
        tokio::spawn(async move {
            if let Ok(running) = server.serve(server_io).await {
                let _ = running.waiting().await;
            }
        });
        let client = ().serve(client_io).await.expect("client");
        Bench {
            _dir: dir,
            app,
            client,
        }
    }

    async fn call(&self, tool: &str, args: Value) -> Value {
        let Value::Object(args) = args else {
            panic!("object arguments")
        };
        let result = self
            .client
            .call_tool(CallToolRequestParams::new(tool.to_string()).with_arguments(args))
            .await
            .expect("tool call");
        assert_ne!(result.is_error, Some(true), "{tool}: {:?}", result.content);
        result.structured_content.expect("structured output")
    }

    /// One offer id of each kind in Paris (flight, hotel, car, activity), `offset` days ahead.
    async fn offers(&self, offset: i64) -> Vec<Value> {
        let day =
            |n: i64| (Utc::now().date_naive() + chrono::Duration::days(offset + n)).to_string();
        let searches = [
            (
                "search_flights",
                json!({"origin": "LHR", "destination": "CDG", "date": day(0), "currency": "EUR"}),
            ),
            (
                "search_hotels",
                json!({"city": "PAR", "check_in": day(0), "check_out": day(3), "currency": "EUR"}),
            ),
            (
                "search_car_rentals",
                json!({"city": "PAR", "pick_up_date": day(1), "drop_off_date": day(3), "currency": "EUR"}),
            ),
            (
                "search_activities",
                json!({"city": "PAR", "date": day(1), "currency": "EUR"}),
            ),
        ];
        let mut ids = Vec::new();
        for (tool, args) in searches {
            ids.push(self.call(tool, args).await["offers"][0]["id"].clone());
        }
        ids
    }

    /// Creates and confirms a plan of the first `count` offers; returns its id.
    async fn approved_plan(&self, offers: &[Value], count: usize) -> Value {
        let items: Vec<Value> = offers[..count]
            .iter()
            .map(|id| json!({"offer_id": id}))
            .collect();
        let plan = self
            .call(
                "create_travel_plan",
                json!({"travellers": [{"given_name": "Ada", "family_name": "Lovelace"}], "payment_method": "pm_sandbox_visa", "items": items}),
            )
            .await;
        self.call("confirm_travel_plan", json!({"plan_id": plan["plan_id"]}))
            .await;
        plan["plan_id"].clone()
    }
}

/// Booking phases of the first `count` of flight, hotel, car, activity: flight → hotel + car → activity.
fn phases(count: usize) -> u32 {
    match count {
        1 => 1,
        2 | 3 => 2,
        _ => 3,
    }
}

async fn against_the_critical_path() {
    let latency = Duration::from_millis(100);
    let bench = Bench::start("*.latency=100ms").await;
    println!(
        "\n## Plan execution vs the critical path (every provider call takes {} ms)\n",
        latency.as_millis()
    );
    println!("| items | phases | measured | bound | measured / bound | one-by-one | speed-up |");
    println!("|---|---|---|---|---|---|---|");
    for count in 1..=4 {
        let offers = bench.offers(30 + count as i64).await;
        let plan_id = bench.approved_plan(&offers, count).await;
        let started = Instant::now();
        let order = bench
            .call("execute_travel_plan", json!({"plan_id": plan_id}))
            .await;
        let measured = started.elapsed();
        assert_eq!(order["status"], "confirmed");
        // re-quote (parallel) + hold + phases + capture
        let bound = latency * (3 + phases(count));
        // re-quote each + hold + book each + capture, one after another
        let sequential = latency * (2 * count as u32 + 2);
        println!(
            "| {count} | {} | {:.0} ms | {:.0} ms | {:.3} | {:.0} ms | {:.2}× |",
            phases(count),
            measured.as_secs_f64() * 1e3,
            bound.as_secs_f64() * 1e3,
            measured.as_secs_f64() / bound.as_secs_f64(),
            sequential.as_secs_f64() * 1e3,
            sequential.as_secs_f64() / measured.as_secs_f64(),
        );
    }
}

async fn throughput() {
    let bench = Bench::start("").await;
    let runs = 100;
    let mut plans = Vec::with_capacity(runs);
    for run in 0..runs {
        let offers = bench.offers(10 + (run % 200) as i64).await;
        plans.push(bench.approved_plan(&offers, 4).await);
    }
    let started = Instant::now();
    for plan_id in &plans {
        bench
            .call("execute_travel_plan", json!({"plan_id": plan_id}))
            .await;
    }
    let elapsed = started.elapsed();
    println!(
        "\n## Throughput with zero-latency sandbox providers (SQLite, one client, sequential)\n"
    );
    println!(
        "{runs} four-item executions in {:.2} s: {:.1} executions/s, {:.1} ms each",
        elapsed.as_secs_f64(),
        runs as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1e3 / runs as f64
    );
}

async fn recovery() {
    let orders = 1_000;
    let bench = Bench::start("payment.capture=lost").await;
    let offers = bench.offers(60).await;
    for _ in 0..orders {
        let plan_id = bench.approved_plan(&offers[..1], 1).await;
        let order = bench
            .call("execute_travel_plan", json!({"plan_id": plan_id}))
            .await;
        assert_eq!(
            order["status"], "payment_processing",
            "the capture's answer was lost"
        );
    }
    bench.app.sandbox().set_faults(Faults::none());
    let started = Instant::now();
    let report = bench.app.recover().await.expect("recovery");
    let elapsed = started.elapsed();
    assert_eq!((report.examined, report.settled), (orders, orders));
    println!(
        "\n## Recovery of {orders} interrupted orders (each waiting for its capture to be confirmed)\n"
    );
    println!(
        "One pass: {:.2} s, {:.0} orders/s, {:.2} ms per order",
        elapsed.as_secs_f64(),
        orders as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1e3 / orders as f64
    );
}

fn main() {
    // `cargo test --benches` runs bench binaries with `--bench` absent: skip the long measurements then.
    if !std::env::args().any(|arg| arg == "--bench") {
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        against_the_critical_path().await;
        throughput().await;
        recovery().await;
    });
}
