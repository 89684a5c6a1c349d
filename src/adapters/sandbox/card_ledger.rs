//! The sandbox's books of its card page: pages opened, and cards saved from them. A page saves at
//! most one card; choosing again on it changes nothing, as on a real provider's page.

use chrono::{DateTime, Utc};
use sqlx::{Row, SqliteConnection};

use super::ledger::{LedgerError, SandboxLedger};

/// Where saved sandbox tokens start; the rest is random.
pub const SAVED_PREFIX: &str = "pm_sandbox_saved_";

/// A card saved on the sandbox's page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedCard {
    pub token: String,
    /// The magic token whose behaviour it has (`pm_sandbox_visa`, `pm_sandbox_declined`, …).
    pub behaves_as: String,
    pub label: String,
}

/// A card page as the sandbox holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardSetup {
    pub id: String,
    /// `open`, `complete` or `cancelled`.
    pub status: String,
    pub expires_at: DateTime<Utc>,
    pub card: Option<SavedCard>,
}

impl SandboxLedger {
    /// Opens the page `id`, or finds it opened already (a request sent again).
    pub(super) async fn open_card_setup(
        &self,
        id: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<CardSetup, LedgerError> {
        sqlx::query(
            "INSERT INTO card_setups (id, status, created_at, expires_at) VALUES (?, 'open', ?, ?) \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(id)
        .bind(now)
        .bind(expires_at)
        .execute(self.pool())
        .await?;
        find_setup(&mut *self.pool().acquire().await?, id)
            .await?
            .ok_or_else(|| LedgerError::Database(format!("card page {id} vanished")))
    }

    pub(super) async fn card_setup(&self, id: &str) -> Result<Option<CardSetup>, LedgerError> {
        find_setup(&mut *self.pool().acquire().await?, id).await
    }

    /// The person chose a test card on an open page: a fresh token that behaves like it.
    /// On a page that is no longer open nothing changes.
    pub(super) async fn choose_card(
        &self,
        id: &str,
        behaves_as: &str,
        label: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<CardSetup>, LedgerError> {
        let mut tx = self.begin().await?;
        let Some(setup) = find_setup(&mut tx, id).await? else {
            return Ok(None);
        };
        if setup.status != "open" || now > setup.expires_at {
            return Ok(Some(setup));
        }
        let token = format!("{SAVED_PREFIX}{}", uuid::Uuid::new_v4().simple());
        sqlx::query(
            "INSERT INTO saved_cards (token, behaves_as, label, setup_id, created_at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(&token)
        .bind(behaves_as)
        .bind(label)
        .bind(id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE card_setups SET status = 'complete' WHERE id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let setup = find_setup(&mut tx, id).await?;
        tx.commit().await?;
        Ok(setup)
    }

    /// The person cancelled on an open page.
    pub(super) async fn cancel_card_setup(
        &self,
        id: &str,
    ) -> Result<Option<CardSetup>, LedgerError> {
        sqlx::query("UPDATE card_setups SET status = 'cancelled' WHERE id = ? AND status = 'open'")
            .bind(id)
            .execute(self.pool())
            .await?;
        find_setup(&mut *self.pool().acquire().await?, id).await
    }

    /// A card saved on the page, by its token.
    pub async fn saved_card(&self, token: &str) -> Result<Option<SavedCard>, LedgerError> {
        sqlx::query("SELECT * FROM saved_cards WHERE token = ?")
            .bind(token)
            .fetch_optional(self.pool())
            .await?
            .map(|row| card_from_row(&row))
            .transpose()
    }
}

/// The page with its card: two reads on one connection (the pool's, or a write transaction's).
async fn find_setup(db: &mut SqliteConnection, id: &str) -> Result<Option<CardSetup>, LedgerError> {
    let Some(row) = sqlx::query("SELECT * FROM card_setups WHERE id = ?")
        .bind(id)
        .fetch_optional(&mut *db)
        .await?
    else {
        return Ok(None);
    };
    let card = sqlx::query("SELECT * FROM saved_cards WHERE setup_id = ?")
        .bind(id)
        .fetch_optional(&mut *db)
        .await?
        .map(|row| card_from_row(&row))
        .transpose()?;
    Ok(Some(CardSetup {
        id: row.try_get("id")?,
        status: row.try_get("status")?,
        expires_at: row.try_get("expires_at")?,
        card,
    }))
}

fn card_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<SavedCard, LedgerError> {
    Ok(SavedCard {
        token: row.try_get("token")?,
        behaves_as: row.try_get("behaves_as")?,
        label: row.try_get("label")?,
    })
}
