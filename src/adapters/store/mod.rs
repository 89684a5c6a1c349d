//! Order stores.

mod audit_chain;
mod platform_accounts;
mod pool;
mod rows;
mod saved_methods;
mod sealed;
pub mod sqlite;
