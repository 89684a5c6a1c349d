//! The token vault's table: the person's platform accounts, their tokens sealed. Access and
//! refresh token go in one envelope bound to the person and the platform; the scopes and the
//! expiry stay readable so an operator can see what a sign-in allows without the key.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::AnyPool;
use sqlx::any::AnyRow;

use crate::crypto::Keyring;
use crate::domain::ids::OwnerId;
use crate::domain::platform::{PlatformAccount, PlatformTokens, Token};
use crate::ports::store::StoreError;

use super::rows::{corrupt, db, get, time, time_opt};
use super::timestamp::Timestamp;

/// What the envelope holds.
#[derive(Serialize, Deserialize)]
struct Sealed {
    access_token: String,
    refresh_token: Option<String>,
}

/// Saves the account: a sign-in replaces the person's earlier one; a refresh (`replacing`: when
/// the account read was refreshed) is written only over that same account.
pub(super) async fn save(
    pool: &AnyPool,
    keyring: &Keyring,
    account: &PlatformAccount,
    replacing: Option<DateTime<Utc>>,
) -> Result<bool, StoreError> {
    let context = context(&account.owner, &account.platform);
    let sealed = serde_json::to_vec(&Sealed {
        access_token: account.tokens.access_token.expose().to_string(),
        refresh_token: account
            .tokens
            .refresh_token
            .as_ref()
            .map(|token| token.expose().to_string()),
    })
    .map_err(|e| corrupt("platform tokens", e))?;
    let envelope = keyring
        .seal(&context, &sealed)
        .map_err(|source| StoreError::Sealed {
            what: format!("the {} tokens", account.platform),
            source,
        })?;
    let scopes = account.tokens.scopes.join(" ");
    let written = match replacing {
        None => sqlx::query(
            "INSERT INTO platform_accounts (owner, platform, tokens, scopes, expires_at, connected_at, refreshed_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (owner, platform) DO UPDATE SET tokens = excluded.tokens, scopes = excluded.scopes, \
             expires_at = excluded.expires_at, connected_at = excluded.connected_at, refreshed_at = excluded.refreshed_at",
        )
        .bind(account.owner.as_str())
        .bind(&account.platform)
        .bind(envelope)
        .bind(scopes)
        .bind(account.tokens.expires_at.map(Timestamp))
        .bind(Timestamp(account.connected_at))
        .bind(Timestamp(account.refreshed_at)),
        Some(read) => sqlx::query(
            "UPDATE platform_accounts SET tokens = $1, scopes = $2, expires_at = $3, refreshed_at = $4 \
             WHERE owner = $5 AND platform = $6 AND refreshed_at = $7",
        )
        .bind(envelope)
        .bind(scopes)
        .bind(account.tokens.expires_at.map(Timestamp))
        .bind(Timestamp(account.refreshed_at))
        .bind(account.owner.as_str())
        .bind(&account.platform)
        .bind(Timestamp(read)),
    }
    .execute(pool)
    .await
    .map_err(db)?;
    Ok(written.rows_affected() > 0)
}

pub(super) async fn find(
    pool: &AnyPool,
    keyring: &Keyring,
    owner: &OwnerId,
    platform: &str,
) -> Result<Option<PlatformAccount>, StoreError> {
    sqlx::query("SELECT * FROM platform_accounts WHERE owner = $1 AND platform = $2")
        .bind(owner.as_str())
        .bind(platform)
        .fetch_optional(pool)
        .await
        .map_err(db)?
        .map(|row| account_from_row(keyring, &row))
        .transpose()
}

/// Forgets the account (only if still the one refreshed at `only_if_refreshed_at`, if given);
/// whether one was deleted.
pub(super) async fn delete(
    pool: &AnyPool,
    owner: &OwnerId,
    platform: &str,
    only_if_refreshed_at: Option<DateTime<Utc>>,
) -> Result<bool, StoreError> {
    let deleted = match only_if_refreshed_at {
        None => sqlx::query("DELETE FROM platform_accounts WHERE owner = $1 AND platform = $2")
            .bind(owner.as_str())
            .bind(platform),
        Some(at) => sqlx::query(
            "DELETE FROM platform_accounts WHERE owner = $1 AND platform = $2 AND refreshed_at = $3",
        )
        .bind(owner.as_str())
        .bind(platform)
        .bind(Timestamp(at)),
    }
    .execute(pool)
    .await
    .map_err(db)?;
    Ok(deleted.rows_affected() > 0)
}

/// Seals every account's tokens again under the keyring's current key (a key rotation), in
/// the caller's transaction; how many.
pub(super) async fn reseal(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    keyring: &Keyring,
) -> Result<u64, StoreError> {
    let rows: Vec<(String, String, String)> =
        sqlx::query_as("SELECT owner, platform, tokens FROM platform_accounts")
            .fetch_all(&mut **tx)
            .await
            .map_err(db)?;
    for (owner, platform, envelope) in &rows {
        let context = context(&OwnerId::new(owner.clone()), platform);
        let sealed_error = |source| StoreError::Sealed {
            what: format!("the {platform} tokens"),
            source,
        };
        let opened = keyring.open(&context, envelope).map_err(sealed_error)?;
        let resealed = keyring.seal(&context, &opened).map_err(sealed_error)?;
        sqlx::query("UPDATE platform_accounts SET tokens = $1 WHERE owner = $2 AND platform = $3")
            .bind(resealed)
            .bind(owner)
            .bind(platform)
            .execute(&mut **tx)
            .await
            .map_err(db)?;
    }
    Ok(rows.len() as u64)
}

/// Refuses a keyring that cannot open the most recent account's tokens (as a plan's
/// travellers are checked at start): serving with it would fail every sign-in later.
pub(super) async fn check(pool: &AnyPool, keyring: &Keyring) -> Result<(), StoreError> {
    let latest = sqlx::query("SELECT * FROM platform_accounts ORDER BY refreshed_at DESC LIMIT 1")
        .fetch_optional(pool)
        .await
        .map_err(db)?;
    match latest {
        Some(row) => account_from_row(keyring, &row).map(drop),
        None => Ok(()),
    }
}

fn account_from_row(keyring: &Keyring, row: &AnyRow) -> Result<PlatformAccount, StoreError> {
    let owner = OwnerId::new(get::<String>(row, "owner")?);
    let platform: String = get(row, "platform")?;
    let envelope: String = get(row, "tokens")?;
    let opened = keyring
        .open(&context(&owner, &platform), &envelope)
        .map_err(|source| StoreError::Sealed {
            what: format!("the {platform} tokens"),
            source,
        })?;
    let sealed: Sealed =
        serde_json::from_slice(&opened).map_err(|e| corrupt("platform tokens", e))?;
    let scopes: String = get(row, "scopes")?;
    Ok(PlatformAccount {
        tokens: PlatformTokens {
            access_token: Token::new(sealed.access_token),
            refresh_token: sealed.refresh_token.map(Token::new),
            expires_at: time_opt(row, "expires_at")?,
            scopes: scopes.split_whitespace().map(str::to_string).collect(),
        },
        owner,
        platform,
        connected_at: time(row, "connected_at")?,
        refreshed_at: time(row, "refreshed_at")?,
    })
}

fn context(owner: &OwnerId, platform: &str) -> String {
    format!("platform:{}:{platform}:tokens", owner.as_str())
}
