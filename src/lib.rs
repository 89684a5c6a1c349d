//! Itinera: an MCP server that books and pays for a trip a person approved.
//!
//! # Layout
//! - [`domain`]: pure types and rules — money, ids, plans, dependency phases, orders and their
//!   state machine, approvals and digests, input screening, flight scoring, personal-data checks
//!   and masks.
//! - [`ports`]: the traits the core needs (booking and payment providers, store, clock).
//! - [`adapters`]: their implementations — the sandbox providers, the real providers over HTTP,
//!   and the order store (SQLite or PostgreSQL).
//! - [`providers`]: the configured providers, by name and kind.
//! - [`planning`]: searching and assembling plans. [`approval`]: asking the person.
//!   [`spending`]: the person's spending policy.
//! - [`payment_router`]: choosing who takes a payment. [`payment_split`]: one payment made of
//!   several methods' holds.
//! - [`orchestrator`]: executing an approved plan as a saga, and cancelling.
//! - [`mcp`]: the MCP tools. [`config`] and [`app`]: configuration and wiring.
//! - [`doctor`]: what needs an operator. [`trail`]: reading and verifying the audit log.
//! - [`saved_methods`]: payment methods the person saves on a provider's page.
//! - [`crypto`]: the master key and the sealing of personal data at rest.
//!
//! Outside tests nothing may `unwrap()` or `expect()`: every failure a tool input can reach is an
//! error the caller reads, never a panic. The lints below hold the line.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod adapters;
pub mod app;
pub mod approval;
pub mod approval_page;
pub mod background;
pub mod config;
pub mod crypto;
pub mod doctor;
pub mod domain;
pub mod http;
pub mod keyed_lock;
pub mod leases;
pub mod mcp;
pub mod metrics;
pub mod notify;
pub mod orchestrator;
pub mod payment_router;
pub mod payment_split;
pub mod planning;
pub mod platforms;
pub mod ports;
pub mod providers;
pub mod saved_methods;
pub mod spending;
pub mod trail;
pub mod webhooks;
