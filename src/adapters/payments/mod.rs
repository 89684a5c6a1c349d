//! Real payment providers over HTTP, each in its own folder.

pub mod paypal;
pub mod stripe;
