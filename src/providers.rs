//! The providers Itinera talks to: booking providers by name and kind, and the payment provider.

use std::sync::Arc;

use crate::domain::offer::ItemKind;
use crate::ports::{BookingProvider, PaymentProvider};

#[derive(Clone)]
pub struct Providers {
    booking: Vec<Arc<dyn BookingProvider>>,
    payment: Arc<dyn PaymentProvider>,
}

impl Providers {
    pub fn new(booking: Vec<Arc<dyn BookingProvider>>, payment: Arc<dyn PaymentProvider>) -> Self {
        Self { booking, payment }
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

    pub fn payment(&self) -> &Arc<dyn PaymentProvider> {
        &self.payment
    }
}
