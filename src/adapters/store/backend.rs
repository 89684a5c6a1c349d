//! The two databases the order store runs on, and the few things it must do differently on
//! each. Every query is written once, with `$N` placeholders that both understand; what differs
//! is how a pool is opened, how a writing transaction starts, how the audit chain is kept
//! linear, the migrations, one JSON query, and the clean-up after a key rotation.

use sqlx::any::AnyPoolOptions;
use sqlx::migrate::Migrator;
use sqlx::{Any, AnyPool, Transaction};

use super::pool::{BUSY_TIMEOUT, prepare_sqlite};
use super::rows::db;
use crate::ports::store::StoreError;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// Which database a store URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An embedded file: one machine, one or a few processes.
    Sqlite,
    /// A server several Itinera instances share.
    Postgres,
}

impl Backend {
    /// The database of `url`, by its scheme.
    pub fn of(url: &str) -> Result<Backend, StoreError> {
        match url.split_once(':').map(|(scheme, _)| scheme) {
            Some("sqlite") => Ok(Backend::Sqlite),
            Some("postgres" | "postgresql") => Ok(Backend::Postgres),
            _ => Err(StoreError::Database(
                "ITINERA_DATABASE_URL must start with sqlite:// (a file) or postgres:// (a server)"
                    .into(),
            )),
        }
    }

    /// Opens a pool on the database, creating a SQLite file (and its folder) if needed.
    pub(super) async fn connect(self, url: &str) -> Result<AnyPool, StoreError> {
        let opening =
            |e: sqlx::Error| StoreError::Database(format!("opening the order store: {e}"));
        match self {
            Backend::Sqlite => {
                prepare_sqlite(url).await?;
                let busy = format!("PRAGMA busy_timeout = {}", BUSY_TIMEOUT.as_millis());
                AnyPoolOptions::new()
                    .max_connections(4)
                    .after_connect(move |connection, _| {
                        let busy = busy.clone();
                        Box::pin(async move {
                            sqlx::raw_sql(sqlx::AssertSqlSafe(busy))
                                .execute(connection)
                                .await
                                .map(drop)
                        })
                    })
                    .connect(url)
                    .await
                    .map_err(opening)
            }
            Backend::Postgres => AnyPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(BUSY_TIMEOUT)
                .connect(url)
                .await
                .map_err(opening),
        }
    }

    pub(super) async fn migrate(self, pool: &AnyPool) -> Result<(), StoreError> {
        let migrator = match self {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator
            .run(pool)
            .await
            .map_err(|e| StoreError::Database(format!("migrating the order store: {e}")))
    }

    /// A transaction that reads and then writes: on SQLite it takes the write lock at once, so
    /// what it read cannot change before it writes (a deferred one would fail with "database is
    /// locked" instead of waiting). PostgreSQL's row locks and unique keys do that job there.
    pub(super) async fn begin_write(
        self,
        pool: &AnyPool,
    ) -> Result<Transaction<'static, Any>, StoreError> {
        match self {
            Backend::Sqlite => pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => pool.begin().await,
        }
        .map_err(db)
    }

    /// Makes the caller's transaction the only one appending to the audit chain until it ends,
    /// so that two entries never link to the same predecessor. SQLite's single writer gives that
    /// already; on PostgreSQL the table is locked against other writers (readers go on). Taken
    /// last in every transaction, after its row locks, so it never waits while holding this.
    pub(super) async fn lock_audit_chain(
        self,
        tx: &mut Transaction<'_, Any>,
    ) -> Result<(), StoreError> {
        if self == Backend::Postgres {
            sqlx::query("LOCK TABLE audit_log IN SHARE ROW EXCLUSIVE MODE")
                .execute(&mut **tx)
                .await
                .map_err(db)?;
        }
        Ok(())
    }

    /// What a claiming query ends with so that instances claiming at once take disjoint rows of
    /// `alias` instead of queueing on the same ones (PostgreSQL); SQLite has one writer at a
    /// time anyway.
    pub(super) fn skip_locked(self, alias: &str) -> String {
        match self {
            Backend::Sqlite => String::new(),
            Backend::Postgres => format!("FOR UPDATE OF {alias} SKIP LOCKED"),
        }
    }

    /// The order a payment event names: by the payment's reference, or, for a split payment,
    /// by one of its parts (their references kept as a JSON array beside the parts, in the
    /// same order). `$1` is the provider, `$2` the reference.
    pub(super) fn order_for_payment_sql(self) -> &'static str {
        match self {
            Backend::Sqlite => {
                "SELECT * FROM orders o WHERE (o.payment_provider = $1 AND o.payment_reference = $2) \
                 OR (o.payment_provider = 'split' AND EXISTS ( \
                     SELECT 1 FROM json_each(o.payment_reference) AS id \
                     JOIN json_each(o.payment_parts) AS part ON part.key = id.key \
                     WHERE id.value = $2 AND json_extract(part.value, '$.provider') = $1))"
            }
            // CASE keeps a single payment's plain reference from ever being cast to JSON.
            Backend::Postgres => {
                "SELECT * FROM orders o WHERE (o.payment_provider = $1 AND o.payment_reference = $2) \
                 OR (o.payment_provider = 'split' AND EXISTS ( \
                     SELECT 1 FROM jsonb_array_elements_text(CASE WHEN o.payment_provider = 'split' \
                         THEN o.payment_reference::jsonb ELSE '[]'::jsonb END) WITH ORDINALITY AS id(value, n) \
                     JOIN jsonb_array_elements(CASE WHEN o.payment_provider = 'split' \
                         THEN o.payment_parts::jsonb ELSE '[]'::jsonb END) WITH ORDINALITY AS part(value, n) \
                         ON part.n = id.n \
                     WHERE id.value = $2 AND part.value ->> 'provider' = $1))"
            }
        }
    }

    /// After a key rotation re-sealed every envelope: rewrites the tables so that no free page
    /// keeps an old one. On SQLite the write-ahead log is emptied too, which a reader still
    /// holding it prevents (an error: nothing is lost, the rotation is run again).
    pub(super) async fn compact(self, pool: &AnyPool) -> Result<(), StoreError> {
        match self {
            Backend::Sqlite => {
                sqlx::query("VACUUM").execute(pool).await.map_err(db)?;
                let (busy, _, _): (i64, i64, i64) =
                    sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
                        .fetch_one(pool)
                        .await
                        .map_err(db)?;
                if busy != 0 {
                    return Err(StoreError::InUse(
                        "the records are re-sealed, but a reader kept the write-ahead log, where old envelopes remain: stop every Itinera using this store and run `itinera keys rotate` again".into(),
                    ));
                }
                Ok(())
            }
            Backend::Postgres => {
                sqlx::query("VACUUM FULL plans, platform_accounts")
                    .execute(pool)
                    .await
                    .map_err(db)?;
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scheme_names_the_database() {
        assert_eq!(
            Backend::of("sqlite:///tmp/x.db").ok(),
            Some(Backend::Sqlite)
        );
        assert_eq!(
            Backend::of("postgres://u@h/db").ok(),
            Some(Backend::Postgres)
        );
        assert_eq!(
            Backend::of("postgresql://u@h/db").ok(),
            Some(Backend::Postgres)
        );
        let refused = Backend::of("mysql://u@h/db").unwrap_err().to_string();
        assert!(
            refused.contains("sqlite://") && refused.contains("postgres://"),
            "{refused}"
        );
    }
}
