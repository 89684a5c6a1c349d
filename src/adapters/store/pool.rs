//! Opening SQLite files: created with their folder, in WAL mode.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sqlx::{ConnectOptions, Connection, SqlitePool};

use crate::ports::store::StoreError;

/// How long a connection waits for another's write before giving up.
pub(super) const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Opens a SQLite pool in WAL mode (the sandbox providers' ledger), creating the file and its
/// folder if needed.
pub async fn open_pool(url: &str) -> Result<SqlitePool, StoreError> {
    let options = prepare_sqlite(url).await?;
    SqlitePoolOptions::new()
        .max_connections(4)
        .connect_with(options)
        .await
        .map_err(|e| StoreError::Database(format!("opening {url}: {e}")))
}

/// Creates the file and its folder if needed and switches it to WAL; the options to open it.
///
/// WAL is switched on once, by a single connection, before any pool opens: the mode is kept in
/// the file, and switching it needs an exclusive lock that SQLite's busy timeout does not wait
/// for, so pool connections opened later under load must not ask for it again.
pub(super) async fn prepare_sqlite(url: &str) -> Result<SqliteConnectOptions, StoreError> {
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|e| StoreError::Database(format!("bad SQLite URL {url}: {e}")))?
        .create_if_missing(true)
        .busy_timeout(BUSY_TIMEOUT)
        .foreign_keys(true);
    if let Some(parent) = Path::new(options.get_filename()).parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent)
            .map_err(|e| StoreError::Database(format!("creating {}: {e}", parent.display())))?;
    }
    let opening = |e: sqlx::Error| StoreError::Database(format!("opening {url}: {e}"));
    let first = options
        .clone()
        .journal_mode(SqliteJournalMode::Wal)
        .connect()
        .await
        .map_err(opening)?;
    first.close().await.map_err(opening)?;
    Ok(options)
}
