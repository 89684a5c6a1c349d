//! Searching for offers and assembling them into travel plans.

mod build;
mod pick;
pub mod search;

use std::sync::Arc;

use crate::domain::ids::{OfferId, OrderId, PlanId};
use crate::domain::order::OrderStatus;
use crate::domain::plan::PlanError;
use crate::ports::{BookingError, Clock, Store, StoreError};
use crate::providers::Providers;
use crate::saved_methods::OwnershipError;

pub use build::{ItemRequest, ItemSource, NewPlan, PlanChanges};
pub use pick::Pick;
pub use search::{Found, ProviderShortfall};

/// Why a search or a plan change was refused.
#[derive(Debug, thiserror::Error)]
pub enum PlanningError {
    #[error("{0}")]
    InvalidSearch(String),
    #[error(
        "no configured provider sells {} items (in live mode the sandbox sells nothing): set one up (README, Providers) or leave them out of the trip",
        .0.as_str()
    )]
    NoProviderFor(crate::domain::offer::ItemKind),
    #[error("{0}")]
    InvalidItems(String),
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error("there is no travel plan {0}: check the id, or create one with create_travel_plan")]
    PlanNotFound(PlanId),
    #[error(
        "there is no offer {0} from an earlier search: search again and use an offer id from the results"
    )]
    OfferNotFound(OfferId),
    #[error(
        "item {index}: no offer matches ({reason}); relax the criteria or search and pick an offer id"
    )]
    NoMatch { index: usize, reason: String },
    #[error(
        "plan {plan} was executed as order {order} ({status}) and can no longer change: cancel the order or create a new plan"
    )]
    Locked {
        plan: PlanId,
        order: OrderId,
        status: OrderStatus,
    },
    #[error(
        "no configured payment provider can take the payment method '{method}' in {currency} ({reasons}). Use a method one of them takes, or 'auto' to let Itinera choose one the person can pay with"
    )]
    PaymentMethod {
        method: String,
        currency: String,
        reasons: String,
    },
    #[error(transparent)]
    NotYourMethod(#[from] OwnershipError),
    #[error(
        "the payment region '{0}' is not a country code: use two capital letters (ISO 3166), e.g. CN or FR"
    )]
    PaymentRegion(String),
    #[error(
        "{0}. Change that part's method with update_travel_plan (list_payment_methods shows what each provider takes), or leave it out"
    )]
    PaymentSplit(String),
    #[error(transparent)]
    Provider(#[from] BookingError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Searches providers and keeps plans.
#[derive(Clone)]
pub struct Planner {
    store: Arc<dyn Store>,
    providers: Arc<Providers>,
    clock: Arc<dyn Clock>,
    /// How long one provider may take to answer a search before the others' offers are shown
    /// without it.
    search_deadline: std::time::Duration,
}

/// The search deadline unless configured (`ITINERA_SEARCH_DEADLINE_MS`).
pub const SEARCH_DEADLINE: std::time::Duration = std::time::Duration::from_secs(8);

impl Planner {
    pub fn new(store: Arc<dyn Store>, providers: Arc<Providers>, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            providers,
            clock,
            search_deadline: SEARCH_DEADLINE,
        }
    }

    pub fn with_search_deadline(mut self, deadline: std::time::Duration) -> Self {
        self.search_deadline = deadline;
        self
    }
}
