//! `/metrics`: every person's booking metrics as Prometheus text, for the operator's scraper,
//! which must send `Authorization: Bearer <ITINERA_METRICS_TOKEN>`. Without a token configured
//! the endpoint is off: revenue and volumes are not for every user of the server.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::MetricsToken;
use crate::metrics::{Metrics, PROMETHEUS_WINDOW_DAYS, prometheus};

pub(super) struct Endpoint {
    pub token: Option<MetricsToken>,
    pub metrics: Metrics,
}

pub(super) async fn scrape(State(endpoint): State<Arc<Endpoint>>, headers: HeaderMap) -> Response {
    let Some(token) = &endpoint.token else {
        return (
            StatusCode::NOT_FOUND,
            "/metrics is off: set ITINERA_METRICS_TOKEN and have the scraper send it as a bearer token\n",
        )
            .into_response();
    };
    let sent = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    if !sent.is_some_and(|sent| token.matches(sent)) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "send the metrics token: Authorization: Bearer <ITINERA_METRICS_TOKEN>\n",
        )
            .into_response();
    }
    match endpoint.metrics.of(None, PROMETHEUS_WINDOW_DAYS).await {
        Ok(metrics) => (
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            prometheus(&metrics),
        )
            .into_response(),
        Err(error) => {
            tracing::warn!(%error, "metrics could not be read");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "the order store does not answer; try again shortly\n",
            )
                .into_response()
        }
    }
}
