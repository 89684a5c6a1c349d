//! The sandbox travel provider: flights, hotels, activities and car rentals.

use std::sync::Arc;

use async_trait::async_trait;
use rust_decimal::Decimal;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::Sandbox;
use super::failures::{answer_lost, ledger_failure, rejected};
use super::faults::Effect;
use super::inventory::{self, PROVIDER};
use super::ledger::{
    LedgerBooking, LedgerError, SandboxLedger, find_booking, find_offer, travellers_fingerprint,
};
use crate::domain::idempotency::IdempotencyKey;
use crate::domain::money::Money;
use crate::domain::offer::{ItemKind, Offer};
use crate::ports::ProviderError;
use crate::ports::booking::{
    BookingConfirmation, BookingError, BookingProvider, BookingRequest, CancelRequest,
    CancellationReceipt, SearchQuery,
};

/// Books sandbox inventory, recording each booking in the sandbox ledger.
#[derive(Clone)]
pub struct SandboxBooking {
    sandbox: Arc<Sandbox>,
    /// What searches ask it for: every kind, less those a real provider sells instead.
    kinds: Vec<ItemKind>,
}

impl SandboxBooking {
    pub fn new(sandbox: Arc<Sandbox>) -> Self {
        Self {
            sandbox,
            kinds: ItemKind::ALL.to_vec(),
        }
    }

    /// The sandbox, no longer searched for `kind` (a real provider sells it). Its earlier
    /// bookings of that kind can still be cancelled: it is still found by name.
    pub fn except(mut self, kind: ItemKind) -> Self {
        self.kinds.retain(|k| *k != kind);
        self
    }
}

fn ledger_error(error: LedgerError) -> BookingError {
    ledger_failure(PROVIDER, error).into()
}

/// A confirmation code in the style of the kind: a 6-letter PNR for flights, numbers otherwise.
fn confirmation_code(kind: ItemKind, seed: &str) -> String {
    const LETTERS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let digest = hex::encode(Sha256::digest(seed.as_bytes()));
    match kind {
        ItemKind::Flight => digest
            .bytes()
            .step_by(2)
            .take(6)
            .map(|b| LETTERS[usize::from(b) % LETTERS.len()] as char)
            .collect(),
        ItemKind::Hotel => format!("HT-{}", &digest[..8].to_uppercase()),
        ItemKind::Activity => format!("AC-{}", &digest[..8].to_uppercase()),
        ItemKind::CarRental => format!("CR-{}", &digest[..8].to_uppercase()),
    }
}

impl SandboxBooking {
    fn quoted(&self, offer: Offer, effect: Option<Effect>) -> Offer {
        let Some(Effect::PriceRise(percent)) = effect else {
            return offer;
        };
        let currency = offer.price.currency();
        let raised = (offer.price.amount() * (Decimal::ONE_HUNDRED + percent)
            / Decimal::ONE_HUNDRED)
            .round_dp(currency.exponent());
        Offer {
            price: Money::new(raised, currency).unwrap_or(offer.price),
            ..offer
        }
    }

    /// The offer as the sandbox issued it, if it is still on sale.
    async fn issued_offer<'e>(
        &self,
        db: impl sqlx::SqliteExecutor<'e>,
        offer: &Offer,
    ) -> Result<Offer, BookingError> {
        let stored = find_offer(db, offer.id.as_str())
            .await
            .map_err(ledger_error)?;
        let stored = stored.ok_or_else(|| BookingError::NoLongerAvailable {
            provider: PROVIDER.into(),
            offer: offer.id.to_string(),
        })?;
        if stored.is_expired(self.sandbox.clock.now()) {
            return Err(BookingError::OfferExpired {
                offer: offer.id.to_string(),
            });
        }
        Ok(stored)
    }

    async fn book_once(
        &self,
        request: BookingRequest<'_>,
    ) -> Result<BookingConfirmation, BookingError> {
        let offer = request.offer;
        let key = request.idempotency_key.as_str();
        let body = json!({
            "offer": offer.id.as_str(),
            "price": offer.price,
            "travellers": request.travellers,
        });
        let mut tx = self.sandbox.ledger.begin().await.map_err(ledger_error)?;
        if let Some(stored) = SandboxLedger::replay(&mut tx, key, "book", &body)
            .await
            .map_err(ledger_error)?
        {
            return confirmation_from(&stored);
        }
        let stored_offer = self.issued_offer(&mut *tx, offer).await?;
        if stored_offer.price != offer.price {
            return Err(rejected(
                PROVIDER,
                "price_mismatch",
                format!(
                    "the offer now costs {}, not {}",
                    stored_offer.price, offer.price
                ),
            )
            .into());
        }
        let reference = format!("bk_{}", uuid::Uuid::new_v4().simple());
        let booking = LedgerBooking {
            confirmation: confirmation_code(offer.kind, &reference),
            reference,
            offer_id: offer.id.to_string(),
            kind: offer.kind,
            status: "booked".into(),
            price: offer.price,
            refund: None,
            travellers: travellers_fingerprint(request.travellers),
        };
        SandboxLedger::insert_booking(&mut tx, &booking)
            .await
            .map_err(ledger_error)?;
        let response =
            json!({"reference": booking.reference, "confirmation": booking.confirmation});
        SandboxLedger::remember(&mut tx, key, "book", &body, &response)
            .await
            .map_err(ledger_error)?;
        tx.commit().await.map_err(|e| ledger_error(e.into()))?;
        confirmation_from(&response)
    }

    async fn cancel_once(
        &self,
        reference: &str,
        booking: LedgerBooking,
        idempotency_key: &IdempotencyKey,
    ) -> Result<CancellationReceipt, BookingError> {
        let body = json!({"reference": reference});
        let key = idempotency_key.as_str();
        let mut tx = self.sandbox.ledger.begin().await.map_err(ledger_error)?;
        if let Some(stored) = SandboxLedger::replay(&mut tx, key, "cancel", &body)
            .await
            .map_err(ledger_error)?
        {
            return refund_from(&stored);
        }
        let booking = find_booking(&mut *tx, reference)
            .await
            .map_err(ledger_error)?
            .unwrap_or(booking);
        if booking.status != "booked" {
            return Err(rejected(
                PROVIDER,
                "already_cancelled",
                format!("booking {reference} is already cancelled"),
            )
            .into());
        }
        let offer = find_offer(&mut *tx, &booking.offer_id)
            .await
            .map_err(ledger_error)?
            .ok_or_else(|| {
                BookingError::Provider(ProviderError::unavailable(
                    PROVIDER,
                    format!(
                        "offer {} of booking {reference} is missing",
                        booking.offer_id
                    ),
                ))
            })?;
        let refund = offer
            .cancellation
            .refund_for(&booking.price, self.sandbox.clock.now())
            .unwrap_or_else(|_| Money::zero(booking.price.currency()));
        SandboxLedger::mark_cancelled(&mut tx, reference, &refund)
            .await
            .map_err(ledger_error)?;
        let response = json!({"refund": refund});
        SandboxLedger::remember(&mut tx, key, "cancel", &body, &response)
            .await
            .map_err(ledger_error)?;
        tx.commit().await.map_err(|e| ledger_error(e.into()))?;
        refund_from(&response)
    }
}

#[async_trait]
impl BookingProvider for SandboxBooking {
    fn name(&self) -> &str {
        PROVIDER
    }

    fn kinds(&self) -> &[ItemKind] {
        &self.kinds
    }

    /// Built in: it answers whenever Itinera runs.
    async fn probe(&self) -> Result<(), BookingError> {
        Ok(())
    }

    async fn search(&self, query: &SearchQuery) -> Result<Vec<Offer>, BookingError> {
        let kind = query.kind();
        self.sandbox
            .check(PROVIDER, kind.as_str(), "search")
            .await?;
        let offers = inventory::search(query, self.sandbox.clock.now());
        self.sandbox
            .ledger
            .store_offers(&offers)
            .await
            .map_err(ledger_error)?;
        Ok(offers)
    }

    async fn quote(&self, offer: &Offer) -> Result<Offer, BookingError> {
        let effect = self
            .sandbox
            .check(PROVIDER, offer.kind.as_str(), "quote")
            .await?;
        let stored = self.issued_offer(self.sandbox.ledger.pool(), offer).await?;
        Ok(self.quoted(stored, effect))
    }

    async fn book(&self, request: BookingRequest<'_>) -> Result<BookingConfirmation, BookingError> {
        let effect = self
            .sandbox
            .check(PROVIDER, request.offer.kind.as_str(), "book")
            .await?;
        let answer = self.book_once(request).await;
        answer_lost(PROVIDER, effect, answer)
    }

    async fn cancel(
        &self,
        request: CancelRequest<'_>,
    ) -> Result<CancellationReceipt, BookingError> {
        let reference = request.reference;
        let idempotency_key = request.idempotency_key;
        let booking = self
            .sandbox
            .ledger
            .booking(reference)
            .await
            .map_err(ledger_error)?;
        let Some(booking) = booking else {
            return Err(rejected(
                PROVIDER,
                "booking_not_found",
                format!("no booking {reference}"),
            )
            .into());
        };
        let effect = self
            .sandbox
            .check(PROVIDER, booking.kind.as_str(), "cancel")
            .await?;
        let answer = self.cancel_once(reference, booking, idempotency_key).await;
        answer_lost(PROVIDER, effect, answer)
    }
}

fn confirmation_from(stored: &serde_json::Value) -> Result<BookingConfirmation, BookingError> {
    match (
        stored["reference"].as_str(),
        stored["confirmation"].as_str(),
    ) {
        (Some(reference), Some(confirmation)) => Ok(BookingConfirmation {
            reference: reference.into(),
            confirmation: confirmation.into(),
        }),
        _ => Err(ledger_error(LedgerError::Database(format!(
            "bad stored booking {stored}"
        )))),
    }
}

fn refund_from(stored: &serde_json::Value) -> Result<CancellationReceipt, BookingError> {
    serde_json::from_value::<Money>(stored["refund"].clone())
        .map(|refund| CancellationReceipt { refund })
        .map_err(|e| ledger_error(LedgerError::Database(format!("bad stored refund: {e}"))))
}
