//! The card Amadeus hotel bookings are guaranteed with. Amadeus takes a card on every booking;
//! Itinera collects the traveller's money through its payment provider and never sees their
//! card, so the card here is the agency's own (in sandbox mode, a test card).

use super::wire::PaymentCardInfo;

/// A card detail that cannot be sent to Amadeus as given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CardError {
    #[error("ITINERA_AMADEUS_CARD_NUMBER must be 12 to 19 digits")]
    Number,
    #[error(
        "ITINERA_AMADEUS_CARD_NUMBER is not a Visa, Mastercard or American Express number, the cards Itinera can name to Amadeus"
    )]
    Brand,
    #[error("ITINERA_AMADEUS_CARD_EXPIRY must be YYYY-MM, e.g. 2027-08")]
    Expiry,
    #[error("ITINERA_AMADEUS_CARD_CVC must be 3 or 4 digits")]
    SecurityCode,
    #[error("ITINERA_AMADEUS_CARD_HOLDER must be the name on the card")]
    Holder,
}

/// The agency's card. `Debug` shows its last four digits only.
#[derive(Clone, PartialEq, Eq)]
pub struct AgencyCard {
    number: String,
    /// Amadeus's two-letter vendor code: `VI`, `CA` (Mastercard) or `AX`.
    vendor_code: &'static str,
    expiry: String,
    holder: String,
    security_code: Option<String>,
}

impl std::fmt::Debug for AgencyCard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let last_four = self.number.get(self.number.len().saturating_sub(4)..);
        f.debug_struct("AgencyCard")
            .field("vendor_code", &self.vendor_code)
            .field("last_four", &last_four.unwrap_or_default())
            .finish_non_exhaustive()
    }
}

impl AgencyCard {
    pub fn parse(
        number: &str,
        expiry: &str,
        holder: &str,
        security_code: Option<&str>,
    ) -> Result<AgencyCard, CardError> {
        let number: String = number.chars().filter(|c| !c.is_whitespace()).collect();
        if !(12..=19).contains(&number.len()) || !number.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CardError::Number);
        }
        let valid_expiry = chrono::NaiveDate::parse_from_str(&format!("{expiry}-01"), "%Y-%m-%d")
            .is_ok()
            && expiry.len() == 7;
        if !valid_expiry {
            return Err(CardError::Expiry);
        }
        if let Some(code) = security_code
            && (!(3..=4).contains(&code.len()) || !code.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(CardError::SecurityCode);
        }
        let holder = holder.trim();
        if holder.is_empty() || holder.len() > 64 {
            return Err(CardError::Holder);
        }
        Ok(AgencyCard {
            vendor_code: vendor_code(&number).ok_or(CardError::Brand)?,
            number,
            expiry: expiry.to_string(),
            holder: holder.to_string(),
            security_code: security_code.map(str::to_string),
        })
    }

    pub(super) fn wire(&self) -> PaymentCardInfo {
        PaymentCardInfo {
            vendor_code: self.vendor_code,
            card_number: self.number.clone(),
            expiry_date: self.expiry.clone(),
            holder_name: self.holder.clone(),
            security_code: self.security_code.clone(),
        }
    }
}

/// The brand, by the card number's leading digits (its issuer identification number).
fn vendor_code(number: &str) -> Option<&'static str> {
    let two: u32 = number.get(..2)?.parse().ok()?;
    let four: u32 = number.get(..4)?.parse().ok()?;
    match () {
        _ if number.starts_with('4') => Some("VI"),
        _ if (51..=55).contains(&two) || (2221..=2720).contains(&four) => Some("CA"),
        _ if two == 34 || two == 37 => Some("AX"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_brand_comes_from_the_number_and_debug_hides_it() {
        let visa =
            AgencyCard::parse("4111 1111 1111 1111", "2027-08", "ADA TRAVEL", Some("123")).unwrap();
        assert_eq!(visa.wire().vendor_code, "VI");
        assert_eq!(visa.wire().card_number, "4111111111111111");
        let shown = format!("{visa:?}");
        assert!(shown.contains("1111") && !shown.contains("4111111111111111"));
        let mastercard = AgencyCard::parse("2221000000000009", "2027-08", "A", None).unwrap();
        assert_eq!(mastercard.wire().vendor_code, "CA");
        let amex = AgencyCard::parse("378282246310005", "2027-08", "A", None).unwrap();
        assert_eq!(amex.wire().vendor_code, "AX");
    }

    #[test]
    fn a_card_that_cannot_be_sent_is_refused_with_the_variable_to_fix() {
        assert_eq!(
            AgencyCard::parse("6011111111111117", "2027-08", "A", None),
            Err(CardError::Brand)
        );
        assert_eq!(
            AgencyCard::parse("4111", "2027-08", "A", None),
            Err(CardError::Number)
        );
        assert_eq!(
            AgencyCard::parse("4111111111111111", "08/27", "A", None),
            Err(CardError::Expiry)
        );
        assert_eq!(
            AgencyCard::parse("4111111111111111", "2027-13", "A", None),
            Err(CardError::Expiry)
        );
        assert_eq!(
            AgencyCard::parse("4111111111111111", "2027-08", "A", Some("12a")),
            Err(CardError::SecurityCode)
        );
        assert_eq!(
            AgencyCard::parse("4111111111111111", "2027-08", " ", None),
            Err(CardError::Holder)
        );
    }
}
