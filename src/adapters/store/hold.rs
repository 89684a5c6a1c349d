//! The hold every process keeps on the store while it has it open: shared by servers, taken
//! alone by a key rotation, so that no server goes on sealing with the old key while the
//! records are re-sealed under the new one.
//!
//! On SQLite it is an advisory lock on `<database>.lock`; on PostgreSQL an advisory lock of the
//! schema, held by a connection of its own. Both are dropped with the process.

use std::str::FromStr;
use std::sync::Mutex;

use sqlx::AnyConnection;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Connection, Executor};

use super::backend::Backend;
use crate::ports::store::StoreError;

/// How a process holds the store.
#[derive(Debug, Clone, Copy)]
pub(super) enum Access {
    Shared,
    Exclusive,
}

/// Kept for as long as the store is open; dropping it (or the process ending) lets go.
pub(super) enum Hold {
    /// An in-memory database: nobody else can open it.
    Nothing,
    File(std::fs::File),
    Session(Mutex<Option<AnyConnection>>),
}

impl Hold {
    pub(super) async fn take(
        backend: Backend,
        url: &str,
        access: Access,
    ) -> Result<Hold, StoreError> {
        match backend {
            Backend::Sqlite => lock_file(url, access),
            Backend::Postgres => lock_schema(url, access).await,
        }
    }

    /// Lets go now, for a process that goes on after closing the store: dropping the hold
    /// would let go too, but PostgreSQL only notices a dropped connection a moment later.
    pub(super) async fn release(&self) {
        match self {
            Hold::Nothing => {}
            Hold::File(file) => {
                // Failing to unlock leaves the lock to the process's end, as dropping does.
                let _ = file.unlock();
            }
            Hold::Session(connection) => {
                let taken = connection.lock().ok().and_then(|mut held| held.take());
                if let Some(mut connection) = taken {
                    // The unlock is answered before the session ends; an error here means the
                    // session already ended, and its locks with it.
                    let _ = sqlx::query("SELECT pg_advisory_unlock_all()")
                        .execute(&mut connection)
                        .await;
                    let _ = connection.close().await;
                }
            }
        }
    }
}

fn lock_file(url: &str, access: Access) -> Result<Hold, StoreError> {
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|e| StoreError::Database(format!("bad SQLite URL {url}: {e}")))?;
    let database = options.get_filename();
    if database.as_os_str().is_empty() || database.to_string_lossy().contains(":memory:") {
        return Ok(Hold::Nothing);
    }
    let mut path = database.as_os_str().to_os_string();
    path.push(".lock");
    let path = std::path::PathBuf::from(path);
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| StoreError::Database(format!("creating {}: {e}", parent.display())))?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| StoreError::Database(format!("opening {}: {e}", path.display())))?;
    let locked = match access {
        Access::Shared => file.try_lock_shared(),
        Access::Exclusive => file.try_lock(),
    };
    match locked {
        Ok(()) => Ok(Hold::File(file)),
        Err(std::fs::TryLockError::WouldBlock) => {
            Err(in_use(access, &database.display().to_string()))
        }
        Err(std::fs::TryLockError::Error(error)) => Err(StoreError::Database(format!(
            "locking {}: {error}",
            path.display()
        ))),
    }
}

/// The schema's advisory lock, on a connection outside the pool: PostgreSQL releases it when
/// that connection ends, with the process.
async fn lock_schema(url: &str, access: Access) -> Result<Hold, StoreError> {
    let mut connection = AnyConnection::connect(url)
        .await
        .map_err(|e| StoreError::Database(format!("connecting to PostgreSQL: {e}")))?;
    let key = "hashtextextended(current_schema() || ':itinera-store', 0)";
    let sql = match access {
        Access::Shared => format!("SELECT pg_try_advisory_lock_shared({key})"),
        Access::Exclusive => format!("SELECT pg_try_advisory_lock({key})"),
    };
    let locked: bool = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .fetch_one(&mut connection)
        .await
        .map_err(|e| StoreError::Database(format!("locking the store: {e}")))?;
    if !locked {
        let schema: String = connection
            .fetch_one("SELECT current_schema()::text")
            .await
            .and_then(|row| sqlx::Row::try_get(&row, 0))
            .unwrap_or_else(|_| "?".into());
        return Err(in_use(access, &format!("in PostgreSQL schema {schema}")));
    }
    Ok(Hold::Session(Mutex::new(Some(connection))))
}

fn in_use(access: Access, store: &str) -> StoreError {
    StoreError::InUse(match access {
        Access::Shared => format!(
            "the store {store} is being re-encrypted by `itinera keys rotate`: start again when it has finished"
        ),
        Access::Exclusive => format!(
            "the store {store} is in use by a running Itinera (the server, `webhooks` or `doctor`): stop it, then run `itinera keys rotate` again"
        ),
    })
}
