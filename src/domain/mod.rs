//! Pure types and rules: no I/O, no async, no provider or database types.

pub mod approval;
pub mod audit;
pub mod dag;
pub mod idempotency;
pub mod ids;
pub mod metrics;
pub mod money;
pub mod notice;
pub mod offer;
pub mod order;
pub mod personal;
pub mod places;
pub mod plan;
pub mod platform;
pub mod policy;
pub mod risk;
pub mod saga;
pub mod saved_method;
pub mod scoring;
pub mod screening;
pub mod split;

#[cfg(test)]
pub(crate) mod fixtures;
