//! The traits the core depends on, each with its own error enum. Adapters implement them.

pub mod booking;
pub mod clock;
pub mod notifier;
pub mod payment;
pub mod provider;
pub mod store;

pub use booking::{BookingError, BookingProvider};
pub use clock::{Clock, SystemClock};
pub use notifier::{Notifier, NotifyError};
pub use payment::{PaymentError, PaymentProvider};
pub use provider::ProviderError;
pub use store::{Store, StoreError};
