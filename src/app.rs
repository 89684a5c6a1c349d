//! The composition root: configuration → store → providers → services → MCP server.
//! Used by `main` and by the tests, so tests run the real wiring.

use std::sync::Arc;

use rmcp::ServiceExt;
use tokio_util::task::TaskTracker;

use crate::adapters::booking::amadeus::AmadeusHotels;
use crate::adapters::booking::avis::AvisCars;
use crate::adapters::booking::booking_com::BookingComHotels;
use crate::adapters::booking::duffel::{DuffelFlights, DuffelProduct};
use crate::adapters::booking::duffel_cars::DuffelCars;
use crate::adapters::booking::duffel_stays::DuffelStays;
use crate::adapters::booking::getyourguide::GetYourGuideActivities;
use crate::adapters::booking::viator::ViatorActivities;
use crate::adapters::notify::{EmailNotifier, WebhookNotifier};
use crate::adapters::payments::antom::{AntomPayments, AntomSettings};
use crate::adapters::payments::paypal::{PayPalPayments, PayPalSettings};
use crate::adapters::payments::stripe::{StripePayments, StripeSettings};
use crate::adapters::payments::wechat::WeChatPayments;
use crate::adapters::sandbox::ledger::LedgerError;
use crate::adapters::sandbox::{Sandbox, SandboxBooking, SandboxPayments};
use crate::adapters::store::SqlStore;
use crate::approval::{ApprovalDeps, ApprovalSecrets, Approvals, KeyError};
use crate::approval_page::{PageListener, PageServerError};
use crate::background::{Background, Workers};
use crate::config::{Config, Mode, PaymentSettings};
use crate::crypto::CryptoError;
use crate::domain::ids::OwnerId;
use crate::leases::Leases;
use crate::mcp::ItineraServer;
use crate::mcp::Subscriptions;
use crate::metrics::Metrics;
use crate::notify::Dispatcher;
use crate::notify::watch::OrderWatch;
use crate::orchestrator::{ExecutionError, Orchestrator, RecoveryReport, StepPause};
use crate::planning::Planner;
use crate::platforms::Accounts;
use crate::ports::{BookingProvider, Clock, Notifier, PaymentProvider, Store, StoreError};
use crate::providers::Providers;
use crate::saved_methods::MethodSaver;
use crate::spending::SpendingGuard;
use crate::trail::AuditTrail;
use crate::webhooks::{WebhookSecrets, Webhooks};

/// How long an exiting server waits for executions under way.
const DRAIN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("order store: {0}")]
    Store(#[from] StoreError),
    #[error("master key: {0}")]
    Key(#[from] CryptoError),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error(transparent)]
    ApprovalPage(#[from] PageServerError),
    #[error(transparent)]
    ApprovalKey(#[from] KeyError),
    #[error(transparent)]
    Http(#[from] crate::adapters::http::ClientError),
    #[error("notices: {0}")]
    Notify(String),
    #[error("metrics: {0}")]
    Metrics(String),
    #[error("webhook endpoint: {0}")]
    Webhooks(String),
    #[error("MCP: {0}")]
    Mcp(String),
    #[error(transparent)]
    HttpServer(#[from] crate::http::HttpError),
    #[error("platform sign-in: {0}")]
    Platforms(#[from] crate::platforms::OAuthError),
    #[error(
        "the order store at {store} holds {recorded}-mode plans and orders: {wanted} mode needs a store of its own (set ITINERA_DATA_DIR or ITINERA_DATABASE_URL to another place), or run with ITINERA_MODE={recorded}"
    )]
    OtherModesStore {
        store: String,
        recorded: String,
        wanted: Mode,
    },
}

/// The order store of the configuration, with its key for personal data. A store belongs to
/// the mode it was first used in: sandbox orders are never driven, settled or counted with live
/// credentials, nor live ones with test credentials.
pub async fn open_store(config: &Config) -> Result<SqlStore, AppError> {
    let keyring = Arc::new(config.master_key.keyring()?);
    let store = SqlStore::open(&config.database_url, keyring).await?;
    let recorded = store.claim_mode(&config.mode.to_string()).await?;
    if recorded != config.mode.to_string() {
        return Err(AppError::OtherModesStore {
            store: without_password(&config.database_url),
            recorded,
            wanted: config.mode,
        });
    }
    Ok(store)
}

/// A database address as it may be shown: without a password.
fn without_password(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            // Only a URL that cannot hold a password refuses it, and this one holds one.
            let _ = parsed.set_password(None);
            parsed.to_string()
        }
        Ok(_) => url.to_string(),
        Err(_) => "the configured ITINERA_DATABASE_URL".to_string(),
    }
}

/// The services the MCP tools call.
pub struct Services {
    pub planner: Planner,
    pub approvals: Approvals,
    pub orchestrator: Orchestrator,
    /// Executions and cancellations under way: the server waits for them before it exits.
    pub in_flight: TaskTracker,
    pub trail: AuditTrail,
    /// Payment methods the person saves on a provider's page.
    pub methods: MethodSaver,
    /// The person's platform sign-ins and the token vault.
    pub accounts: Accounts,
    /// Order changes as they are committed, here or on another instance.
    pub watch: OrderWatch,
    /// MCP clients following orders.
    pub subscriptions: Subscriptions,
    pub metrics: Metrics,
}

/// A wired Itinera: services plus the sandbox they talk to.
pub struct App {
    services: Arc<Services>,
    store: Arc<dyn Store>,
    webhooks: Webhooks,
    sandbox: Arc<Sandbox>,
    owner: OwnerId,
    recovery_interval: std::time::Duration,
    dispatcher: Dispatcher,
    /// Follows the outbox for this process's MCP clients while the app lives.
    _watching: Background,
}

impl App {
    pub async fn start(config: &Config, clock: Arc<dyn Clock>) -> Result<App, AppError> {
        let store: Arc<dyn Store> = Arc::new(open_store(config).await?);
        let sandbox = Sandbox::open(config.sandbox.clone(), Arc::clone(&clock)).await?;
        let page = PageListener::bind(config.approval_page_addr).await?;
        let (providers, webhook_secrets) = wire_providers(config, &sandbox, &clock)?;
        let providers = Arc::new(providers);
        let guard = SpendingGuard::new(
            config.policy.clone(),
            config.risk.clone(),
            Arc::clone(&store),
            Arc::clone(&clock),
        );
        let approvals = Approvals::new(ApprovalDeps {
            store: Arc::clone(&store),
            clock: Arc::clone(&clock),
            settings: config.approvals.clone(),
            guard: guard.clone(),
            secrets: Arc::new(ApprovalSecrets::generate()?),
            page_base: page.base_url().to_string(),
            channel: Arc::clone(&config.code_channel),
        });
        let (watch, watching) =
            OrderWatch::start(Arc::clone(&store), config.notify.dispatch.poll).await?;
        let return_url = page.payment_return_url();
        // One holder of leases for the whole process: its orders, admissions and accounts.
        let leases = Leases::new(Arc::clone(&store), config.lease_ttl);
        let accounts = Accounts::new(
            &config.platform_logins,
            &page.oauth_callback_url(),
            Arc::clone(&store),
            Arc::clone(&clock),
            leases.clone(),
        )?;
        page.serve(approvals.clone(), accounts.clone());
        let dispatcher = Dispatcher::new(
            Arc::clone(&store),
            notifiers(config, &store)?,
            Arc::clone(&clock),
            config.notify.dispatch.clone(),
            leases.holder(),
        );
        let services = Services {
            planner: Planner::new(
                Arc::clone(&store),
                Arc::clone(&providers),
                Arc::clone(&clock),
            )
            .with_search_deadline(config.search_deadline),
            approvals,
            accounts,
            in_flight: TaskTracker::new(),
            watch,
            subscriptions: Subscriptions::default(),
            metrics: Metrics::new(Arc::clone(&store), Arc::clone(&clock)),
            trail: AuditTrail::new(Arc::clone(&store)),
            methods: MethodSaver::new(
                Arc::clone(&store),
                Arc::clone(&providers),
                Arc::clone(&clock),
                return_url.clone(),
            ),
            orchestrator: Orchestrator::new(
                leases,
                providers,
                Arc::clone(&clock),
                StepPause::at(config.pause_at_step),
                config.retry.clone(),
                guard,
                return_url,
            ),
        };
        let webhooks = Webhooks::new(
            Arc::clone(&store),
            services.orchestrator.clone(),
            clock,
            webhook_secrets,
        );
        Ok(App {
            store,
            webhooks,
            services: Arc::new(services),
            sandbox,
            owner: OwnerId::new(config.profile.clone()),
            recovery_interval: config.recovery_interval,
            dispatcher,
            _watching: watching,
        })
    }

    /// What handles provider webhooks (`itinera webhooks --listen`).
    pub fn webhooks(&self) -> Webhooks {
        self.webhooks.clone()
    }

    /// An MCP server acting for the configured profile.
    pub fn server(&self) -> ItineraServer {
        self.server_for(self.owner.clone())
    }

    /// An MCP server acting for `owner` (benchmarks: several people on one server).
    pub fn server_for(&self, owner: OwnerId) -> ItineraServer {
        ItineraServer::new(Arc::clone(&self.services), owner)
    }

    /// An MCP server acting for whoever each HTTP request is authenticated as.
    pub fn per_request_server(&self) -> ItineraServer {
        ItineraServer::per_request(Arc::clone(&self.services))
    }

    /// The order store (readiness checks ask it).
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn sandbox(&self) -> &Arc<Sandbox> {
        &self.sandbox
    }

    /// One recovery pass over every unsettled order (the server also runs these on its own).
    pub async fn recover(&self) -> Result<RecoveryReport, ExecutionError> {
        self.services.orchestrator.recover().await
    }

    /// Serves MCP on stdin/stdout until the client closes stdin, resuming unsettled orders at
    /// start and periodically.
    pub async fn serve_stdio(&self) -> Result<(), AppError> {
        let workers = self.spawn_workers();
        let running = self
            .server()
            .serve(rmcp::transport::stdio())
            .await
            .map_err(|e| AppError::Mcp(e.to_string()))?;
        let reason = running
            .waiting()
            .await
            .map_err(|e| AppError::Mcp(e.to_string()))?;
        tracing::info!(?reason, "MCP session ended");
        workers.stop().await;
        self.finish_in_flight().await;
        Ok(())
    }

    /// What a serving process runs beside its sessions, until stopped: recovery (unsettled
    /// orders resumed now and every recovery interval) and the delivery of order notices.
    pub fn spawn_workers(&self) -> Workers {
        Workers(vec![
            self.services
                .orchestrator
                .spawn_recovery(self.recovery_interval),
            self.dispatcher.spawn(),
        ])
    }

    /// The business metrics (`/metrics`, `itinera report`).
    pub fn metrics(&self) -> &Metrics {
        &self.services.metrics
    }

    /// What delivers order notices (tests run its passes themselves).
    pub fn dispatcher(&self) -> &Dispatcher {
        &self.dispatcher
    }

    /// Waits (up to a limit) for executions and cancellations under way: a client that went
    /// away, or a server asked to stop, does not stop them half-way.
    pub async fn finish_in_flight(&self) {
        let in_flight = &self.services.in_flight;
        in_flight.close();
        if !in_flight.is_empty() {
            tracing::info!(
                tasks = in_flight.len(),
                "finishing work under way before exiting"
            );
        }
        if tokio::time::timeout(DRAIN_TIMEOUT, in_flight.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                "work still under way at exit; recovery will resume it at the next start"
            );
            // Its leases stay, so no other instance takes that work while it might still run.
            return;
        }
        // Whatever this process still holds, another instance may take at once.
        match self.services.orchestrator.release_leases().await {
            Ok(0) => {}
            Ok(released) => tracing::info!(released, "released this process's leases"),
            Err(error) => tracing::warn!(%error, "could not release this process's leases"),
        }
    }
}

/// The channels order notices go to besides MCP clients: each webhook subscriber, e-mail.
fn notifiers(config: &Config, store: &Arc<dyn Store>) -> Result<Vec<Arc<dyn Notifier>>, AppError> {
    let mut notifiers: Vec<Arc<dyn Notifier>> = Vec::new();
    if let Some(secret) = &config.notify.webhook_secret {
        for url in &config.notify.webhooks {
            notifiers.push(Arc::new(WebhookNotifier::new(url.clone(), secret.clone())?));
        }
    }
    if let Some(email) = &config.notify.email {
        notifiers.push(Arc::new(
            EmailNotifier::new(email, Arc::clone(store))
                .map_err(|e| AppError::Notify(e.to_string()))?,
        ));
    }
    Ok(notifiers)
}

/// The providers of the configuration (`itinera doctor` checks them without starting the app).
pub async fn configured_providers(
    config: &Config,
    clock: Arc<dyn Clock>,
) -> Result<Providers, AppError> {
    let sandbox = Sandbox::open(config.sandbox.clone(), Arc::clone(&clock)).await?;
    Ok(wire_providers(config, &sandbox, &clock)?.0)
}

/// Every provider, and what verifies the payment providers' webhooks. In sandbox mode the
/// sandbox's payments stay reachable so orders it holds money for can still be settled.
fn wire_providers(
    config: &Config,
    sandbox: &Arc<Sandbox>,
    clock: &Arc<dyn Clock>,
) -> Result<(Providers, WebhookSecrets), AppError> {
    let (payments, webhook_secrets) = payment_providers(config, sandbox)?;
    let mut providers = Providers::new(booking_providers(config, sandbox, clock)?, payments);
    if config.mode == Mode::Sandbox {
        providers =
            providers.keeping_reachable(Arc::new(SandboxPayments::new(Arc::clone(sandbox))));
    }
    Ok((providers, webhook_secrets))
}

/// The travel providers: every configured real one, then, in sandbox mode, the sandbox for the
/// kinds none of them sells.
fn booking_providers(
    config: &Config,
    sandbox: &Arc<Sandbox>,
    clock: &Arc<dyn Clock>,
) -> Result<Vec<Arc<dyn BookingProvider>>, AppError> {
    let mut providers: Vec<Arc<dyn BookingProvider>> = Vec::new();
    if let Some(settings) = &config.duffel {
        if settings.products.contains(&DuffelProduct::Flights) {
            providers.push(Arc::new(DuffelFlights::new(settings, Arc::clone(clock))?));
        }
        if settings.products.contains(&DuffelProduct::Stays) {
            providers.push(Arc::new(DuffelStays::new(settings, Arc::clone(clock))?));
        }
        if settings.products.contains(&DuffelProduct::Cars) {
            providers.push(Arc::new(DuffelCars::new(settings, Arc::clone(clock))?));
        }
    }
    if let Some(settings) = &config.amadeus {
        providers.push(Arc::new(AmadeusHotels::new(settings, Arc::clone(clock))?));
    }
    // Beside Amadeus or Duffel Stays when set: a hotel search asks them all.
    if let Some(settings) = &config.booking_com {
        providers.push(Arc::new(BookingComHotels::new(
            settings,
            Arc::clone(clock),
        )?));
    }
    // Beside Duffel Cars when both are set: a car search asks both.
    if let Some(settings) = &config.avis {
        providers.push(Arc::new(AvisCars::new(settings, Arc::clone(clock))?));
    }
    if let Some(settings) = &config.viator {
        providers.push(Arc::new(ViatorActivities::new(
            settings,
            Arc::clone(clock),
        )?));
    }
    // Beside Viator when both are set: an activity search asks both.
    if let Some(settings) = &config.getyourguide {
        providers.push(Arc::new(GetYourGuideActivities::new(
            settings,
            Arc::clone(clock),
        )?));
    }
    // A live store never holds sandbox orders (see `open_store`): nothing for the sandbox to do.
    if config.mode == Mode::Sandbox {
        let mut sandbox_booking = SandboxBooking::new(Arc::clone(sandbox));
        for kind in providers.iter().flat_map(|provider| provider.kinds()) {
            sandbox_booking = sandbox_booking.except(*kind);
        }
        providers.push(Arc::new(sandbox_booking));
    }
    Ok(providers)
}

/// The configured payment providers, in the operator's order, and what verifies their webhooks.
fn payment_providers(
    config: &Config,
    sandbox: &Arc<Sandbox>,
) -> Result<(Vec<Arc<dyn PaymentProvider>>, WebhookSecrets), AppError> {
    let mut providers = Vec::new();
    let mut secrets = WebhookSecrets::default();
    for settings in &config.payments {
        let (provider, more) = payment_provider(settings, sandbox)?;
        providers.push(provider);
        secrets = secrets.merged(more);
    }
    Ok((providers, secrets))
}

/// One payment provider, and what verifies its webhooks.
fn payment_provider(
    settings: &PaymentSettings,
    sandbox: &Arc<Sandbox>,
) -> Result<(Arc<dyn PaymentProvider>, WebhookSecrets), AppError> {
    Ok(match settings {
        PaymentSettings::Sandbox => (
            Arc::new(SandboxPayments::new(Arc::clone(sandbox))),
            WebhookSecrets::default(),
        ),
        PaymentSettings::Stripe {
            secret_key,
            base_url,
            webhook_secret,
        } => (
            Arc::new(StripePayments::new(StripeSettings {
                secret_key: secret_key.expose().to_string(),
                base_url: base_url.clone(),
            })?),
            WebhookSecrets {
                stripe: webhook_secret.as_ref().map(|s| s.expose().to_string()),
                ..WebhookSecrets::default()
            },
        ),
        PaymentSettings::PayPal {
            client_id,
            client_secret,
            base_url,
            webhook_id,
        } => {
            let paypal = Arc::new(PayPalPayments::new(PayPalSettings {
                client_id: client_id.clone(),
                client_secret: client_secret.expose().to_string(),
                base_url: base_url.clone(),
            })?);
            let secrets = WebhookSecrets {
                paypal: webhook_id.clone().map(|id| (Arc::clone(&paypal), id)),
                ..WebhookSecrets::default()
            };
            (paypal, secrets)
        }
        PaymentSettings::WeChat {
            settings,
            api_v3_key,
        } => (
            Arc::new(WeChatPayments::new(settings.as_ref().clone())?),
            WebhookSecrets {
                wechat: Some((settings.platform.clone(), api_v3_key.as_ref().clone())),
                ..WebhookSecrets::default()
            },
        ),
        PaymentSettings::Antom {
            client_id,
            keys,
            base_url,
            notify_url,
        } => (
            Arc::new(AntomPayments::new(AntomSettings {
                client_id: client_id.clone(),
                keys: keys.clone(),
                base_url: base_url.clone(),
                notify_url: notify_url.clone(),
            })?),
            WebhookSecrets {
                antom: Some((
                    keys.clone(),
                    // What Antom signs is the path of the URL it was told to notify.
                    notify_url
                        .as_deref()
                        .and_then(|url| reqwest::Url::parse(url).ok())
                        .map_or_else(
                            || "/webhooks/antom".to_string(),
                            |url| url.path().to_string(),
                        ),
                )),
                ..WebhookSecrets::default()
            },
        ),
    })
}
