//! Activities are searched for adults (Itinera's search asks no ages): a plan's travellers
//! must be exactly the adults an offer was priced for, the first of them the lead.

use crate::domain::plan::{Traveller, TravellerKind};

/// Why the plan's travellers do not fit an activity offer. No names: the message is logged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PartyError {
    #[error(
        "the offer is for {offered} adult(s) but the plan has {travellers} traveller(s): search again for {travellers}"
    )]
    Count { offered: u8, travellers: usize },
    #[error(
        "traveller {number} is a child, and activities are searched and booked for adults only here: search again without the child, or book directly with {provider}"
    )]
    Child {
        number: usize,
        provider: &'static str,
    },
}

/// The lead traveller, when the travellers are the `adults` the offer is for.
pub fn lead_of<'a>(
    travellers: &'a [Traveller],
    adults: u8,
    provider: &'static str,
) -> Result<&'a Traveller, PartyError> {
    if travellers.len() != usize::from(adults) {
        return Err(PartyError::Count {
            offered: adults,
            travellers: travellers.len(),
        });
    }
    if let Some(index) = travellers
        .iter()
        .position(|traveller| traveller.kind == TravellerKind::Child)
    {
        // Counted from 1 as the person reads the plan.
        return Err(PartyError::Child {
            number: index + 1,
            provider,
        });
    }
    travellers.first().ok_or(PartyError::Count {
        offered: adults,
        travellers: 0,
    })
}
