//! The command line: every setting has a flag and an `ITINERA_*` variable, read by clap.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use super::providers::PaymentProviderName;
use crate::adapters::booking::duffel::DuffelProduct;

const AFTER_HELP: &str = "\
Environment variables (each also has the flag shown above):
  ITINERA_DATABASE_URL           order store: sqlite:///home/me/itinera.db, or postgres://user@host/db for a server
                                 several instances share (default: itinera.db in the data dir)
  ITINERA_DATA_DIR               where the default databases and the key file live (default: the user's data dir + /itinera)
  ITINERA_PROFILE                whose plans and orders a stdio session sees (default: local)
  ITINERA_MASTER_KEY             key that encrypts travellers' personal data: 64 hex digits or base64 of 32 bytes
                                 (default: the key file master.key in the data dir, created on first run)
  ITINERA_NEW_MASTER_KEY         only for `itinera keys rotate` with ITINERA_MASTER_KEY: the key to move to
  ITINERA_MODE                   sandbox (default: built-in providers, test hosts, test credentials, no real money) or
                                 live (production hosts, live credentials, a real payment provider; real bookings and charges)
  ITINERA_SANDBOX_LEDGER_URL     the sandbox providers' own ledger (default: sandbox-ledger.db in the data dir)
  ITINERA_SANDBOX_FAULTS         injected faults, e.g. hotel.book=fail,flight.book=lost@20%,*.latency=200ms,hotel.quote=price+15%
  ITINERA_SANDBOX_FAULT_SEED     seed of the rolls for faults given with a chance, e.g. hotel.book=lost@20% (default: 0)
  ITINERA_SANDBOX_ACTION_ADDR    address of the sandbox 3-D Secure page (default: 127.0.0.1:0, a free port)
  ITINERA_AUTO_APPROVE_LIMIT     approve plans up to this total without asking, e.g. \"150 EUR\" (default: 0, never)
  ITINERA_APPROVAL_TTL_MINUTES   how long an approval stays valid (default: 30)
  ITINERA_APPROVAL_PAGE_ADDR     loopback address of the approval page (default: 127.0.0.1:0, a free port)
  ITINERA_PAYMENT_PROVIDER       who takes payments, in order of preference: sandbox (default), stripe, paypal, antom, wechat (comma-separated)
  ITINERA_STRIPE_SECRET_KEY      Stripe secret key: sk_test_… or rk_test_… in sandbox mode, sk_live_… or rk_live_… in live mode
  ITINERA_STRIPE_BASE_URL        Stripe's API address (default: https://api.stripe.com)
  ITINERA_STRIPE_WEBHOOK_SECRET  Stripe webhook signing secret (whsec_…) for `itinera webhooks`
  ITINERA_DUFFEL_ACCESS_TOKEN    Duffel access token (duffel_test_… in sandbox mode, duffel_live_… in live mode): flights are searched and booked at Duffel
  ITINERA_DUFFEL_BASE_URL        Duffel's API address (default: https://api.duffel.com)
  ITINERA_DUFFEL_PRODUCTS        what Duffel sells: flights, stays, cars (comma-separated; default: flights)
  ITINERA_AMADEUS_CLIENT_ID      Amadeus Self-Service API key: set with the rest below, hotels are searched and booked at Amadeus
  ITINERA_AMADEUS_CLIENT_SECRET  Amadeus API secret
  ITINERA_AMADEUS_BASE_URL       Amadeus's API address (default: https://test.api.amadeus.com in sandbox mode, https://api.amadeus.com in live mode;
                                 each mode refuses the other's host)
  ITINERA_AMADEUS_AGENCY_EMAIL   the travel agent's e-mail Amadeus requires on every hotel order
  ITINERA_AMADEUS_CARD_NUMBER    the agency's card that guarantees Amadeus hotel orders (a test card in sandbox mode)
  ITINERA_AMADEUS_CARD_EXPIRY    its expiry, YYYY-MM
  ITINERA_AMADEUS_CARD_HOLDER    the name on it
  ITINERA_AMADEUS_CARD_CVC       its security code (optional, recommended)
  ITINERA_AVIS_CLIENT_ID         Avis Budget Group client id: set with the rest below, cars are searched and booked at Avis (prepaid rates)
  ITINERA_AVIS_CLIENT_SECRET     its client secret
  ITINERA_AVIS_BASE_URL          ABG's API address (default: https://stage.abgapiservices.com in sandbox mode; required in live mode,
                                 where ABG gives the production address with the production credentials)
  ITINERA_AVIS_BRAND             Avis, Budget or Payless (default: Avis)
  ITINERA_AVIS_CARD_NUMBER       the agency's card Avis charges for prepaid rentals (a test card in sandbox mode)
  ITINERA_AVIS_CARD_EXPIRY       its expiry, YYYY-MM
  ITINERA_AVIS_CARD_HOLDER       the name on it
  ITINERA_BOOKINGCOM_API_KEY      Booking.com Demand API key: set with the rest below, hotels are searched and booked at Booking.com
  ITINERA_BOOKINGCOM_AFFILIATE_ID  the affiliate id the key belongs to (a number, sent as X-Affiliate-Id)
  ITINERA_BOOKINGCOM_BASE_URL    Booking.com's API address (default: https://demandapi-sandbox.booking.com/3.1 in sandbox mode, https://demandapi.booking.com/3.1 in live mode)
  ITINERA_BOOKINGCOM_BOOKER_COUNTRY  the agency's country, two letters (e.g. nl): the market Booking.com prices for, and the booker's address country
  ITINERA_BOOKINGCOM_CARD_NUMBER the agency's card Booking.com charges for stays paid online when booked (a test card in sandbox mode)
  ITINERA_BOOKINGCOM_CARD_EXPIRY its expiry, YYYY-MM
  ITINERA_BOOKINGCOM_CARD_HOLDER the name on it
  ITINERA_BOOKINGCOM_CARD_CVC    its security code (Booking.com requires it)
  ITINERA_BOOKINGCOM_OAUTH_CLIENT_ID      Itinera's OAuth client for Booking.com account sign-in: set with the two URLs below,
                                 plans with Booking.com hotels need the person signed in (login_to_platform)
  ITINERA_BOOKINGCOM_OAUTH_AUTHORIZE_URL  its authorization endpoint (https, or http on loopback)
  ITINERA_BOOKINGCOM_OAUTH_TOKEN_URL      its token endpoint (https, or http on loopback)
  ITINERA_BOOKINGCOM_OAUTH_REVOKE_URL     its revocation endpoint, optional (RFC 7009)
  ITINERA_BOOKINGCOM_OAUTH_CLIENT_SECRET  the client's secret, for a confidential client (optional)
  ITINERA_BOOKINGCOM_OAUTH_SCOPES         scopes asked for, space-separated (default: reservations)
  ITINERA_VIATOR_API_KEY         Viator Partner API key (exp-api-key): activities are searched and booked at Viator
  ITINERA_VIATOR_BASE_URL        Viator's API address (default: https://api.sandbox.viator.com/partner in sandbox mode,
                                 https://api.viator.com/partner in live mode; each mode refuses the other's host)
  ITINERA_GETYOURGUIDE_ACCESS_TOKEN  GetYourGuide Partner API token (X-ACCESS-TOKEN, BOOKING access and MasterBill): activities are searched and booked at GetYourGuide
  ITINERA_GETYOURGUIDE_BASE_URL  GetYourGuide's API address (default: https://api.gygtest.net in sandbox mode, https://api.getyourguide.com in live mode;
                                 each mode refuses the other's host)
  ITINERA_PAYPAL_WEBHOOK_ID      the id PayPal gave the webhook endpoint, for `itinera webhooks`
  ITINERA_WEBHOOK_PUBLIC_URL     public address of `itinera webhooks`, told to providers that ask (Antom; required for WeChat Pay)
  ITINERA_ANTOM_CLIENT_ID        Antom merchant client id (SANDBOX_… in sandbox mode, the live id in live mode)
  ITINERA_ANTOM_PRIVATE_KEY      the merchant's RSA private key for Antom (PKCS#8, PEM or base64)
  ITINERA_ANTOM_PUBLIC_KEY       Antom's RSA public key, to verify its answers (PEM or base64)
  ITINERA_ANTOM_BASE_URL         Antom's gateway (default: https://open-sea-global.alipay.com)
  ITINERA_WECHAT_MCH_ID          WeChat Pay merchant number (mchid)
  ITINERA_WECHAT_APP_ID          the app id (appid) bound to the merchant
  ITINERA_WECHAT_PRIVATE_KEY     the merchant API private key (apiclient_key.pem; PKCS#8, PEM or base64)
  ITINERA_WECHAT_MERCHANT_SERIAL_NO  the serial number of the merchant API certificate
  ITINERA_WECHAT_PUBLIC_KEY      WeChat Pay's public key (pub_key.pem), to verify its answers and notifications
  ITINERA_WECHAT_PUBLIC_KEY_ID   its id, PUB_KEY_ID_…
  ITINERA_WECHAT_API_V3_KEY      the 32-character APIv3 key that decrypts notifications
  ITINERA_WECHAT_BASE_URL        WeChat Pay's API address (default: https://api.mch.weixin.qq.com, live mode only: it has no sandbox)
  ITINERA_PAYPAL_CLIENT_ID       PayPal REST app client id (a sandbox app's in sandbox mode, a live app's in live mode)
  ITINERA_PAYPAL_CLIENT_SECRET   PayPal REST app secret
  ITINERA_PAYPAL_BASE_URL        PayPal's API address (default: https://api-m.sandbox.paypal.com in sandbox mode, https://api-m.paypal.com
                                 in live mode; each mode refuses the other's host)
  ITINERA_RISK_VELOCITY_MAX_ORDERS   this many orders within the window asks the person again (default: 10; 0 off)
  ITINERA_RISK_VELOCITY_WINDOW_MINUTES  the velocity window (default: 60)
  ITINERA_RISK_UNUSUAL_MULTIPLE  a total above this multiple of the largest paid order asks again (default: 5; 0 off)
  ITINERA_RISK_NEW_METHOD_AMOUNTS  a new payment method at or above these asks again (default: \"500 EUR,500 USD,400 GBP,500 CHF,3500 CNY,75000 JPY\"; off)
  ITINERA_POLICY_MAX_PER_ORDER   spending policy: the most one order may cost, e.g. \"1500 EUR\"
  ITINERA_POLICY_MAX_PER_DAY     spending policy: the most the last 24 hours of orders may cost
  ITINERA_POLICY_MAX_PER_30_DAYS spending policy: the most the last 30 days of orders may cost
  ITINERA_POLICY_MAX_ITEM        spending policy: per-kind item caps, e.g. \"hotel=300 EUR,flight=800 EUR\"
  ITINERA_POLICY_PROVIDERS       spending policy: the only providers allowed, e.g. sandbox
  ITINERA_POLICY_CURRENCIES      spending policy: the only currencies allowed, e.g. EUR,USD
  ITINERA_POLICY_REFUNDABLE_ONLY spending policy: true to allow refundable items only
  ITINERA_RECOVERY_INTERVAL_SECONDS  seconds between passes that resume unsettled orders (default: 60)
  ITINERA_LEASE_SECONDS          seconds a process's hold on an order lasts unless renewed: how soon another instance on the
                                 same database takes over the orders of one that died (default: 30)
  ITINERA_SEARCH_DEADLINE_MS     how long one provider may take to answer a search before results are shown without it (default: 8000)
  ITINERA_PAUSE_AT_STEP          testing only: pause forever after the Nth saga log write (crash tests)
  ITINERA_HTTP_TOKENS            `serve --http`: static bearer tokens, user:token,user:token (tokens of 24+ random characters)
  ITINERA_HTTP_PUBLIC_URL        `serve --http`: the address people reach it at, e.g. https://itinera.example.com
                                 (default: http://ADDR); the MCP endpoint is this + /mcp
  ITINERA_HTTP_ALLOWED_HOSTS     `serve --http`: more Host values accepted besides loopback and the public address (comma-separated)
  ITINERA_METRICS_TOKEN          `serve --http`: the bearer token Prometheus sends to read /metrics (24+ characters; /metrics is off without it)
  ITINERA_JWT_JWKS_URL           `serve --http`: the authorization server's JWKS: JWT access tokens signed by its keys are accepted
  ITINERA_JWT_ISSUER             the `iss` those tokens must carry (required with ITINERA_JWT_JWKS_URL)
  ITINERA_JWT_AUDIENCE           the `aud` they must carry (default: the public address + /mcp)
  ITINERA_NOTIFY_WEBHOOK_URLS    webhook subscribers told of every order status change, comma-separated https:// URLs
  ITINERA_NOTIFY_WEBHOOK_SECRET  the secret they are signed with (Itinera-Signature: t=…,v1=HMAC-SHA256; 32+ characters)
  ITINERA_SMTP_URL               mail server for the travellers' e-mails: smtps://user:password@host (TLS) or
                                 smtp://user:password@host:587?tls=required (STARTTLS); plain smtp:// only on loopback
  ITINERA_EMAIL_FROM             the sender of those e-mails, e.g. \"Itinera <trips@example.com>\"
  ITINERA_NOTIFY_POLL_MS         how often the outbox is read for notices other instances wrote (default: 1000)
  ITINERA_NOTIFY_BACKOFF_MS      wait before a failed delivery is tried again, doubling each time up to an hour (default: 10000)
  ITINERA_NOTIFY_MAX_ATTEMPTS    attempts before a delivery is listed as dead (default: 10)
  RUST_LOG                       log filter for stderr, e.g. info or itinera=debug (default: info)

Logs go to stderr; stdout carries only the MCP protocol.";

/// Itinera: an MCP server that books and pays for a trip a person approved.
#[derive(Debug, Parser)]
#[command(name = "itinera", version, about, after_help = AFTER_HELP)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub settings: Settings,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve MCP over stdin/stdout (what running with no subcommand does), or with --http over
    /// Streamable HTTP for several people, each request acting for its bearer token's user.
    Serve {
        /// Serve MCP over HTTP on ADDR (e.g. 127.0.0.1:8080) at /mcp instead of stdio; needs
        /// ITINERA_HTTP_TOKENS or ITINERA_JWT_JWKS_URL (see below).
        #[arg(long, value_name = "ADDR")]
        http: Option<SocketAddr>,
    },
    /// List the orders that need a person (a cancellation, release or refund a provider refused,
    /// or a call still unanswered), each with what to do; exits 1 when there are any.
    Doctor {
        /// Calls unanswered for longer than this many minutes are reported.
        #[arg(long, default_value_t = 10)]
        stale_after_minutes: u32,
    },
    /// Receive payment providers' webhooks (Stripe, PayPal, Antom) on ADDR at /webhooks/{provider}:
    /// verified events move their orders on at once.
    Webhooks {
        /// Address to listen on, e.g. 127.0.0.1:8787 (behind a tunnel or proxy for the provider).
        #[arg(long)]
        listen: SocketAddr,
    },
    /// Work with the tamper-evident audit log.
    Audit {
        #[command(subcommand)]
        action: AuditCommand,
    },
    /// Order notices to webhook subscribers and e-mail: list the dead ones (given up on after
    /// the last attempt), or queue them again.
    Notifications {
        #[command(subcommand)]
        action: NotificationsCommand,
    },
    /// Booking metrics of every person's orders created in a recent window: success rates,
    /// times, abandonment, retries, volume, revenue, and calls per provider.
    Report {
        /// Orders created in the last this many days.
        #[arg(long, default_value_t = 30)]
        days: u32,
        #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
        format: ReportFormat,
    },
    /// Work with the master key that seals personal data and platform tokens.
    Keys {
        #[command(subcommand)]
        action: KeysCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Re-encrypt every sealed record (travellers, platform tokens) under a new master key, then
    /// make it the key in use. With a key file, the new key is generated and the old one kept as
    /// master.key.<id>.retired; with ITINERA_MASTER_KEY, give the new key in
    /// ITINERA_NEW_MASTER_KEY. Stop the server first.
    Rotate,
}

#[derive(Debug, Subcommand)]
pub enum NotificationsCommand {
    /// List deliveries in a state (default: dead, the dead-letter list), most recent first;
    /// exits 1 when any is dead.
    List {
        #[arg(long, value_enum, default_value_t = DeliveryFilter::Dead)]
        state: DeliveryFilter,
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Queue dead deliveries again with a fresh count of attempts: one notice's (--notice) or
    /// every one (--all). A running server sends them at its next pass.
    Retry {
        /// The notice id, evt_…
        #[arg(long, conflicts_with = "all", required_unless_present = "all")]
        notice: Option<String>,
        #[arg(long)]
        all: bool,
    },
}

/// How `itinera report` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Table,
    Json,
}

/// Which deliveries to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DeliveryFilter {
    Dead,
    Pending,
    Delivered,
    Skipped,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the whole hash chain; exits 1 and names the first broken entry if any was edited,
    /// inserted or deleted.
    Verify,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    /// Built-in sandbox providers and providers' test hosts: no real money.
    Sandbox,
    /// Real providers at their production hosts with live credentials: real bookings, real
    /// charges.
    Live,
}

impl Mode {
    /// What the mode means for the person, as `itinera doctor` and the log show it.
    pub fn describe(self) -> &'static str {
        match self {
            Mode::Sandbox => {
                "sandbox (built-in providers and providers' test hosts: no real money)"
            }
            Mode::Live => "live (production hosts: bookings are real and cards are charged)",
        }
    }

    /// The other mode's kind of host, this mode's, and why the other is refused.
    pub fn hosts(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Mode::Sandbox => (
                "production API",
                "test host",
                "ITINERA_MODE=live is where bookings and money are real",
            ),
            Mode::Live => (
                "test host",
                "production API",
                "nothing booked at a test host is real",
            ),
        }
    }
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Mode::Sandbox => "sandbox",
            Mode::Live => "live",
        })
    }
}

#[derive(Debug, Clone, clap::Args)]
pub struct Settings {
    /// Order store URL: sqlite://… (a file) or postgres://… (a shared server).
    /// (A PostgreSQL URL may carry a password: the variable's value is never shown.)
    #[arg(
        long,
        env = "ITINERA_DATABASE_URL",
        hide_env_values = true,
        global = true
    )]
    pub database_url: Option<String>,
    /// Folder of the default databases.
    #[arg(long, env = "ITINERA_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// Whose plans and orders this session sees.
    #[arg(long, env = "ITINERA_PROFILE", default_value = "local", global = true)]
    pub profile: String,
    /// Key that encrypts travellers' personal data (prefer the variable: a flag shows in the
    /// process list).
    #[arg(
        long,
        env = "ITINERA_MASTER_KEY",
        hide_env_values = true,
        global = true
    )]
    pub master_key: Option<Secret>,
    /// The key `itinera keys rotate` moves to when the key is ITINERA_MASTER_KEY (prefer the
    /// variable).
    #[arg(
        long,
        env = "ITINERA_NEW_MASTER_KEY",
        hide_env_values = true,
        global = true
    )]
    pub new_master_key: Option<Secret>,
    #[arg(
        long,
        env = "ITINERA_MODE",
        value_enum,
        default_value = "sandbox",
        global = true
    )]
    pub mode: Mode,
    /// The sandbox providers' ledger URL (SQLite).
    #[arg(long, env = "ITINERA_SANDBOX_LEDGER_URL", global = true)]
    pub sandbox_ledger_url: Option<String>,
    /// Faults the sandbox injects (see below).
    #[arg(
        long,
        env = "ITINERA_SANDBOX_FAULTS",
        default_value = "",
        global = true
    )]
    pub sandbox_faults: String,
    /// Address of the sandbox 3-D Secure page.
    #[arg(
        long,
        env = "ITINERA_SANDBOX_ACTION_ADDR",
        default_value = "127.0.0.1:0",
        global = true
    )]
    pub sandbox_action_addr: SocketAddr,
    /// Approve totals up to this amount without asking, e.g. "150 EUR"; 0 never.
    #[arg(
        long,
        env = "ITINERA_AUTO_APPROVE_LIMIT",
        default_value = "0",
        global = true
    )]
    pub auto_approve_limit: String,
    /// Minutes an approval stays valid.
    #[arg(
        long,
        env = "ITINERA_APPROVAL_TTL_MINUTES",
        default_value_t = 30,
        global = true
    )]
    pub approval_ttl_minutes: u32,
    /// Which payment providers take payments, in the operator's order of preference, comma-
    /// separated: the built-in sandbox, Stripe, PayPal, Antom (Alipay+), WeChat Pay. The router chooses
    /// among them for each plan and fails over down the list.
    #[arg(
        long,
        env = "ITINERA_PAYMENT_PROVIDER",
        value_enum,
        value_delimiter = ',',
        default_value = "sandbox",
        global = true
    )]
    pub payment_provider: Vec<PaymentProviderName>,
    /// Stripe secret key (sk_test_… or rk_test_… in sandbox mode). Prefer the variable: a flag
    /// shows in the process list.
    #[arg(long, env = "ITINERA_STRIPE_SECRET_KEY", global = true)]
    pub stripe_secret_key: Option<Secret>,
    /// Stripe's API address; tests point it at a local fake.
    #[arg(
        long,
        env = "ITINERA_STRIPE_BASE_URL",
        default_value = "https://api.stripe.com",
        global = true
    )]
    pub stripe_base_url: String,
    /// Stripe webhook endpoint secret (`whsec_…`), for `itinera webhooks`.
    #[arg(long, env = "ITINERA_STRIPE_WEBHOOK_SECRET", global = true)]
    pub stripe_webhook_secret: Option<Secret>,
    /// The id PayPal gave Itinera's webhook endpoint, for `itinera webhooks`.
    #[arg(long, env = "ITINERA_PAYPAL_WEBHOOK_ID", global = true)]
    pub paypal_webhook_id: Option<String>,
    /// The public address of `itinera webhooks` (behind a tunnel or proxy), e.g.
    /// https://pay.example.com/itinera: providers that are told where to notify get it.
    #[arg(long, env = "ITINERA_WEBHOOK_PUBLIC_URL", global = true)]
    pub webhook_public_url: Option<String>,
    /// Antom merchant client id; in sandbox mode a SANDBOX_… id.
    #[arg(long, env = "ITINERA_ANTOM_CLIENT_ID", global = true)]
    pub antom_client_id: Option<String>,
    /// The merchant's RSA private key for Antom (PKCS#8, PEM or base64). Prefer the variable.
    #[arg(long, env = "ITINERA_ANTOM_PRIVATE_KEY", global = true)]
    pub antom_private_key: Option<Secret>,
    /// Antom's RSA public key (PEM or base64), to verify its answers.
    #[arg(long, env = "ITINERA_ANTOM_PUBLIC_KEY", global = true)]
    pub antom_public_key: Option<String>,
    /// Antom's gateway; tests point it at a local fake.
    #[arg(
        long,
        env = "ITINERA_ANTOM_BASE_URL",
        default_value = "https://open-sea-global.alipay.com",
        global = true
    )]
    pub antom_base_url: String,
    /// WeChat Pay merchant number (`mchid`).
    #[arg(long, env = "ITINERA_WECHAT_MCH_ID", global = true)]
    pub wechat_mch_id: Option<String>,
    /// The app id (`appid`) bound to the WeChat Pay merchant.
    #[arg(long, env = "ITINERA_WECHAT_APP_ID", global = true)]
    pub wechat_app_id: Option<String>,
    /// The merchant API private key (PKCS#8, PEM or base64). Prefer the variable.
    #[arg(long, env = "ITINERA_WECHAT_PRIVATE_KEY", global = true)]
    pub wechat_private_key: Option<Secret>,
    /// The serial number of the merchant API certificate, sent with every signature.
    #[arg(long, env = "ITINERA_WECHAT_MERCHANT_SERIAL_NO", global = true)]
    pub wechat_merchant_serial_no: Option<String>,
    /// WeChat Pay's public key (PEM or base64), to verify its answers and notifications.
    #[arg(long, env = "ITINERA_WECHAT_PUBLIC_KEY", global = true)]
    pub wechat_public_key: Option<String>,
    /// The id of WeChat Pay's public key, `PUB_KEY_ID_…`.
    #[arg(long, env = "ITINERA_WECHAT_PUBLIC_KEY_ID", global = true)]
    pub wechat_public_key_id: Option<String>,
    /// The APIv3 key (32 characters) that decrypts WeChat Pay's notifications. Prefer the variable.
    #[arg(long, env = "ITINERA_WECHAT_API_V3_KEY", global = true)]
    pub wechat_api_v3_key: Option<Secret>,
    /// WeChat Pay's API address; it has no sandbox, so sandbox mode takes only another address
    /// (a local fake in tests).
    #[arg(
        long,
        env = "ITINERA_WECHAT_BASE_URL",
        default_value = "https://api.mch.weixin.qq.com",
        global = true
    )]
    pub wechat_base_url: String,
    /// Duffel access token; set, flights are searched and booked at Duffel instead of the
    /// sandbox. In sandbox mode a test token (`duffel_test_…`). Prefer the variable.
    #[arg(long, env = "ITINERA_DUFFEL_ACCESS_TOKEN", global = true)]
    pub duffel_access_token: Option<Secret>,
    /// Duffel's API address; tests point it at a local fake.
    #[arg(
        long,
        env = "ITINERA_DUFFEL_BASE_URL",
        default_value = "https://api.duffel.com",
        global = true
    )]
    pub duffel_base_url: String,
    /// What Itinera sells through Duffel: `flights`, `stays`, `cars` (Duffel Stays and Cars must
    /// be enabled on the account), comma-separated.
    #[arg(
        long,
        env = "ITINERA_DUFFEL_PRODUCTS",
        value_delimiter = ',',
        default_value = "flights",
        global = true
    )]
    pub duffel_products: Vec<DuffelProduct>,
    /// Amadeus Self-Service API key; with the secret, agency e-mail and card set, hotels are
    /// searched and booked at Amadeus instead of the sandbox.
    #[arg(long, env = "ITINERA_AMADEUS_CLIENT_ID", global = true)]
    pub amadeus_client_id: Option<String>,
    /// Amadeus API secret. Prefer the variable: a flag shows in the process list.
    #[arg(long, env = "ITINERA_AMADEUS_CLIENT_SECRET", global = true)]
    pub amadeus_client_secret: Option<Secret>,
    /// Amadeus's API address (default: its test host in sandbox mode, production in live mode).
    #[arg(long, env = "ITINERA_AMADEUS_BASE_URL", global = true)]
    pub amadeus_base_url: Option<String>,
    /// The travel agent's e-mail, which Amadeus requires on every hotel order.
    #[arg(long, env = "ITINERA_AMADEUS_AGENCY_EMAIL", global = true)]
    pub amadeus_agency_email: Option<String>,
    /// The agency's card number that guarantees Amadeus hotel orders. Prefer the variable.
    #[arg(long, env = "ITINERA_AMADEUS_CARD_NUMBER", global = true)]
    pub amadeus_card_number: Option<Secret>,
    /// The card's expiry, YYYY-MM.
    #[arg(long, env = "ITINERA_AMADEUS_CARD_EXPIRY", global = true)]
    pub amadeus_card_expiry: Option<String>,
    /// The name on the card.
    #[arg(long, env = "ITINERA_AMADEUS_CARD_HOLDER", global = true)]
    pub amadeus_card_holder: Option<String>,
    /// The card's security code. Prefer the variable.
    #[arg(long, env = "ITINERA_AMADEUS_CARD_CVC", global = true)]
    pub amadeus_card_cvc: Option<Secret>,
    /// Avis Budget Group client id; with the secret and card set, cars are searched and booked
    /// at Avis (prepaid rates only).
    #[arg(long, env = "ITINERA_AVIS_CLIENT_ID", global = true)]
    pub avis_client_id: Option<String>,
    /// Avis client secret. Prefer the variable: a flag shows in the process list.
    #[arg(long, env = "ITINERA_AVIS_CLIENT_SECRET", global = true)]
    pub avis_client_secret: Option<Secret>,
    /// ABG's API address (default: its staging gateway in sandbox mode; in live mode, the
    /// production address ABG gives with production credentials must be set).
    #[arg(long, env = "ITINERA_AVIS_BASE_URL", global = true)]
    pub avis_base_url: Option<String>,
    /// The brand searched and booked: Avis, Budget or Payless.
    #[arg(
        long,
        env = "ITINERA_AVIS_BRAND",
        default_value = "Avis",
        global = true
    )]
    pub avis_brand: String,
    /// The agency's card Avis charges for prepaid rentals. Prefer the variable.
    #[arg(long, env = "ITINERA_AVIS_CARD_NUMBER", global = true)]
    pub avis_card_number: Option<Secret>,
    /// The card's expiry, YYYY-MM.
    #[arg(long, env = "ITINERA_AVIS_CARD_EXPIRY", global = true)]
    pub avis_card_expiry: Option<String>,
    /// The name on the card.
    #[arg(long, env = "ITINERA_AVIS_CARD_HOLDER", global = true)]
    pub avis_card_holder: Option<String>,
    /// Booking.com Demand API key; with the affiliate id, booker country and card set, hotels
    /// are searched and booked at Booking.com. Prefer the variable.
    #[arg(long, env = "ITINERA_BOOKINGCOM_API_KEY", global = true)]
    pub bookingcom_api_key: Option<Secret>,
    /// The affiliate id the Booking.com key belongs to (`X-Affiliate-Id`), a number.
    #[arg(long, env = "ITINERA_BOOKINGCOM_AFFILIATE_ID", global = true)]
    pub bookingcom_affiliate_id: Option<String>,
    /// Booking.com's API address with its version (default: its 3.1 sandbox in sandbox mode,
    /// production in live mode); tests point it at a local fake.
    #[arg(long, env = "ITINERA_BOOKINGCOM_BASE_URL", global = true)]
    pub bookingcom_base_url: Option<String>,
    /// The agency's country, two letters: the market Booking.com prices for, and the booker's
    /// address country on orders.
    #[arg(long, env = "ITINERA_BOOKINGCOM_BOOKER_COUNTRY", global = true)]
    pub bookingcom_booker_country: Option<String>,
    /// The agency's card number Booking.com charges for stays paid when booked. Prefer the
    /// variable.
    #[arg(long, env = "ITINERA_BOOKINGCOM_CARD_NUMBER", global = true)]
    pub bookingcom_card_number: Option<Secret>,
    /// The card's expiry, YYYY-MM.
    #[arg(long, env = "ITINERA_BOOKINGCOM_CARD_EXPIRY", global = true)]
    pub bookingcom_card_expiry: Option<String>,
    /// The name on the card.
    #[arg(long, env = "ITINERA_BOOKINGCOM_CARD_HOLDER", global = true)]
    pub bookingcom_card_holder: Option<String>,
    /// The card's security code, which Booking.com requires. Prefer the variable.
    #[arg(long, env = "ITINERA_BOOKINGCOM_CARD_CVC", global = true)]
    pub bookingcom_card_cvc: Option<Secret>,
    /// The OAuth client id Itinera has for Booking.com account sign-in; set with the authorize
    /// and token URLs, plans with Booking.com hotels need the person signed in
    /// (login_to_platform).
    #[arg(long, env = "ITINERA_BOOKINGCOM_OAUTH_CLIENT_ID", global = true)]
    pub bookingcom_oauth_client_id: Option<String>,
    /// The OAuth client's secret, for a confidential client (PKCE is used either way). Prefer
    /// the variable.
    #[arg(long, env = "ITINERA_BOOKINGCOM_OAUTH_CLIENT_SECRET", global = true)]
    pub bookingcom_oauth_client_secret: Option<Secret>,
    /// Booking.com's OAuth authorization endpoint (https).
    #[arg(long, env = "ITINERA_BOOKINGCOM_OAUTH_AUTHORIZE_URL", global = true)]
    pub bookingcom_oauth_authorize_url: Option<String>,
    /// Booking.com's OAuth token endpoint (https).
    #[arg(long, env = "ITINERA_BOOKINGCOM_OAUTH_TOKEN_URL", global = true)]
    pub bookingcom_oauth_token_url: Option<String>,
    /// Booking.com's token revocation endpoint (RFC 7009); without it, signing out only
    /// deletes the tokens here.
    #[arg(long, env = "ITINERA_BOOKINGCOM_OAUTH_REVOKE_URL", global = true)]
    pub bookingcom_oauth_revoke_url: Option<String>,
    /// The scopes asked for, space-separated (default: reservations).
    #[arg(long, env = "ITINERA_BOOKINGCOM_OAUTH_SCOPES", global = true)]
    pub bookingcom_oauth_scopes: Option<String>,
    /// Viator Partner API key (`exp-api-key`); set, activities are searched and booked at Viator
    /// instead of the sandbox. Prefer the variable.
    #[arg(long, env = "ITINERA_VIATOR_API_KEY", global = true)]
    pub viator_api_key: Option<Secret>,
    /// Viator's API address (default: its sandbox in sandbox mode, production in live mode).
    #[arg(long, env = "ITINERA_VIATOR_BASE_URL", global = true)]
    pub viator_base_url: Option<String>,
    /// GetYourGuide Partner API access token (`X-ACCESS-TOKEN`); set, activities are searched
    /// and booked at GetYourGuide (paid by MasterBill invoice). Prefer the variable.
    #[arg(long, env = "ITINERA_GETYOURGUIDE_ACCESS_TOKEN", global = true)]
    pub getyourguide_access_token: Option<Secret>,
    /// GetYourGuide's API address (default: its testing host in sandbox mode, production in live).
    #[arg(long, env = "ITINERA_GETYOURGUIDE_BASE_URL", global = true)]
    pub getyourguide_base_url: Option<String>,
    /// PayPal REST app client id; in sandbox mode, a sandbox app's.
    #[arg(long, env = "ITINERA_PAYPAL_CLIENT_ID", global = true)]
    pub paypal_client_id: Option<String>,
    /// PayPal REST app secret. Prefer the variable: a flag shows in the process list.
    #[arg(long, env = "ITINERA_PAYPAL_CLIENT_SECRET", global = true)]
    pub paypal_client_secret: Option<Secret>,
    /// PayPal's API address (default: its sandbox host in sandbox mode, production in live mode).
    #[arg(long, env = "ITINERA_PAYPAL_BASE_URL", global = true)]
    pub paypal_base_url: Option<String>,
    /// Loopback address of the approval page; port 0 picks a free one.
    #[arg(
        long,
        env = "ITINERA_APPROVAL_PAGE_ADDR",
        default_value = "127.0.0.1:0",
        global = true
    )]
    pub approval_page_addr: SocketAddr,
    /// Risk: this many orders started within the window flags the next one (0 turns it off).
    #[arg(
        long,
        env = "ITINERA_RISK_VELOCITY_MAX_ORDERS",
        default_value_t = 10,
        global = true
    )]
    pub risk_velocity_max_orders: u32,
    /// Risk: the velocity window in minutes.
    #[arg(
        long,
        env = "ITINERA_RISK_VELOCITY_WINDOW_MINUTES",
        default_value_t = 60,
        global = true
    )]
    pub risk_velocity_window_minutes: u32,
    /// Risk: a total above this multiple of the largest paid order is flagged (0 turns it off).
    #[arg(
        long,
        env = "ITINERA_RISK_UNUSUAL_MULTIPLE",
        default_value_t = 5,
        global = true
    )]
    pub risk_unusual_multiple: u32,
    /// Risk: a never-used payment method at or above these amounts is flagged ("off" turns it off).
    #[arg(long, env = "ITINERA_RISK_NEW_METHOD_AMOUNTS", global = true)]
    pub risk_new_method_amounts: Option<String>,
    /// Seed for faults given with a chance, so a fault schedule repeats.
    #[arg(
        long,
        env = "ITINERA_SANDBOX_FAULT_SEED",
        default_value_t = 0,
        global = true
    )]
    pub sandbox_fault_seed: u64,
    /// Seconds between recovery passes over unsettled orders.
    #[arg(
        long,
        env = "ITINERA_RECOVERY_INTERVAL_SECONDS",
        default_value_t = 60,
        global = true
    )]
    pub recovery_interval_seconds: u64,
    /// Seconds a hold on an order lasts unless renewed (several instances on one database).
    #[arg(
        long,
        env = "ITINERA_LEASE_SECONDS",
        default_value_t = 30,
        global = true
    )]
    pub lease_seconds: u64,
    /// Static bearer tokens for `serve --http`, user:token,… (prefer the variable).
    #[arg(
        long,
        env = "ITINERA_HTTP_TOKENS",
        hide_env_values = true,
        global = true
    )]
    pub http_tokens: Option<Secret>,
    /// The address people reach `serve --http` at.
    #[arg(long, env = "ITINERA_HTTP_PUBLIC_URL", global = true)]
    pub http_public_url: Option<String>,
    /// More Host values `serve --http` accepts.
    #[arg(long, env = "ITINERA_HTTP_ALLOWED_HOSTS", global = true)]
    pub http_allowed_hosts: Option<String>,
    /// The token a Prometheus scraper sends to read /metrics of `serve --http` (prefer the
    /// variable); /metrics is off without one.
    #[arg(
        long,
        env = "ITINERA_METRICS_TOKEN",
        hide_env_values = true,
        global = true
    )]
    pub metrics_token: Option<Secret>,
    /// The JWKS whose keys sign accepted JWT access tokens.
    #[arg(long, env = "ITINERA_JWT_JWKS_URL", global = true)]
    pub jwt_jwks_url: Option<String>,
    /// The issuer of accepted JWT access tokens.
    #[arg(long, env = "ITINERA_JWT_ISSUER", global = true)]
    pub jwt_issuer: Option<String>,
    /// The audience accepted JWT access tokens must name.
    #[arg(long, env = "ITINERA_JWT_AUDIENCE", global = true)]
    pub jwt_audience: Option<String>,
    /// Milliseconds one provider may take to answer a search; results come without it after.
    #[arg(
        long,
        env = "ITINERA_SEARCH_DEADLINE_MS",
        default_value_t = 8000,
        global = true
    )]
    pub search_deadline_ms: u64,
    /// Spending policy: the most one order may cost, e.g. "1500 EUR".
    #[arg(long, env = "ITINERA_POLICY_MAX_PER_ORDER", global = true)]
    pub policy_max_per_order: Option<String>,
    /// Spending policy: the most all orders of the last 24 hours may cost.
    #[arg(long, env = "ITINERA_POLICY_MAX_PER_DAY", global = true)]
    pub policy_max_per_day: Option<String>,
    /// Spending policy: the most all orders of the last 30 days may cost.
    #[arg(long, env = "ITINERA_POLICY_MAX_PER_30_DAYS", global = true)]
    pub policy_max_per_30_days: Option<String>,
    /// Spending policy: the most one item of a kind may cost, e.g. "hotel=300 EUR,flight=800 EUR".
    #[arg(long, env = "ITINERA_POLICY_MAX_ITEM", global = true)]
    pub policy_max_item: Option<String>,
    /// Spending policy: the only providers that may be booked, e.g. "sandbox".
    #[arg(long, env = "ITINERA_POLICY_PROVIDERS", global = true)]
    pub policy_providers: Option<String>,
    /// Spending policy: the only currencies that may be paid in, e.g. "EUR,USD".
    #[arg(long, env = "ITINERA_POLICY_CURRENCIES", global = true)]
    pub policy_currencies: Option<String>,
    /// Spending policy: refundable items only.
    #[arg(long, env = "ITINERA_POLICY_REFUNDABLE_ONLY", global = true)]
    pub policy_refundable_only: bool,
    /// Webhook subscribers told of every order status change, comma-separated URLs.
    #[arg(long, env = "ITINERA_NOTIFY_WEBHOOK_URLS", global = true)]
    pub notify_webhook_urls: Option<String>,
    /// The secret the webhooks are signed with (HMAC-SHA256; prefer the variable).
    #[arg(
        long,
        env = "ITINERA_NOTIFY_WEBHOOK_SECRET",
        hide_env_values = true,
        global = true
    )]
    pub notify_webhook_secret: Option<Secret>,
    /// The mail server travellers are e-mailed through, e.g. smtps://user:password@smtp.example.com
    /// (prefer the variable).
    #[arg(long, env = "ITINERA_SMTP_URL", hide_env_values = true, global = true)]
    pub smtp_url: Option<Secret>,
    /// The sender of those e-mails, e.g. "Itinera <trips@example.com>".
    #[arg(long, env = "ITINERA_EMAIL_FROM", global = true)]
    pub email_from: Option<String>,
    /// Milliseconds between reads of the outbox for notices other instances wrote.
    #[arg(
        long,
        env = "ITINERA_NOTIFY_POLL_MS",
        default_value_t = 1000,
        global = true
    )]
    pub notify_poll_ms: u64,
    /// Milliseconds before a failed delivery is tried again (doubling after each failure).
    #[arg(
        long,
        env = "ITINERA_NOTIFY_BACKOFF_MS",
        default_value_t = 10_000,
        global = true
    )]
    pub notify_backoff_ms: u64,
    /// Attempts before a delivery is given up on and listed as dead.
    #[arg(
        long,
        env = "ITINERA_NOTIFY_MAX_ATTEMPTS",
        default_value_t = 10,
        global = true
    )]
    pub notify_max_attempts: u32,
    /// Testing: pause forever after the Nth saga log write, so a test can kill the process there.
    #[arg(long, env = "ITINERA_PAUSE_AT_STEP", global = true)]
    pub pause_at_step: Option<u32>,
}

/// A setting that is a secret: `Debug` does not show it.
#[derive(Clone)]
pub struct Secret(String);

impl From<String> for Secret {
    fn from(text: String) -> Self {
        Secret(text)
    }
}

impl Secret {
    /// The secret itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}
