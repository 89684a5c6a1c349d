//! A loop a serving process runs beside its sessions (recovery, the notice dispatcher): one pass
//! now, then one every interval, until it is stopped; stopping waits for the pass under way.

use std::future::Future;
use std::time::Duration;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

pub struct Background {
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl Background {
    /// Runs `pass` now and every `interval` after the previous one ended (sooner when `wake`
    /// changes, after waiting `gather` for more changes, so that a burst makes one pass),
    /// until stopped. A pass is given the stop token, to end early at a safe point.
    pub fn every<P, F>(
        name: &'static str,
        interval: Duration,
        mut pass: P,
        wake: Option<(watch::Receiver<()>, Duration)>,
    ) -> Self
    where
        P: FnMut(CancellationToken) -> F + Send + 'static,
        F: Future<Output = ()> + Send,
    {
        let stop = CancellationToken::new();
        let stopping = stop.clone();
        let (mut wake, gather) = match wake {
            Some((wake, gather)) => (Some(wake), gather),
            None => (None, Duration::ZERO),
        };
        let task = tokio::spawn(async move {
            loop {
                pass(stopping.clone()).await;
                let woken = async {
                    let changed = match wake.as_mut() {
                        Some(wake) => wake.changed().await.is_ok(),
                        None => false,
                    };
                    if !changed {
                        // Nothing wakes it (or nothing will again): the interval alone.
                        std::future::pending::<()>().await;
                    }
                };
                tokio::select! {
                    () = stopping.cancelled() => return,
                    () = tokio::time::sleep(interval) => {}
                    () = woken => tokio::time::sleep(gather).await,
                }
            }
        });
        tracing::debug!(name, "background loop started");
        Background { stop, task }
    }

    /// Stops after the pass under way, if any; waits for that.
    pub async fn stop(mut self) {
        self.stop.cancel();
        if let Err(error) = (&mut self.task).await {
            tracing::error!(%error, "a background loop ended abnormally");
        }
    }
}

/// A loop dropped without being stopped ends after its pass under way.
impl Drop for Background {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// The loops of a serving process, stopped together.
pub struct Workers(pub Vec<Background>);

impl Workers {
    pub async fn stop(self) {
        for worker in self.0 {
            worker.stop().await;
        }
    }
}
