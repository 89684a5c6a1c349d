//! Command line and environment: every setting has a flag and an `ITINERA_*` variable.
//!
//! [`cli`] declares them, [`providers`] reads the providers' settings, [`rules`] the spending
//! policy and risk rules; this module turns them into the [`Config`] the app runs with.

mod cli;
mod hosts;
mod http;
mod notify;
mod platforms;
mod providers;
mod rules;

pub use cli::{
    AuditCommand, Cli, Command, DeliveryFilter, KeysCommand, Mode, NotificationsCommand,
    ReportFormat, Secret, Settings,
};
pub use notify::NotifyConfig;
pub use providers::{PaymentProviderName, PaymentSettings};
use rules::parse_limit;

use std::net::SocketAddr;

use chrono::Duration;

use crate::adapters::booking::amadeus::AmadeusSettings;
use crate::adapters::booking::avis::AvisSettings;
use crate::adapters::booking::booking_com::BookingComSettings;
use crate::adapters::booking::duffel::DuffelSettings;
use crate::adapters::booking::getyourguide::GetYourGuideSettings;
use crate::adapters::booking::viator::ViatorSettings;
use crate::adapters::sandbox::SandboxSettings;
use crate::adapters::sandbox::faults::Faults;
use std::sync::Arc;

use crate::approval::{ApprovalSettings, CodeChannel, LogChannel};
use crate::crypto::{CryptoError, KeySource, MasterKey};
use crate::domain::policy::SpendingPolicy;
use crate::domain::risk::RiskRules;
use crate::orchestrator::RetryPolicy;
use crate::platforms::OAuthSettings;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "ITINERA_MODE=live takes real money and the sandbox takes none: set ITINERA_PAYMENT_PROVIDER to stripe, paypal, antom or wechat, with live credentials"
    )]
    LiveSandboxPayments,
    #[error(
        "ITINERA_MODE=live books at real providers only and none is configured: set ITINERA_DUFFEL_ACCESS_TOKEN, ITINERA_AMADEUS_CLIENT_ID, ITINERA_BOOKINGCOM_API_KEY, ITINERA_AVIS_CLIENT_ID, ITINERA_VIATOR_API_KEY or ITINERA_GETYOURGUIDE_ACCESS_TOKEN (with what each needs)"
    )]
    LiveWithoutProviders,
    #[error(
        "ITINERA_SANDBOX_FAULTS is set, but nothing runs at the sandbox in live mode: unset it"
    )]
    LiveFaults,
    #[error(
        "ITINERA_PAUSE_AT_STEP is for crash tests and would freeze a real payment half-way: unset it in live mode"
    )]
    LivePause,
    #[error("{0} is not an address Itinera can read: give the provider's https:// address")]
    UnreadableUrl(&'static str),
    #[error("{0}")]
    HttpTokens(String),
    #[error("ITINERA_LEASE_SECONDS is {0}: give 2 to 600 seconds")]
    LeaseSeconds(u64),
    #[error(
        "serve --http lets nobody in: set ITINERA_HTTP_TOKENS (user:token,…) or ITINERA_JWT_JWKS_URL with ITINERA_JWT_ISSUER"
    )]
    HttpWithoutAuthentication,
    #[error(
        "ITINERA_JWT_JWKS_URL is set without ITINERA_JWT_ISSUER, the issuer its tokens must name"
    )]
    JwtWithoutIssuer,
    #[error(
        "{0} must be an https:// address (http:// only on loopback): tokens and keys must not cross the network in clear"
    )]
    HttpUrl(&'static str),
    #[error(
        "{variable} points at {provider}'s {}: in {mode} mode Itinera uses its {}, {expected} ({})",
        mode.hosts().0,
        mode.hosts().1,
        mode.hosts().2
    )]
    OtherModesHost {
        variable: &'static str,
        provider: &'static str,
        mode: Mode,
        expected: &'static str,
    },
    #[error("no data directory could be found for this user: set ITINERA_DATA_DIR")]
    NoDataDir,
    #[error(
        "ITINERA_AUTO_APPROVE_LIMIT '{value}': {problem}. Write it like \"150 EUR\", or 0 to always ask"
    )]
    AutoApproveLimit { value: String, problem: String },
    #[error("ITINERA_APPROVAL_TTL_MINUTES must be 1 to 1440, not {0}")]
    ApprovalTtl(u32),
    #[error("ITINERA_RECOVERY_INTERVAL_SECONDS must be at least 1")]
    RecoveryInterval,
    #[error("ITINERA_SEARCH_DEADLINE_MS must be 100 to 60000, not {0}")]
    SearchDeadline(u64),
    #[error("ITINERA_MASTER_KEY: {0}")]
    MasterKey(CryptoError),
    #[error("{variable} '{value}': {problem}")]
    Policy {
        variable: &'static str,
        value: String,
        problem: String,
    },
    #[error("ITINERA_PAYMENT_PROVIDER=stripe needs ITINERA_STRIPE_SECRET_KEY")]
    StripeKeyMissing,
    #[error(
        "ITINERA_PAYMENT_PROVIDER=paypal needs ITINERA_PAYPAL_CLIENT_ID and ITINERA_PAYPAL_CLIENT_SECRET"
    )]
    PayPalCredentialsMissing,
    #[error(
        "ITINERA_PAYMENT_PROVIDER=antom needs ITINERA_ANTOM_CLIENT_ID, ITINERA_ANTOM_PRIVATE_KEY and ITINERA_ANTOM_PUBLIC_KEY"
    )]
    AntomSettingsMissing,
    #[error(
        "ITINERA_ANTOM_CLIENT_ID is not a sandbox id (SANDBOX_…): in sandbox mode Itinera never uses live credentials"
    )]
    AntomLiveClient,
    #[error(
        "ITINERA_ANTOM_CLIENT_ID is a sandbox id (SANDBOX_…): in live mode Itinera takes real payments, with the merchant's live client id"
    )]
    AntomSandboxClient,
    #[error(
        "ITINERA_PAYMENT_PROVIDER=wechat needs ITINERA_WECHAT_MCH_ID, ITINERA_WECHAT_APP_ID, ITINERA_WECHAT_PRIVATE_KEY, ITINERA_WECHAT_MERCHANT_SERIAL_NO, ITINERA_WECHAT_PUBLIC_KEY, ITINERA_WECHAT_PUBLIC_KEY_ID, ITINERA_WECHAT_API_V3_KEY and ITINERA_WEBHOOK_PUBLIC_URL (WeChat Pay must be told where to notify, over HTTPS)"
    )]
    WeChatSettingsMissing,
    #[error(
        "ITINERA_WECHAT_BASE_URL points at WeChat Pay itself, which has no sandbox: in sandbox mode Itinera takes no real money"
    )]
    WeChatLiveHost,
    #[error("ITINERA_WECHAT_PRIVATE_KEY or ITINERA_WECHAT_PUBLIC_KEY: {0}")]
    WeChatKey(#[from] crate::adapters::payments::wechat::KeyError),
    #[error(
        "ITINERA_WECHAT_API_V3_KEY must be the 32 characters set in the WeChat Pay merchant platform"
    )]
    WeChatApiV3Key,
    #[error("{0}")]
    AntomKey(#[from] crate::adapters::payments::antom::KeyError),
    #[error(
        "ITINERA_STRIPE_SECRET_KEY is not a test key (sk_test_… or rk_test_…): in sandbox mode Itinera never uses live keys"
    )]
    StripeLiveKey,
    #[error(
        "ITINERA_STRIPE_SECRET_KEY is not a live secret key (sk_live_… or rk_live_…): in live mode Itinera takes real payments"
    )]
    StripeTestKey,
    #[error(
        "ITINERA_DUFFEL_ACCESS_TOKEN is not a test token (duffel_test_…): in sandbox mode Itinera never uses live tokens"
    )]
    DuffelLiveToken,
    #[error(
        "ITINERA_DUFFEL_ACCESS_TOKEN is not a live token (duffel_live_…): in live mode a test token would book nothing real"
    )]
    DuffelTestToken,
    #[error(
        "Amadeus needs ITINERA_AMADEUS_CLIENT_ID, ITINERA_AMADEUS_CLIENT_SECRET, ITINERA_AMADEUS_AGENCY_EMAIL, ITINERA_AMADEUS_CARD_NUMBER, ITINERA_AMADEUS_CARD_EXPIRY and ITINERA_AMADEUS_CARD_HOLDER; missing: {0}"
    )]
    AmadeusSettingsMissing(String),
    #[error(transparent)]
    AgencyCard(#[from] crate::adapters::booking::agency_card::CardError),
    #[error(
        "Avis needs ITINERA_AVIS_CLIENT_ID, ITINERA_AVIS_CLIENT_SECRET, ITINERA_AVIS_CARD_NUMBER, ITINERA_AVIS_CARD_EXPIRY and ITINERA_AVIS_CARD_HOLDER; missing: {0}"
    )]
    AvisSettingsMissing(String),
    #[error("ITINERA_AVIS_BRAND must be Avis, Budget or Payless, not {0}")]
    AvisBrand(String),
    #[error(
        "in live mode ITINERA_AVIS_BASE_URL must be set: ABG publishes only its staging gateway, and gives the production address with production credentials"
    )]
    AvisLiveHost,
    #[error(
        "Booking.com needs ITINERA_BOOKINGCOM_API_KEY, ITINERA_BOOKINGCOM_AFFILIATE_ID, ITINERA_BOOKINGCOM_BOOKER_COUNTRY, ITINERA_BOOKINGCOM_CARD_NUMBER, ITINERA_BOOKINGCOM_CARD_EXPIRY, ITINERA_BOOKINGCOM_CARD_HOLDER and ITINERA_BOOKINGCOM_CARD_CVC; missing: {0}"
    )]
    BookingComSettingsMissing(String),
    #[error("ITINERA_BOOKINGCOM_AFFILIATE_ID must be the affiliate id Booking.com gave, a number")]
    BookingComAffiliateId,
    #[error(
        "ITINERA_BOOKINGCOM_BOOKER_COUNTRY must be the agency's country as two letters, e.g. nl"
    )]
    BookingComBookerCountry,
    #[error("the {platform} sign-in needs {needs}")]
    OAuthSettingsMissing {
        platform: &'static str,
        needs: &'static str,
    },
    #[error(
        "{variable} must be an https URL (plain http only on 127.0.0.1 or localhost): sign-in codes and tokens travel on it"
    )]
    OAuthUrl { variable: &'static str },
    #[error("{0}")]
    Notify(String),
    #[error("ITINERA_RISK_VELOCITY_WINDOW_MINUTES must be 1 to 10080 (a week), not {0}")]
    RiskWindow(u32),
    #[error(transparent)]
    Faults(#[from] crate::adapters::sandbox::faults::FaultSpecError),
}

/// Everything the app needs, resolved and validated.
#[derive(Debug, Clone)]
pub struct Config {
    /// Sandbox: test hosts and test money. Live: real bookings, real charges.
    pub mode: Mode,
    pub database_url: String,
    pub profile: String,
    /// The key that seals travellers' personal data in the store.
    pub master_key: KeySource,
    pub sandbox: SandboxSettings,
    pub approvals: ApprovalSettings,
    /// Testing only: pause forever after this many saga log writes (see `ITINERA_PAUSE_AT_STEP`).
    pub pause_at_step: Option<u32>,
    /// How often unsettled orders are resumed while serving.
    pub recovery_interval: std::time::Duration,
    /// How long a process's hold on an order lasts unless renewed: how soon another process
    /// sharing the store takes over the orders of one that died.
    pub lease_ttl: std::time::Duration,
    /// How long one provider may take to answer a search.
    pub search_deadline: std::time::Duration,
    /// How provider calls are retried.
    pub retry: RetryPolicy,
    /// The person's spending limits.
    pub policy: SpendingPolicy,
    /// When a payment goes back to the person for a fresh approval.
    pub risk: RiskRules,
    /// Where the approval page listens (loopback only).
    pub approval_page_addr: SocketAddr,
    /// Where out-of-band approval codes go.
    pub code_channel: Arc<dyn CodeChannel>,
    /// Who holds and charges the money, in the operator's order of preference; never empty.
    pub payments: Vec<PaymentSettings>,
    /// Duffel, when configured: it sells the flights instead of the sandbox.
    pub duffel: Option<DuffelSettings>,
    /// Amadeus, when configured: it sells the hotels instead of the sandbox.
    pub amadeus: Option<AmadeusSettings>,
    /// Avis, when configured: it sells cars (beside Duffel Cars, if set).
    pub avis: Option<AvisSettings>,
    /// Booking.com, when configured: it sells hotels (beside Amadeus or Duffel Stays, if set).
    pub booking_com: Option<BookingComSettings>,
    /// Viator, when configured: it sells the activities instead of the sandbox.
    pub viator: Option<ViatorSettings>,
    /// GetYourGuide, when configured: it sells activities too (beside Viator, if both are set).
    pub getyourguide: Option<GetYourGuideSettings>,
    /// The platforms the person signs in to (OAuth clients the operator set up).
    pub platform_logins: Vec<OAuthSettings>,
    /// Where order notices go besides MCP clients.
    pub notify: NotifyConfig,
}

impl Config {
    /// The default configuration with both databases and the key file in `dir`.
    pub fn in_dir(dir: &std::path::Path) -> Config {
        Config {
            mode: Mode::Sandbox,
            database_url: sqlite_url(&dir.join("itinera.db")),
            profile: "local".into(),
            master_key: KeySource::File(dir.join("master.key")),
            sandbox: SandboxSettings {
                ledger_url: sqlite_url(&dir.join("sandbox-ledger.db")),
                faults: Faults::none(),
                action_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
                fault_seed: 0,
            },
            approvals: ApprovalSettings {
                ttl: Duration::minutes(30),
                auto_approve_limit: None,
            },
            pause_at_step: None,
            recovery_interval: std::time::Duration::from_secs(60),
            lease_ttl: crate::leases::DEFAULT_LEASE,
            search_deadline: crate::planning::SEARCH_DEADLINE,
            retry: RetryPolicy::default(),
            policy: SpendingPolicy::default(),
            risk: RiskRules::default(),
            approval_page_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            code_channel: Arc::new(LogChannel),
            payments: vec![PaymentSettings::Sandbox],
            duffel: None,
            amadeus: None,
            booking_com: None,
            avis: None,
            viator: None,
            getyourguide: None,
            platform_logins: Vec::new(),
            notify: NotifyConfig::default(),
        }
    }

    pub fn from_settings(settings: &Settings) -> Result<Config, ConfigError> {
        let dir = match &settings.data_dir {
            Some(dir) => dir.clone(),
            None => dirs::data_dir()
                .ok_or(ConfigError::NoDataDir)?
                .join("itinera"),
        };
        let mut config = Config::in_dir(&dir);
        if let Some(url) = &settings.database_url {
            config.database_url = url.clone();
        }
        if let Some(url) = &settings.sandbox_ledger_url {
            config.sandbox.ledger_url = url.clone();
        }
        config.profile = settings.profile.clone();
        if let Some(key) = &settings.master_key {
            config.master_key =
                KeySource::Given(MasterKey::parse(key.expose()).map_err(ConfigError::MasterKey)?);
        }
        config.sandbox.faults = Faults::parse(&settings.sandbox_faults)?;
        config.sandbox.action_addr = settings.sandbox_action_addr;
        config.sandbox.fault_seed = settings.sandbox_fault_seed;
        config.approvals.auto_approve_limit = parse_limit(&settings.auto_approve_limit)?;
        if !(1..=1440).contains(&settings.approval_ttl_minutes) {
            return Err(ConfigError::ApprovalTtl(settings.approval_ttl_minutes));
        }
        config.approvals.ttl = Duration::minutes(i64::from(settings.approval_ttl_minutes));
        if settings.recovery_interval_seconds == 0 {
            return Err(ConfigError::RecoveryInterval);
        }
        config.recovery_interval =
            std::time::Duration::from_secs(settings.recovery_interval_seconds);
        if !(2..=600).contains(&settings.lease_seconds) {
            return Err(ConfigError::LeaseSeconds(settings.lease_seconds));
        }
        config.lease_ttl = std::time::Duration::from_secs(settings.lease_seconds);
        if !(100..=60_000).contains(&settings.search_deadline_ms) {
            return Err(ConfigError::SearchDeadline(settings.search_deadline_ms));
        }
        config.search_deadline = std::time::Duration::from_millis(settings.search_deadline_ms);
        config.pause_at_step = settings.pause_at_step;
        config.policy = settings.policy()?;
        config.risk = settings.risk()?;
        config.approval_page_addr = settings.approval_page_addr;
        config.payments = settings.payments()?;
        config.duffel = settings.duffel()?;
        config.amadeus = settings.amadeus()?;
        config.booking_com = settings.booking_com()?;
        config.avis = settings.avis()?;
        config.viator = settings.viator()?;
        config.getyourguide = settings.getyourguide()?;
        config.platform_logins = settings.platform_logins()?;
        config.notify = settings.notify()?;
        config.mode = settings.mode;
        if config.mode == Mode::Live {
            config.check_live()?;
        }
        Ok(config)
    }

    /// Live mode books and charges for real: only real providers, no sandbox in the way.
    fn check_live(&self) -> Result<(), ConfigError> {
        if self
            .payments
            .iter()
            .any(|payment| matches!(payment, PaymentSettings::Sandbox))
        {
            return Err(ConfigError::LiveSandboxPayments);
        }
        let sells_something = self.duffel.as_ref().is_some_and(|d| !d.products.is_empty())
            || self.amadeus.is_some()
            || self.booking_com.is_some()
            || self.avis.is_some()
            || self.viator.is_some()
            || self.getyourguide.is_some();
        if !sells_something {
            return Err(ConfigError::LiveWithoutProviders);
        }
        if self.sandbox.faults != Faults::none() {
            return Err(ConfigError::LiveFaults);
        }
        if self.pause_at_step.is_some() {
            return Err(ConfigError::LivePause);
        }
        Ok(())
    }
}

fn sqlite_url(path: &std::path::Path) -> String {
    format!("sqlite://{}", path.display())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    use crate::domain::money::{Currency, Money};
    use crate::domain::offer::ItemKind;

    #[test]
    fn auto_approve_limits_parse_either_way_round() {
        assert_eq!(parse_limit("0").unwrap(), None);
        assert_eq!(
            parse_limit("150 EUR").unwrap(),
            Some(Money::parse("150", "EUR").unwrap())
        );
        assert_eq!(
            parse_limit("EUR 150.50").unwrap(),
            Some(Money::parse("150.50", "EUR").unwrap())
        );
        assert!(parse_limit("150").is_err());
        assert!(parse_limit("150 XXX").is_err());
    }

    #[test]
    fn the_spending_policy_reads_every_rule() {
        let cli = Cli::parse_from([
            "itinera",
            "--policy-max-per-order",
            "1500 EUR",
            "--policy-max-per-day",
            "EUR 2000",
            "--policy-max-item",
            "hotel=300 EUR, flight=800 EUR",
            "--policy-providers",
            "sandbox,duffel",
            "--policy-currencies",
            "EUR,usd",
            "--policy-refundable-only",
        ]);
        let policy = cli.settings.policy().unwrap();
        assert_eq!(
            policy.max_per_order,
            Some(Money::parse("1500", "EUR").unwrap())
        );
        assert_eq!(
            policy.max_per_day,
            Some(Money::parse("2000", "EUR").unwrap())
        );
        assert_eq!(
            policy.max_per_item.get(&ItemKind::Flight),
            Some(&Money::parse("800", "EUR").unwrap())
        );
        assert_eq!(policy.providers.unwrap().len(), 2);
        assert!(
            policy
                .currencies
                .unwrap()
                .contains(&Currency::parse("USD").unwrap())
        );
        assert!(policy.refundable_only);

        let bad = Cli::parse_from(["itinera", "--policy-max-item", "boat=10 EUR"]);
        let error = Config::from_settings(&bad.settings)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("ITINERA_POLICY_MAX_ITEM") && error.contains("unknown kind 'boat'"),
            "{error}"
        );
    }

    /// The configuration the command line `itinera --data-dir /data <args>` gives.
    fn parse_args(args: &[&str]) -> Result<Config, ConfigError> {
        let mut all = vec!["itinera", "--data-dir", "/data"];
        all.extend_from_slice(args);
        Config::from_settings(&Cli::parse_from(all).settings)
    }

    #[test]
    fn amadeus_needs_every_setting_and_never_its_production_host() {
        assert!(parse_args(&[]).unwrap().amadeus.is_none());
        let complete = [
            "--amadeus-client-id",
            "key",
            "--amadeus-client-secret",
            "shh",
            "--amadeus-agency-email",
            "desk@agency.example",
            "--amadeus-card-number",
            "4111111111111111",
            "--amadeus-card-expiry",
            "2027-08",
            "--amadeus-card-holder",
            "AGENCY DESK",
        ];
        let amadeus = parse_args(&complete).unwrap().amadeus.unwrap();
        assert_eq!(amadeus.base_url, "https://test.api.amadeus.com");
        let shown = format!("{amadeus:?}");
        assert!(!shown.contains("shh") && !shown.contains("4111111111111111"));
        match parse_args(&complete[..4]) {
            Err(ConfigError::AmadeusSettingsMissing(missing)) => assert_eq!(
                missing,
                "ITINERA_AMADEUS_AGENCY_EMAIL, ITINERA_AMADEUS_CARD_NUMBER, ITINERA_AMADEUS_CARD_EXPIRY, ITINERA_AMADEUS_CARD_HOLDER"
            ),
            other => panic!("expected the missing settings named, got {other:?}"),
        }
        let mut live = complete.to_vec();
        live.extend(["--amadeus-base-url", "https://api.amadeus.com"]);
        assert!(matches!(
            parse_args(&live),
            Err(ConfigError::OtherModesHost {
                provider: "Amadeus",
                ..
            })
        ));
        let mut bad_card = complete.to_vec();
        bad_card[11] = "";
        assert!(matches!(
            parse_args(&bad_card),
            Err(ConfigError::AgencyCard(_))
        ));
    }

    #[test]
    fn avis_needs_its_card_a_known_brand_and_in_live_mode_an_address() {
        assert!(parse_args(&[]).unwrap().avis.is_none());
        let complete = [
            "--avis-client-id",
            "abg-client",
            "--avis-client-secret",
            "shh",
            "--avis-card-number",
            "4111111111111111",
            "--avis-card-expiry",
            "2027-08",
            "--avis-card-holder",
            "AGENCY DESK",
        ];
        let avis = parse_args(&complete).unwrap().avis.unwrap();
        assert_eq!(avis.base_url, "https://stage.abgapiservices.com");
        assert_eq!(avis.brand, "Avis");
        let shown = format!("{avis:?}");
        assert!(!shown.contains("shh") && !shown.contains("4111111111111111"));
        match parse_args(&complete[..4]) {
            Err(error @ ConfigError::AvisSettingsMissing(_)) => assert!(
                error.to_string().ends_with(
                    "missing: ITINERA_AVIS_CARD_NUMBER, ITINERA_AVIS_CARD_EXPIRY, ITINERA_AVIS_CARD_HOLDER"
                ),
                "{error}"
            ),
            other => panic!("expected the missing settings named, got {other:?}"),
        }
        let mut budget = complete.to_vec();
        budget.extend(["--avis-brand", "budget"]);
        assert_eq!(parse_args(&budget).unwrap().avis.unwrap().brand, "Budget");
        let mut hertz = complete.to_vec();
        hertz.extend(["--avis-brand", "Hertz"]);
        let error = parse_args(&hertz).unwrap_err().to_string();
        assert_eq!(
            error,
            "ITINERA_AVIS_BRAND must be Avis, Budget or Payless, not Hertz"
        );

        let mut production = complete.to_vec();
        production.extend(["--avis-base-url", "https://api.abgapiservices.com"]);
        assert!(
            matches!(
                parse_args(&production),
                Err(ConfigError::OtherModesHost {
                    provider: "Avis",
                    ..
                })
            ),
            "sandbox mode never charges the agency card at Avis's production gateway"
        );

        let mut live = vec!["--mode", "live", "--payment-provider", "stripe"];
        live.extend(["--stripe-secret-key", "sk_live_123"]);
        live.extend(complete);
        let error = parse_args(&live).unwrap_err().to_string();
        assert!(
            error.contains("ITINERA_AVIS_BASE_URL must be set"),
            "{error}"
        );
        live.extend(["--avis-base-url", "https://stage.abgapiservices.com"]);
        assert!(matches!(
            parse_args(&live),
            Err(ConfigError::OtherModesHost {
                provider: "Avis",
                ..
            })
        ));
        let last = live.len() - 1;
        live[last] = "https://partner.abgapiservices.example";
        let live = parse_args(&live).unwrap();
        assert_eq!(
            live.avis.unwrap().base_url,
            "https://partner.abgapiservices.example"
        );
    }

    #[test]
    fn booking_com_needs_every_setting_and_never_its_production_host() {
        assert!(parse_args(&[]).unwrap().booking_com.is_none());
        let complete = [
            "--bookingcom-api-key",
            "shh",
            "--bookingcom-affiliate-id",
            "956509",
            "--bookingcom-booker-country",
            "NL",
            "--bookingcom-card-number",
            "4111111111111111",
            "--bookingcom-card-expiry",
            "2027-08",
            "--bookingcom-card-holder",
            "AGENCY DESK",
            "--bookingcom-card-cvc",
            "123",
        ];
        let booking = parse_args(&complete).unwrap().booking_com.unwrap();
        assert_eq!(
            booking.base_url,
            "https://demandapi-sandbox.booking.com/3.1"
        );
        assert_eq!(booking.affiliate_id, 956509);
        assert_eq!(booking.booker_country, "nl");
        let shown = format!("{booking:?}");
        assert!(!shown.contains("shh") && !shown.contains("4111111111111111"));
        match parse_args(&complete[..4]) {
            Err(error @ ConfigError::BookingComSettingsMissing(_)) => assert!(
                error.to_string().ends_with(
                    "missing: ITINERA_BOOKINGCOM_BOOKER_COUNTRY, ITINERA_BOOKINGCOM_CARD_NUMBER, ITINERA_BOOKINGCOM_CARD_EXPIRY, ITINERA_BOOKINGCOM_CARD_HOLDER, ITINERA_BOOKINGCOM_CARD_CVC"
                ),
                "{error}"
            ),
            other => panic!("expected the missing settings named, got {other:?}"),
        }
        let mut live = complete.to_vec();
        live.extend(["--bookingcom-base-url", "https://demandapi.booking.com/3.1"]);
        match parse_args(&live) {
            Err(
                error @ ConfigError::OtherModesHost {
                    provider: "Booking.com",
                    ..
                },
            ) => {
                let said = error.to_string();
                assert!(
                    said.contains("ITINERA_BOOKINGCOM_BASE_URL")
                        && said.contains("https://demandapi-sandbox.booking.com/3.1"),
                    "{said}"
                );
            }
            other => panic!("the production host refused in sandbox mode, got {other:?}"),
        }
        let mut bad_affiliate = complete.to_vec();
        bad_affiliate[3] = "aff-1";
        let error = parse_args(&bad_affiliate).unwrap_err().to_string();
        assert!(error.contains("ITINERA_BOOKINGCOM_AFFILIATE_ID"), "{error}");
        let mut bad_cvc = complete.to_vec();
        bad_cvc[13] = "12";
        let error = parse_args(&bad_cvc).unwrap_err().to_string();
        assert!(error.starts_with("ITINERA_BOOKINGCOM_CARD_CVC "), "{error}");
    }

    #[test]
    fn duffel_takes_a_test_token_only_and_is_off_without_one() {
        use crate::adapters::booking::duffel::DuffelProduct;
        let parse = parse_args;
        assert!(parse(&[]).unwrap().duffel.is_none());
        let config = parse(&["--duffel-access-token", "duffel_test_abc"]).unwrap();
        let duffel = config.duffel.unwrap();
        assert_eq!(duffel.base_url, "https://api.duffel.com");
        assert_eq!(duffel.access_token, "duffel_test_abc");
        assert!(!format!("{duffel:?}").contains("duffel_test_abc"));
        assert_eq!(
            duffel.products,
            [DuffelProduct::Flights],
            "flights by default"
        );
        let both = parse(&[
            "--duffel-access-token",
            "duffel_test_abc",
            "--duffel-products",
            "flights,stays",
        ])
        .unwrap();
        assert_eq!(
            both.duffel.unwrap().products,
            [DuffelProduct::Flights, DuffelProduct::Stays]
        );
        assert_eq!(
            duffel.supplier_timeout,
            std::time::Duration::from_millis(6500)
        );
        let quick = parse(&[
            "--duffel-access-token",
            "duffel_test_abc",
            "--search-deadline-ms",
            "2000",
        ])
        .unwrap();
        assert_eq!(
            quick.duffel.unwrap().supplier_timeout,
            std::time::Duration::from_millis(1000),
            "never under a second"
        );
        assert!(matches!(
            parse(&["--duffel-access-token", "duffel_live_abc"]),
            Err(ConfigError::DuffelLiveToken)
        ));
    }

    #[test]
    fn viator_talks_to_its_sandbox_only_and_is_off_without_a_key() {
        let parse = |args: &[&str]| {
            let mut all = vec!["itinera", "--data-dir", "/data"];
            all.extend_from_slice(args);
            Config::from_settings(&Cli::parse_from(all).settings)
        };
        assert!(parse(&[]).unwrap().viator.is_none());
        let key = "bcac8986-4c33-4fa0-ad3f-75409487026c";
        let viator = parse(&["--viator-api-key", key]).unwrap().viator.unwrap();
        assert_eq!(viator.base_url, "https://api.sandbox.viator.com/partner");
        assert_eq!(viator.api_key, key);
        assert!(!format!("{viator:?}").contains(key));
        let fake = parse(&[
            "--viator-api-key",
            key,
            "--viator-base-url",
            "http://127.0.0.1:9999",
        ])
        .unwrap();
        assert_eq!(fake.viator.unwrap().base_url, "http://127.0.0.1:9999");
        for production in [
            "https://api.viator.com/partner",
            "https://API.viator.com/partner/",
        ] {
            let refused = parse(&["--viator-api-key", key, "--viator-base-url", production]);
            assert!(
                matches!(
                    &refused,
                    Err(error @ ConfigError::OtherModesHost { provider: "Viator", .. })
                        if error.to_string().contains("ITINERA_MODE=live is where bookings and money are real")
                ),
                "{production}: {refused:?}"
            );
        }
    }

    #[test]
    fn getyourguide_talks_to_its_testing_host_only_and_is_off_without_a_token() {
        let parse = |args: &[&str]| {
            let mut all = vec!["itinera", "--data-dir", "/data"];
            all.extend_from_slice(args);
            Config::from_settings(&Cli::parse_from(all).settings)
        };
        assert!(parse(&[]).unwrap().getyourguide.is_none());
        let token = "gyg-test-token-0123456789";
        let gyg = parse(&["--getyourguide-access-token", token])
            .unwrap()
            .getyourguide
            .unwrap();
        assert_eq!(gyg.base_url, "https://api.gygtest.net");
        assert_eq!(gyg.access_token, token);
        assert!(!format!("{gyg:?}").contains(token));
        let fake = parse(&[
            "--getyourguide-access-token",
            token,
            "--getyourguide-base-url",
            "http://127.0.0.1:9999",
        ])
        .unwrap();
        assert_eq!(fake.getyourguide.unwrap().base_url, "http://127.0.0.1:9999");
        for production in [
            "https://api.getyourguide.com",
            "https://API.GetYourGuide.com/1/",
        ] {
            let refused = parse(&[
                "--getyourguide-access-token",
                token,
                "--getyourguide-base-url",
                production,
            ]);
            assert!(
                matches!(
                    refused,
                    Err(ConfigError::OtherModesHost {
                        provider: "GetYourGuide",
                        ..
                    })
                ),
                "{production}"
            );
        }
    }

    #[test]
    fn payment_providers_take_test_credentials_and_never_live_ones_in_sandbox_mode() {
        let parse = parse_args;
        let config = parse(&[
            "--payment-provider",
            "stripe",
            "--stripe-secret-key",
            "sk_test_abc",
        ])
        .unwrap();
        assert!(matches!(
            config.payments.as_slice(),
            [PaymentSettings::Stripe { base_url, .. }] if base_url == "https://api.stripe.com"
        ));
        assert!(
            !format!("{config:?}").contains("sk_test_abc"),
            "Debug hides the key"
        );
        assert!(matches!(
            parse(&["--payment-provider", "stripe"]),
            Err(ConfigError::StripeKeyMissing)
        ));
        let live = parse(&[
            "--payment-provider",
            "stripe",
            "--stripe-secret-key",
            "sk_live_abc",
        ])
        .unwrap_err()
        .to_string();
        assert!(
            live.contains("never uses live keys") && !live.contains("sk_live_abc"),
            "{live}"
        );
        assert!(matches!(
            parse(&[]).unwrap().payments.as_slice(),
            [PaymentSettings::Sandbox]
        ));
        let several = parse(&[
            "--payment-provider",
            "stripe,sandbox,stripe",
            "--stripe-secret-key",
            "sk_test_abc",
        ])
        .unwrap();
        assert!(
            matches!(
                several.payments.as_slice(),
                [PaymentSettings::Stripe { .. }, PaymentSettings::Sandbox]
            ),
            "in the order given, each once: {:?}",
            several.payments
        );
    }

    #[test]
    fn wechat_pay_needs_every_setting_and_never_reaches_wechat_itself_in_sandbox_mode() {
        let private = include_str!("../../tests/fixtures/wechat/merchant-private.pem");
        let public = include_str!("../../tests/fixtures/wechat/platform-public.pem");
        // Joined to their flags: a PEM's leading dashes would read as another flag.
        let private_flag = format!("--wechat-private-key={private}");
        let public_flag = format!("--wechat-public-key={public}");
        let parse = |base_url: &str, public_url: Option<&str>| {
            let mut all = vec![
                "itinera",
                "--data-dir",
                "/data",
                "--payment-provider",
                "wechat",
                "--wechat-mch-id",
                "1900000109",
                "--wechat-app-id",
                "wxd678efh567hg6787",
                &private_flag,
                "--wechat-merchant-serial-no",
                "5157F09EFDC096DE15EBE81A47057A7232F1B8E1",
                &public_flag,
                "--wechat-public-key-id",
                "PUB_KEY_ID_0119000001092026112500112233000000",
                "--wechat-api-v3-key",
                "ItineraFakeWeChatPayApiV3Key0032",
                "--wechat-base-url",
                base_url,
            ];
            if let Some(url) = public_url {
                all.extend(["--webhook-public-url", url]);
            }
            Config::from_settings(&Cli::parse_from(all).settings)
        };
        let config = parse(
            "http://127.0.0.1:9",
            Some("https://pay.example.com/itinera/"),
        )
        .unwrap();
        assert!(matches!(
            config.payments.as_slice(),
            [PaymentSettings::WeChat { settings, .. }]
                if settings.notify_url == "https://pay.example.com/itinera/webhooks/wechat"
        ));
        assert!(!format!("{config:?}").contains("ItineraFakeWeChatPayApiV3Key0032"));
        assert!(matches!(
            parse("http://127.0.0.1:9", None),
            Err(ConfigError::WeChatSettingsMissing)
        ));
        for own in [
            "https://api.mch.weixin.qq.com",
            "https://api2.mch.weixin.qq.com",
            "https://api.wechatpay.cn",
            "https://API2.WECHATPAY.CN/",
            "not a url",
        ] {
            assert!(
                matches!(
                    parse(own, Some("https://pay.example.com")),
                    Err(ConfigError::WeChatLiveHost)
                ),
                "{own} is refused in sandbox mode"
            );
        }
    }

    #[test]
    fn the_master_key_comes_from_the_setting_or_else_the_data_dir() {
        let hex = "00".repeat(32);
        let given = Cli::parse_from(["itinera", "--data-dir", "/data", "--master-key", &hex]);
        let config = Config::from_settings(&given.settings).unwrap();
        assert!(
            matches!(&config.master_key, KeySource::Given(key) if *key == MasterKey::parse(&hex).unwrap())
        );
        assert!(
            !format!("{given:?}{config:?}").contains(&hex),
            "Debug never shows the key"
        );

        let default = Cli::parse_from(["itinera", "--data-dir", "/data"]);
        let config = Config::from_settings(&default.settings).unwrap();
        assert!(
            matches!(&config.master_key, KeySource::File(path) if path == std::path::Path::new("/data/master.key"))
        );

        let bad = Cli::parse_from(["itinera", "--master-key", "hunter2hunter2"]);
        let error = Config::from_settings(&bad.settings)
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("ITINERA_MASTER_KEY: a master key must be 64 hex digits")
                && !error.contains("hunter2"),
            "{error}"
        );
    }

    #[test]
    fn live_mode_needs_a_real_payment_provider_and_a_real_travel_provider() {
        let live = |args: &[&str]| {
            let mut all = vec!["--mode", "live"];
            all.extend_from_slice(args);
            parse_args(&all)
        };
        assert!(matches!(live(&[]), Err(ConfigError::LiveSandboxPayments)));
        let stripe = [
            "--payment-provider",
            "stripe",
            "--stripe-secret-key",
            "sk_live_abc",
        ];
        assert!(matches!(
            live(&stripe),
            Err(ConfigError::LiveWithoutProviders)
        ));
        let mut stripe_first = stripe.to_vec();
        stripe_first[1] = "stripe,sandbox";
        stripe_first.extend(["--duffel-access-token", "duffel_live_abc"]);
        assert!(
            matches!(live(&stripe_first), Err(ConfigError::LiveSandboxPayments)),
            "the sandbox is no fallback for real money"
        );
        let mut complete = stripe.to_vec();
        complete.extend(["--duffel-access-token", "duffel_live_abc"]);
        let config = live(&complete).unwrap();
        assert_eq!(config.mode, Mode::Live);
        assert!(config.duffel.is_some());
        let mut faulty = complete.clone();
        faulty.extend(["--sandbox-faults", "hotel.book=fail"]);
        assert!(matches!(live(&faulty), Err(ConfigError::LiveFaults)));
        let mut paused = complete.clone();
        paused.extend(["--pause-at-step", "3"]);
        assert!(matches!(live(&paused), Err(ConfigError::LivePause)));
    }

    #[test]
    fn live_mode_takes_live_credentials_and_production_hosts_only() {
        let live = |args: &[&str]| {
            let mut all = vec!["--mode", "live", "--payment-provider", "stripe"];
            all.extend_from_slice(args);
            parse_args(&all)
        };
        let stripe_live = ["--stripe-secret-key", "rk_live_abc"];
        let error = live(
            &[
                &stripe_live[..],
                &["--duffel-access-token", "duffel_test_abc"],
            ]
            .concat(),
        )
        .unwrap_err();
        assert!(matches!(error, ConfigError::DuffelTestToken), "{error}");
        for not_live in ["sk_test_abc", "pk_live_abc", " sk_live_abc"] {
            let error = live(&[
                "--stripe-secret-key",
                not_live,
                "--duffel-access-token",
                "duffel_live_abc",
            ])
            .unwrap_err();
            assert!(
                matches!(error, ConfigError::StripeTestKey),
                "{not_live}: {error}"
            );
        }

        let viator = live(&[&stripe_live[..], &["--viator-api-key", "k"]].concat()).unwrap();
        assert_eq!(
            viator.viator.unwrap().base_url,
            "https://api.viator.com/partner",
            "live mode's default is the production API"
        );
        let gyg =
            live(&[&stripe_live[..], &["--getyourguide-access-token", "t"]].concat()).unwrap();
        assert_eq!(
            gyg.getyourguide.unwrap().base_url,
            "https://api.getyourguide.com"
        );
        let refused = live(
            &[
                &stripe_live[..],
                &[
                    "--viator-api-key",
                    "k",
                    "--viator-base-url",
                    "https://api.sandbox.viator.com/partner",
                ],
            ]
            .concat(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            refused.contains("Viator's test host")
                && refused.contains("nothing booked at a test host is real"),
            "{refused}"
        );
        let paypal = parse_args(&[
            "--mode",
            "live",
            "--payment-provider",
            "paypal",
            "--paypal-client-id",
            "live-app",
            "--paypal-client-secret",
            "s",
            "--viator-api-key",
            "k",
        ])
        .unwrap();
        assert!(matches!(
            &paypal.payments[0],
            PaymentSettings::PayPal { base_url, .. } if base_url == "https://api-m.paypal.com"
        ));
    }
}
