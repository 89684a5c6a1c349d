//! Itinera: an MCP server that books and pays for a trip a person approved.
//!
//! # Layout
//! - [`domain`]: pure types and rules (money, ids, plans, orders and their state machine, digests).
pub mod adapters;
pub mod domain;
pub mod ports;
