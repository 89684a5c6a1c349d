//! Booking at a provider that has neither an idempotency key nor a way to look a booking up
//! (Amadeus hotel orders, Duffel Cars): a booking whose send got no answer can never be
//! checked, so it is never sent again — a second send could book twice. A send the provider
//! answered without booking (a refusal, a rate limit, an outage) is safe to send again; the
//! guard remembers those, per idempotency key, for this process.

use std::collections::HashSet;
use std::future::Future;
use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, Utc};

use crate::ports::ProviderError;
use crate::ports::booking::{BookingConfirmation, BookingError};

#[derive(Debug, Default)]
pub struct SendGuard {
    /// Bookings whose every send so far in this process was answered without a booking.
    answered_unbooked: Mutex<HashSet<String>>,
}

impl SendGuard {
    /// Sends the booking under `key` unless an earlier send may have booked: `first_sent_at`
    /// says it was sent before, and no answer since showed it booked nothing. Then
    /// `unverifiable` is the answer, and nothing is sent.
    pub async fn send_once(
        &self,
        key: &str,
        first_sent_at: Option<DateTime<Utc>>,
        unverifiable: impl FnOnce() -> BookingError,
        send: impl Future<Output = Result<BookingConfirmation, BookingError>>,
    ) -> Result<BookingConfirmation, BookingError> {
        // Taken out before sending: a send cut off before its answer (the saga's timeout drops
        // it) must leave the booking unverifiable, not answered.
        let answered_before = self.answered().remove(key);
        if first_sent_at.is_some() && !answered_before {
            return Err(unverifiable());
        }
        let outcome = send.await;
        if matches!(&outcome, Err(error) if booked_nothing(error)) {
            self.answered().insert(key.to_string());
        }
        outcome
    }

    fn answered(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.answered_unbooked
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// Whether the provider, answering `error`, certainly booked nothing.
fn booked_nothing(error: &BookingError) -> bool {
    match error {
        BookingError::NoLongerAvailable { .. }
        | BookingError::OfferExpired { .. }
        | BookingError::Provider(ProviderError::Rejected { .. })
        | BookingError::Provider(ProviderError::Unavailable { .. })
        | BookingError::Provider(ProviderError::RateLimited { .. }) => true,
        BookingError::MayHoldABooking { .. }
        | BookingError::Provider(ProviderError::OutcomeUnknown { .. }) => false,
    }
}

/// A call made before the booking itself was sent that got no answer booked nothing: it is an
/// outage, to be sent again, not an unknown booking.
pub fn nothing_sent_yet(error: BookingError) -> BookingError {
    match error {
        BookingError::Provider(ProviderError::OutcomeUnknown { provider }) => {
            ProviderError::unavailable(
                &provider,
                "no answer before the booking was sent; nothing was booked",
            )
            .into()
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unverifiable() -> BookingError {
        BookingError::MayHoldABooking {
            provider: "p".into(),
            message: "check".into(),
        }
    }

    #[tokio::test]
    async fn a_send_cut_off_after_an_answered_one_is_never_sent_again() {
        let guard = SendGuard::default();
        let sent_at = Some(Utc::now());
        let busy = guard
            .send_once("k", None, unverifiable, async {
                Err(ProviderError::unavailable("p", "503").into())
            })
            .await;
        assert!(matches!(
            busy,
            Err(BookingError::Provider(ProviderError::Unavailable { .. }))
        ));
        // Sent again after the outage, and cut off before any answer.
        let cut_off = tokio::time::timeout(
            std::time::Duration::from_millis(10),
            guard.send_once("k", sent_at, unverifiable, std::future::pending()),
        )
        .await;
        assert!(cut_off.is_err());
        let again = guard
            .send_once("k", sent_at, unverifiable, async {
                panic!("sent a third time")
            })
            .await;
        assert!(matches!(again, Err(BookingError::MayHoldABooking { .. })));
    }
}
