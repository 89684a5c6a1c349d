//! `itinera serve --http ADDR`: MCP over Streamable HTTP for several people at once, each
//! request acting for the user its bearer token names (see `auth`), beside:
//! - `/.well-known/oauth-protected-resource[/mcp]`: where to get a token (RFC 9728);
//! - `/healthz` (the process answers) and `/readyz` (the store answers and the server is not
//!   stopping), for a load balancer or an orchestrator.
//!
//! Stopping (SIGTERM or Ctrl-C) first turns `/readyz` to 503, stops taking requests, lets the
//! requests under way finish, lets recovery finish the order it is on, waits for executions under
//! way, then releases this process's leases, as stdio does.

mod auth;
mod jwt;
mod metrics;
mod settings;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use serde_json::json;
use tokio_util::sync::CancellationToken;

pub use auth::Caller;
pub use settings::{HttpSettings, JwtSettings, MIN_TOKEN_LENGTH, MetricsToken, StaticTokens};

use crate::app::App;
use crate::ports::Store;

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("serving HTTP: {0}")]
    Serve(std::io::Error),
    #[error("the JWT key client: {0}")]
    Client(#[from] reqwest::Error),
}

/// A bound listener, so a caller (or a test) knows the port before serving.
pub struct HttpServer {
    listener: tokio::net::TcpListener,
    settings: HttpSettings,
}

impl HttpServer {
    pub async fn bind(settings: HttpSettings) -> Result<HttpServer, HttpError> {
        let listener = tokio::net::TcpListener::bind(settings.listen)
            .await
            .map_err(|source| HttpError::Bind {
                addr: settings.listen,
                source,
            })?;
        Ok(HttpServer { listener, settings })
    }

    pub fn local_addr(&self) -> Result<SocketAddr, HttpError> {
        self.listener.local_addr().map_err(HttpError::Serve)
    }

    /// Serves until `stop` resolves, then drains (see the module's doc).
    pub async fn serve(
        self,
        app: Arc<App>,
        stop: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), HttpError> {
        let health = Arc::new(Health {
            store: Arc::clone(app.store()),
            stopping: AtomicBool::new(false),
        });
        let sessions = CancellationToken::new();
        let router = self.router(&app, &health, &sessions)?;
        let workers = app.spawn_workers();
        let addr = self.local_addr()?;
        tracing::info!(%addr, mcp = %self.settings.resource(), "serving MCP over HTTP");
        let draining = Arc::clone(&health);
        axum::serve(self.listener, router)
            .with_graceful_shutdown(async move {
                stop.await;
                tracing::info!("stopping: no new requests; finishing those under way");
                draining.stopping.store(true, Ordering::SeqCst);
                sessions.cancel();
            })
            .await
            .map_err(HttpError::Serve)?;
        workers.stop().await;
        app.finish_in_flight().await;
        Ok(())
    }

    fn router(
        &self,
        app: &App,
        health: &Arc<Health>,
        sessions: &CancellationToken,
    ) -> Result<Router, HttpError> {
        let auth = Arc::new(auth::Authenticator::new(&self.settings)?);
        let server = app.per_request_server();
        let mcp = StreamableHttpService::new(
            move || Ok(server.clone()),
            LocalSessionManager::default().into(),
            StreamableHttpServerConfig::default()
                .with_cancellation_token(sessions.child_token())
                .with_allowed_hosts(self.allowed_hosts()),
        );
        let mcp = Router::new()
            .fallback_service(mcp)
            .layer(axum::middleware::from_fn_with_state(
                auth,
                auth::require_bearer,
            ));
        let metadata = Arc::new(self.metadata());
        let document = move || {
            let metadata = Arc::clone(&metadata);
            async move { Json(metadata.as_ref().clone()) }
        };
        Ok(Router::new()
            .nest("/mcp", mcp)
            .route(
                "/.well-known/oauth-protected-resource",
                get(document.clone()),
            )
            .route("/.well-known/oauth-protected-resource/mcp", get(document))
            .route("/healthz", get(|| async { "ok" }))
            .route("/readyz", get(ready).with_state(Arc::clone(health)))
            .route(
                "/metrics",
                get(metrics::scrape).with_state(Arc::new(metrics::Endpoint {
                    token: self.settings.metrics_token.clone(),
                    metrics: app.metrics().clone(),
                })),
            ))
    }

    /// Loopback names, and the public address's host (with and without its port).
    fn allowed_hosts(&self) -> Vec<String> {
        let mut hosts: Vec<String> = ["localhost", "127.0.0.1", "::1"]
            .into_iter()
            .map(str::to_string)
            .collect();
        if let Ok(public) = reqwest::Url::parse(&self.settings.public_url)
            && let Some(host) = public.host_str()
        {
            hosts.push(host.to_string());
            if let Some(port) = public.port() {
                hosts.push(format!("{host}:{port}"));
            }
        }
        hosts.extend(self.settings.allowed_hosts.iter().cloned());
        hosts
    }

    /// The protected-resource metadata (RFC 9728): what the resource is, which authorization
    /// server issues its tokens, and how to send them.
    fn metadata(&self) -> serde_json::Value {
        let mut document = json!({
            "resource": self.settings.resource(),
            "resource_name": "Itinera",
            "bearer_methods_supported": ["header"],
        });
        if let Some(jwt) = &self.settings.jwt {
            document["authorization_servers"] = json!([jwt.issuer]);
        }
        document
    }
}

struct Health {
    store: Arc<dyn Store>,
    stopping: AtomicBool,
}

async fn ready(State(health): State<Arc<Health>>) -> Response {
    if health.stopping.load(Ordering::SeqCst) {
        return (StatusCode::SERVICE_UNAVAILABLE, "stopping").into_response();
    }
    match health.store.ping().await {
        Ok(()) => (StatusCode::OK, "ready").into_response(),
        Err(error) => {
            tracing::warn!("not ready: the order store does not answer: {error}");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "the order store does not answer",
            )
                .into_response()
        }
    }
}
