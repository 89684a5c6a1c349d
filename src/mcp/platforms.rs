//! list_platforms, login_to_platform, check_auth_status, logout_platform: the person's sign-ins
//! to travel platforms. The model gets the sign-in link to hand over, and statuses and scopes;
//! never a token.

use chrono::{DateTime, Utc};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::{Json, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::domain::ids::LoginId;
use crate::platforms::{AuthKind, Connection, LoginNeeded, LoginState, PLATFORMS, PlatformSpec};

use super::ItineraServer;

#[derive(Debug, Deserialize, JsonSchema)]
pub struct PlatformArgs {
    /// The platform's id, as list_platforms names it (e.g. "booking_com").
    pub platform: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct AuthStatusArgs {
    /// The login_id login_to_platform (or execute_travel_plan) gave: how that sign-in stands.
    #[serde(default)]
    pub login_id: Option<String>,
    /// Or a platform id: whether the person is signed in to it.
    #[serde(default)]
    pub platform: Option<String>,
}

/// One platform Itinera knows.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PlatformView {
    pub id: String,
    pub name: String,
    pub auth_type: AuthKind,
    /// `person` (the person signs in with login_to_platform) or `operator` (the server's
    /// credentials, set in its environment).
    pub signed_in_by: String,
    /// The providers whose items use it.
    pub used_by: Vec<String>,
    /// For the person's platforms: `authenticated`, `expired`, `not_connected`, or
    /// `not_configured` / `unavailable` (it cannot be signed in to on this server), or
    /// `unknown` (the platform could not be asked just now). For the operator's: `operator`.
    pub status: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    /// What to do, or why it cannot be used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct PlatformList {
    pub platforms: Vec<PlatformView>,
}

/// A sign-in for the person to make.
#[derive(Debug, Serialize, JsonSchema)]
pub struct LoginView {
    /// `auth_required`: give the person authorization_url to open; `authenticated`: already
    /// signed in, nothing to do.
    pub status: String,
    pub platform: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub login_id: Option<LoginId>,
    /// The platform's sign-in page. Give it to the person; never open or fill it in for them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization_url: Option<String>,
    /// When the link stops working (an hour after it was made).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    pub message: String,
}

/// How a sign-in, or the person's account at a platform, stands.
#[derive(Debug, Serialize, JsonSchema)]
pub struct AuthStatusView {
    pub platform: String,
    /// `pending`, `authenticated`, `expired`, `failed` or `not_connected`.
    pub status: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    /// Why it failed or expired.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub message: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct LogoutView {
    pub platform: String,
    pub was_connected: bool,
    /// Whether the platform revoked Itinera's access.
    pub revoked: bool,
    pub message: String,
}

impl From<&LoginNeeded> for LoginView {
    fn from(needed: &LoginNeeded) -> Self {
        login_view(needed.spec, &needed.login)
    }
}

fn login_view(spec: &PlatformSpec, login: &LoginState) -> LoginView {
    LoginView {
        status: "auth_required".into(),
        platform: spec.id.into(),
        login_id: Some(login.id.clone()),
        authorization_url: Some(login.url.clone()),
        expires_at: Some(login.expires_at),
        message: format!(
            "Give the person this link to sign in to their {} within the hour; then call check_auth_status with the login_id.",
            spec.name
        ),
    }
}

fn connection_view(spec: &PlatformSpec, connection: Connection) -> AuthStatusView {
    let platform = spec.id.to_string();
    match connection {
        Connection::Authenticated { scopes, .. } => AuthStatusView {
            platform,
            status: "authenticated".into(),
            scopes,
            reason: None,
            message: format!("The person is signed in to their {}.", spec.name),
        },
        Connection::Expired { reason } => AuthStatusView {
            platform,
            status: "expired".into(),
            scopes: Vec::new(),
            reason: Some(reason),
            message: "Call login_to_platform for a new sign-in link.".into(),
        },
        Connection::NotConnected => AuthStatusView {
            platform,
            status: "not_connected".into(),
            scopes: Vec::new(),
            reason: None,
            message: "Call login_to_platform for a sign-in link.".into(),
        },
    }
}

#[tool_router(router = platform_router, vis = "pub(super)")]
impl ItineraServer {
    /// The platforms Itinera knows: which the person signs in to (and whether they are), and
    /// which run on the operator's credentials. Tokens about to expire are refreshed.
    #[tool(
        title = "List platforms",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn list_platforms(&self) -> Result<Json<PlatformList>, String> {
        let accounts = &self.services.accounts;
        let mut platforms = Vec::with_capacity(PLATFORMS.len());
        for spec in PLATFORMS {
            let (status, scopes, note) = if !spec.personal() {
                (
                    "operator".to_string(),
                    Vec::new(),
                    Some(format!("set by the operator: {}", spec.configured_by)),
                )
            } else if let Some(reason) = spec.unavailable {
                (
                    "unavailable".to_string(),
                    Vec::new(),
                    Some(reason.to_string()),
                )
            } else if !accounts.configured(spec.id) {
                (
                    "not_configured".to_string(),
                    Vec::new(),
                    Some(format!("the operator sets {}", spec.configured_by)),
                )
            } else {
                match accounts.connection(&self.owner, spec.id).await {
                    Ok(connection) => {
                        let view = connection_view(spec, connection);
                        (view.status, view.scopes, view.reason)
                    }
                    // One platform that cannot be asked hides none of the others.
                    Err(error) => (
                        "unknown".to_string(),
                        Vec::new(),
                        Some(format!("{error}: try again in a moment")),
                    ),
                }
            };
            platforms.push(PlatformView {
                id: spec.id.into(),
                name: spec.name.into(),
                auth_type: spec.auth,
                signed_in_by: if spec.personal() {
                    "person"
                } else {
                    "operator"
                }
                .into(),
                used_by: spec.used_by.iter().map(|p| p.to_string()).collect(),
                status,
                scopes,
                note,
            });
        }
        Ok(Json(PlatformList { platforms }))
    }

    /// Sign the person in to a platform: returns a link (valid for an hour) for the person to
    /// open; they sign in at the platform and come back to Itinera's page on this machine.
    /// Already signed in, nothing is opened.
    #[tool(
        title = "Sign in to a platform",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = true
        )
    )]
    async fn login_to_platform(
        &self,
        Parameters(args): Parameters<PlatformArgs>,
    ) -> Result<Json<LoginView>, String> {
        let accounts = &self.services.accounts;
        let connection = accounts
            .connection(&self.owner, &args.platform)
            .await
            .map_err(|e| e.to_string())?;
        let spec = crate::platforms::registry::platform(&args.platform)
            .ok_or_else(|| format!("unknown platform {}", args.platform))?;
        if let Connection::Authenticated { .. } = connection {
            return Ok(Json(LoginView {
                status: "authenticated".into(),
                platform: spec.id.into(),
                login_id: None,
                authorization_url: None,
                expires_at: None,
                message: format!(
                    "The person is already signed in to their {}; logout_platform signs them out.",
                    spec.name
                ),
            }));
        }
        let login = accounts
            .login(&self.owner, &args.platform)
            .map_err(|e| e.to_string())?;
        Ok(Json(login_view(spec, &login)))
    }

    /// How a sign-in stands (by login_id: pending, authenticated, expired or failed), or
    /// whether the person is signed in to a platform (by platform). Never shows a token.
    #[tool(
        title = "Check sign-in status",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = true
        )
    )]
    async fn check_auth_status(
        &self,
        Parameters(args): Parameters<AuthStatusArgs>,
    ) -> Result<Json<AuthStatusView>, String> {
        let accounts = &self.services.accounts;
        let platform = match (&args.login_id, &args.platform) {
            (Some(id), _) => {
                let id = LoginId::parse(id).map_err(|e| e.to_string())?;
                let login = accounts
                    .login_state(&self.owner, &id)
                    .map_err(|e| e.to_string())?;
                if login.status != crate::platforms::LoginStatus::Authenticated {
                    let message = match login.status {
                        crate::platforms::LoginStatus::Pending => {
                            "The person has not finished signing in: ask them to open the link, then check again."
                        }
                        _ => "Call login_to_platform for a new sign-in link.",
                    };
                    return Ok(Json(AuthStatusView {
                        platform: login.platform.into(),
                        status: serde_plain(&login.status),
                        scopes: Vec::new(),
                        reason: login.reason,
                        message: message.into(),
                    }));
                }
                login.platform.to_string()
            }
            (None, Some(platform)) => platform.clone(),
            (None, None) => return Err("give login_id (from login_to_platform) or platform".into()),
        };
        let connection = accounts
            .connection(&self.owner, &platform)
            .await
            .map_err(|e| e.to_string())?;
        let spec = crate::platforms::registry::platform(&platform)
            .ok_or_else(|| format!("unknown platform {platform}"))?;
        Ok(Json(connection_view(spec, connection)))
    }

    /// Sign the person out of a platform: Itinera's access is revoked at the platform where it
    /// allows that, and the tokens are deleted here.
    #[tool(
        title = "Sign out of a platform",
        annotations(
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = true,
            open_world_hint = true
        )
    )]
    async fn logout_platform(
        &self,
        Parameters(args): Parameters<PlatformArgs>,
    ) -> Result<Json<LogoutView>, String> {
        let out = self
            .services
            .accounts
            .logout(&self.owner, &args.platform)
            .await
            .map_err(|e| e.to_string())?;
        let message = match (&out.revoke_error, out.was_connected, out.revoked) {
            (_, false, _) => "The person was not signed in; nothing to do.".to_string(),
            (Some(error), true, _) => format!(
                "Signed out here, but the platform did not revoke Itinera's access ({error}): the person can withdraw it in their account settings at the platform."
            ),
            (None, true, true) => "Signed out: the platform revoked Itinera's access and the tokens are deleted.".into(),
            (None, true, false) => "Signed out: the tokens are deleted (the platform offers no revocation; the person can withdraw access in their account settings there).".into(),
        };
        Ok(Json(LogoutView {
            platform: args.platform,
            was_connected: out.was_connected,
            revoked: out.revoked,
            message,
        }))
    }
}

/// A unit enum as the word it serialises to.
fn serde_plain<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(text)) => text,
        _ => String::new(),
    }
}
