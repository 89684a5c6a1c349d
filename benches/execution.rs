//! Plan execution, measured: `cargo bench --bench execution`.
//!
//! 1. Against the critical path: every sandbox call takes a fixed latency, so the least time an
//!    execution can take is re-quote (parallel) + hold + one call per booking phase + capture.
//!    The report gives measured (the median of five executions of each size) / bound, and the
//!    time booking the same items one by one would take.
//! 2. Throughput with zero-latency providers: executions per second, through the MCP tools.
//! 3. Recovery: 1,000 orders interrupted before their capture, resumed in one recovery pass.
//!
//! Figures, not pass/fail: nothing here asserts a time. They are written to BENCHMARKS.md.

#[path = "common/mod.rs"]
mod common;
#[path = "common/mcp.rs"]
mod mcp;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use common::Report;
use itinera::adapters::sandbox::faults::Faults;
use itinera::app::App;
use itinera::config::Config;
use itinera::domain::money::Money;
use itinera::domain::risk::RiskRules;
use itinera::orchestrator::RetryPolicy;
use itinera::ports::SystemClock;
use rmcp::ServiceExt;
use serde_json::{Value, json};

struct Bench {
    _dir: tempfile::TempDir,
    app: App,
    client: mcp::Client,
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
        mcp::call(&self.client, tool, args).await
    }

    /// The first offer of a search.
    async fn first(&self, tool: &str, args: Value, pick: usize) -> Value {
        self.call(tool, args).await["offers"][pick]["id"].clone()
    }

    /// Twelve offer ids of a week from London to Paris and Rome and back, `offset` days
    /// ahead: flight, hotel, car and activity in Paris, the same in Rome, the flight home,
    /// then three more activities. The first four are one of each kind in Paris.
    async fn trip(&self, offset: i64) -> Vec<Value> {
        let day =
            |n: i64| (Utc::now().date_naive() + chrono::Duration::days(offset + n)).to_string();
        let flight = |from: &str, to: &str, on: i64| json!({"origin": from, "destination": to, "date": day(on), "currency": "EUR"});
        let hotel = |city: &str, from: i64| json!({"city": city, "check_in": day(from), "check_out": day(from + 3), "currency": "EUR"});
        let car = |city: &str, from: i64| json!({"city": city, "pick_up_date": day(from), "drop_off_date": day(from + 2), "currency": "EUR"});
        let activity =
            |city: &str, on: i64| json!({"city": city, "date": day(on), "currency": "EUR"});
        vec![
            self.first("search_flights", flight("LHR", "CDG", 0), 0)
                .await,
            self.first("search_hotels", hotel("PAR", 0), 0).await,
            self.first("search_car_rentals", car("PAR", 1), 0).await,
            self.first("search_activities", activity("PAR", 1), 0).await,
            self.first("search_flights", flight("CDG", "FCO", 3), 0)
                .await,
            self.first("search_hotels", hotel("ROM", 3), 0).await,
            self.first("search_car_rentals", car("ROM", 4), 0).await,
            self.first("search_activities", activity("ROM", 4), 0).await,
            self.first("search_flights", flight("FCO", "LHR", 6), 0)
                .await,
            self.first("search_activities", activity("PAR", 2), 1).await,
            self.first("search_activities", activity("ROM", 5), 0).await,
            self.first("search_activities", activity("ROM", 5), 1).await,
        ]
    }

    /// Creates and confirms a plan of the first `count` offers: its id and booking phases.
    async fn approved_plan(&self, offers: &[Value], count: usize) -> (Value, usize) {
        let plan = mcp::approved_plan(&self.client, &offers[..count]).await;
        let phases = plan["phases"].as_array().map_or(0, Vec::len);
        (plan["plan_id"].clone(), phases)
    }
}

/// Executions of each plan size; the median is reported.
const RUNS_PER_SIZE: usize = 5;

async fn against_the_critical_path(report: &mut Report) {
    let latency = Duration::from_millis(100);
    let bench = Bench::start("*.latency=100ms").await;
    report.line(format!(
        "## Plan execution vs the critical path (every provider call takes {} ms)\n",
        latency.as_millis()
    ));
    report.line(
        "Bound = re-quote (all items at once) + hold + one call per booking phase + capture; \
         one-by-one = re-quote and book each item in turn, hold and capture. Target: ≤ 1.05 × the bound.\n",
    );
    report.line(format!(
        "Measured = the median of {RUNS_PER_SIZE} executions of each size.\n"
    ));
    report.line("| items | phases | measured | bound | measured / bound | one-by-one | speed-up |");
    report.line("|---|---|---|---|---|---|---|");
    let trip = bench.trip(30).await;
    for count in 1..=trip.len() {
        let mut runs = Vec::with_capacity(RUNS_PER_SIZE);
        let mut phases = 0;
        for _ in 0..RUNS_PER_SIZE {
            let (plan_id, plan_phases) = bench.approved_plan(&trip, count).await;
            phases = plan_phases;
            let started = Instant::now();
            let order = bench
                .call("execute_travel_plan", json!({"plan_id": plan_id}))
                .await;
            runs.push(started.elapsed());
            assert_eq!(order["status"], "confirmed");
        }
        runs.sort();
        let measured = runs[RUNS_PER_SIZE / 2];
        let bound = latency * (3 + phases as u32);
        let sequential = latency * (2 * count as u32 + 2);
        report.line(format!(
            "| {count} | {phases} | {:.0} ms | {:.0} ms | {:.3} | {:.0} ms | {:.2}× |",
            measured.as_secs_f64() * 1e3,
            bound.as_secs_f64() * 1e3,
            measured.as_secs_f64() / bound.as_secs_f64(),
            sequential.as_secs_f64() * 1e3,
            sequential.as_secs_f64() / measured.as_secs_f64(),
        ));
    }
}

async fn throughput(report: &mut Report) {
    let bench = Bench::start("").await;
    let runs = 100;
    let mut plans = Vec::with_capacity(runs);
    for run in 0..runs {
        let offers = bench.trip(10 + (run % 200) as i64).await;
        plans.push(bench.approved_plan(&offers, 4).await.0);
    }
    let started = Instant::now();
    for plan_id in &plans {
        bench
            .call("execute_travel_plan", json!({"plan_id": plan_id}))
            .await;
    }
    let elapsed = started.elapsed();
    report.line(
        "\n## Throughput with zero-latency sandbox providers (SQLite, one client, sequential)\n",
    );
    report.line(format!(
        "{runs} four-item executions in {:.2} s: {:.1} executions/s, {:.1} ms each",
        elapsed.as_secs_f64(),
        runs as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1e3 / runs as f64
    ));
}

async fn recovery(report: &mut Report) {
    let orders = 1_000;
    let bench = Bench::start("payment.capture=lost").await;
    let offers = bench.trip(60).await;
    for _ in 0..orders {
        let (plan_id, _) = bench.approved_plan(&offers[..1], 1).await;
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
    let recovered = bench.app.recover().await.expect("recovery");
    let elapsed = started.elapsed();
    assert_eq!((recovered.examined, recovered.settled), (orders, orders));
    report.line(format!(
        "\n## Recovery of {orders} interrupted orders (each waiting for its capture to be confirmed)\n"
    ));
    report.line(format!(
        "One pass: {:.2} s, {:.0} orders/s, {:.2} ms per order",
        elapsed.as_secs_f64(),
        orders as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1e3 / orders as f64
    ));
}

fn main() {
    common::run(
        "execution",
        "cargo bench --bench execution",
        async |report| {
            against_the_critical_path(report).await;
            throughput(report).await;
            recovery(report).await;
        },
    );
}
