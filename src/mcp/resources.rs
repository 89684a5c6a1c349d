//! Orders as MCP resources, `itinera://orders/{id}`: listed, read (the same view as
//! get_booking_status), and followed. A client subscribed to an order (`resources/subscribe` on
//! a 2025 session, `subscriptions/listen` on 2026-07-28) is sent `notifications/resources/updated`
//! each time the order changes, on whichever instance changed it (see `notify::watch`).
//! Only the person's own orders are listed, read or followed.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use rmcp::model::{
    ListResourceTemplatesResult, ListResourcesResult, ReadResourceResult, Resource,
    ResourceContents, ResourceTemplate, SubscriptionFilter,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer};
use tokio::sync::broadcast;
use tokio::task::AbortHandle;

use crate::domain::ids::{OrderId, OwnerId};
use crate::domain::notice::{ORDER_RESOURCE_PREFIX, OrderNotice, order_resource_uri};
use crate::ports::store::OrderFilter;

use super::ItineraServer;
use super::views::OrderView;

/// How many of the person's orders `resources/list` shows, newest first.
const LISTED: u32 = 50;
const JSON: &str = "application/json";

/// The legacy subscriptions of every session of this process: each one a task following the
/// order watch, stopped by `resources/unsubscribe` or when its session goes away.
#[derive(Clone, Default)]
pub struct Subscriptions {
    following: Arc<Mutex<HashMap<(String, String), AbortHandle>>>,
}

impl Subscriptions {
    fn start(&self, session: String, uri: String, task: AbortHandle) {
        let mut following = self
            .following
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        following.retain(|_, task| !task.is_finished());
        if let Some(earlier) = following.insert((session, uri), task) {
            earlier.abort();
        }
    }

    fn stop(&self, session: String, uri: String) {
        let mut following = self
            .following
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(task) = following.remove(&(session, uri)) {
            task.abort();
        }
    }
}

/// Tells `send` about each change of one of `owner`'s orders whose URI `wanted` accepts, until
/// `send` fails (the session or subscription is gone) or the watch stops.
async fn follow<S, F>(
    mut notices: broadcast::Receiver<Arc<OrderNotice>>,
    owner: OwnerId,
    wanted: impl Fn(&str) -> bool,
    mut send: S,
) where
    S: FnMut(String) -> F,
    F: Future<Output = bool>,
{
    loop {
        let notice = match notices.recv().await {
            Ok(notice) => notice,
            // Too slow to keep up: the next notices still say what changed.
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                tracing::warn!(missed, "a resource subscriber missed order notices");
                continue;
            }
            Err(broadcast::error::RecvError::Closed) => return,
        };
        let uri = notice.resource_uri();
        if notice.owner == owner && wanted(&uri) && !send(uri).await {
            return;
        }
    }
}

/// How often a subscription checks that its session is still open.
const SESSION_CHECK: std::time::Duration = std::time::Duration::from_secs(5);

/// Resolves once the session's transport has closed.
async fn closed(peer: &rmcp::Peer<RoleServer>) {
    while !peer.is_transport_closed() {
        tokio::time::sleep(SESSION_CHECK).await;
    }
}

/// Which session a request belongs to: its `Mcp-Session-Id` over HTTP, the one stdio session
/// otherwise.
fn session_of(context: &RequestContext<RoleServer>) -> String {
    context
        .extensions
        .get::<axum::http::request::Parts>()
        .and_then(|parts| parts.headers.get("mcp-session-id"))
        .and_then(|id| id.to_str().ok())
        .map_or_else(|| "stdio".to_string(), str::to_string)
}

fn order_in(uri: &str) -> Result<OrderId, McpError> {
    uri.strip_prefix(ORDER_RESOURCE_PREFIX)
        .and_then(|id| OrderId::parse(id).ok())
        .ok_or_else(|| {
            McpError::resource_not_found(
                format!(
                    "{uri} is not an order: order resources are {ORDER_RESOURCE_PREFIX}<order id>"
                ),
                None,
            )
        })
}

impl ItineraServer {
    pub(super) async fn order_resources(&self) -> Result<ListResourcesResult, McpError> {
        let filter = OrderFilter {
            limit: LISTED,
            ..OrderFilter::default()
        };
        let orders = self
            .services
            .orchestrator
            .orders(&self.owner, &filter)
            .await
            .map_err(|e| McpError::internal_error(e.to_string(), None))?;
        Ok(ListResourcesResult::with_all_items(
            orders
                .iter()
                .map(|order| {
                    Resource::new(order_resource_uri(&order.id), order.id.to_string())
                        .with_description(format!(
                            "Order {} ({}), created {}",
                            order.id,
                            order.status,
                            order.created_at.format("%Y-%m-%d %H:%M UTC")
                        ))
                        .with_mime_type(JSON)
                })
                .collect(),
        ))
    }

    pub(super) fn order_resource_templates() -> ListResourceTemplatesResult {
        ListResourceTemplatesResult::with_all_items(vec![
            ResourceTemplate::new(format!("{ORDER_RESOURCE_PREFIX}{{order_id}}"), "order")
                .with_description(
                    "One of the person's orders as get_booking_status shows it; subscribe to be told when it changes.",
                )
                .with_mime_type(JSON),
        ])
    }

    pub(super) async fn read_order(&self, uri: &str) -> Result<ReadResourceResult, McpError> {
        let id = order_in(uri)?;
        let not_found = || McpError::resource_not_found(format!("you have no order {id}"), None);
        let order = self
            .services
            .orchestrator
            .order(&self.owner, &id)
            .await
            .map_err(|_| not_found())?;
        let timeline = self
            .services
            .orchestrator
            .timeline(&self.owner, &id)
            .await
            .map_err(|e| McpError::internal_error(e.to_string(), None))?;
        let view = serde_json::to_string_pretty(&OrderView::new(order, timeline))
            .map_err(|e| McpError::internal_error(e.to_string(), None))?;
        Ok(ReadResourceResult::new(vec![
            ResourceContents::text(view, uri).with_mime_type(JSON),
        ]))
    }

    /// `resources/subscribe`: refused for an order that is not the person's.
    pub(super) async fn subscribe_order(
        &self,
        uri: String,
        context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        let id = order_in(&uri)?;
        self.services
            .orchestrator
            .order(&self.owner, &id)
            .await
            .map_err(|_| McpError::resource_not_found(format!("you have no order {id}"), None))?;
        let peer = context.peer.clone();
        let session = context.peer.clone();
        let watched = uri.clone();
        let following = follow(
            self.services.watch.subscribe(),
            self.owner.clone(),
            move |changed| changed == watched,
            move |changed| {
                let peer = peer.clone();
                async move {
                    let param = rmcp::model::ResourceUpdatedNotificationParam::new(changed);
                    peer.notify_resource_updated(param).await.is_ok()
                }
            },
        );
        // Ends with the session, even for an order that never changes again.
        let task = tokio::spawn(async move {
            tokio::select! {
                () = following => {}
                () = closed(&session) => {}
            }
        });
        self.services
            .subscriptions
            .start(session_of(&context), uri, task.abort_handle());
        Ok(())
    }

    pub(super) fn unsubscribe_order(&self, uri: String, context: &RequestContext<RoleServer>) {
        self.services.subscriptions.stop(session_of(context), uri);
    }

    /// On 2026-07-28 a subscription is one long request: every order resource asked for is
    /// accepted, and only the person's own orders ever produce an update.
    pub(super) fn accepted_filter(requested: &SubscriptionFilter) -> Option<SubscriptionFilter> {
        let orders: Vec<String> = requested
            .resource_subscriptions
            .iter()
            .flatten()
            .filter(|uri| order_in(uri).is_ok())
            .cloned()
            .collect();
        let mut accepted = SubscriptionFilter::new();
        if !orders.is_empty() {
            accepted.resource_subscriptions = Some(orders);
        }
        Some(accepted)
    }

    pub(super) async fn listen_to_orders(
        &self,
        context: rmcp::service::SubscriptionContext,
    ) -> Result<(), McpError> {
        let uris = context
            .accepted()
            .resource_subscriptions
            .clone()
            .unwrap_or_default();
        let sink = context.sink().clone();
        let following = follow(
            self.services.watch.subscribe(),
            self.owner.clone(),
            move |changed| uris.iter().any(|uri| uri == changed),
            move |changed| {
                let sink = sink.clone();
                async move { sink.notify_resource_updated(changed).await.is_ok() }
            },
        );
        tokio::select! {
            () = context.cancelled() => {}
            () = following => {}
        }
        Ok(())
    }
}
