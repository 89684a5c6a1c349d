//! Order stores.

mod saved_methods;
mod sealed;
pub mod sqlite;
