//! The providers Itinera talks to: booking providers by name and kind, and payment providers.

use std::sync::Arc;

use crate::domain::offer::ItemKind;
use crate::ports::{BookingProvider, PaymentProvider};

#[derive(Clone)]
pub struct Providers {
    booking: Vec<Arc<dyn BookingProvider>>,
    /// The ones new payments may go through, in the operator's order of preference.
    payments: Vec<Arc<dyn PaymentProvider>>,
    /// Others still reachable, for orders created to pay through them.
    settling_only: Vec<Arc<dyn PaymentProvider>>,
}

impl Providers {
    pub fn new(
        booking: Vec<Arc<dyn BookingProvider>>,
        payments: Vec<Arc<dyn PaymentProvider>>,
    ) -> Self {
        Self {
            booking,
            payments,
            settling_only: Vec::new(),
        }
    }

    /// Keeps `payment` reachable for the orders that pay through it, without routing new
    /// payments to it unless it is configured.
    pub fn keeping_reachable(mut self, payment: Arc<dyn PaymentProvider>) -> Self {
        if self.payment_named(payment.name()).is_none() {
            self.settling_only.push(payment);
        }
        self
    }

    /// Providers that sell this kind of item, in configuration order.
    pub fn for_kind(&self, kind: ItemKind) -> impl Iterator<Item = &Arc<dyn BookingProvider>> {
        self.booking
            .iter()
            .filter(move |provider| provider.kinds().contains(&kind))
    }

    /// Every booking provider, in configuration order.
    pub fn booking_all(&self) -> &[Arc<dyn BookingProvider>] {
        &self.booking
    }

    /// The provider that issued offers carrying this name.
    pub fn booking(&self, name: &str) -> Option<&Arc<dyn BookingProvider>> {
        self.booking.iter().find(|provider| provider.name() == name)
    }

    /// The payment providers new payments may go through, in the operator's order.
    pub fn payments(&self) -> &[Arc<dyn PaymentProvider>] {
        &self.payments
    }

    /// The payment provider of this name, if it is configured or kept reachable.
    pub fn payment_named(&self, name: &str) -> Option<&Arc<dyn PaymentProvider>> {
        self.payments
            .iter()
            .chain(&self.settling_only)
            .find(|provider| provider.name() == name)
    }
}
