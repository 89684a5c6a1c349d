//! `itinera`: serves MCP over stdio (the default) or HTTP, with settings from flags or
//! `ITINERA_*`.

#![deny(clippy::unwrap_used, clippy::expect_used)]

use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use itinera::adapters::store::SqlStore;
use itinera::app::{App, AppError, configured_providers, open_store};
use itinera::approval::CODE_LOG_TARGET;
use itinera::config::{
    AuditCommand, Cli, Command, Config, DeliveryFilter, KeysCommand, NotificationsCommand,
    ReportFormat,
};
use itinera::crypto::{MasterKey, Rotation};
use itinera::domain::notice::DeliveryState;
use itinera::http::{HttpServer, HttpSettings};
use itinera::ports::SystemClock;
use itinera::trail::{AuditTrail, TrailError};
use tracing_subscriber::filter::{EnvFilter, FilterExt, filter_fn};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{Layer, fmt};

/// `RUST_LOG` (default `info`), except that approval codes always reach the person.
fn log_filter() -> EnvFilter {
    let wanted = std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into());
    let codes = format!("{CODE_LOG_TARGET}=info");
    EnvFilter::try_new(format!("{wanted},{codes}"))
        .unwrap_or_else(|_| EnvFilter::new(format!("info,{codes}")))
}

/// Whether an event may be logged at all: rmcp's never below info, whatever `RUST_LOG` asks
/// (at debug it writes whole requests and responses, which carry what the person typed: card
/// numbers that are then refused, travellers' personal details).
fn never_rmcp_debug(metadata: &tracing::Metadata<'_>) -> bool {
    let target = metadata.target();
    let from_rmcp = target == "rmcp" || target.starts_with("rmcp::");
    !from_rmcp || *metadata.level() <= tracing::Level::INFO
}

#[tokio::main]
async fn main() -> ExitCode {
    // stdout is the MCP channel: every log line goes to stderr.
    tracing_subscriber::registry()
        .with(
            fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(false)
                .with_filter(log_filter().and(filter_fn(never_rmcp_debug))),
        )
        .init();
    let cli = Cli::parse();
    let config = match Config::from_settings(&cli.settings) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("itinera: {error}");
            return ExitCode::from(2);
        }
    };
    tracing::info!("mode: {}", config.mode.describe());
    let result = match cli.command.unwrap_or(Command::Serve { http: None }) {
        Command::Serve { http: None } => match App::start(&config, Arc::new(SystemClock)).await {
            Ok(app) => app.serve_stdio().await.map(|()| ExitCode::SUCCESS),
            Err(error) => Err(error),
        },
        Command::Serve { http: Some(listen) } => match cli.settings.http(listen) {
            Ok(settings) => serve_http(&config, settings).await,
            Err(error) => {
                eprintln!("itinera: {error}");
                return ExitCode::from(2);
            }
        },
        Command::Doctor {
            stale_after_minutes,
        } => doctor(&config, stale_after_minutes).await,
        Command::Audit {
            action: AuditCommand::Verify,
        } => verify_audit(&config).await,
        Command::Webhooks { listen } => receive_webhooks(&config, listen).await,
        Command::Notifications { action } => notifications(&config, action).await,
        Command::Report { days, format } => report(&config, days, format).await,
        Command::Keys {
            action: KeysCommand::Rotate,
        } => match cli
            .settings
            .new_master_key
            .as_ref()
            .map(|key| MasterKey::parse(key.expose()))
        {
            Some(Err(error)) => Err(AppError::Key(error)),
            Some(Ok(key)) => rotate_keys(&config, Some(key)).await,
            None => rotate_keys(&config, None).await,
        },
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            tracing::error!("{error}");
            eprintln!("itinera: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Prints every person's booking metrics of the last `days` days.
async fn report(config: &Config, days: u32, format: ReportFormat) -> Result<ExitCode, AppError> {
    let store: Arc<dyn itinera::ports::Store> = Arc::new(open_store(config).await?);
    let metrics = itinera::metrics::Metrics::new(store, Arc::new(SystemClock))
        .of(None, days)
        .await
        .map_err(|e| AppError::Metrics(e.to_string()))?;
    match format {
        ReportFormat::Table => print!("{}", itinera::metrics::table(&metrics)),
        ReportFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&metrics).map_err(|e| AppError::Metrics(e.to_string()))?
        ),
    }
    Ok(ExitCode::SUCCESS)
}

/// Lists deliveries (exit 1 when any is dead) or queues dead ones again.
async fn notifications(
    config: &Config,
    action: NotificationsCommand,
) -> Result<ExitCode, AppError> {
    let store = open_store(config).await?;
    match action {
        NotificationsCommand::List { state, limit } => {
            let state = match state {
                DeliveryFilter::Dead => DeliveryState::Dead,
                DeliveryFilter::Pending => DeliveryState::Pending,
                DeliveryFilter::Delivered => DeliveryState::Delivered,
                DeliveryFilter::Skipped => DeliveryState::Skipped,
            };
            let (records, text) = itinera::notify::operator::list(&store, state, limit).await?;
            print!("{text}");
            Ok(if state == DeliveryState::Dead && !records.is_empty() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
        NotificationsCommand::Retry { notice, .. } => {
            print!(
                "{}",
                itinera::notify::operator::retry(&store, notice.as_deref()).await?
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Serves MCP over HTTP until SIGTERM or Ctrl-C, then drains.
async fn serve_http(config: &Config, settings: HttpSettings) -> Result<ExitCode, AppError> {
    let app = Arc::new(App::start(config, Arc::new(SystemClock)).await?);
    let server = HttpServer::bind(settings).await?;
    let addr = server.local_addr()?;
    // Said on stderr, for whoever started it with port 0.
    eprintln!("itinera: serving MCP at http://{addr}/mcp");
    server.serve(app, stop_signal()).await?;
    Ok(ExitCode::SUCCESS)
}

/// Resolves on SIGTERM (a service manager stopping the server) or Ctrl-C.
async fn stop_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!("SIGTERM cannot be caught ({error}): stop with Ctrl-C");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        _ = terminate => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

/// Serves the webhook endpoint until interrupted.
async fn receive_webhooks(
    config: &Config,
    listen: std::net::SocketAddr,
) -> Result<ExitCode, AppError> {
    let app = App::start(config, Arc::new(SystemClock)).await?;
    tokio::select! {
        served = itinera::webhooks::listen(listen, app.webhooks()) => {
            served.map_err(|e| AppError::Webhooks(format!("{listen}: {e}")))?;
        }
        _ = tokio::signal::ctrl_c() => tracing::info!("stopping the webhook endpoint"),
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints whether the providers answer and what needs a person; exits 1 when a provider does
/// not answer or anything needs a person.
async fn doctor(config: &Config, stale_after_minutes: u32) -> Result<ExitCode, AppError> {
    let providers = configured_providers(config, Arc::new(SystemClock)).await?;
    let report = itinera::doctor::providers::check(&providers).await;
    println!("Mode: {}", config.mode.describe());
    print!("{}", itinera::doctor::providers::render(&report));
    let store = open_store(config).await?;
    let stale_after = chrono::Duration::minutes(i64::from(stale_after_minutes));
    let findings = itinera::doctor::examine(&store, chrono::Utc::now(), stale_after).await?;
    print!("{}", itinera::doctor::render(&findings));
    Ok(if findings.is_empty() && report.all_answer() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Re-seals the store under a new master key, then makes it the key in use.
async fn rotate_keys(config: &Config, new: Option<MasterKey>) -> Result<ExitCode, AppError> {
    let rotation = Rotation::begin(&config.master_key, new)?;
    let store = SqlStore::open_alone(&config.database_url, Arc::new(rotation.keyring())).await?;
    let resealed = store.reseal_all().await?;
    store.close().await;
    let rotated = rotation.finish()?;
    println!(
        "Re-encrypted {} plans' travellers and {} platform accounts' tokens under key {} (was {}).",
        resealed.plans, resealed.accounts, rotated.new, rotated.old
    );
    match &rotated.retired {
        Some(path) => println!(
            "The key file now holds key {}; the old key is kept in {} for backups made before: delete it once none needs it.",
            rotated.new,
            path.display()
        ),
        None => println!(
            "Now set ITINERA_MASTER_KEY to the new key (id {}) and unset ITINERA_NEW_MASTER_KEY before starting Itinera.",
            rotated.new
        ),
    }
    Ok(ExitCode::SUCCESS)
}

/// Checks the audit log's hash chain; exits 1 when it is broken.
async fn verify_audit(config: &Config) -> Result<ExitCode, AppError> {
    let store = open_store(config).await?;
    match AuditTrail::new(Arc::new(store)).verify().await {
        Ok(entries) => {
            println!(
                "The audit log is intact: {entries} entries, every one chained to the one before."
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(TrailError::Broken(at)) => {
            println!("The audit log is broken: {at}");
            Ok(ExitCode::from(1))
        }
        Err(TrailError::Store(error)) => Err(error.into()),
    }
}
