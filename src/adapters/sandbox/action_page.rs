//! The sandbox's customer pages: the 3-D Secure page (visiting a payment's action URL completes
//! the challenge) and the card page of `card_page`.
//!
//! They stand in for the bank's and the provider's pages a real provider sends the customer to.
//! They are served on loopback only, and started the first time one is needed.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Html;
use axum::routing::get;

use super::{Sandbox, card_page};

impl Sandbox {
    /// The URL where the customer completes the payment's 3-D Secure challenge.
    pub(super) async fn action_url(self: &Arc<Self>, payment_id: &str) -> Result<String, String> {
        Ok(format!(
            "{}/sandbox/3ds/{payment_id}",
            self.pages_base().await?
        ))
    }

    /// Where the customer pages are served, starting the server the first time.
    pub(super) async fn pages_base(self: &Arc<Self>) -> Result<&str, String> {
        self.action_base_url
            .get_or_try_init(|| start(Arc::clone(self)))
            .await
            .map(String::as_str)
    }
}

async fn start(sandbox: Arc<Sandbox>) -> Result<String, String> {
    let listener = tokio::net::TcpListener::bind(sandbox.action_addr)
        .await
        .map_err(|e| {
            format!(
                "cannot serve the 3-D Secure page on {}: {e}",
                sandbox.action_addr
            )
        })?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("cannot read the 3-D Secure page address: {e}"))?;
    let app = Router::new()
        .route("/sandbox/3ds/{payment_id}", get(complete))
        .route(
            "/sandbox/cards/{session}",
            get(card_page::show).post(card_page::choose),
        )
        .with_state(sandbox);
    tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, app).await {
            tracing::error!(%error, "the sandbox 3-D Secure page stopped");
        }
    });
    tracing::info!(%addr, "sandbox 3-D Secure page listening");
    Ok(format!("http://{addr}"))
}

async fn complete(
    State(sandbox): State<Arc<Sandbox>>,
    Path(payment_id): Path<String>,
) -> (StatusCode, Html<String>) {
    match sandbox.ledger.complete_action(&payment_id).await {
        Ok(Some(payment)) if payment.status == "authorized" => (
            StatusCode::OK,
            page(
                "Payment authenticated",
                "3-D Secure is complete. Go back to your assistant and ask it to continue the booking.",
            ),
        ),
        Ok(Some(payment)) => (
            StatusCode::CONFLICT,
            page(
                "Nothing to authenticate",
                &format!(
                    "This payment is {} and needs no authentication.",
                    payment.status
                ),
            ),
        ),
        Ok(None) => (
            StatusCode::NOT_FOUND,
            page(
                "Unknown payment",
                "This link does not belong to any payment.",
            ),
        ),
        Err(error) => (
            StatusCode::SERVICE_UNAVAILABLE,
            page("Try again", &error.to_string()),
        ),
    }
}

pub(super) fn page(title: &str, message: &str) -> Html<String> {
    page_with(title, message, "")
}

/// A sandbox page whose message is followed by `controls` (the card page's buttons).
pub(super) fn page_with(title: &str, message: &str, controls: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · Itinera sandbox</title></head>\
         <body style=\"font-family: system-ui, sans-serif; max-width: 36rem; margin: 3rem auto; padding: 0 1rem\">\
         <h1>{title}</h1><p>{message}</p>{controls}<p><small>Itinera sandbox bank: no real money moves.</small></p></body></html>"
    ))
}
