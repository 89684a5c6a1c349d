//! Real payment providers over HTTP, each in its own folder.

pub mod antom;
pub mod paypal;
pub mod stripe;
