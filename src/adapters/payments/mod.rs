//! Real payment providers over HTTP, each in its own folder.

pub mod antom;
pub mod paypal;
mod rsa_keys;
pub mod stripe;
pub mod wechat;
