//! Databases for store tests: a SQLite file in a temporary folder, or a PostgreSQL schema of the
//! test's own (dropped afterwards), so tests run side by side on one server without meeting.
//!
//! PostgreSQL is `ITINERA_TEST_POSTGRES_URL` (default: the local server's `test` database). When
//! it does not answer, PostgreSQL cases say so loudly and pass, unless `ITINERA_REQUIRE_POSTGRES`
//! is set (as CI does), where they fail.

use std::io::Write;

use sqlx::Connection;
use sqlx::postgres::PgConnection;

const DEFAULT_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A database a test owns for its duration.
pub enum TestDb {
    Sqlite(tempfile::TempDir),
    Postgres { server: String, schema: String },
}

impl TestDb {
    pub fn sqlite() -> TestDb {
        TestDb::Sqlite(tempfile::tempdir().expect("a temporary folder"))
    }

    /// A fresh schema on the test server, or `None` (said on stderr) when no server answers
    /// and none is required.
    pub async fn postgres() -> Option<TestDb> {
        let server =
            std::env::var("ITINERA_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES.into());
        let mut admin = match PgConnection::connect(&server).await {
            Ok(connection) => connection,
            Err(error) if std::env::var_os("ITINERA_REQUIRE_POSTGRES").is_none() => {
                static SAID: std::sync::Once = std::sync::Once::new();
                SAID.call_once(|| {
                    // Written past the test harness's capture, which hides a passing test's output.
                    let _ = writeln!(
                        std::io::stderr(),
                        "\n*** SKIPPED: the PostgreSQL cases, PostgreSQL at {server} does not answer ({error}); set ITINERA_TEST_POSTGRES_URL, or ITINERA_REQUIRE_POSTGRES=1 to fail instead ***\n"
                    );
                });
                return None;
            }
            Err(error) => panic!("PostgreSQL at {server} is required and does not answer: {error}"),
        };
        let schema = format!("itinera_test_{}", uuid::Uuid::new_v4().simple());
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
            .execute(&mut admin)
            .await
            .expect("creating the test schema");
        admin.close().await.ok();
        Some(TestDb::Postgres { server, schema })
    }

    /// The store URL (`ITINERA_DATABASE_URL`) of this database.
    pub fn url(&self) -> String {
        match self {
            TestDb::Sqlite(dir) => format!("sqlite://{}", dir.path().join("store.db").display()),
            TestDb::Postgres { server, schema } => {
                let joint = if server.contains('?') { '&' } else { '?' };
                format!("{server}{joint}options[search_path]={schema}")
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let TestDb::Postgres { server, schema } = self else {
            return;
        };
        let (server, doomed) = (server.clone(), schema.clone());
        // Drop runs inside the test's runtime, which cannot be blocked on: a thread of its own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(async {
                let mut admin = PgConnection::connect(&server).await?;
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "DROP SCHEMA IF EXISTS {doomed} CASCADE"
                )))
                .execute(&mut admin)
                .await?;
                admin.close().await
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("the test schema {schema} was left behind: {dropped:?}");
        }
    }
}
