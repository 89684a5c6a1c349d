//! The channels order notices are delivered through: signed webhooks and e-mail over SMTP.
//! SMS and push reach people through a webhook subscriber that relays them (see the README).

pub mod email;
pub mod webhook;

pub use email::{EmailNotifier, EmailSettings};
pub use webhook::{SIGNATURE_HEADER, WebhookNotifier, sign};
