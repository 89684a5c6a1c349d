//! One booking of one item of one order, sent and sent again the way the saga does: under one
//! idempotency key, telling the provider when it was first sent.

use itinera::domain::idempotency::{IdempotencyKey, Operation};
use itinera::domain::ids::{ItemId, OrderId};
use itinera::domain::offer::Offer;
use itinera::domain::plan::Traveller;
use itinera::ports::BookingProvider;
use itinera::ports::booking::{BookingConfirmation, BookingError, BookingRequest, CancelRequest};

/// One booking attempt group of one item of one order: the key a retry reuses.
pub struct Booking {
    pub order: OrderId,
    pub item: ItemId,
    /// When it was first sent, as the saga log keeps it.
    first_sent: std::sync::Mutex<Option<chrono::DateTime<chrono::Utc>>>,
}

impl Booking {
    pub fn new() -> Booking {
        Booking {
            order: OrderId::generate(),
            item: ItemId::generate(),
            first_sent: std::sync::Mutex::new(None),
        }
    }

    /// The booking was first sent `ago`, as after a restart.
    pub fn first_sent_ago(&self, ago: chrono::Duration) {
        *self.first_sent.lock().unwrap() = Some(chrono::Utc::now() - ago);
    }

    pub fn key(&self, operation: Operation) -> IdempotencyKey {
        IdempotencyKey::derive(&self.order, Some(&self.item), operation, "0")
    }

    pub async fn book(
        &self,
        provider: &dyn BookingProvider,
        offer: &Offer,
        travellers: &[Traveller],
    ) -> Result<BookingConfirmation, BookingError> {
        let key = self.key(Operation::Book);
        let first_sent_at = {
            let mut first = self.first_sent.lock().unwrap();
            let earlier = *first;
            first.get_or_insert(chrono::Utc::now());
            earlier
        };
        provider
            .book(BookingRequest {
                order_id: &self.order,
                offer,
                travellers,
                idempotency_key: &key,
                first_sent_at,
            })
            .await
    }
}

/// A cancellation of `reference` under `key` at a provider that needs no traveller to find it.
pub fn cancelling<'a>(reference: &'a str, key: &'a IdempotencyKey) -> CancelRequest<'a> {
    CancelRequest {
        reference,
        idempotency_key: key,
        travellers: &[],
    }
}

/// The provider's refusal a booking call ended in: its code and message.
pub fn rejected(result: Result<impl std::fmt::Debug, BookingError>) -> (String, String) {
    match result {
        Err(BookingError::Provider(itinera::ports::ProviderError::Rejected {
            code,
            message,
            ..
        })) => (code, message),
        other => panic!("expected the provider's refusal, got {other:?}"),
    }
}
