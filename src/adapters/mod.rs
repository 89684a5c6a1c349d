//! Implementations of the ports: the sandbox providers, real providers over HTTP, and the stores.

pub mod booking;
pub mod http;
pub mod notify;
pub mod payments;
pub mod sandbox;
pub mod store;
