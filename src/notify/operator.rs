//! `itinera notifications`: what the operator sees of deliveries (the dead-letter list) and how
//! dead ones are queued again.

use chrono::Utc;

use crate::domain::notice::{DeliveryRecord, DeliveryState};
use crate::ports::{Store, StoreError};

/// The deliveries in `state`, as lines for a terminal.
pub async fn list(
    store: &dyn Store,
    state: DeliveryState,
    limit: u32,
) -> Result<(Vec<DeliveryRecord>, String), StoreError> {
    let records = store.deliveries(state, limit).await?;
    let text = render(state, &records);
    Ok((records, text))
}

fn render(state: DeliveryState, records: &[DeliveryRecord]) -> String {
    if records.is_empty() {
        return format!("No {} deliveries.\n", state.as_str());
    }
    let mut out = format!("{} {} deliveries:\n", records.len(), state.as_str());
    for record in records {
        out.push_str(&format!(
            "- {} {} of order {} to {}: {} attempt(s), last {}{}\n",
            record.notice_id,
            record.kind,
            record.order_id,
            record.channel,
            record.attempts,
            record.updated_at.format("%Y-%m-%d %H:%M:%S UTC"),
            record
                .last_error
                .as_deref()
                .map_or_else(String::new, |error| format!(" ({error})")),
        ));
    }
    if state == DeliveryState::Dead {
        out.push_str(
            "Fix the cause (the subscriber's address or answer, the mail server), then queue them again: itinera notifications retry --all (or --notice ID).\n",
        );
    }
    out
}

/// Queues the dead deliveries of one notice, or all of them, again; a line saying how many.
pub async fn retry(store: &dyn Store, notice: Option<&str>) -> Result<String, StoreError> {
    let queued = store.requeue_deliveries(notice, Utc::now()).await?;
    Ok(match (queued, notice) {
        (0, Some(notice)) => format!("No dead delivery of {notice}: nothing queued.\n"),
        (0, None) => "No dead deliveries: nothing queued.\n".to_string(),
        (queued, _) => format!(
            "Queued {queued} deliveries again: a running server sends them at its next pass.\n"
        ),
    })
}
