//! Following the outbox to tell this process's MCP clients about orders that changed anywhere
//! (here or on another instance): resource updates for subscribers, progress while a plan runs.
//!
//! Each process reads the notices after the last position it saw. On PostgreSQL positions can
//! commit out of order (a transaction that took position 7 may commit after the one that took
//! 8), and a rolled-back transaction leaves a hole for ever; so a notice is published as soon as
//! it is read, and the position everything before which was seen waits at a hole for a few
//! seconds before giving up on it.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::broadcast;

use crate::background::Background;
use crate::domain::notice::OrderNotice;
use crate::ports::{Store, StoreError};

/// How long a hole in the positions is waited on (a transaction still committing).
const HOLE_PATIENCE: Duration = Duration::from_secs(5);
/// Notices read at a time.
const PAGE: u32 = 256;
/// Notices kept for a slow listener before it misses some (it is told how many).
const BACKLOG: usize = 1024;

/// Where a process stands in the outbox.
#[derive(Debug)]
struct Cursor {
    /// Every position below it was seen or given up on.
    next: i64,
    /// Positions at or after `next` already seen.
    ahead: BTreeSet<i64>,
    /// Since when `next` has been missing while later ones were seen.
    hole_since: Option<Instant>,
}

impl Cursor {
    fn after(last: i64) -> Cursor {
        Cursor {
            next: last + 1,
            ahead: BTreeSet::new(),
            hole_since: None,
        }
    }

    /// Whether the notice at `seq` is new; it counts as seen from now on.
    fn saw(&mut self, seq: i64) -> bool {
        seq >= self.next && self.ahead.insert(seq)
    }

    /// Moves past what was seen, and past a hole waited on long enough.
    fn settle(&mut self, now: Instant) {
        let before = self.next;
        self.close_up();
        if self.next != before {
            // A hole that filled; any still ahead is a new one, waited on afresh.
            self.hole_since = None;
        }
        match (self.ahead.first().copied(), self.hole_since) {
            (None, _) => self.hole_since = None,
            (Some(_), None) => self.hole_since = Some(now),
            (Some(first), Some(since)) if now.duration_since(since) >= HOLE_PATIENCE => {
                self.next = first;
                self.hole_since = None;
                self.close_up();
            }
            (Some(_), Some(_)) => {}
        }
    }

    fn close_up(&mut self) {
        while self.ahead.remove(&self.next) {
            self.next += 1;
        }
    }
}

/// This process's feed of order notices.
#[derive(Clone)]
pub struct OrderWatch {
    sender: broadcast::Sender<Arc<OrderNotice>>,
}

impl OrderWatch {
    /// Starts following the outbox from its end (what was written before is not news).
    pub async fn start(
        store: Arc<dyn Store>,
        poll: Duration,
    ) -> Result<(OrderWatch, Background), StoreError> {
        let (sender, _) = broadcast::channel(BACKLOG);
        let cursor = Arc::new(tokio::sync::Mutex::new(Cursor::after(
            store.last_notice_seq().await?,
        )));
        let watch = OrderWatch { sender };
        let feed = watch.clone();
        let written = store.notices_written();
        let follow = Background::every(
            "order watch",
            poll,
            move |_stopping| {
                let (store, cursor, feed) = (Arc::clone(&store), Arc::clone(&cursor), feed.clone());
                async move {
                    let mut cursor = cursor.lock().await;
                    if let Err(error) = feed.read(store.as_ref(), &mut cursor).await {
                        tracing::warn!(%error, "the order watch could not read the outbox");
                    }
                }
            },
            // At once: an execution's call returns once its last change was reported, so any
            // wait here is added to every execution (measured: 20 ms cut one-at-a-time
            // executions from 37 to 23 per second).
            Some((written, Duration::ZERO)),
        );
        Ok((watch, follow))
    }

    /// Notices from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<OrderNotice>> {
        self.sender.subscribe()
    }

    async fn read(&self, store: &dyn Store, cursor: &mut Cursor) -> Result<(), StoreError> {
        if self.sender.receiver_count() == 0 {
            // Nobody to tell: move to the end without reading or decoding anything. The end is
            // read before the listeners are counted again, so a listener that arrives meanwhile
            // still hears of every change made after it arrived: those take later positions.
            let last = store.last_notice_seq().await?;
            if self.sender.receiver_count() == 0 {
                if last >= cursor.next {
                    *cursor = Cursor::after(last);
                }
                return Ok(());
            }
        }
        loop {
            let page = store.notices_after(cursor.next - 1, PAGE).await?;
            let full = page.len() >= PAGE as usize;
            let mut fresh = 0;
            for (seq, notice) in page {
                if cursor.saw(seq) {
                    fresh += 1;
                    // Nobody listening is fine: nothing to tell.
                    let _ = self.sender.send(Arc::new(notice));
                }
            }
            cursor.settle(Instant::now());
            if !full || fresh == 0 {
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_in_order_move_the_cursor_on() {
        let mut cursor = Cursor::after(4);
        let now = Instant::now();
        assert!(cursor.saw(5));
        assert!(cursor.saw(6));
        assert!(!cursor.saw(6), "seen once");
        assert!(!cursor.saw(3), "before the start");
        cursor.settle(now);
        assert_eq!(cursor.next, 7);
        assert!(cursor.ahead.is_empty());
    }

    #[test]
    fn a_late_commit_behind_a_hole_is_still_published_once() {
        let mut cursor = Cursor::after(0);
        let start = Instant::now();
        assert!(cursor.saw(2), "position 1 is still committing");
        cursor.settle(start);
        assert_eq!(cursor.next, 1, "waits at the hole");
        assert!(
            !cursor.saw(2),
            "read again while waiting, not published again"
        );
        assert!(cursor.saw(1), "the late one arrives");
        cursor.settle(start + Duration::from_secs(1));
        assert_eq!(cursor.next, 3);
        assert_eq!(cursor.hole_since, None);
    }

    #[test]
    fn each_new_hole_gets_its_own_patience() {
        let mut cursor = Cursor::after(0);
        let start = Instant::now();
        assert!(cursor.saw(2));
        cursor.settle(start);
        // Position 1 commits late, and by then 4 is in while 3 is still committing.
        assert!(cursor.saw(1));
        assert!(cursor.saw(4));
        cursor.settle(start + HOLE_PATIENCE);
        assert_eq!(
            cursor.next, 3,
            "the hole at 3 is new: it is waited on, not skipped"
        );
        assert!(cursor.saw(3));
        cursor.settle(start + HOLE_PATIENCE + Duration::from_millis(1));
        assert_eq!(cursor.next, 5);
    }

    #[test]
    fn a_hole_that_never_fills_is_given_up_after_a_while() {
        let mut cursor = Cursor::after(0);
        let start = Instant::now();
        assert!(cursor.saw(2));
        assert!(cursor.saw(3));
        cursor.settle(start);
        cursor.settle(start + Duration::from_secs(1));
        assert_eq!(cursor.next, 1);
        cursor.settle(start + HOLE_PATIENCE);
        assert_eq!(cursor.next, 4, "rolled-back position 1 is skipped");
        assert!(cursor.ahead.is_empty());
    }
}
