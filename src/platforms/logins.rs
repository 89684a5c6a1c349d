//! Sign-ins under way. They live in memory only: the PKCE verifier is a secret that is never
//! written anywhere, and a sign-in ends with the server that listens for its callback anyway.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use crate::domain::ids::{LoginId, OwnerId};

/// How a sign-in stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LoginStatus {
    /// The person has not come back from the platform yet.
    Pending,
    /// Signed in: the tokens are in the vault.
    Authenticated,
    /// The hour to sign in passed.
    Expired,
    /// The person declined, or the platform refused the sign-in.
    Failed,
}

/// A sign-in as the person and the model may see it: never its state or verifier.
#[derive(Debug, Clone)]
pub struct LoginState {
    pub id: LoginId,
    pub platform: &'static str,
    pub url: String,
    pub status: LoginStatus,
    /// Why it failed or expired.
    pub reason: Option<String>,
    pub expires_at: DateTime<Utc>,
}

struct Login {
    owner: OwnerId,
    /// The `state` the platform must send back.
    state: String,
    /// Taken by the one callback allowed to use it.
    verifier: Option<String>,
    view: LoginState,
}

/// What a callback may go on with: the sign-in it answers and its verifier.
pub struct Answering {
    pub id: LoginId,
    pub owner: OwnerId,
    pub platform: &'static str,
    pub verifier: String,
}

/// Why a callback is turned away.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallbackRefusal {
    #[error(
        "this sign-in link is not one Itinera opened, or it was already used: ask the assistant to start the sign-in again"
    )]
    UnknownState,
    #[error(
        "this sign-in took longer than an hour and expired: ask the assistant to start it again"
    )]
    Expired,
}

#[derive(Default)]
pub struct Logins(Mutex<HashMap<LoginId, Login>>);

impl Logins {
    pub fn open(&self, owner: OwnerId, state: String, verifier: String, view: LoginState) {
        let mut logins = self.lock();
        // Sign-ins from a day ago are of no use to anyone.
        let stale = view.expires_at - chrono::Duration::days(1);
        logins.retain(|_, login| login.view.expires_at > stale);
        logins.insert(
            view.id.clone(),
            Login {
                owner,
                state,
                verifier: Some(verifier),
                view,
            },
        );
    }

    /// The person's sign-in, expired if its hour has passed.
    pub fn view(&self, owner: &OwnerId, id: &LoginId, now: DateTime<Utc>) -> Option<LoginState> {
        let mut logins = self.lock();
        let login = logins.get_mut(id).filter(|login| &login.owner == owner)?;
        expire(login, now);
        Some(login.view.clone())
    }

    /// The pending sign-in whose state the callback carries, its verifier taken so that no
    /// second callback can use it.
    pub fn answer(&self, state: &str, now: DateTime<Utc>) -> Result<Answering, CallbackRefusal> {
        let mut logins = self.lock();
        let login = logins
            .values_mut()
            .find(|login| login.state == state)
            .ok_or(CallbackRefusal::UnknownState)?;
        expire(login, now);
        if login.view.status == LoginStatus::Expired {
            return Err(CallbackRefusal::Expired);
        }
        let verifier = login.verifier.take().ok_or(CallbackRefusal::UnknownState)?;
        Ok(Answering {
            id: login.view.id.clone(),
            owner: login.owner.clone(),
            platform: login.view.platform,
            verifier,
        })
    }

    /// Ends the person's open sign-ins to `platform` (they signed out): their links no
    /// longer connect anyone.
    pub fn close(&self, owner: &OwnerId, platform: &str) {
        for login in self.lock().values_mut() {
            if &login.owner == owner
                && login.view.platform == platform
                && login.view.status == LoginStatus::Pending
            {
                login.verifier = None;
                login.view.status = LoginStatus::Failed;
                login.view.reason = Some("the person signed out before finishing it".into());
            }
        }
    }

    /// Records how the sign-in ended.
    pub fn settle(&self, id: &LoginId, status: LoginStatus, reason: Option<String>) {
        if let Some(login) = self.lock().get_mut(id) {
            login.view.status = status;
            login.view.reason = reason;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<LoginId, Login>> {
        // A panic while holding the lock leaves plain data behind: keep using it.
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn expire(login: &mut Login, now: DateTime<Utc>) {
    if login.view.status == LoginStatus::Pending && now >= login.view.expires_at {
        login.view.status = LoginStatus::Expired;
        login.view.reason = Some("the hour to sign in passed: call login_to_platform again".into());
        login.verifier = None;
    }
}
