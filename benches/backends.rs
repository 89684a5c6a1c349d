//! Plan executions per second on each order store, at 1, 8 and 64 executions in flight:
//! `cargo bench --bench backends`.
//!
//! Zero-latency sandbox providers, so the store's commits are what is measured (a four-item
//! execution writes about thirty: intents, outcomes, order saves, audit entries). Eight people
//! share the server, as a team on one instance would: admitting an order is one at a time per
//! person (the spending checks count the person's orders), so in-flight executions spread over
//! them. PostgreSQL is `ITINERA_TEST_POSTGRES_URL` (default: the local server's `test` database),
//! in a schema of its own, dropped afterwards; without a server that answers, its row says so.
//!
//! Figures, not pass/fail: nothing here asserts a time. They are written to BENCHMARKS.md.

#[path = "common/mod.rs"]
mod common;
#[path = "common/mcp.rs"]
mod mcp;

use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;
use futures::StreamExt;
use itinera::app::App;
use itinera::config::Config;
use itinera::domain::ids::OwnerId;
use itinera::domain::money::Money;
use itinera::domain::risk::RiskRules;
use itinera::ports::SystemClock;
use rmcp::ServiceExt;
use serde_json::{Value, json};
use sqlx::Connection;

const PEOPLE: usize = 8;
const IN_FLIGHT: [usize; 3] = [1, 8, 64];
const EXECUTIONS: usize = 128;

/// An MCP client acting for one person.
struct Person(mcp::Client);

impl Person {
    async fn call(&self, tool: &str, args: Value) -> Value {
        mcp::call(&self.0, tool, args).await
    }

    /// An approved plan of one of each kind in Paris, `offset` days ahead.
    async fn approved_trip(&self, offset: i64) -> Value {
        let day =
            |n: i64| (Utc::now().date_naive() + chrono::Duration::days(offset + n)).to_string();
        let searches = [
            (
                "search_flights",
                json!({"origin": "LHR", "destination": "CDG", "date": day(0), "currency": "EUR"}),
            ),
            (
                "search_hotels",
                json!({"city": "PAR", "check_in": day(0), "check_out": day(2), "currency": "EUR"}),
            ),
            (
                "search_car_rentals",
                json!({"city": "PAR", "pick_up_date": day(0), "drop_off_date": day(2), "currency": "EUR"}),
            ),
            (
                "search_activities",
                json!({"city": "PAR", "date": day(1), "currency": "EUR"}),
            ),
        ];
        let mut offers = Vec::new();
        for (tool, args) in searches {
            offers.push(self.call(tool, args).await["offers"][0]["id"].clone());
        }
        mcp::approved_plan(&self.0, &offers).await["plan_id"].clone()
    }
}

async fn start(database_url: Option<&str>) -> (tempfile::TempDir, App, Vec<Arc<Person>>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config::in_dir(dir.path());
    if let Some(url) = database_url {
        config.database_url = url.to_string();
    }
    config.approvals.auto_approve_limit = Some(Money::parse("1000000", "EUR").expect("limit"));
    config.risk = RiskRules::off();
    let app = App::start(&config, Arc::new(SystemClock))
        .await
        .expect("app");
    let mut people = Vec::new();
    for person in 0..PEOPLE {
        let (server_io, client_io) = tokio::io::duplex(1 << 20);
        let server = app.server_for(OwnerId::new(format!("person{person}")));
        tokio::spawn(async move {
            if let Ok(running) = server.serve(server_io).await {
                let _ = running.waiting().await;
            }
        });
        people.push(Arc::new(Person(().serve(client_io).await.expect("client"))));
    }
    (dir, app, people)
}

/// Executions per second at each level of concurrency, on the store at `database_url`.
async fn measure(database_url: Option<&str>) -> Vec<(usize, f64)> {
    let (_dir, _app, people) = start(database_url).await;
    let mut figures = Vec::new();
    let mut trips = 0;
    for in_flight in IN_FLIGHT {
        let mut plans = Vec::with_capacity(EXECUTIONS);
        for run in 0..EXECUTIONS {
            let person = Arc::clone(&people[run % PEOPLE]);
            // A day of its own for each trip, within the sandbox's booking horizon.
            trips += 1;
            plans.push((person.approved_trip(10 + trips % 300).await, person));
        }
        let started = Instant::now();
        futures::stream::iter(plans)
            .map(|(plan_id, person)| async move {
                person
                    .call("execute_travel_plan", json!({"plan_id": plan_id}))
                    .await
            })
            .buffer_unordered(in_flight)
            .collect::<Vec<_>>()
            .await;
        figures.push((
            in_flight,
            EXECUTIONS as f64 / started.elapsed().as_secs_f64(),
        ));
    }
    figures
}

/// A schema of its own on the benchmark's PostgreSQL server, dropped when done.
struct Schema {
    server: String,
    name: String,
}

impl Schema {
    async fn create() -> Result<Schema, sqlx::Error> {
        let server = std::env::var("ITINERA_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let name = format!("itinera_bench_{}", uuid::Uuid::new_v4().simple());
        let mut admin = sqlx::PgConnection::connect(&server).await?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {name}")))
            .execute(&mut admin)
            .await?;
        Ok(Schema { server, name })
    }

    fn url(&self) -> String {
        format!("{}?options[search_path]={}", self.server, self.name)
    }

    async fn drop(self) -> Result<(), sqlx::Error> {
        let mut admin = sqlx::PgConnection::connect(&self.server).await?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP SCHEMA {} CASCADE",
            self.name
        )))
        .execute(&mut admin)
        .await
        .map(drop)
    }
}

fn main() {
    common::run("backends", "cargo bench --bench backends", async |report| {
        report.line(format!(
            "\n## Executions per second by order store and concurrency (zero-latency sandbox, {PEOPLE} people, {EXECUTIONS} four-item executions per level)\n"
        ));
        report.line("| Store | 1 in flight | 8 in flight | 64 in flight |");
        report.line("|---|---|---|---|");
        let row = |store: &str, figures: &[(usize, f64)]| {
            let cells: Vec<String> = figures
                .iter()
                .map(|(_, rate)| format!("{rate:.1}/s"))
                .collect();
            format!("| {store} | {} |", cells.join(" | "))
        };
        report.line(row("SQLite (embedded file, WAL)", &measure(None).await));
        match Schema::create().await {
            Ok(schema) => {
                let figures = measure(Some(&schema.url())).await;
                report.line(row("PostgreSQL (local server)", &figures));
                if let Err(error) = schema.drop().await {
                    eprintln!("the benchmark schema was left behind: {error}");
                }
            }
            Err(error) => report.line(format!(
                "| PostgreSQL | not measured: no server answers ({error}) | | |"
            )),
        }
    });
}
