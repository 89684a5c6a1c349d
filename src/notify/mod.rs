//! Delivering order notices from the transactional outbox.
//!
//! Every order change commits its notice with it (see the store). The dispatcher then, in each
//! pass: writes each new notice's deliveries, one per channel that wants it; claims the due
//! deliveries (a lease each, so instances never send one at once); sends them; and records the
//! outcome: delivered, retried later with exponential backoff, or, after the last attempt,
//! dead (listed by `itinera notifications`, queued again by `itinera notifications retry`).
//! A delivery is recorded only after the channel accepted it, so a crash in between sends it
//! once more, with the same notice id, which receivers use to drop the repeat.

pub mod operator;
pub mod watch;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::join_all;

use crate::background::Background;
use crate::domain::notice::{Delivery, DeliveryOutcome};
use crate::ports::{Clock, Notifier, NotifyError, Store, StoreError};

/// How long a claimed delivery is this process's: longer than any channel may take to answer.
const DELIVERY_LEASE: Duration = Duration::from_secs(120);
/// How many notices are fanned out, and deliveries claimed, at a time.
const BATCH: u32 = 32;
/// Passes over the due deliveries in one run of the loop, so a flood cannot starve the rest.
const ROUNDS: usize = 8;
/// How long the dispatcher, woken by a commit, waits for more before its pass.
const GATHER: Duration = Duration::from_millis(20);
/// The longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(3600);

/// How often and how long deliveries are tried.
#[derive(Debug, Clone)]
pub struct NotifySettings {
    /// How often the outbox is read for notices another instance wrote.
    pub poll: Duration,
    /// The wait after the first failed attempt; it doubles after each (up to an hour).
    pub backoff: Duration,
    /// Attempts before a delivery is given up on and listed as dead.
    pub max_attempts: u32,
}

impl Default for NotifySettings {
    fn default() -> Self {
        NotifySettings {
            poll: Duration::from_secs(1),
            backoff: Duration::from_secs(10),
            max_attempts: 10,
        }
    }
}

impl NotifySettings {
    /// When to try again after `attempts` failed attempts.
    fn retry_at(&self, attempts: u32, now: DateTime<Utc>) -> DateTime<Utc> {
        let factor = 2u32.saturating_pow(attempts.saturating_sub(1));
        let wait = self.backoff.saturating_mul(factor).min(MAX_BACKOFF);
        now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::hours(1))
    }
}

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PassReport {
    pub fanned_out: usize,
    pub delivered: usize,
    pub retrying: usize,
    pub dead: usize,
    pub skipped: usize,
}

#[derive(Clone)]
pub struct Dispatcher {
    store: Arc<dyn Store>,
    notifiers: Arc<[Arc<dyn Notifier>]>,
    clock: Arc<dyn Clock>,
    settings: NotifySettings,
    /// The process's lease holder id: deliveries are claimed under it.
    holder: Arc<str>,
}

impl Dispatcher {
    pub fn new(
        store: Arc<dyn Store>,
        notifiers: Vec<Arc<dyn Notifier>>,
        clock: Arc<dyn Clock>,
        settings: NotifySettings,
        holder: &str,
    ) -> Dispatcher {
        Dispatcher {
            store,
            notifiers: notifiers.into(),
            clock,
            settings,
            holder: Arc::from(holder),
        }
    }

    /// The channels notices are delivered to.
    pub fn channels(&self) -> Vec<String> {
        self.notifiers
            .iter()
            .map(|notifier| notifier.channel().to_string())
            .collect()
    }

    /// Dispatches now and then on every poll or notice written here, until stopped.
    pub fn spawn(&self) -> Background {
        let dispatcher = self.clone();
        Background::every(
            "notices",
            self.settings.poll,
            move |_stopping| {
                let dispatcher = dispatcher.clone();
                async move {
                    match dispatcher.pass().await {
                        Ok(report) if report != PassReport::default() => {
                            tracing::info!(?report, "notices dispatched")
                        }
                        Ok(_) => {}
                        Err(error) => tracing::warn!(%error, "notice dispatch failed"),
                    }
                }
            },
            // Many commits at once (a busy server) make one pass, not one each. With no channel
            // there is nothing to send: the poll's pass marking the notices is enough, and a
            // busy server's writer is not taken every few milliseconds for it.
            (!self.notifiers.is_empty()).then(|| (self.store.notices_written(), GATHER)),
        )
    }

    /// Fans out new notices and makes one attempt at every delivery due.
    pub async fn pass(&self) -> Result<PassReport, StoreError> {
        let mut report = PassReport::default();
        if self.notifiers.is_empty() {
            // Nothing wants any notice here: mark them all at once, unread (a busy server
            // with no channel would otherwise read and decode every notice it writes).
            let marked = self.store.fan_out_to_no_channel().await?;
            report.fanned_out = usize::try_from(marked).unwrap_or(usize::MAX);
            return Ok(report);
        }
        loop {
            let notices = self.store.notices_to_fan_out(BATCH).await?;
            if notices.is_empty() {
                break;
            }
            let batch: Vec<(String, Vec<String>)> = notices
                .iter()
                .map(|notice| {
                    let channels = self
                        .notifiers
                        .iter()
                        .filter(|notifier| notifier.wants(notice))
                        .map(|notifier| notifier.channel().to_string())
                        .collect();
                    (notice.id.clone(), channels)
                })
                .collect();
            self.store.fan_out_notices(&batch, self.clock.now()).await?;
            report.fanned_out += batch.len();
        }
        // Only the channels configured here: an instance started without one (a rolling
        // change of settings) leaves its deliveries to the instances that have it.
        let channels = self.channels();
        for _ in 0..ROUNDS {
            let now = self.clock.now();
            let until = now + chrono::Duration::from_std(DELIVERY_LEASE).unwrap_or_default();
            let due = self
                .store
                .claim_deliveries(&self.holder, until, now, &channels, BATCH)
                .await?;
            if due.is_empty() {
                break;
            }
            for outcome in join_all(due.iter().map(|delivery| self.attempt(delivery))).await {
                match outcome? {
                    DeliveryOutcome::Delivered => report.delivered += 1,
                    DeliveryOutcome::Retry { .. } => report.retrying += 1,
                    DeliveryOutcome::Dead { .. } => report.dead += 1,
                    DeliveryOutcome::Skipped { .. } => report.skipped += 1,
                }
            }
        }
        Ok(report)
    }

    /// Sends one delivery and records what came of it.
    async fn attempt(&self, delivery: &Delivery) -> Result<DeliveryOutcome, StoreError> {
        let notifier = self
            .notifiers
            .iter()
            .find(|notifier| notifier.channel() == delivery.channel);
        let outcome = match notifier {
            // Claimed for a channel of this process's, so never; left to the others if it were.
            None => DeliveryOutcome::Retry {
                at: self.settings.retry_at(1, self.clock.now()),
                error: "this instance cannot send to this channel".into(),
            },
            Some(notifier) => {
                let sent =
                    tokio::time::timeout(DELIVERY_LEASE / 2, notifier.deliver(&delivery.notice))
                        .await
                        .unwrap_or_else(|_| Err(NotifyError::Failed("no answer in time".into())));
                self.outcome(delivery, sent)
            }
        };
        if let DeliveryOutcome::Retry { error, .. } | DeliveryOutcome::Dead { error } = &outcome {
            tracing::warn!(
                notice = %delivery.notice.id,
                channel = %delivery.channel,
                attempt = delivery.attempts + 1,
                "notice not delivered: {error}"
            );
        }
        self.store
            .finish_delivery(delivery, &self.holder, &outcome, self.clock.now())
            .await?;
        Ok(outcome)
    }

    fn outcome(&self, delivery: &Delivery, sent: Result<(), NotifyError>) -> DeliveryOutcome {
        let attempts = delivery.attempts + 1;
        match sent {
            Ok(()) => DeliveryOutcome::Delivered,
            Err(NotifyError::NobodyToTell(reason)) => DeliveryOutcome::Skipped { reason },
            Err(NotifyError::Undeliverable(error)) => DeliveryOutcome::Dead { error },
            Err(NotifyError::Failed(error)) if attempts >= self.settings.max_attempts => {
                DeliveryOutcome::Dead {
                    error: format!("{error} (gave up after {attempts} attempts)"),
                }
            }
            Err(NotifyError::Failed(error)) => DeliveryOutcome::Retry {
                at: self.settings.retry_at(attempts, self.clock.now()),
                error,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_wait_doubles_after_each_failure_up_to_an_hour() {
        let settings = NotifySettings {
            backoff: Duration::from_secs(10),
            ..NotifySettings::default()
        };
        let now = Utc.timestamp_opt(1_700_000_000, 0).unwrap();
        let wait = |attempts| (settings.retry_at(attempts, now) - now).num_seconds();
        assert_eq!(wait(1), 10);
        assert_eq!(wait(2), 20);
        assert_eq!(wait(3), 40);
        assert_eq!(wait(12), 3600);
        assert_eq!(wait(60), 3600);
    }
}
