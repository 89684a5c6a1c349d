//! Progress notifications while execute_travel_plan runs: each change of the plan's order
//! (created, payment held, each item booked, charged...) is sent as it is committed, with the
//! timeline's words, to a client that asked for progress (a `progressToken`).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rmcp::model::{ProgressNotificationParam, ProgressToken};
use rmcp::{Peer, RoleServer};
use tokio::sync::broadcast;

use crate::domain::ids::{OwnerId, PlanId};
use crate::domain::notice::OrderNotice;
use crate::domain::order::{Order, OrderStatus};

/// How long the last changes may take to reach the client after the execution returned.
const LAST_WORDS: Duration = Duration::from_secs(2);

/// The last change of an execution: its order's status and when it was saved.
type LastChange = (OrderStatus, DateTime<Utc>);

/// Reports one execution's progress until it is finished.
pub(super) struct ExecutionProgress {
    task: tokio::task::JoinHandle<()>,
    done: tokio::sync::watch::Sender<Option<LastChange>>,
}

impl ExecutionProgress {
    /// Starts reporting the changes of `plan`'s order. Subscribed before the execution starts,
    /// so no change is missed.
    pub(super) fn start(
        notices: broadcast::Receiver<Arc<OrderNotice>>,
        owner: OwnerId,
        plan: PlanId,
        token: ProgressToken,
        peer: Peer<RoleServer>,
    ) -> ExecutionProgress {
        let (done, finished) = tokio::sync::watch::channel(None);
        let task = tokio::spawn(report(notices, owner, plan, token, peer, finished));
        ExecutionProgress { task, done }
    }

    /// The execution returned `order`: reporting goes on until the change that left it so
    /// was sent (waited for briefly), then stops.
    pub(super) async fn finish(self, order: &Order) {
        let _ = self.done.send(Some((order.status, order.updated_at)));
        let mut task = self.task;
        if tokio::time::timeout(LAST_WORDS, &mut task).await.is_err() {
            task.abort();
        }
    }
}

async fn report(
    mut notices: broadcast::Receiver<Arc<OrderNotice>>,
    owner: OwnerId,
    plan: PlanId,
    token: ProgressToken,
    peer: Peer<RoleServer>,
    mut finished: tokio::sync::watch::Receiver<Option<LastChange>>,
) {
    let mut step = 0u32;
    let mut last_sent: Option<LastChange> = None;
    loop {
        let notice = tokio::select! {
            received = notices.recv() => match received {
                Ok(notice) => notice,
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return,
            },
            changed = finished.changed() => {
                if changed.is_err() || reached(&finished, last_sent) {
                    return;
                }
                continue;
            }
        };
        if notice.owner != owner || notice.plan_id != plan {
            continue;
        }
        step += 1;
        let param = ProgressNotificationParam::new(token.clone(), f64::from(step))
            .with_message(format!("[{}] {}", notice.status, notice.message));
        if peer.notify_progress(param).await.is_err() {
            return;
        }
        last_sent = Some((notice.status, notice.at));
        if reached(&finished, last_sent) {
            return;
        }
    }
}

/// Whether the execution has returned and its last change was sent: the order's final status,
/// saved no earlier than the order last was (several changes may share a time).
fn reached(
    finished: &tokio::sync::watch::Receiver<Option<LastChange>>,
    sent: Option<LastChange>,
) -> bool {
    match (*finished.borrow(), sent) {
        (Some((last_status, last_at)), Some((sent_status, sent_at))) => {
            sent_status == last_status && sent_at >= last_at
        }
        _ => false,
    }
}
