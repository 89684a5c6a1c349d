//! Order stores.

mod platform_accounts;
mod saved_methods;
mod sealed;
pub mod sqlite;
