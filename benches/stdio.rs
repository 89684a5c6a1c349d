//! MCP over stdio with the real binary, measured: `cargo bench --bench stdio`.
//!
//! 1. Time from spawning `itinera` to its answer to `initialize`.
//! 2. `tools/list` latency: through rmcp's client, and the server's part alone (the answer read
//!    off a raw pipe, not decoded).
//! 3. p50 and p99 of `get_booking_status` (a read) and `search_flights` (sandbox search).
//! 4. Calls per second of `get_booking_status` with 1, 8 and 64 requests in flight.
//! 5. Resident memory idle, and after 10,000 orders executed.
//!
//! Figures, not pass/fail; each is compared with Itinera's target in the report.
//!
//! `ITINERA_BENCH_BINARY` measures another build of `itinera` instead of the one cargo built
//! for the benchmark (to compare two release profiles on one machine, say).

#[path = "common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::Report;
use rmcp::model::CallToolRequestParams;
use rmcp::service::{Peer, RunningService};
use rmcp::transport::TokioChildProcess;
use rmcp::{RoleClient, ServiceExt};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// Orders executed before resident memory is read again.
const ORDERS: usize = 10_000;
/// Executions in flight while the orders are made.
const ORDER_CONCURRENCY: usize = 8;

struct Server {
    dir: tempfile::TempDir,
    client: RunningService<RoleClient, ()>,
    pid: u32,
}

/// Spawns the binary on a fresh data directory and initializes.
async fn spawn() -> (Server, Duration) {
    spawn_in(tempfile::tempdir().expect("temp dir")).await
}

/// The binary measured: `ITINERA_BENCH_BINARY`, or the one cargo built.
fn binary() -> std::path::PathBuf {
    std::env::var_os("ITINERA_BENCH_BINARY")
        .map_or_else(|| env!("CARGO_BIN_EXE_itinera").into(), Into::into)
}

/// The binary on `dir` (sandbox providers, everything approved automatically, risk checks
/// off: the person is not what is measured), not started yet.
fn command_in(dir: &std::path::Path) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(binary());
    command
        .env("ITINERA_DATA_DIR", dir)
        .env("ITINERA_AUTO_APPROVE_LIMIT", "100000000 EUR")
        .env("ITINERA_RISK_VELOCITY_MAX_ORDERS", "0")
        .env("ITINERA_RISK_UNUSUAL_MULTIPLE", "0")
        .env("ITINERA_RISK_NEW_METHOD_AMOUNTS", "off")
        .env("RUST_LOG", "error");
    command
}

/// Spawns the binary on `dir` and initializes.
async fn spawn_in(dir: tempfile::TempDir) -> (Server, Duration) {
    let command = command_in(dir.path());
    let started = Instant::now();
    let transport = TokioChildProcess::new(command).expect("spawn itinera");
    let pid = transport.id().expect("child pid");
    let client = ().serve(transport).await.expect("initialize");
    let initialized = started.elapsed();
    (Server { dir, client, pid }, initialized)
}

async fn call(peer: &Peer<RoleClient>, tool: &str, args: Value) -> Value {
    let Value::Object(args) = args else {
        panic!("object arguments")
    };
    let result = peer
        .call_tool(CallToolRequestParams::new(tool.to_string()).with_arguments(args))
        .await
        .expect("tool call");
    assert_ne!(result.is_error, Some(true), "{tool}: {:?}", result.content);
    result.structured_content.expect("structured output")
}

fn day(offset: i64) -> String {
    (chrono::Utc::now().date_naive() + chrono::Duration::days(offset)).to_string()
}

fn flights_on(offset: i64) -> Value {
    json!({"origin": "LHR", "destination": "CDG", "date": day(offset), "currency": "EUR"})
}

/// Plans, approves and executes one flight found `offset` days ahead: the order's id.
async fn order(peer: &Peer<RoleClient>, offset: i64, pick: usize) -> Value {
    let offers = call(peer, "search_flights", flights_on(offset)).await;
    let offers = offers["offers"].as_array().expect("offers");
    let offer = &offers[pick % offers.len()];
    let plan = call(
        peer,
        "create_travel_plan",
        json!({
            "travellers": [{"given_name": "Ada", "family_name": "Lovelace"}],
            "payment_method": "pm_sandbox_visa",
            "items": [{"offer_id": offer["id"]}],
        }),
    )
    .await;
    call(
        peer,
        "confirm_travel_plan",
        json!({"plan_id": plan["plan_id"]}),
    )
    .await;
    let order = call(
        peer,
        "execute_travel_plan",
        json!({"plan_id": plan["plan_id"]}),
    )
    .await;
    order["order_id"].clone()
}

/// Resident memory of the process, in MiB.
fn resident_mib(pid: u32) -> f64 {
    common::proc_kib(&format!("/proc/{pid}/status"), "VmRSS:").map_or(f64::NAN, |kib| kib / 1024.0)
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

/// The p-th percentile (0–100) of sorted samples.
fn percentile(sorted: &[Duration], p: usize) -> Duration {
    sorted[(sorted.len() * p / 100).min(sorted.len() - 1)]
}

/// Latencies of `runs` calls, one after another, sorted.
async fn latencies(runs: usize, mut call: impl AsyncFnMut(usize)) -> Vec<Duration> {
    let mut samples = Vec::with_capacity(runs);
    for run in 0..runs {
        let started = Instant::now();
        call(run).await;
        samples.push(started.elapsed());
    }
    samples.sort();
    samples
}

/// `tools/list` as the server answers it: from writing the request to reading the answer's
/// last byte off the pipe, without decoding it (what rmcp's client adds is the difference).
async fn raw_tools_list(runs: usize) -> Vec<Duration> {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut child = command_in(dir.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn itinera");
    let mut input = child.stdin.take().expect("stdin");
    let mut output = BufReader::new(child.stdout.take().expect("stdout"));
    let mut answer = Vec::new();
    let mut exchange = async |message: Value, answered: bool| {
        let mut line = message.to_string();
        line.push('\n');
        input.write_all(line.as_bytes()).await.expect("write");
        if answered {
            answer.clear();
            output.read_until(b'\n', &mut answer).await.expect("read");
        }
    };
    exchange(
        json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "bench", "version": "0"}}}),
        true,
    )
    .await;
    exchange(
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        false,
    )
    .await;
    latencies(runs, async |run| {
        exchange(
            json!({"jsonrpc": "2.0", "id": run + 1, "method": "tools/list"}),
            true,
        )
        .await;
    })
    .await
}

/// `get_booking_status` calls per second with `in_flight` requests outstanding.
async fn calls_per_second(peer: &Peer<RoleClient>, order_id: &Value, in_flight: usize) -> f64 {
    let total = 4_000;
    let started = Instant::now();
    let workers: Vec<_> = (0..in_flight)
        .map(|worker| {
            let (peer, order_id) = (peer.clone(), order_id.clone());
            let calls = total / in_flight + usize::from(worker < total % in_flight);
            tokio::spawn(async move {
                for _ in 0..calls {
                    call(&peer, "get_booking_status", json!({"order_id": order_id})).await;
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.expect("worker");
    }
    total as f64 / started.elapsed().as_secs_f64()
}

fn verdict(measured: f64, target: f64) -> &'static str {
    if measured <= target { "met" } else { "missed" }
}

async fn measure(report: &mut Report) {
    let mut starts = Vec::new();
    for _ in 0..10 {
        let (server, initialized) = spawn().await;
        starts.push(initialized);
        server.client.cancel().await.expect("close");
    }
    starts.sort();
    // Restarts over the same data: databases, key file and migrations already there.
    let (first, _) = spawn().await;
    first.client.cancel().await.expect("close");
    let mut dir = first.dir;
    let mut restarts = Vec::new();
    for _ in 0..10 {
        let (server, initialized) = spawn_in(dir).await;
        restarts.push(initialized);
        server.client.cancel().await.expect("close");
        dir = server.dir;
    }
    restarts.sort();
    let (server, _) = spawn().await;
    let peer = server.client.peer().clone();
    let idle = resident_mib(server.pid);

    let tools = latencies(200, async |_| {
        peer.list_all_tools().await.expect("tools/list");
    })
    .await;
    let raw_tools = raw_tools_list(200).await;
    let order_id = order(&peer, 30, 0).await;
    let status = latencies(2_000, async |_| {
        call(&peer, "get_booking_status", json!({"order_id": order_id})).await;
    })
    .await;
    let search = latencies(1_000, async |run| {
        call(&peer, "search_flights", flights_on(10 + (run % 300) as i64)).await;
    })
    .await;

    report.line("| figure | measured | target | |");
    report.line("|---|---|---|---|");
    let rows = [
        (
            "spawn → initialize answer, new data dir (median of 10)",
            ms(percentile(&starts, 50)),
            30.0,
        ),
        (
            "spawn → initialize answer, existing data dir (median of 10)",
            ms(percentile(&restarts, 50)),
            30.0,
        ),
        (
            "tools/list (median of 200)",
            ms(percentile(&tools, 50)),
            1.0,
        ),
        (
            "tools/list, the server's part: raw pipe, answer not decoded (median of 200)",
            ms(percentile(&raw_tools, 50)),
            1.0,
        ),
        (
            "get_booking_status p50 (2,000 calls)",
            ms(percentile(&status, 50)),
            1.0,
        ),
    ];
    for (figure, measured, target) in rows {
        report.line(format!(
            "| {figure} | {measured:.2} ms | ≤ {target} ms | {} |",
            verdict(measured, target)
        ));
    }
    report.line(format!(
        "| get_booking_status p99 | {:.2} ms | | |",
        ms(percentile(&status, 99))
    ));
    report.line(format!(
        "| search_flights p50 / p99 (1,000 calls, sandbox) | {:.2} / {:.2} ms | | |",
        ms(percentile(&search, 50)),
        ms(percentile(&search, 99))
    ));
    for in_flight in [1, 8, 64] {
        let rate = calls_per_second(&peer, &order_id, in_flight).await;
        report.line(format!(
            "| get_booking_status, {in_flight} in flight | {rate:.0} calls/s | | |"
        ));
    }
    report.line(format!(
        "| resident memory, idle | {idle:.1} MiB | ≤ 20 MiB | {} |",
        verdict(idle, 20.0)
    ));

    let started = Instant::now();
    let workers: Vec<_> = (0..ORDER_CONCURRENCY)
        .map(|worker| {
            let peer = peer.clone();
            tokio::spawn(async move {
                for n in (worker..ORDERS).step_by(ORDER_CONCURRENCY) {
                    order(&peer, 10 + (n % 300) as i64, n / 300).await;
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.expect("worker");
    }
    let made = started.elapsed();
    report.line(format!(
        "| resident memory after {ORDERS} more orders ({:.0} s, {ORDER_CONCURRENCY} in flight) | {:.1} MiB | | |",
        made.as_secs_f64(),
        resident_mib(server.pid)
    ));
    server.client.cancel().await.expect("close");
}

fn main() {
    common::run("stdio", "cargo bench --bench stdio", async |report| {
        report.line("## MCP over stdio with the real binary\n");
        measure(report).await;
    });
}
