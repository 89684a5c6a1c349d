//! A channel order notices are delivered through: a webhook endpoint, e-mail.

use async_trait::async_trait;

use crate::domain::notice::OrderNotice;

/// Why a delivery attempt did not go through.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotifyError {
    /// Worth trying again later: the receiver is down, timed out or answered with an error.
    #[error("{0}")]
    Failed(String),
    /// Cannot succeed however often it is tried: the receiver refused it for good.
    #[error("{0}")]
    Undeliverable(String),
    /// The channel has nobody to tell about this order (no e-mail address, say).
    #[error("{0}")]
    NobodyToTell(String),
}

#[async_trait]
pub trait Notifier: Send + Sync {
    /// The channel's name as its deliveries record it: `webhook:<url>` or `email`.
    fn channel(&self) -> &str;
    /// Whether this channel is told about the notice.
    fn wants(&self, notice: &OrderNotice) -> bool;
    /// Delivers the notice once. Sending the same notice again must be harmless to the
    /// receiver: it carries the notice's id for that.
    async fn deliver(&self, notice: &OrderNotice) -> Result<(), NotifyError>;
}
