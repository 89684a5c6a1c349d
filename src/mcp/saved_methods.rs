//! add_payment_method: a page at the payment provider where the person saves a card (or approves
//! PayPal) for later; and the views of saved methods and of setups that list_payment_methods
//! shows. No card detail ever passes through here: only the provider's token and a label.

use chrono::{DateTime, Utc};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::{Json, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::domain::ids::{PaymentMethodToken, SetupId};
use crate::domain::saved_method::{MethodSetup, SavedMethod, SetupStatus};

use super::ItineraServer;

#[derive(Debug, Deserialize, JsonSchema)]
pub struct AddMethodArgs {
    /// The payment provider to save the method with, as list_payment_methods names it (e.g.
    /// "stripe", "paypal"). Leave it out to use the first configured one that can save methods.
    #[serde(default)]
    pub provider: Option<String>,
}

/// The page where the person saves their payment method.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SetupView {
    pub setup_id: SetupId,
    pub provider: String,
    /// The provider's page: give it to the person to open. Never fill it in for them.
    pub url: String,
    /// `pending` (the page is open), `saved`, or `abandoned` (cancelled or expired).
    pub status: String,
    /// Why nothing was saved, for an abandoned setup.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub expires_at: DateTime<Utc>,
}

/// What add_payment_method opened.
#[derive(Debug, Serialize, JsonSchema)]
pub struct AddedSetup {
    #[serde(flatten)]
    pub setup: SetupView,
    pub message: String,
}

/// A payment method the person saved.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SavedMethodView {
    /// The token to put in a plan's payment_method.
    pub token: PaymentMethodToken,
    /// What it is in words (brand, last four digits, expiry; or the PayPal account, masked).
    pub label: String,
    pub provider: String,
    pub added_at: DateTime<Utc>,
}

impl From<MethodSetup> for SetupView {
    fn from(setup: MethodSetup) -> Self {
        let reason = match &setup.status {
            SetupStatus::Abandoned(reason) => Some(reason.clone()),
            SetupStatus::Pending | SetupStatus::Saved => None,
        };
        SetupView {
            status: setup.status.as_str().to_string(),
            setup_id: setup.id,
            provider: setup.provider,
            url: setup.url,
            reason,
            expires_at: setup.expires_at,
        }
    }
}

impl From<SavedMethod> for SavedMethodView {
    fn from(method: SavedMethod) -> Self {
        SavedMethodView {
            token: method.token,
            label: method.label,
            provider: method.provider,
            added_at: method.added_at,
        }
    }
}

#[tool_router(router = saved_method_router, vis = "pub(super)")]
impl ItineraServer {
    /// Let the person save a payment method (a card, or their PayPal account) for their trips.
    /// Returns a link to the payment provider's own page, where the person enters the card
    /// details themselves: never ask for card numbers, and never pass them to any tool. Give the
    /// person the link; once they say they are done, call list_payment_methods, which shows the
    /// saved method and its token to use as a plan's payment_method. Each call opens a new page.
    #[tool(
        title = "Add payment method",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = true
        )
    )]
    async fn add_payment_method(
        &self,
        Parameters(args): Parameters<AddMethodArgs>,
    ) -> Result<Json<AddedSetup>, String> {
        let provider = args
            .provider
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty());
        let setup = self
            .services
            .methods
            .start(&self.owner, provider)
            .await
            .map_err(|e| e.to_string())?;
        Ok(Json(AddedSetup {
            message: format!(
                "Give the person this link to {}'s page, where they enter their payment details themselves (Itinera and you never see them). It works until {}. When they say they are done, call list_payment_methods: the saved method appears there with the token to pay with.",
                setup.provider,
                setup.expires_at.format("%Y-%m-%d %H:%M UTC")
            ),
            setup: setup.into(),
        }))
    }
}
