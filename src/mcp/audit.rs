//! get_audit_log: the person's own entries of the tamper-evident audit log.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::{Json, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::domain::audit::AuditEntry;

use super::ItineraServer;

#[derive(Debug, Deserialize, JsonSchema)]
pub struct AuditLogArgs {
    /// At most this many of the most recent entries (1–500, default 50).
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct AuditLog {
    /// Oldest first. Each entry's `hash` covers its content and the previous entry's hash.
    pub entries: Vec<AuditEntry>,
}

#[tool_router(router = audit_router, vis = "pub(super)")]
impl ItineraServer {
    /// The person's audit trail: approvals asked for and given, and every step of every order —
    /// holds, bookings, captures, cancellations, refunds — hash-chained so that no entry can be
    /// changed or removed unnoticed (`itinera audit verify` checks the chain).
    #[tool(
        title = "Get audit log",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn get_audit_log(
        &self,
        Parameters(args): Parameters<AuditLogArgs>,
    ) -> Result<Json<AuditLog>, String> {
        let limit = args.limit.unwrap_or(50);
        if !(1..=500).contains(&limit) {
            return Err(format!("limit must be between 1 and 500, not {limit}"));
        }
        let entries = self
            .services
            .trail
            .recent(&self.owner, limit as usize)
            .await
            .map_err(|e| e.to_string())?;
        Ok(Json(AuditLog { entries }))
    }
}
