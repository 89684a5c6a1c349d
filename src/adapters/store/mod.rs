//! Order stores.

pub mod sqlite;
