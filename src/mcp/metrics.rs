//! get_booking_metrics: how the person's own bookings went.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::{Json, tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::domain::metrics::BookingMetrics;

use super::ItineraServer;

#[derive(Debug, Deserialize, JsonSchema)]
pub struct MetricsArgs {
    /// Orders created in the last this many days (1–366, default 30).
    pub days: Option<u32>,
}

#[tool_router(router = metrics_router, vis = "pub(super)")]
impl ItineraServer {
    /// Metrics of the person's orders created in a recent window: booking, payment and
    /// end-to-end success rates, average booking and payment time, plans approved but never
    /// executed (abandonment), retry rate, volume, revenue (charged less refunded) and average
    /// order value per currency, and calls, errors and latency per provider. Rates are
    /// fractions from 0 to 1, null when nothing they count happened.
    #[tool(
        title = "Get booking metrics",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn get_booking_metrics(
        &self,
        Parameters(args): Parameters<MetricsArgs>,
    ) -> Result<Json<BookingMetrics>, String> {
        self.services
            .metrics
            .of(Some(&self.owner), args.days.unwrap_or(30))
            .await
            .map(Json)
            .map_err(|e| e.to_string())
    }
}
