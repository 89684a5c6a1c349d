//! Implementations of the ports: the sandbox providers and the stores.

pub mod sandbox;
pub mod store;
