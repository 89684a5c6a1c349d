//! The order store: plans, approvals, orders, the saga log, the audit chain and the token vault,
//! on SQLite (embedded) or PostgreSQL (shared by several instances).

mod audit_chain;
mod backend;
mod hold;
mod leases;
mod metrics;
mod outbox;
mod platform_accounts;
mod pool;
mod rows;
mod saved_methods;
mod sealed;
mod sql;
mod timestamp;

pub use backend::Backend;
pub use pool::open_pool;
pub use sql::{Resealed, SqlStore};
