//! The order store: plans, approvals, orders, the saga log, the audit chain and the token vault,
//! on SQLite (embedded) or PostgreSQL (shared by several instances).
//!
//! A bound LIMIT is written `LIMIT CAST($n AS INTEGER)`. SQLite (3.51, the one bundled here)
//! plans a bare `LIMIT $n` for the value bound, so binding the statement again throws its plan
//! away and parses it anew on every run (measured: eleven re-preparations in each four-item plan
//! execution); through a CAST the limit is read when the statement runs.

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
