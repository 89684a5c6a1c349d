//! Built-in sandbox providers for every kind of item and for payments, used by default so
//! Itinera works with no keys. They behave like remote providers: their own ledger in their own
//! database, idempotency keys honoured, offers that expire, Stripe-style magic payment tokens,
//! a 3-D Secure page, and configurable latency and faults.

mod action_page;
mod booking;
mod card_ledger;
mod card_page;
mod failures;
pub mod faults;
pub mod inventory;
pub mod ledger;
mod payment;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};

use tokio::sync::OnceCell;

use crate::ports::{Clock, ProviderError};
pub use booking::SandboxBooking;
use faults::{Effect, Faults};
use ledger::{LedgerError, SandboxLedger};
pub use payment::SandboxPayments;

/// Where the sandbox keeps its ledger and serves its customer-action pages.
#[derive(Debug, Clone)]
pub struct SandboxSettings {
    pub ledger_url: String,
    pub faults: Faults,
    /// Address of the 3-D Secure page server; port 0 picks a free port on first use.
    pub action_addr: SocketAddr,
    /// Seed of the rolls that decide faults given with a chance (`lost@20%`).
    pub fault_seed: u64,
}

/// State shared by the sandbox's booking and payment providers.
pub struct Sandbox {
    ledger: SandboxLedger,
    faults: RwLock<Faults>,
    clock: Arc<dyn Clock>,
    action_addr: SocketAddr,
    action_base_url: OnceCell<String>,
    /// SplitMix64 state for fault rolls.
    rolls: Mutex<u64>,
}

impl Sandbox {
    pub async fn open(
        settings: SandboxSettings,
        clock: Arc<dyn Clock>,
    ) -> Result<Arc<Sandbox>, LedgerError> {
        Ok(Arc::new(Sandbox {
            ledger: SandboxLedger::open(&settings.ledger_url).await?,
            faults: RwLock::new(settings.faults),
            clock,
            action_addr: settings.action_addr,
            action_base_url: OnceCell::new(),
            rolls: Mutex::new(settings.fault_seed),
        }))
    }

    /// The sandbox's books, for checking what really happened.
    pub fn ledger(&self) -> &SandboxLedger {
        &self.ledger
    }

    /// Replaces the fault spec, e.g. to make cancellations fail after a booking succeeded.
    pub fn set_faults(&self, faults: Faults) {
        if let Ok(mut current) = self.faults.write() {
            *current = faults;
        }
    }

    /// Waits the configured latency and fails the call if a fault is configured for it; returns
    /// the effect for the callers that act on it (a price rise).
    async fn check(
        &self,
        provider: &str,
        target: &str,
        operation: &str,
    ) -> Result<Option<Effect>, ProviderError> {
        let effect = self.enter(target, operation).await;
        failures::injected(provider, effect, target, operation)?;
        Ok(effect)
    }

    /// A number in 0..100 from the seeded generator.
    fn roll(&self) -> u32 {
        let Ok(mut state) = self.rolls.lock() else {
            return 100;
        };
        *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) % 100) as u32
    }

    /// Waits the configured latency, then says which fault (if any) this call suffers.
    async fn enter(&self, target: &str, operation: &str) -> Option<Effect> {
        let (delay, effect) = match self.faults.read() {
            Ok(faults) => (
                faults.latency(target),
                faults.effect(target, operation, || self.roll()),
            ),
            Err(_) => (std::time::Duration::ZERO, None),
        };
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        effect
    }
}
