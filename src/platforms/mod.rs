//! Platform accounts: the person signs in to the platforms a plan needs (OAuth 2.0 with PKCE,
//! the way command-line tools do it: a link to open, a callback on this machine's loopback
//! page), and Itinera keeps the tokens sealed in the store's vault, refreshes them before they
//! expire, and revokes them at sign-out. Tokens never leave this module except to the store
//! and the platform.

mod logins;
mod oauth;
pub mod registry;

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Utc};

pub use logins::{CallbackRefusal, LoginState, LoginStatus};
pub use oauth::{OAuthError, OAuthSettings};
pub use registry::{AuthKind, PLATFORMS, PlatformSpec};

use crate::domain::ids::{LoginId, OwnerId};
use crate::domain::platform::{PlatformAccount, PlatformTokens};
use crate::keyed_lock::KeyedLocks;
use crate::leases::{LeaseError, Leases, OnLoss, PATIENCE};
use crate::ports::{Clock, Store, StoreError};
use logins::Logins;
use oauth::OAuthPlatform;

/// How long the person has to sign in.
pub const LOGIN_LIFETIME: chrono::Duration = chrono::Duration::hours(1);
/// Tokens are refreshed when they have less than this left.
const REFRESH_AHEAD: chrono::Duration = chrono::Duration::minutes(5);

#[derive(Debug, thiserror::Error)]
pub enum PlatformError {
    #[error(
        "there is no platform {given}: the platforms are {}",
        registry::known_ids()
    )]
    Unknown { given: String },
    #[error(
        "{name} is not signed in to by the person: Itinera uses the operator's credentials ({configured_by})"
    )]
    NotPersonal {
        name: &'static str,
        configured_by: &'static str,
    },
    #[error("{name} cannot be signed in to: {reason}")]
    Unavailable {
        name: &'static str,
        reason: &'static str,
    },
    #[error("{name} sign-in is not set up on this server: the operator sets {configured_by}")]
    NotConfigured {
        name: &'static str,
        configured_by: &'static str,
    },
    #[error(
        "there is no sign-in {0}: sign-ins last an hour and end when the server restarts; call login_to_platform again"
    )]
    UnknownLogin(String),
    #[error("token vault: {0}")]
    Store(#[from] StoreError),
    #[error(transparent)]
    OAuth(#[from] OAuthError),
    #[error(transparent)]
    Lease(#[from] LeaseError),
}

/// Where the person stands with a platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Connection {
    NotConnected,
    /// Signed in; the access token works until `expires_at` (refreshed before).
    Authenticated {
        scopes: Vec<String>,
        expires_at: Option<DateTime<Utc>>,
    },
    /// Signed in once, but the platform no longer takes the tokens: sign in again.
    Expired {
        reason: String,
    },
}

/// A sign-in the person must make before a plan can run.
#[derive(Debug, Clone)]
pub struct LoginNeeded {
    pub spec: &'static PlatformSpec,
    pub login: LoginState,
}

/// What signing out did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedOut {
    pub was_connected: bool,
    /// Whether the platform revoked the tokens (false: it has no revocation endpoint, or
    /// refused; the tokens are forgotten here either way).
    pub revoked: bool,
    /// Why revocation failed, when it did.
    pub revoke_error: Option<String>,
}

/// The person's platform accounts and sign-ins.
#[derive(Clone)]
pub struct Accounts(Arc<Inner>);

struct Inner {
    oauth: HashMap<&'static str, OAuthPlatform>,
    /// One reader-writer of an account at a time: refresh, sign-out and a new sign-in, in this
    /// process (locks) and across the processes sharing the store (leases).
    locks: KeyedLocks<(OwnerId, &'static str)>,
    leases: Leases,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    logins: Logins,
}

impl Accounts {
    /// The accounts of the platforms configured in `settings`, whose callbacks come back to
    /// `redirect_uri` (the loopback page's `/oauth/callback`).
    pub fn new(
        settings: &[OAuthSettings],
        redirect_uri: &str,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        leases: Leases,
    ) -> Result<Accounts, OAuthError> {
        let oauth = settings
            .iter()
            .map(|settings| {
                OAuthPlatform::new(settings.clone(), redirect_uri)
                    .map(|platform| (settings.platform, platform))
            })
            .collect::<Result<_, _>>()?;
        Ok(Accounts(Arc::new(Inner {
            oauth,
            locks: KeyedLocks::default(),
            leases,
            store,
            clock,
            logins: Logins::default(),
        })))
    }

    /// Whether the person can sign in to `platform` on this server.
    pub fn configured(&self, platform: &str) -> bool {
        self.0.oauth.contains_key(platform)
    }

    /// Opens a sign-in: the URL the person opens, valid for an hour.
    pub fn login(&self, owner: &OwnerId, platform: &str) -> Result<LoginState, PlatformError> {
        let (spec, oauth) = self.personal(platform)?;
        let begun = oauth.begin();
        let view = LoginState {
            id: LoginId::generate(),
            platform: spec.id,
            url: begun.url,
            status: LoginStatus::Pending,
            reason: None,
            expires_at: self.0.clock.now() + LOGIN_LIFETIME,
        };
        self.0
            .logins
            .open(owner.clone(), begun.state, begun.verifier, view.clone());
        tracing::info!(platform = spec.id, login = %view.id, "sign-in opened");
        Ok(view)
    }

    pub fn login_state(&self, owner: &OwnerId, id: &LoginId) -> Result<LoginState, PlatformError> {
        self.0
            .logins
            .view(owner, id, self.0.clock.now())
            .ok_or_else(|| PlatformError::UnknownLogin(id.to_string()))
    }

    /// The platform's answer at the callback: the code exchanged (with the verifier) and the
    /// tokens sealed in the vault, or the refusal recorded. Returns the platform's name. The
    /// work runs on its own task: a browser that closes the tab mid-exchange neither leaves the
    /// sign-in pending nor loses tokens the platform issued.
    pub async fn callback(&self, answer: &CallbackAnswer) -> Result<&'static str, CallbackError> {
        let accounts = self.clone();
        let answer = answer.clone();
        tokio::spawn(async move { accounts.complete(&answer).await })
            .await
            .unwrap_or_else(|error| {
                Err(CallbackError::Failed(format!(
                    "the sign-in stopped: {error}"
                )))
            })
    }

    async fn complete(&self, answer: &CallbackAnswer) -> Result<&'static str, CallbackError> {
        let now = self.0.clock.now();
        let answering = self.0.logins.answer(&answer.state, now)?;
        let (spec, oauth) = self
            .personal(answering.platform)
            .map_err(|error| CallbackError::Failed(error.to_string()))?;
        let failed = |reason: String| {
            tracing::warn!(platform = spec.id, login = %answering.id, %reason, "sign-in failed");
            self.0
                .logins
                .settle(&answering.id, LoginStatus::Failed, Some(reason.clone()));
            CallbackError::Failed(reason)
        };
        let code = match (&answer.code, &answer.error) {
            (_, Some(error)) => {
                let reason = if error == "access_denied" {
                    format!("the person declined to let Itinera use their {}", spec.name)
                } else {
                    format!(
                        "{} refused the sign-in: {error}{}",
                        spec.name,
                        answer
                            .error_description
                            .as_deref()
                            .map(|d| format!(" ({d})"))
                            .unwrap_or_default()
                    )
                };
                return Err(failed(reason));
            }
            (Some(code), None) => code,
            (None, None) => return Err(failed(format!("{} sent back no code", spec.name))),
        };
        let tokens = oauth
            .exchange(code, answering.verifier, now)
            .await
            .map_err(|error| failed(error.to_string()))?;
        let account = PlatformAccount {
            owner: answering.owner.clone(),
            platform: spec.id.to_string(),
            tokens,
            connected_at: now,
            refreshed_at: now,
        };
        self.exclusively(&answering.owner, spec, async {
            Ok::<_, PlatformError>(self.0.store.save_platform_account(&account, None).await?)
        })
        .await
        .map_err(|error| {
            failed(format!(
                "the token vault could not keep the sign-in: {error}"
            ))
        })?;
        self.audit(
            &answering.owner,
            "platform.connected",
            spec,
            &account.tokens.scopes.join(" "),
        )
        .await;
        self.0
            .logins
            .settle(&answering.id, LoginStatus::Authenticated, None);
        tracing::info!(platform = spec.id, login = %answering.id, "signed in");
        Ok(spec.name)
    }

    /// Where the person stands with `platform`, refreshing tokens about to expire. One caller
    /// at a time per person and platform: a refresh token used twice would be refused (or the
    /// whole grant revoked, at platforms that rotate them).
    pub async fn connection(
        &self,
        owner: &OwnerId,
        platform: &str,
    ) -> Result<Connection, PlatformError> {
        let (spec, oauth) = self.personal(platform)?;
        self.exclusively(owner, spec, self.refreshed(owner, spec, oauth))
            .await
    }

    /// Runs `work` as the only reader-writer of the person's account at `spec`, here and in
    /// every process sharing the store.
    async fn exclusively<T>(
        &self,
        owner: &OwnerId,
        spec: &'static PlatformSpec,
        work: impl std::future::Future<Output = Result<T, PlatformError>>,
    ) -> Result<T, PlatformError> {
        let lease = format!("platform:{}:{}", owner.as_str(), spec.id);
        self.0
            .locks
            .run(
                &(owner.clone(), spec.id),
                self.0.leases.hold(&lease, PATIENCE, OnLoss::Finish, work),
            )
            .await
    }

    async fn refreshed(
        &self,
        owner: &OwnerId,
        spec: &'static PlatformSpec,
        oauth: &OAuthPlatform,
    ) -> Result<Connection, PlatformError> {
        let Some(account) = self.0.store.platform_account(owner, spec.id).await? else {
            return Ok(Connection::NotConnected);
        };
        let now = self.0.clock.now();
        if account.tokens.usable_at(now + REFRESH_AHEAD) {
            return Ok(authenticated(&account.tokens));
        }
        let Some(refresh_token) = &account.tokens.refresh_token else {
            return Ok(Connection::Expired {
                reason: format!(
                    "the {} sign-in expired and cannot be renewed: sign in again",
                    spec.name
                ),
            });
        };
        let read_at = account.refreshed_at;
        match oauth
            .refresh(refresh_token, &account.tokens.scopes, now)
            .await
        {
            Ok(tokens) => {
                let refreshed = PlatformAccount {
                    tokens,
                    refreshed_at: now,
                    ..account
                };
                if !self
                    .0
                    .store
                    .save_platform_account(&refreshed, Some(read_at))
                    .await?
                {
                    // Another server refreshed or signed out meanwhile: its word stands.
                    return self.current(owner, spec).await;
                }
                tracing::info!(platform = spec.id, "tokens refreshed");
                Ok(authenticated(&refreshed.tokens))
            }
            // The platform no longer honours the sign-in (revoked, or too old): forget it.
            Err(OAuthError::Refused { error, .. }) if error == "invalid_grant" => {
                if !self
                    .0
                    .store
                    .delete_platform_account(owner, spec.id, Some(read_at))
                    .await?
                {
                    return self.current(owner, spec).await;
                }
                self.audit(owner, "platform.expired", spec, "refresh refused")
                    .await;
                Ok(Connection::Expired {
                    reason: format!(
                        "{} no longer accepts the sign-in (it was revoked or is too old): sign in again",
                        spec.name
                    ),
                })
            }
            // Unreachable or another refusal: the tokens may still be good later.
            Err(error) if account.tokens.usable_at(now) => {
                tracing::warn!(platform = spec.id, %error, "refresh failed; the access token still works");
                Ok(authenticated(&account.tokens))
            }
            Err(error) => Err(error.into()),
        }
    }

    /// The account as another writer left it, without refreshing again.
    async fn current(
        &self,
        owner: &OwnerId,
        spec: &PlatformSpec,
    ) -> Result<Connection, PlatformError> {
        Ok(match self.0.store.platform_account(owner, spec.id).await? {
            Some(account) => authenticated(&account.tokens),
            None => Connection::NotConnected,
        })
    }

    /// Signs the person out: revokes the tokens where the platform can, forgets them, and
    /// closes any sign-in still open for the platform (its link would connect them again).
    pub async fn logout(
        &self,
        owner: &OwnerId,
        platform: &str,
    ) -> Result<SignedOut, PlatformError> {
        let (spec, oauth) = self.personal(platform)?;
        self.0.logins.close(owner, spec.id);
        self.exclusively(owner, spec, self.sign_out(owner, spec, oauth))
            .await
    }

    async fn sign_out(
        &self,
        owner: &OwnerId,
        spec: &'static PlatformSpec,
        oauth: &OAuthPlatform,
    ) -> Result<SignedOut, PlatformError> {
        let Some(account) = self.0.store.platform_account(owner, spec.id).await? else {
            return Ok(SignedOut {
                was_connected: false,
                revoked: false,
                revoke_error: None,
            });
        };
        // Revoking the refresh token ends the whole grant at most platforms (RFC 7009 §2.1);
        // the access token too, for those where it does not.
        let mut revoked = Ok(false);
        let tokens = [
            account
                .tokens
                .refresh_token
                .as_ref()
                .map(|t| (t, "refresh_token")),
            Some((&account.tokens.access_token, "access_token")),
        ];
        for (token, hint) in tokens.into_iter().flatten() {
            let result = oauth.revoke(token, hint).await;
            revoked = match (revoked, result) {
                (Err(error), _) | (_, Err(error)) => Err(error),
                (Ok(before), Ok(now)) => Ok(before || now),
            };
        }
        self.0
            .store
            .delete_platform_account(owner, spec.id, None)
            .await?;
        self.audit(owner, "platform.disconnected", spec, "").await;
        Ok(match revoked {
            Ok(revoked) => SignedOut {
                was_connected: true,
                revoked,
                revoke_error: None,
            },
            Err(error) => SignedOut {
                was_connected: true,
                revoked: false,
                revoke_error: Some(error.to_string()),
            },
        })
    }

    /// The sign-ins the person must make before items from `providers` can be booked: for
    /// each configured personal platform those providers use and the person is not signed in
    /// to, a sign-in opened now.
    pub async fn needed_for(
        &self,
        owner: &OwnerId,
        providers: &BTreeSet<String>,
    ) -> Result<Vec<LoginNeeded>, PlatformError> {
        let mut needed = Vec::new();
        for spec in PLATFORMS.iter().filter(|spec| self.configured(spec.id)) {
            if !spec.used_by.iter().any(|used| providers.contains(*used)) {
                continue;
            }
            if let Connection::Authenticated { .. } = self.connection(owner, spec.id).await? {
                continue;
            }
            needed.push(LoginNeeded {
                spec,
                login: self.login(owner, spec.id)?,
            });
        }
        Ok(needed)
    }

    fn personal(
        &self,
        platform: &str,
    ) -> Result<(&'static PlatformSpec, &OAuthPlatform), PlatformError> {
        let spec = registry::platform(platform).ok_or_else(|| PlatformError::Unknown {
            given: platform.to_string(),
        })?;
        if !spec.personal() {
            return Err(PlatformError::NotPersonal {
                name: spec.name,
                configured_by: spec.configured_by,
            });
        }
        if let Some(reason) = spec.unavailable {
            return Err(PlatformError::Unavailable {
                name: spec.name,
                reason,
            });
        }
        let oauth = self
            .0
            .oauth
            .get(spec.id)
            .ok_or(PlatformError::NotConfigured {
                name: spec.name,
                configured_by: spec.configured_by,
            })?;
        Ok((spec, oauth))
    }

    /// Audit entries never hold a token: only the platform and the scopes.
    async fn audit(&self, owner: &OwnerId, action: &str, spec: &PlatformSpec, detail: &str) {
        if let Err(error) = self
            .0
            .store
            .record_audit(owner, action, spec.id, detail)
            .await
        {
            tracing::error!(%error, action, "could not write the audit entry");
        }
    }
}

fn authenticated(tokens: &PlatformTokens) -> Connection {
    Connection::Authenticated {
        scopes: tokens.scopes.clone(),
        expires_at: tokens.expires_at,
    }
}

/// What the platform sent back to the callback (RFC 6749 §4.1.2).
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct CallbackAnswer {
    #[serde(default)]
    pub code: Option<String>,
    pub state: String,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub error_description: Option<String>,
}

/// Why a callback did not sign the person in; shown on the page.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallbackError {
    #[error(transparent)]
    Refused(#[from] CallbackRefusal),
    #[error("{0}")]
    Failed(String),
}
