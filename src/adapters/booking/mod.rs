//! Booking providers reached over HTTP, one folder each (trait impl, wire types, mapping).

pub mod duffel;
pub mod viator;
