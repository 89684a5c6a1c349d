//! Opening the SQLite file: the pool in WAL mode, and the lock file that tells a key rotation
//! from the servers sharing the store.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sqlx::{ConnectOptions, Connection, SqlitePool};

use crate::ports::store::StoreError;

/// How a process holds the store.
#[derive(Debug, Clone, Copy)]
pub(super) enum Access {
    Shared,
    Exclusive,
}

/// Locks `<database>.lock` (an advisory lock the operating system drops with the process).
pub(super) fn lock_store(url: &str, access: Access) -> Result<Option<std::fs::File>, StoreError> {
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|e| StoreError::Database(format!("bad SQLite URL {url}: {e}")))?;
    let database = options.get_filename();
    if database.as_os_str().is_empty() || database.to_string_lossy().contains(":memory:") {
        return Ok(None);
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
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => Err(StoreError::InUse(match access {
            Access::Shared => format!(
                "the store {} is being re-encrypted by `itinera keys rotate`: start again when it has finished",
                database.display()
            ),
            Access::Exclusive => format!(
                "the store {} is in use by a running Itinera (the server, `webhooks` or `doctor`): stop it, then run `itinera keys rotate` again",
                database.display()
            ),
        })),
        Err(std::fs::TryLockError::Error(error)) => Err(StoreError::Database(format!(
            "locking {}: {error}",
            path.display()
        ))),
    }
}

/// Opens a SQLite pool in WAL mode, creating the file and its folder if needed.
///
/// WAL is switched on once, by a single connection, before the pool opens: the mode is kept in
/// the file, and switching it needs an exclusive lock that SQLite's busy timeout does not wait
/// for, so pool connections opened later under load must not ask for it again.
pub async fn open_pool(url: &str) -> Result<SqlitePool, StoreError> {
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|e| StoreError::Database(format!("bad SQLite URL {url}: {e}")))?
        .create_if_missing(true)
        .busy_timeout(Duration::from_secs(10))
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
    SqlitePoolOptions::new()
        .max_connections(4)
        .connect_with(options)
        .await
        .map_err(opening)
}
