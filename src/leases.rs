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

/// This process's leases.
#[derive(Clone)]
pub struct Leases {
    store: Arc<dyn Store>,
    /// This process, as the holder of its leases.
    holder: Arc<str>,
    ttl: Duration,
}

impl Leases {
    pub fn new(store: Arc<dyn Store>, ttl: Duration) -> Leases {
        let holder = format!(
            "inst_{}@{}#{}",
            uuid::Uuid::new_v4().simple(),
            host_name(),
            std::process::id()
        );
        Leases {
            store,
            holder: Arc::from(holder),
            ttl,
        }
    }

    /// Releases the leases of processes of this machine that are gone.
    pub async fn release_dead_neighbours(&self) -> Result<(), StoreError> {
        for holder in self.store.lease_holders().await? {
            if holder != *self.holder && is_gone(&holder) {
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

    pub fn holder(&self) -> &str {
        &self.holder
    }

    /// When a lease taken now would end.
    pub fn until(&self) -> chrono::DateTime<Utc> {
        Utc::now() + chrono::Duration::from_std(self.ttl).unwrap_or(chrono::Duration::seconds(30))
    }

    /// Runs `work` holding the lease on `key`, waiting up to `patience` for another process to
    /// let go of it.
    pub async fn hold<T, E: From<LeaseError>>(
        &self,
        key: &str,
        patience: Duration,
        work: impl Future<Output = Result<T, E>>,
    ) -> Result<T, E> {
        self.claim(key, patience).await.map_err(E::from)?;
        let outcome = tokio::select! {
            outcome = work => Some(outcome),
            () = self.keep(key) => None,
        };
        match outcome {
            Some(outcome) => {
                if let Err(error) = self.store.release_lease(key, &self.holder).await {
                    // It expires on its own; another process waits that long at most.
                    tracing::warn!(key, %error, "could not release a lease");
                }
                outcome
            }
            None => Err(LeaseError::Lost(key.to_string()).into()),
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

    /// Renews the lease every third of its time; returns only once it is lost, or could not be
    /// renewed for as long as it lasts (another process may have taken it).
    async fn keep(&self, key: &str) {
        let mut renewed = tokio::time::Instant::now();
        loop {
            tokio::time::sleep(self.ttl / 3).await;
            match self
                .store
                .renew_lease(key, &self.holder, self.until())
                .await
            {
                Ok(true) => renewed = tokio::time::Instant::now(),
                Ok(false) => {
                    tracing::error!(key, "lost a lease to another process: stopping this work");
                    return;
                }
                Err(error) if renewed.elapsed() >= self.ttl => {
                    tracing::error!(key, %error, "could not renew a lease in time: stopping this work");
                    return;
                }
                Err(error) => tracing::warn!(key, %error, "could not renew a lease yet"),
            }
        }
    }
}

/// This machine's name, as the kernel knows it.
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_string())
        .unwrap_or_default()
}

/// Whether `holder` is a process of this machine that no longer runs. Only where the process
/// table can be read (Linux); elsewhere, and for other machines, leases are left to expire. A
/// process id reused by another process reads as alive: the lease then just expires.
fn is_gone(holder: &str) -> bool {
    let Some((_, place)) = holder.split_once('@') else {
        return false;
    };
    let Some((host, pid)) = place.rsplit_once('#') else {
        return false;
    };
    let here = host_name();
    if here.is_empty() || host != here || !cfg!(target_os = "linux") {
        return false;
    }
    let Ok(pid) = pid.parse::<u32>() else {
        return false;
    };
    if pid == std::process::id() {
        return false;
    }
    // Absent, or a zombie (dead, waiting for its parent to collect it).
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with(['Z', 'X'])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_gone_processes_of_this_machine_are_gone() {
        let host = host_name();
        if host.is_empty() || !cfg!(target_os = "linux") {
            return;
        }
        let me = std::process::id();
        assert!(!is_gone(&format!("inst_a@{host}#{me}")), "this process");
        assert!(!is_gone(&format!("inst_a@{host}#1")), "init runs");
        // Beyond the kernel's largest process id: no such process.
        assert!(is_gone(&format!("inst_a@{host}#4194305")));
        assert!(
            !is_gone("inst_a@another-machine#4194305"),
            "another machine's"
        );
        assert!(!is_gone("inst_a"), "no place named");
    }
}
