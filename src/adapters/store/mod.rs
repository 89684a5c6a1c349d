//! Order stores.

mod sealed;
pub mod sqlite;
