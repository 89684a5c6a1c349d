//! The MCP server: tools for search, plans, approval, execution, status and cancellation.
//!
//! One file per toolset. Tools turn arguments into domain values and call the services; they hold
//! no SQL and no HTTP. Failures the model can fix come back as tool results with `isError` and a
//! message that says what to do next.

mod approve;
mod audit;
mod metrics;
mod orders;
mod payments;
mod plans;
mod platforms;
mod progress;
mod resources;
mod saved_methods;
mod search;
mod views;

use std::sync::Arc;

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::tool::ToolCallContext;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListResourceTemplatesResult, ListResourcesResult, PaginatedRequestParams,
    ReadResourceRequestParams, ReadResourceResponse, ServerCapabilities, ServerConfig,
    SubscribeRequestParams, SubscriptionFilter, UnsubscribeRequestParams,
};
use rmcp::service::{RequestContext, SubscriptionContext};
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler, tool_handler};

use crate::app::Services;
use crate::domain::ids::OwnerId;
use crate::domain::screening::screen_json;

pub use approve::ApprovalAnswer;
pub use resources::Subscriptions;

const INSTRUCTIONS: &str = "Itinera books and pays for trips the person has agreed to.\n\
1. Search with search_flights, search_hotels, search_activities and search_car_rentals (nothing is booked).\n\
2. Build a plan with create_travel_plan from offer ids (or criteria the server resolves); adjust it with update_travel_plan.\n\
3. Call confirm_travel_plan: the person sees the itinerary and total and approves or declines. Only the person can approve.\n\
4. Call execute_travel_plan: prices are re-checked, the total is held on the payment method, items are booked in dependency order, and only what was booked is charged. If the bank asks for 3-D Secure, give the person the link, then call execute_travel_plan again.\n\
5. Follow with get_booking_status, list_bookings and get_payment_status; cancel_booking cancels under each item's policy and refunds what the policy gives back.\n\
Some providers need the person's own account at a platform (list_platforms): execute_travel_plan then answers auth_required with sign-in links; give them to the person (or call login_to_platform yourself), wait until check_auth_status says authenticated, then execute again.\n\
Never put card numbers anywhere: payment methods are provider tokens such as pm_sandbox_visa. To save the person's own card, call add_payment_method and give them the link.";

/// The MCP server: for one person (the profile, on stdio), or for whoever each request's
/// token names (over HTTP).
#[derive(Clone)]
pub struct ItineraServer {
    services: Arc<Services>,
    /// Whom the tools act for.
    owner: OwnerId,
    /// Over HTTP the owner is the request's `Caller`, never a fixed one.
    owner_per_request: bool,
    tool_router: Arc<ToolRouter<Self>>,
}

impl ItineraServer {
    /// A server acting for `owner` on every call.
    pub fn new(services: Arc<Services>, owner: OwnerId) -> Self {
        Self {
            services,
            owner,
            owner_per_request: false,
            tool_router: Arc::new(
                Self::search_router()
                    + Self::plan_router()
                    + Self::approval_router()
                    + Self::order_router()
                    + Self::payment_router()
                    + Self::saved_method_router()
                    + Self::platform_router()
                    + Self::audit_router()
                    + Self::metrics_router(),
            ),
        }
    }

    /// A server whose every call acts for the user its HTTP request was authenticated as; a
    /// call that carries no such user is refused.
    pub fn per_request(services: Arc<Services>) -> Self {
        Self {
            owner_per_request: true,
            ..Self::new(services, OwnerId::new(String::new()))
        }
    }

    /// The server to run one call with: this one, or over HTTP one acting for the caller.
    fn for_call(&self, context: &RequestContext<RoleServer>) -> Option<ItineraServer> {
        if !self.owner_per_request {
            return Some(self.clone());
        }
        let caller = context
            .extensions
            .get::<axum::http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<crate::http::Caller>())?;
        Some(Self {
            owner: caller.0.clone(),
            ..self.clone()
        })
    }
}

impl ItineraServer {
    /// `for_call`, or the refusal of a request that carries no user.
    fn caller(&self, context: &RequestContext<RoleServer>) -> Result<ItineraServer, McpError> {
        self.for_call(context).ok_or_else(|| {
            McpError::invalid_request("this request carries no authenticated user", None)
        })
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for ItineraServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .enable_resources_subscribe()
                .build(),
        )
        .with_server_info(Implementation::new(
            env!("CARGO_PKG_NAME"),
            env!("CARGO_PKG_VERSION"),
        ))
        .with_instructions(INSTRUCTIONS)
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        self.caller(&context)?.order_resources().await
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, McpError> {
        Ok(Self::order_resource_templates())
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        let server = self.caller(&context)?;
        Ok(server.read_order(&request.uri).await?.into())
    }

    async fn subscribe(
        &self,
        request: SubscribeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        let server = self.caller(&context)?;
        server.subscribe_order(request.uri, context).await
    }

    async fn unsubscribe(
        &self,
        request: UnsubscribeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        self.caller(&context)?
            .unsubscribe_order(request.uri, &context);
        Ok(())
    }

    fn accepted_subscription_filter(
        &self,
        requested: &SubscriptionFilter,
    ) -> Option<SubscriptionFilter> {
        Self::accepted_filter(requested)
    }

    async fn listen(&self, context: SubscriptionContext) -> Result<(), McpError> {
        let server = self.caller(context.request_context())?;
        server.listen_to_orders(context).await
    }

    /// Screens every argument for card numbers and oversize strings before any tool sees it.
    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        if let Some(arguments) = &request.arguments
            && let Err(refusal) = screen_json(&serde_json::Value::Object(arguments.clone()))
        {
            tracing::warn!(tool = %request.name, "refused input: {refusal}");
            return Ok(CallToolResult::error(vec![ContentBlock::text(refusal.to_string())]).into());
        }
        let server = self.caller(&context)?;
        self.tool_router
            .call(ToolCallContext::new(&server, request, context))
            .await
    }
}
