//! The webhook endpoint: `POST /webhooks/{provider}` with the provider's raw body.

use std::net::SocketAddr;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;

use super::{Outcome, WebhookError, Webhooks};

/// Serves the endpoint on `listener` until the process ends.
pub async fn serve(listener: tokio::net::TcpListener, webhooks: Webhooks) -> std::io::Result<()> {
    let app = Router::new()
        .route("/webhooks/{provider}", post(deliver))
        .with_state(webhooks);
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, "webhook endpoint listening");
    }
    axum::serve(listener, app).await
}

/// Binds `addr` and serves.
pub async fn listen(addr: SocketAddr, webhooks: Webhooks) -> std::io::Result<()> {
    serve(tokio::net::TcpListener::bind(addr).await?, webhooks).await
}

async fn deliver(
    State(webhooks): State<Webhooks>,
    Path(provider): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match webhooks.receive(&provider, &headers, &body).await {
        Ok(outcome) => {
            let said = match &outcome {
                Outcome::Duplicate => "duplicate".to_string(),
                Outcome::Ignored => "ignored".to_string(),
                Outcome::NoOrder => "no_order".to_string(),
                Outcome::Applied { order, status } => format!("{order} {}", status.as_str()),
            };
            tracing::info!(%provider, outcome = %said, "webhook delivery");
            if provider == "antom" {
                // Antom delivers again unless answered with this exact result.
                return (
                    StatusCode::OK,
                    [("content-type", "application/json")],
                    super::antom::ACKNOWLEDGEMENT,
                )
                    .into_response();
            }
            if provider == "wechat" {
                // WeChat Pay takes a 200 or 204, without a body, as received.
                return StatusCode::NO_CONTENT.into_response();
            }
            (StatusCode::OK, said).into_response()
        }
        Err(error) => {
            let status = match &error {
                WebhookError::BadSignature
                | WebhookError::Stale
                | WebhookError::Malformed(_)
                | WebhookError::Undecryptable(_) => StatusCode::BAD_REQUEST,
                WebhookError::UnknownProvider(_) | WebhookError::NotConfigured { .. } => {
                    StatusCode::NOT_FOUND
                }
                // Ours to fix; the provider delivers again later.
                WebhookError::Verification(_)
                | WebhookError::Store(_)
                | WebhookError::Execution(_) => StatusCode::INTERNAL_SERVER_ERROR,
            };
            tracing::warn!(%provider, %error, "webhook delivery refused");
            if provider == "wechat" {
                // WeChat Pay reads a refusal as `{code: FAIL, message}`, and delivers again.
                return (
                    status,
                    [("content-type", "application/json")],
                    super::wechat::failure(&error.to_string()),
                )
                    .into_response();
            }
            (status, error.to_string()).into_response()
        }
    }
}
