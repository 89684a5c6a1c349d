//! The providers Itinera talks to: booking providers by name and kind, and the payment provider.

use std::sync::Arc;

use crate::domain::offer::ItemKind;
use crate::ports::{BookingProvider, PaymentProvider};

#[derive(Clone)]
pub struct Providers {
    booking: Vec<Arc<dyn BookingProvider>>,
    /// The one new orders pay through.
    payment: Arc<dyn PaymentProvider>,
    /// Others still reachable, for orders created to pay through them.
    other_payments: Vec<Arc<dyn PaymentProvider>>,
}

impl Providers {
    pub fn new(booking: Vec<Arc<dyn BookingProvider>>, payment: Arc<dyn PaymentProvider>) -> Self {
        Self {
            booking,
            payment,
            other_payments: Vec::new(),
        }
    }

    /// Keeps `payment` reachable for the orders that pay through it, besides the default.
    pub fn with_payment(mut self, payment: Arc<dyn PaymentProvider>) -> Self {
        if payment.name() != self.payment.name() {
            self.other_payments.push(payment);
        }
        self
    }

    /// Providers that sell this kind of item, in configuration order.
    pub fn for_kind(&self, kind: ItemKind) -> impl Iterator<Item = &Arc<dyn BookingProvider>> {
        self.booking
            .iter()
            .filter(move |provider| provider.kinds().contains(&kind))
    }

    /// The provider that issued offers carrying this name.
    pub fn booking(&self, name: &str) -> Option<&Arc<dyn BookingProvider>> {
        self.booking.iter().find(|provider| provider.name() == name)
    }

    /// The payment provider new orders pay through.
    pub fn payment(&self) -> &Arc<dyn PaymentProvider> {
        &self.payment
    }

    /// The payment provider of this name, if it is configured.
    pub fn payment_named(&self, name: &str) -> Option<&Arc<dyn PaymentProvider>> {
        std::iter::once(&self.payment)
            .chain(&self.other_payments)
            .find(|provider| provider.name() == name)
    }
}
