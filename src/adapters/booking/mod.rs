//! Booking providers reached over HTTP, one folder each (trait impl, wire types, mapping).

mod adult_party;
pub mod agency_card;
pub mod amadeus;
mod approved_price;
pub mod avis;
pub mod booking_com;
mod car_driver;
mod client_token;
pub mod duffel;
pub mod duffel_cars;
pub mod duffel_stays;
pub mod getyourguide;
mod no_lookup;
mod our_reference;
mod priced_offers;
mod refusal;
pub mod viator;
