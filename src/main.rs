//! `itinera`: serves MCP over stdio (the default), with settings from flags or `ITINERA_*`.

use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use itinera::app::App;
use itinera::config::{Cli, Command, Config};
use itinera::ports::SystemClock;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    // stdout is the MCP channel: every log line goes to stderr.
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
    let cli = Cli::parse();
    let config = match Config::from_settings(&cli.settings) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("itinera: {error}");
            return ExitCode::from(2);
        }
    };
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => match App::start(&config, Arc::new(SystemClock)).await {
            Ok(app) => app.serve_stdio().await,
            Err(error) => Err(error),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error}");
            eprintln!("itinera: {error}");
            ExitCode::FAILURE
        }
    }
}
