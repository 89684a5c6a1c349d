//! Leases across processes: several Itinera instances on one database never work on the same
//! order at once, nor admit two orders of one person at once (the spending checks count the
//! person's orders), nor refresh one person's platform tokens at once (a refresh token used
//! twice can revoke the whole grant). Within a process `KeyedLocks` already serialises; the
//! lease extends that to every process sharing the store.
//!
//! A lease is renewed every third of its time while the work runs. If it cannot be renewed (the
//! process stalled past it and another took the work over), the work is dropped where it stands,
//! as a crash would leave it: every call it made is in the saga log under its idempotency key,
//! and the process now holding the order resumes from there.
//!
//! A process that died leaves its leases to expire, which another machine must wait for. On the
//! same machine it need not: the holder names its host and process id, and a process finding a
//! lease of a process of its host that no longer runs releases it at once (a server restarted
//! after a crash resumes its orders without waiting).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use crate::ports::{Store, StoreError};

/// How long a lease lasts unless renewed (`ITINERA_LEASE_SECONDS`).
pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);

/// How long a person's call waits for another process to finish with what it needs.
pub const PATIENCE: Duration = Duration::from_secs(15);
const POLL: Duration = Duration::from_millis(100);

/// Why work that needs a lease did not run, or did not finish.
#[derive(Debug, thiserror::Error)]
pub enum LeaseError {
    #[error(
        "another Itinera instance is working on this right now ({0}): get_booking_status shows where an order stands; try again in a moment"
    )]
    Busy(String),
    #[error(
        "this instance lost its hold on {0} (it stalled, and another instance took the work over): nothing is lost, get_booking_status shows where an order stands"
    )]
    Lost(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What work does once its lease is lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnLoss {
    /// Stop where it stands, as a crash would (the saga log lets the new holder resume).
    Stop,
    /// Finish: the work is one call that cannot be taken back once sent (a token refresh,
    /// whose answer must be kept), and the store refuses its write if another got there first.
    Finish,
}

/// This process's leases.
#[derive(Clone)]
pub struct Leases {
    store: Arc<dyn Store>,
    /// This process, as the holder of its leases.
    holder: Arc<str>,
    /// Where it runs (read once from `/proc`), to tell which other holders are gone.
    here: Arc<Process>,
    ttl: Duration,
    /// Leases held right now: shutdown releases the others only.
    held: Arc<std::sync::Mutex<std::collections::HashMap<String, usize>>>,
}

impl Leases {
    pub fn new(store: Arc<dyn Store>, ttl: Duration) -> Leases {
        let here = Process::this();
        let holder = format!("inst_{}@{here}", uuid::Uuid::new_v4().simple());
        Leases {
            store,
            holder: Arc::from(holder),
            here: Arc::new(here),
            ttl,
            held: Arc::default(),
        }
    }

    /// Releases the leases of processes of this machine (same boot, same process namespace)
    /// that are gone.
    pub async fn release_dead_neighbours(&self) -> Result<(), StoreError> {
        for holder in self.store.lease_holders().await? {
            if holder != *self.holder && is_gone(&holder, &self.here) {
                let released = self.store.release_leases_of(&holder).await?;
                tracing::info!(
                    holder,
                    released,
                    "released the leases of a process that is gone"
                );
            }
        }
        Ok(())
    }

    /// The store the leases live in.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn holder(&self) -> &str {
        &self.holder
    }

    /// When a lease taken now would end.
    pub fn until(&self) -> chrono::DateTime<Utc> {
        Utc::now() + chrono::Duration::from_std(self.ttl).unwrap_or(chrono::Duration::seconds(30))
    }

    /// Lets go of every lease this process has, unless some work still holds one (a stopping
    /// process whose last calls are still running leaves its leases to expire).
    pub async fn release_all(&self) -> Result<u64, StoreError> {
        let busy = self.held().values().any(|holds| *holds > 0);
        if busy {
            return Ok(0);
        }
        self.store.release_leases_of(&self.holder).await
    }

    fn held(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, usize>> {
        self.held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Runs `work` holding the lease on `key`, waiting up to `patience` for another process to
    /// let go of it; `on_loss` says what the work does if the lease is lost meanwhile.
    pub async fn hold<T, E: From<LeaseError>>(
        &self,
        key: &str,
        patience: Duration,
        on_loss: OnLoss,
        work: impl Future<Output = Result<T, E>>,
    ) -> Result<T, E> {
        self.claim(key, patience).await.map_err(E::from)?;
        *self.held().entry(key.to_string()).or_default() += 1;
        let outcome = match on_loss {
            OnLoss::Stop => tokio::select! {
                outcome = work => Some(outcome),
                () = self.keep(key) => None,
            },
            OnLoss::Finish => {
                let work = std::pin::pin!(work);
                let keep = std::pin::pin!(self.keep(key));
                match futures::future::select(work, keep).await {
                    futures::future::Either::Left((outcome, _)) => Some(outcome),
                    futures::future::Either::Right(((), work)) => {
                        tracing::warn!(key, "finishing a call that cannot be taken back");
                        Some(work.await)
                    }
                }
            }
        };
        let last = {
            let mut held = self.held();
            let holds = held.entry(key.to_string()).or_default();
            *holds = holds.saturating_sub(1);
            let last = *holds == 0;
            if last {
                held.remove(key);
            }
            last
        };
        // Another task of this process may hold the same lease still (the same holder claims
        // again): only the last one lets go.
        if last && let Err(error) = self.store.release_lease(key, &self.holder).await {
            // It expires on its own; another process waits that long at most.
            tracing::warn!(key, %error, "could not release a lease");
        }
        outcome.unwrap_or_else(|| Err(LeaseError::Lost(key.to_string()).into()))
    }

    /// Takes the lease on `key` now if it is free (a key nobody can hold yet: a new order's),
    /// without holding it for any work: the work that follows claims it again as its holder.
    pub async fn claim_now(&self, key: &str) -> Result<(), LeaseError> {
        if self
            .store
            .claim_lease(key, &self.holder, self.until(), Utc::now())
            .await?
        {
            Ok(())
        } else {
            Err(LeaseError::Busy(key.to_string()))
        }
    }

    async fn claim(&self, key: &str, patience: Duration) -> Result<(), LeaseError> {
        let started = tokio::time::Instant::now();
        let mut reaped = false;
        loop {
            if self
                .store
                .claim_lease(key, &self.holder, self.until(), Utc::now())
                .await?
            {
                return Ok(());
            }
            if !reaped {
                reaped = true;
                self.release_dead_neighbours().await?;
                continue;
            }
            if started.elapsed() >= patience {
                return Err(LeaseError::Busy(key.to_string()));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Renews the lease a third of its time after each renewal was sent, each attempt bounded
    /// by what is left of the lease; returns once it is lost, or once the time it was last
    /// known to run to has come (less a margin) without a renewal: another process may take
    /// it from then on. Deadlines are counted from when a renewal was *sent*, so a slow answer
    /// never stretches them.
    async fn keep(&self, key: &str) {
        let margin = self.ttl / 10;
        let mut deadline = tokio::time::Instant::now() + self.ttl - margin;
        loop {
            let sent = tokio::time::Instant::now();
            let next = sent + self.ttl / 3;
            tokio::time::sleep_until(next.min(deadline)).await;
            if tokio::time::Instant::now() >= deadline {
                tracing::error!(key, "could not renew a lease in time: stopping this work");
                return;
            }
            let attempt = tokio::time::Instant::now();
            let renewal = self.store.renew_lease(key, &self.holder, self.until());
            match tokio::time::timeout_at(deadline, renewal).await {
                Ok(Ok(true)) => deadline = attempt + self.ttl - margin,
                Ok(Ok(false)) => {
                    tracing::error!(key, "lost a lease to another process: stopping this work");
                    return;
                }
                Ok(Err(error)) => tracing::warn!(key, %error, "could not renew a lease yet"),
                Err(_) => tracing::warn!(key, "renewing a lease is taking long"),
            }
        }
    }
}

/// Where a process runs and which one it is, as its lease holder name says: host, boot, process
/// namespace, process id and start time. Two processes on one machine compare all of them
/// before one declares the other gone.
#[derive(Debug, PartialEq, Eq)]
struct Process {
    host: String,
    boot: String,
    namespace: String,
    pid: u32,
    started: String,
}

impl Process {
    fn this() -> Process {
        let pid = std::process::id();
        Process {
            host: read_trimmed("/proc/sys/kernel/hostname"),
            boot: read_trimmed("/proc/sys/kernel/random/boot_id"),
            namespace: std::fs::read_link("/proc/self/ns/pid")
                .map(|link| link.to_string_lossy().into_owned())
                .unwrap_or_default(),
            pid,
            started: start_time(pid).ok().flatten().unwrap_or_default(),
        }
    }

    fn parse(text: &str) -> Option<Process> {
        let mut parts = text.split('|');
        let host = parts.next()?.to_string();
        let boot = parts.next()?.to_string();
        let namespace = parts.next()?.to_string();
        let pid = parts.next()?.parse().ok()?;
        let started = parts.next()?.to_string();
        Some(Process {
            host,
            boot,
            namespace,
            pid,
            started,
        })
    }
}

impl std::fmt::Display for Process {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}|{}|{}|{}|{}",
            self.host, self.boot, self.namespace, self.pid, self.started
        )
    }
}

fn read_trimmed(path: &str) -> String {
    std::fs::read_to_string(path)
        .map(|text| text.trim().to_string())
        .unwrap_or_default()
}

/// A process's start time (clock ticks since boot), `None` when there is no such process (or
/// only its zombie); an error when it cannot be told (no permission, no `/proc`).
fn start_time(pid: u32) -> std::io::Result<Option<String>> {
    let stat = match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(error),
    };
    // After the command name in parentheses: state, then 18 fields, then the start time.
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return Err(std::io::Error::other("unreadable stat"));
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    if fields
        .first()
        .is_some_and(|state| matches!(*state, "Z" | "X"))
    {
        return Ok(None);
    }
    fields
        .get(19)
        .map(|started| Some(started.to_string()))
        .ok_or_else(|| std::io::Error::other("short stat"))
}

/// Whether `holder` is a process of this machine, of this boot and process namespace, that no
/// longer runs: its process id is free (or a zombie), or taken by a process started at another
/// time. Anything that cannot be told (another machine or namespace, `/proc` unreadable, no
/// permission) reads as alive: the lease then just expires.
fn is_gone(holder: &str, here: &Process) -> bool {
    let Some(other) = holder
        .split_once('@')
        .and_then(|(_, place)| Process::parse(place))
    else {
        return false;
    };
    let comparable = !here.host.is_empty()
        && !here.boot.is_empty()
        && !here.namespace.is_empty()
        && (&other.host, &other.boot, &other.namespace)
            == (&here.host, &here.boot, &here.namespace);
    if !comparable || other.pid == here.pid {
        return false;
    }
    match start_time(other.pid) {
        Ok(None) => true,
        Ok(Some(started)) => !other.started.is_empty() && started != other.started,
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holder(process: &Process) -> String {
        format!("inst_x@{process}")
    }

    #[test]
    fn only_gone_processes_of_this_machine_boot_and_namespace_are_gone() {
        let here = Process::this();
        if here.boot.is_empty() || here.namespace.is_empty() {
            return; // no /proc here: nothing is ever declared gone
        }
        let me = holder(&here);
        assert!(!is_gone(&me, &here), "this process");
        assert_eq!(
            Process::parse(me.split_once('@').unwrap().1),
            Some(Process::this())
        );
        let absent = Process {
            pid: 4_194_305, // beyond the kernel's largest process id
            ..Process::this()
        };
        assert!(is_gone(&holder(&absent), &here));
        let reused = Process {
            pid: 1,
            started: "0".into(),
            ..Process::this()
        };
        let init_started = start_time(1).ok().flatten();
        if init_started.is_some_and(|started| started != "0") {
            assert!(
                is_gone(&holder(&reused), &here),
                "pid 1 started at another time"
            );
        }
        for elsewhere in [
            Process {
                host: "another-machine".into(),
                ..Process {
                    pid: 4_194_305,
                    ..Process::this()
                }
            },
            Process {
                boot: "another-boot".into(),
                ..Process {
                    pid: 4_194_305,
                    ..Process::this()
                }
            },
            Process {
                namespace: "pid:[1]".into(),
                ..Process {
                    pid: 4_194_305,
                    ..Process::this()
                }
            },
        ] {
            assert!(!is_gone(&holder(&elsewhere), &here), "{elsewhere:?}");
        }
        assert!(!is_gone("inst_a", &here), "no place named");
        assert!(!is_gone("inst_a@garbled", &here), "unreadable place");
    }
}
