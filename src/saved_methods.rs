//! Saving a payment method on the provider's own page (add_payment_method), and finding out what
//! came of it (list_payment_methods).
//!
//! Itinera opens the page and keeps a setup record; the person types their card (or approves
//! PayPal) there, out of reach of the model and of Itinera. Each time the person's methods are
//! listed, the setups still pending are asked about: a finished one becomes a saved method, once;
//! one past its expiry is abandoned.

use std::sync::Arc;

use chrono::Duration;

use crate::domain::ids::{OwnerId, PaymentMethodToken, SetupId};
use crate::domain::saved_method::{MethodSetup, SavedMethod, SetupStatus};
use crate::ports::payment::{SaveMethodRequest, SaveMethodState};
use crate::ports::store::SetupOutcome;
use crate::ports::{Clock, PaymentError, PaymentProvider, Store, StoreError};
use crate::providers::Providers;

/// How long a page stays usable when the provider does not say (PayPal's approval links).
const PAGE_LIFETIME: Duration = Duration::hours(3);
/// How long a setup that saved nothing is still shown, so the person hears what became of it.
const SHOWN_FOR: Duration = Duration::days(1);

#[derive(Debug, thiserror::Error)]
pub enum SaveMethodError {
    #[error(
        "there is no payment provider '{name}' here. Providers that can save a payment method: {savers}"
    )]
    UnknownProvider { name: String, savers: String },
    #[error(
        "'{name}' cannot save a payment method (the payer approves each payment on its page instead). Providers that can: {savers}"
    )]
    CannotSave { name: String, savers: String },
    #[error(
        "none of the configured payment providers can save a payment method; the operator can configure Stripe, PayPal or the sandbox"
    )]
    NoSaver,
    #[error("{provider} could not open the page to save a payment method: {source}")]
    Provider {
        provider: String,
        source: PaymentError,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a person may not pay with a method: it is someone else's.
#[derive(Debug, thiserror::Error)]
pub enum OwnershipError {
    #[error(
        "the payment method {0} was saved by someone else, or by no one here, and cannot pay for this person: use one of the person's own methods from list_payment_methods, or add one with add_payment_method"
    )]
    NotYours(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The person's own saved method a token names; `None` for a method nobody saves (a test card,
/// a wallet approved each time). Refused when someone else saved it, or when it is of a kind only
/// a saving page mints and nobody saved it for this person.
pub async fn own_method(
    store: &dyn Store,
    providers: &Providers,
    owner: &OwnerId,
    method: &PaymentMethodToken,
) -> Result<Option<SavedMethod>, OwnershipError> {
    match store.saved_method(method).await? {
        Some(saved) if &saved.owner == owner => Ok(Some(saved)),
        Some(_) => Err(OwnershipError::NotYours(method.masked())),
        None if providers
            .payments()
            .iter()
            .any(|provider| provider.only_saved(method)) =>
        {
            Err(OwnershipError::NotYours(method.masked()))
        }
        None => Ok(None),
    }
}

/// The person's saved methods, and the recent setups that saved nothing (yet).
#[derive(Debug, Clone)]
pub struct OwnerMethods {
    pub saved: Vec<SavedMethod>,
    pub unsaved: Vec<MethodSetup>,
}

/// Opens setup pages and turns the finished ones into saved methods.
#[derive(Clone)]
pub struct MethodSaver {
    store: Arc<dyn Store>,
    providers: Arc<Providers>,
    clock: Arc<dyn Clock>,
    /// Where the provider sends the person back: Itinera's page saying to return to the assistant.
    return_url: Arc<str>,
}

impl MethodSaver {
    pub fn new(
        store: Arc<dyn Store>,
        providers: Arc<Providers>,
        clock: Arc<dyn Clock>,
        return_url: String,
    ) -> Self {
        Self {
            store,
            providers,
            clock,
            return_url: Arc::from(return_url),
        }
    }

    /// Opens a page at `provider` (default: the first configured provider that saves methods).
    pub async fn start(
        &self,
        owner: &OwnerId,
        provider: Option<&str>,
    ) -> Result<MethodSetup, SaveMethodError> {
        let payments = self.saver(provider)?;
        let id = SetupId::generate();
        let customer = self.store.provider_customer(owner, payments.name()).await?;
        let page = payments
            .start_saving_method(SaveMethodRequest {
                setup_id: &id,
                owner,
                customer: customer.as_deref(),
                return_url: &self.return_url,
            })
            .await
            .map_err(|source| SaveMethodError::Provider {
                provider: payments.name().to_string(),
                source,
            })?;
        let now = self.clock.now();
        let setup = MethodSetup {
            id,
            owner: owner.clone(),
            provider: payments.name().to_string(),
            session_id: page.session_id,
            url: page.url,
            customer: page.customer.or(customer),
            status: SetupStatus::Pending,
            created_at: now,
            expires_at: page.expires_at.unwrap_or(now + PAGE_LIFETIME),
        };
        self.store.insert_method_setup(&setup).await?;
        Ok(setup)
    }

    /// Asks the providers about the person's pending setups, saves what was finished, and
    /// returns the saved methods with the recent setups that saved nothing.
    pub async fn refresh(&self, owner: &OwnerId) -> Result<OwnerMethods, SaveMethodError> {
        let now = self.clock.now();
        let mut unsaved = Vec::new();
        for mut setup in self.store.method_setups(owner, now - SHOWN_FOR).await? {
            if setup.status == SetupStatus::Pending {
                setup.status = self.settle(&setup).await?;
            }
            if setup.status != SetupStatus::Saved {
                unsaved.push(setup);
            }
        }
        Ok(OwnerMethods {
            saved: self.store.saved_methods(owner).await?,
            unsaved,
        })
    }

    /// Where one pending setup stands now, recorded once it has ended.
    async fn settle(&self, setup: &MethodSetup) -> Result<SetupStatus, SaveMethodError> {
        let state = match self.providers.payment_named(&setup.provider) {
            Some(provider) => provider
                .saved_method_state(&setup.session_id)
                .await
                .unwrap_or_else(|error| {
                    // Asked again at the next listing; the page may still be in use.
                    tracing::warn!(setup = %setup.id, %error, "could not ask about a setup");
                    SaveMethodState::Pending
                }),
            None => SaveMethodState::Pending,
        };
        let outcome = match state {
            SaveMethodState::Saved {
                token,
                label,
                customer,
            } => SetupOutcome::Saved(SavedMethod {
                owner: setup.owner.clone(),
                provider: setup.provider.clone(),
                token,
                label,
                customer: customer.or_else(|| setup.customer.clone()),
                setup_id: setup.id.clone(),
                added_at: self.clock.now(),
            }),
            SaveMethodState::Abandoned { reason } => SetupOutcome::Abandoned(reason),
            SaveMethodState::Pending if self.clock.now() > setup.expires_at => {
                SetupOutcome::Abandoned(
                    "the page expired before a payment method was saved on it".into(),
                )
            }
            SaveMethodState::Pending => return Ok(SetupStatus::Pending),
        };
        match self
            .store
            .settle_method_setup(&setup.owner, &setup.id, &outcome)
            .await
        {
            Ok(_) => {}
            Err(StoreError::MethodTaken) => {
                let refused = SetupOutcome::Abandoned(
                    "the provider answered with a payment method someone else saved".into(),
                );
                self.store
                    .settle_method_setup(&setup.owner, &setup.id, &refused)
                    .await?;
                return Ok(status_of(&refused));
            }
            Err(other) => return Err(other.into()),
        }
        Ok(status_of(&outcome))
    }

    /// The provider asked for, or the first configured one that saves methods.
    fn saver(&self, name: Option<&str>) -> Result<&Arc<dyn PaymentProvider>, SaveMethodError> {
        let savers: Vec<&Arc<dyn PaymentProvider>> = self
            .providers
            .payments()
            .iter()
            .filter(|provider| provider.saves_methods())
            .collect();
        let names = || {
            let names: Vec<&str> = savers.iter().map(|p| p.name()).collect();
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            }
        };
        let Some(name) = name else {
            return savers.first().copied().ok_or(SaveMethodError::NoSaver);
        };
        match self.providers.payments().iter().find(|p| p.name() == name) {
            Some(provider) if provider.saves_methods() => Ok(provider),
            Some(_) => Err(SaveMethodError::CannotSave {
                name: name.to_string(),
                savers: names(),
            }),
            None => Err(SaveMethodError::UnknownProvider {
                name: name.chars().take(40).collect(),
                savers: names(),
            }),
        }
    }
}

fn status_of(outcome: &SetupOutcome) -> SetupStatus {
    match outcome {
        SetupOutcome::Saved(_) => SetupStatus::Saved,
        SetupOutcome::Abandoned(reason) => SetupStatus::Abandoned(reason.clone()),
    }
}
