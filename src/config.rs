//! Command line and environment: every setting has a flag and an `ITINERA_*` variable.

use std::net::SocketAddr;
use std::path::PathBuf;

use chrono::Duration;
use clap::{Parser, Subcommand, ValueEnum};

use crate::adapters::booking::duffel::DuffelSettings;
use crate::adapters::sandbox::SandboxSettings;
use crate::adapters::sandbox::faults::Faults;
use std::sync::Arc;

use crate::approval::{ApprovalSettings, CodeChannel, LogChannel};
use crate::crypto::{CryptoError, KeySource, MasterKey};
use crate::domain::money::{Currency, Money};
use crate::domain::offer::ItemKind;
use crate::domain::policy::SpendingPolicy;
use crate::domain::risk::RiskRules;
use crate::orchestrator::RetryPolicy;

const AFTER_HELP: &str = "\
Environment variables (each also has the flag shown above):
  ITINERA_DATABASE_URL           order store, e.g. sqlite:///home/me/itinera.db (default: itinera.db in the data dir)
  ITINERA_DATA_DIR               where the default databases and the key file live (default: the user's data dir + /itinera)
  ITINERA_PROFILE                whose plans and orders a stdio session sees (default: local)
  ITINERA_MASTER_KEY             key that encrypts travellers' personal data: 64 hex digits or base64 of 32 bytes
                                 (default: the key file master.key in the data dir, created on first run)
  ITINERA_MODE                   sandbox (default) or live
  ITINERA_SANDBOX_LEDGER_URL     the sandbox providers' own ledger (default: sandbox-ledger.db in the data dir)
  ITINERA_SANDBOX_FAULTS         injected faults, e.g. hotel.book=fail,flight.book=lost@20%,*.latency=200ms,hotel.quote=price+15%
  ITINERA_SANDBOX_FAULT_SEED     seed of the rolls for faults given with a chance, e.g. hotel.book=lost@20% (default: 0)
  ITINERA_SANDBOX_ACTION_ADDR    address of the sandbox 3-D Secure page (default: 127.0.0.1:0, a free port)
  ITINERA_AUTO_APPROVE_LIMIT     approve plans up to this total without asking, e.g. \"150 EUR\" (default: 0, never)
  ITINERA_APPROVAL_TTL_MINUTES   how long an approval stays valid (default: 30)
  ITINERA_APPROVAL_PAGE_ADDR     loopback address of the approval page (default: 127.0.0.1:0, a free port)
  ITINERA_PAYMENT_PROVIDER       who takes payments, in order of preference: sandbox (default), stripe, paypal, antom, wechat (comma-separated)
  ITINERA_STRIPE_SECRET_KEY      Stripe secret key: sk_test_… or rk_test_… in sandbox mode
  ITINERA_STRIPE_BASE_URL        Stripe's API address (default: https://api.stripe.com)
  ITINERA_STRIPE_WEBHOOK_SECRET  Stripe webhook signing secret (whsec_…) for `itinera webhooks`
  ITINERA_DUFFEL_ACCESS_TOKEN    Duffel access token (duffel_test_… in sandbox mode): flights are searched and booked at Duffel
  ITINERA_DUFFEL_BASE_URL        Duffel's API address (default: https://api.duffel.com)
  ITINERA_PAYPAL_WEBHOOK_ID      the id PayPal gave the webhook endpoint, for `itinera webhooks`
  ITINERA_WEBHOOK_PUBLIC_URL     public address of `itinera webhooks`, told to providers that ask (Antom)
  ITINERA_ANTOM_CLIENT_ID        Antom merchant client id (SANDBOX_… in sandbox mode)
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
  ITINERA_WECHAT_BASE_URL        WeChat Pay's API address (default: https://api.mch.weixin.qq.com; refused in sandbox mode)
  ITINERA_PAYPAL_CLIENT_ID       PayPal REST app client id (sandbox app in sandbox mode)
  ITINERA_PAYPAL_CLIENT_SECRET   PayPal REST app secret
  ITINERA_PAYPAL_BASE_URL        PayPal's API address (default: https://api-m.sandbox.paypal.com)
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
  ITINERA_SEARCH_DEADLINE_MS     how long one provider may take to answer a search before results are shown without it (default: 8000)
  ITINERA_PAUSE_AT_STEP          testing only: pause forever after the Nth saga log write (crash tests)
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
    /// Serve MCP over stdin/stdout (what running with no subcommand does).
    Serve,
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
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the whole hash chain; exits 1 and names the first broken entry if any was edited,
    /// inserted or deleted.
    Verify,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    /// Built-in sandbox providers: no keys, no real money.
    Sandbox,
    /// Real providers only.
    Live,
}

#[derive(Debug, Clone, clap::Args)]
pub struct Settings {
    /// Order store URL (SQLite).
    #[arg(long, env = "ITINERA_DATABASE_URL", global = true)]
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
    /// PayPal REST app client id; in sandbox mode, a sandbox app's.
    #[arg(long, env = "ITINERA_PAYPAL_CLIENT_ID", global = true)]
    pub paypal_client_id: Option<String>,
    /// PayPal REST app secret. Prefer the variable: a flag shows in the process list.
    #[arg(long, env = "ITINERA_PAYPAL_CLIENT_SECRET", global = true)]
    pub paypal_client_secret: Option<Secret>,
    /// PayPal's API address: the sandbox host in sandbox mode; tests point it at a local fake.
    #[arg(
        long,
        env = "ITINERA_PAYPAL_BASE_URL",
        default_value = "https://api-m.sandbox.paypal.com",
        global = true
    )]
    pub paypal_base_url: String,
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

/// Whether `url` reaches WeChat Pay's own servers (any of its domains, or an address that cannot
/// be read, which is not trusted either).
fn is_wechat_pay_itself(url: &str) -> bool {
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return true;
    };
    let host = parsed.host_str().unwrap_or_default().to_ascii_lowercase();
    ["weixin.qq.com", "wechatpay.cn", "tenpay.com"]
        .iter()
        .any(|domain| host == *domain || host.ends_with(&format!(".{domain}")))
}

/// The payment providers Itinera can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PaymentProviderName {
    Sandbox,
    Stripe,
    #[value(name = "paypal")]
    PayPal,
    Antom,
    #[value(name = "wechat")]
    WeChat,
}

/// Which payment provider, with what it needs. The return page comes from the running app.
#[derive(Debug, Clone)]
pub enum PaymentSettings {
    Sandbox,
    Stripe {
        secret_key: Secret,
        base_url: String,
        /// The webhook endpoint's signing secret, `whsec_…`.
        webhook_secret: Option<Secret>,
    },
    PayPal {
        client_id: String,
        client_secret: Secret,
        base_url: String,
        /// The id PayPal gave the webhook endpoint, needed to verify deliveries.
        webhook_id: Option<String>,
    },
    Antom {
        client_id: String,
        keys: crate::adapters::payments::antom::Keys,
        base_url: String,
        /// Where Antom sends payment notifications (`…/webhooks/antom`), if Itinera's webhook
        /// endpoint is reachable (`ITINERA_WEBHOOK_PUBLIC_URL`).
        notify_url: Option<String>,
    },
    /// WeChat Pay v3, charged after booking.
    WeChat {
        settings: Box<crate::adapters::payments::wechat::WeChatSettings>,
        /// Decrypts notifications, for `itinera webhooks` (an AES key schedule: boxed, it is large).
        api_v3_key: Box<crate::adapters::payments::wechat::ApiV3Key>,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "ITINERA_MODE=live needs real providers, and this version has none configured: use ITINERA_MODE=sandbox"
    )]
    LiveUnavailable,
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
        "ITINERA_PAYPAL_BASE_URL points at PayPal's live host: in sandbox mode Itinera uses the sandbox host (api-m.sandbox.paypal.com)"
    )]
    PayPalLiveHost,
    #[error(
        "ITINERA_PAYMENT_PROVIDER=antom needs ITINERA_ANTOM_CLIENT_ID, ITINERA_ANTOM_PRIVATE_KEY and ITINERA_ANTOM_PUBLIC_KEY"
    )]
    AntomSettingsMissing,
    #[error(
        "ITINERA_ANTOM_CLIENT_ID is not a sandbox id (SANDBOX_…): in sandbox mode Itinera never uses live credentials"
    )]
    AntomLiveClient,
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
        "ITINERA_DUFFEL_ACCESS_TOKEN is not a test token (duffel_test_…): in sandbox mode Itinera never uses live tokens"
    )]
    DuffelLiveToken,
    #[error("ITINERA_RISK_VELOCITY_WINDOW_MINUTES must be 1 to 10080 (a week), not {0}")]
    RiskWindow(u32),
    #[error(transparent)]
    Faults(#[from] crate::adapters::sandbox::faults::FaultSpecError),
}

/// Everything the app needs, resolved and validated.
#[derive(Debug, Clone)]
pub struct Config {
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
}

impl Config {
    /// The default configuration with both databases and the key file in `dir`.
    pub fn in_dir(dir: &std::path::Path) -> Config {
        Config {
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
            search_deadline: crate::planning::SEARCH_DEADLINE,
            retry: RetryPolicy::default(),
            policy: SpendingPolicy::default(),
            risk: RiskRules::default(),
            approval_page_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            code_channel: Arc::new(LogChannel),
            payments: vec![PaymentSettings::Sandbox],
            duffel: None,
        }
    }

    pub fn from_settings(settings: &Settings) -> Result<Config, ConfigError> {
        if settings.mode == Mode::Live {
            return Err(ConfigError::LiveUnavailable);
        }
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
        if let Some(Secret(text)) = &settings.master_key {
            config.master_key =
                KeySource::Given(MasterKey::parse(text).map_err(ConfigError::MasterKey)?);
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
        Ok(config)
    }
}

impl Settings {
    /// Duffel, if its token is set; a live token is refused (live mode does not exist yet).
    fn duffel(&self) -> Result<Option<DuffelSettings>, ConfigError> {
        let Some(token) = &self.duffel_access_token else {
            return Ok(None);
        };
        if !token.expose().starts_with("duffel_test_") {
            return Err(ConfigError::DuffelLiveToken);
        }
        Ok(Some(DuffelSettings {
            access_token: token.expose().to_string(),
            base_url: self.duffel_base_url.clone(),
            supplier_timeout: supplier_timeout(self.search_deadline_ms),
        }))
    }

    /// The payment providers in the operator's order, each named once.
    fn payments(&self) -> Result<Vec<PaymentSettings>, ConfigError> {
        let mut names: Vec<PaymentProviderName> = Vec::new();
        for name in &self.payment_provider {
            if !names.contains(name) {
                names.push(*name);
            }
        }
        names.into_iter().map(|name| self.payment(name)).collect()
    }

    /// One payment provider, refusing a live key outside live mode.
    fn payment(&self, name: PaymentProviderName) -> Result<PaymentSettings, ConfigError> {
        match name {
            PaymentProviderName::Sandbox => Ok(PaymentSettings::Sandbox),
            PaymentProviderName::Stripe => {
                let key = self
                    .stripe_secret_key
                    .clone()
                    .ok_or(ConfigError::StripeKeyMissing)?;
                if !["sk_test_", "rk_test_"]
                    .iter()
                    .any(|prefix| key.expose().starts_with(prefix))
                {
                    return Err(ConfigError::StripeLiveKey);
                }
                Ok(PaymentSettings::Stripe {
                    secret_key: key,
                    base_url: self.stripe_base_url.clone(),
                    webhook_secret: self.stripe_webhook_secret.clone(),
                })
            }
            PaymentProviderName::PayPal => {
                let (Some(client_id), Some(client_secret)) =
                    (&self.paypal_client_id, &self.paypal_client_secret)
                else {
                    return Err(ConfigError::PayPalCredentialsMissing);
                };
                if self.paypal_base_url.contains("api-m.paypal.com")
                    || self.paypal_base_url.contains("api.paypal.com")
                {
                    return Err(ConfigError::PayPalLiveHost);
                }
                Ok(PaymentSettings::PayPal {
                    client_id: client_id.clone(),
                    client_secret: client_secret.clone(),
                    base_url: self.paypal_base_url.clone(),
                    webhook_id: self.paypal_webhook_id.clone(),
                })
            }
            PaymentProviderName::Antom => {
                let (Some(client_id), Some(private), Some(public)) = (
                    &self.antom_client_id,
                    &self.antom_private_key,
                    &self.antom_public_key,
                ) else {
                    return Err(ConfigError::AntomSettingsMissing);
                };
                if !client_id.starts_with("SANDBOX_") {
                    return Err(ConfigError::AntomLiveClient);
                }
                Ok(PaymentSettings::Antom {
                    client_id: client_id.clone(),
                    keys: crate::adapters::payments::antom::Keys::parse(private.expose(), public)?,
                    base_url: self.antom_base_url.clone(),
                    notify_url: self
                        .webhook_public_url
                        .as_ref()
                        .map(|base| format!("{}/webhooks/antom", base.trim_end_matches('/'))),
                })
            }
            PaymentProviderName::WeChat => self.wechat(),
        }
    }

    /// WeChat Pay: every setting is needed, and — with no sandbox of its own — only another
    /// address than WeChat Pay's in sandbox mode.
    fn wechat(&self) -> Result<PaymentSettings, ConfigError> {
        use crate::adapters::payments::wechat::{ApiV3Key, Signer, Verifier, WeChatSettings};
        let (
            Some(mch_id),
            Some(app_id),
            Some(private),
            Some(serial),
            Some(public),
            Some(public_id),
            Some(api_v3_key),
            Some(public_url),
        ) = (
            &self.wechat_mch_id,
            &self.wechat_app_id,
            &self.wechat_private_key,
            &self.wechat_merchant_serial_no,
            &self.wechat_public_key,
            &self.wechat_public_key_id,
            &self.wechat_api_v3_key,
            &self.webhook_public_url,
        )
        else {
            return Err(ConfigError::WeChatSettingsMissing);
        };
        if is_wechat_pay_itself(&self.wechat_base_url) {
            return Err(ConfigError::WeChatLiveHost);
        }
        Ok(PaymentSettings::WeChat {
            settings: Box::new(WeChatSettings {
                mch_id: mch_id.clone(),
                app_id: app_id.clone(),
                merchant: Signer::parse(private.expose(), serial)?,
                platform: Verifier::parse(public, public_id)?,
                base_url: self.wechat_base_url.clone(),
                notify_url: format!("{}/webhooks/wechat", public_url.trim_end_matches('/')),
            }),
            api_v3_key: Box::new(
                ApiV3Key::parse(api_v3_key.expose()).map_err(|_| ConfigError::WeChatApiV3Key)?,
            ),
        })
    }

    /// The risk rules from the `ITINERA_RISK_*` settings.
    fn risk(&self) -> Result<RiskRules, ConfigError> {
        if !(1..=10080).contains(&self.risk_velocity_window_minutes) {
            return Err(ConfigError::RiskWindow(self.risk_velocity_window_minutes));
        }
        let defaults = RiskRules::default();
        let new_method_amounts = match self.risk_new_method_amounts.as_deref().map(str::trim) {
            None => defaults.new_method_amounts,
            Some("off" | "") => std::collections::BTreeMap::new(),
            Some(spec) => spec
                .split(',')
                .map(str::trim)
                .filter(|entry| !entry.is_empty())
                .map(|entry| {
                    parse_amount(entry)
                        .map(|money| (money.currency(), money))
                        .map_err(|problem| ConfigError::Policy {
                            variable: "ITINERA_RISK_NEW_METHOD_AMOUNTS",
                            value: spec.to_string(),
                            problem: format!("'{entry}': {problem}"),
                        })
                })
                .collect::<Result<_, _>>()?,
        };
        Ok(RiskRules {
            velocity_max_orders: Some(self.risk_velocity_max_orders).filter(|n| *n > 0),
            velocity_window: Duration::minutes(i64::from(self.risk_velocity_window_minutes)),
            unusual_multiple: Some(self.risk_unusual_multiple).filter(|n| *n > 0),
            new_method_amounts,
            ..defaults
        })
    }

    /// The spending policy from the `ITINERA_POLICY_*` settings.
    fn policy(&self) -> Result<SpendingPolicy, ConfigError> {
        let refuse = |variable: &'static str, value: &str, problem: String| ConfigError::Policy {
            variable,
            value: value.to_string(),
            problem,
        };
        let cap = |variable: &'static str,
                   value: &Option<String>|
         -> Result<Option<Money>, ConfigError> {
            match value {
                None => Ok(None),
                Some(value) => parse_amount(value)
                    .map(Some)
                    .map_err(|problem| refuse(variable, value, problem)),
            }
        };
        let list = |value: &Option<String>| -> Option<Vec<String>> {
            value.as_ref().map(|v| {
                v.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
        };
        let mut max_per_item = std::collections::BTreeMap::new();
        if let Some(spec) = &self.policy_max_item {
            for entry in spec.split(',').map(str::trim).filter(|e| !e.is_empty()) {
                let problem = || format!("'{entry}' should look like hotel=300 EUR");
                let (kind, amount) = entry
                    .split_once('=')
                    .ok_or_else(|| refuse("ITINERA_POLICY_MAX_ITEM", spec, problem()))?;
                let kind = ItemKind::parse(kind.trim()).ok_or_else(|| {
                    refuse(
                        "ITINERA_POLICY_MAX_ITEM",
                        spec,
                        format!(
                            "unknown kind '{}': use flight, hotel, activity or car_rental",
                            kind.trim()
                        ),
                    )
                })?;
                let amount =
                    parse_amount(amount).map_err(|p| refuse("ITINERA_POLICY_MAX_ITEM", spec, p))?;
                max_per_item.insert(kind, amount);
            }
        }
        let currencies = match list(&self.policy_currencies) {
            None => None,
            Some(codes) => Some(
                codes
                    .iter()
                    .map(|code| Currency::parse(code))
                    .collect::<Result<_, _>>()
                    .map_err(|e| {
                        refuse(
                            "ITINERA_POLICY_CURRENCIES",
                            self.policy_currencies.as_deref().unwrap_or(""),
                            e.to_string(),
                        )
                    })?,
            ),
        };
        Ok(SpendingPolicy {
            max_per_order: cap("ITINERA_POLICY_MAX_PER_ORDER", &self.policy_max_per_order)?,
            max_per_day: cap("ITINERA_POLICY_MAX_PER_DAY", &self.policy_max_per_day)?,
            max_per_30_days: cap(
                "ITINERA_POLICY_MAX_PER_30_DAYS",
                &self.policy_max_per_30_days,
            )?,
            max_per_item,
            providers: list(&self.policy_providers).map(|names| names.into_iter().collect()),
            currencies,
            refundable_only: self.policy_refundable_only,
        })
    }
}

/// What Duffel may wait for airlines: the search deadline less a second and a half for the
/// answer to travel, never under a second.
fn supplier_timeout(search_deadline_ms: u64) -> std::time::Duration {
    std::time::Duration::from_millis(search_deadline_ms.saturating_sub(1500).max(1000))
}

fn sqlite_url(path: &std::path::Path) -> String {
    format!("sqlite://{}", path.display())
}

/// "0" → never; "150 EUR" or "EUR 150" → that amount.
fn parse_limit(value: &str) -> Result<Option<Money>, ConfigError> {
    let trimmed = value.trim();
    if trimmed.is_empty() || trimmed == "0" {
        return Ok(None);
    }
    parse_amount(trimmed)
        .map(Some)
        .map_err(|problem| ConfigError::AutoApproveLimit {
            value: value.to_string(),
            problem,
        })
}

/// "150 EUR" or "EUR 150".
fn parse_amount(value: &str) -> Result<Money, String> {
    let parts: Vec<&str> = value.split_whitespace().collect();
    let [first, second] = parts.as_slice() else {
        return Err("expected an amount and a currency".into());
    };
    let (amount, currency) = if first.chars().all(|c| c.is_ascii_alphabetic()) {
        (second, first)
    } else {
        (first, second)
    };
    Money::parse(amount, currency).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn duffel_takes_a_test_token_only_and_is_off_without_one() {
        let parse = |args: &[&str]| {
            let mut all = vec!["itinera", "--data-dir", "/data"];
            all.extend_from_slice(args);
            Config::from_settings(&Cli::parse_from(all).settings)
        };
        assert!(parse(&[]).unwrap().duffel.is_none());
        let config = parse(&["--duffel-access-token", "duffel_test_abc"]).unwrap();
        let duffel = config.duffel.unwrap();
        assert_eq!(duffel.base_url, "https://api.duffel.com");
        assert_eq!(duffel.access_token, "duffel_test_abc");
        assert!(!format!("{duffel:?}").contains("duffel_test_abc"));
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
    fn payment_providers_take_test_credentials_and_never_live_ones_in_sandbox_mode() {
        let parse = |args: &[&str]| {
            let mut all = vec!["itinera", "--data-dir", "/data"];
            all.extend_from_slice(args);
            Config::from_settings(&Cli::parse_from(all).settings)
        };
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
        let private = include_str!("../tests/fixtures/wechat/merchant-private.pem");
        let public = include_str!("../tests/fixtures/wechat/platform-public.pem");
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
    fn live_mode_is_refused_until_real_providers_exist() {
        let cli = Cli::parse_from(["itinera", "--mode", "live"]);
        assert!(matches!(
            Config::from_settings(&cli.settings),
            Err(ConfigError::LiveUnavailable)
        ));
    }
}
