//! Order tools: execute an approved plan, follow it, list orders, cancel.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::RequestMetaObject;
use rmcp::{Json, Peer, RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::domain::ids::{ItemId, OrderId, PlanId};
use crate::domain::order::{Order, OrderStatus};
use crate::orchestrator::ExecutionError;
use crate::ports::store::OrderFilter;

use super::ItineraServer;
use super::platforms::LoginView;
use super::progress::ExecutionProgress;
use super::views::{OrderList, OrderSummary, OrderView};

#[derive(Debug, Deserialize, JsonSchema)]
pub(super) struct OrderIdArgs {
    /// The order id, e.g. "ord_8f14e45fceea167a5a36dedd4bea2543".
    pub order_id: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ExecuteArgs {
    /// The plan id, e.g. "pln_…".
    pub plan_id: String,
    /// Only when the person read you the one-time approval code Itinera sent them, e.g.
    /// "7KQ2-M9XD". Never invent or guess one: wrong codes void the approval request.
    pub approval_code: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ListBookingsArgs {
    /// Only orders in this status.
    pub status: Option<OrderStatus>,
    /// At most this many orders, newest first (1–100, default 20).
    pub limit: Option<u32>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct CancelBookingArgs {
    /// The order id.
    pub order_id: String,
    /// Only these items (ids from get_booking_status); the whole order when omitted.
    pub item_ids: Option<Vec<String>>,
}

fn order_id(value: &str) -> Result<OrderId, String> {
    OrderId::parse(value).map_err(|e| e.to_string())
}

/// What execute_travel_plan answers when the person must sign in first.
#[derive(Debug, Serialize)]
struct AuthRequired {
    status: &'static str,
    platforms: Vec<LoginView>,
    message: &'static str,
}

impl ItineraServer {
    /// Refuses, before anything is booked or held, a plan whose providers need sign-ins the
    /// person has not made: `auth_required`, with a sign-in link for each. An order already
    /// under way goes on: its bookings do not wait for a sign-in.
    /// The status of the plan's order, when there is one already.
    async fn sign_ins_made(&self, plan: &PlanId) -> Result<Option<OrderStatus>, String> {
        let started = OrderFilter {
            status: None,
            plan: Some(plan.clone()),
            limit: 1,
        };
        let orders = self
            .services
            .orchestrator
            .orders(&self.owner, &started)
            .await
            .map_err(|e| e.to_string())?;
        if let Some(order) = orders.first() {
            return Ok(Some(order.status));
        }
        let plan = self
            .services
            .planner
            .plan(&self.owner, plan)
            .await
            .map_err(|e| e.to_string())?;
        let providers = plan
            .items
            .iter()
            .map(|item| item.offer.provider.clone())
            .collect();
        let needed = self
            .services
            .accounts
            .needed_for(&self.owner, &providers)
            .await
            .map_err(|e| e.to_string())?;
        if needed.is_empty() {
            return Ok(None);
        }
        let answer = AuthRequired {
            status: "auth_required",
            platforms: needed.iter().map(LoginView::from).collect(),
            message: "Nothing was booked or charged. The person must sign in to these platforms first: give them each authorization_url, wait until check_auth_status says authenticated, then call execute_travel_plan again.",
        };
        Err(serde_json::to_string_pretty(&answer).unwrap_or_else(|_| answer.message.to_string()))
    }
}

#[tool_router(router = order_router, vis = "pub(super)")]
impl ItineraServer {
    /// Book and pay for a plan the person approved: re-check every price (a rise or an expired
    /// offer stops before any money moves), hold the total on the payment method, book items in
    /// dependency order, then charge only what was booked. A must-have item that fails cancels
    /// everything and releases the hold. Calling it again returns the same order; after 3-D
    /// Secure, calling it again continues the order. Pass approval_code only when the person gave
    /// you the code Itinera sent them.
    #[tool(
        title = "Execute travel plan (book and pay)",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = true
        )
    )]
    async fn execute_travel_plan(
        &self,
        Parameters(args): Parameters<ExecuteArgs>,
        meta: RequestMetaObject,
        peer: Peer<RoleServer>,
    ) -> Result<Json<OrderView>, String> {
        let id = PlanId::parse(&args.plan_id).map_err(|e| e.to_string())?;
        if let Some(code) = &args.approval_code {
            self.services
                .approvals
                .approve_with_code(&self.owner, &id, code)
                .await
                .map_err(|e| e.to_string())?;
        }
        let under_way = self.sign_ins_made(&id).await?;
        // An order that has settled will not change: nothing to report.
        let progress = match meta.get_progress_token() {
            Some(token) if !under_way.is_some_and(|status| status.is_settled()) => {
                Some(ExecutionProgress::start(
                    self.services.watch.subscribe(),
                    self.owner.clone(),
                    id.clone(),
                    token,
                    peer,
                ))
            }
            _ => None,
        };
        let (orchestrator, owner) = (self.services.orchestrator.clone(), self.owner.clone());
        let executed = self
            .detached(async move { orchestrator.execute(&owner, &id).await })
            .await;
        if let (Some(progress), Ok(order)) = (progress, &executed) {
            progress.finish(order).await;
        }
        self.order_view(executed?).await
    }

    /// Where an order stands: status, each item's booking, documents (PNR and confirmation
    /// numbers), amounts held, charged and refunded, and the timeline of everything that happened.
    #[tool(
        title = "Get booking status",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn get_booking_status(
        &self,
        Parameters(args): Parameters<OrderIdArgs>,
    ) -> Result<Json<OrderView>, String> {
        let order = self
            .services
            .orchestrator
            .order(&self.owner, &order_id(&args.order_id)?)
            .await
            .map_err(|e| e.to_string())?;
        self.order_view(order).await
    }

    /// List the person's orders, newest first, optionally by status.
    #[tool(
        title = "List bookings",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn list_bookings(
        &self,
        Parameters(args): Parameters<ListBookingsArgs>,
    ) -> Result<Json<OrderList>, String> {
        let limit = args.limit.unwrap_or(20);
        if !(1..=100).contains(&limit) {
            return Err(format!("limit must be between 1 and 100, not {limit}"));
        }
        let filter = OrderFilter {
            status: args.status,
            plan: None,
            limit,
        };
        let orders = self
            .services
            .orchestrator
            .orders(&self.owner, &filter)
            .await
            .map_err(|e| e.to_string())?;
        Ok(Json(OrderList {
            orders: orders.iter().map(OrderSummary::new).collect(),
        }))
    }

    /// Cancel a confirmed order, or chosen items of it, with the providers. Each item's
    /// cancellation policy decides what comes back (free until a deadline, then a fee; or
    /// nothing), and that amount is refunded to the payment method. Tell the person what they
    /// will get back before calling.
    #[tool(
        title = "Cancel booking",
        annotations(
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = true,
            open_world_hint = true
        )
    )]
    async fn cancel_booking(
        &self,
        Parameters(args): Parameters<CancelBookingArgs>,
    ) -> Result<Json<OrderView>, String> {
        let id = order_id(&args.order_id)?;
        let items = args
            .item_ids
            .map(|ids| {
                ids.iter()
                    .map(|id| ItemId::parse(id).map_err(|e| e.to_string()))
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        if items.as_ref().is_some_and(Vec::is_empty) {
            return Err(
                "item_ids is empty: omit it to cancel the whole order, or list the items to cancel"
                    .into(),
            );
        }
        let (orchestrator, owner) = (self.services.orchestrator.clone(), self.owner.clone());
        let order = self
            .detached(async move { orchestrator.cancel(&owner, &id, items.as_deref()).await })
            .await?;
        self.order_view(order).await
    }
}

impl ItineraServer {
    /// Runs money-moving work on its own task, so it finishes even if the client disconnects or
    /// cancels the request halfway: a saga stopped between a booking and its record helps nobody.
    async fn detached<F>(&self, work: F) -> Result<Order, String>
    where
        F: Future<Output = Result<Order, ExecutionError>> + Send + 'static,
    {
        match self.services.in_flight.spawn(work).await {
            Ok(result) => result.map_err(|e| e.to_string()),
            Err(error) => Err(format!(
                "the work stopped unexpectedly ({error}); call get_booking_status to see where the order stands"
            )),
        }
    }

    async fn order_view(&self, order: Order) -> Result<Json<OrderView>, String> {
        let timeline = self
            .services
            .orchestrator
            .timeline(&self.owner, &order.id)
            .await
            .map_err(|e| e.to_string())?;
        Ok(Json(OrderView::new(order, timeline)))
    }
}
