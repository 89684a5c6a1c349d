//! The agency's card, which a hotel provider charges or holds for a booking (Amadeus guarantees
//! its hotel orders with it, Booking.com charges `pay_online_now` stays to it). Itinera collects
//! the traveller's money through its payment provider and never sees their card, so the card
//! here is the agency's own (in sandbox mode, a test card). One type for every provider, so the
//! checks and the hiding of the number are written once.

/// A card detail that cannot be sent as given. Each names the variable to fix: `prefix` is the
/// provider's, e.g. `ITINERA_AMADEUS_CARD`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CardError {
    #[error("{0}_NUMBER must be 12 to 19 digits")]
    Number(&'static str),
    #[error(
        "{0}_NUMBER is not a Visa, Mastercard or American Express number, the cards Itinera can name to hotel providers"
    )]
    Brand(&'static str),
    #[error("{0}_EXPIRY must be YYYY-MM, e.g. 2027-08")]
    Expiry(&'static str),
    #[error("{0}_CVC must be 3 or 4 digits")]
    SecurityCode(&'static str),
    #[error("{0}_HOLDER must be the name on the card")]
    Holder(&'static str),
}

/// The card's brand, by its number's leading digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardBrand {
    Visa,
    Mastercard,
    AmericanExpress,
}

/// The agency's card. `Debug` shows its last four digits only.
#[derive(Clone, PartialEq, Eq)]
pub struct AgencyCard {
    number: String,
    brand: CardBrand,
    expiry: String,
    holder: String,
    security_code: Option<String>,
}

impl std::fmt::Debug for AgencyCard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let last_four = self.number.get(self.number.len().saturating_sub(4)..);
        f.debug_struct("AgencyCard")
            .field("brand", &self.brand)
            .field("last_four", &last_four.unwrap_or_default())
            .finish_non_exhaustive()
    }
}

impl AgencyCard {
    /// The card as configured under the variables starting with `prefix`
    /// (`ITINERA_AMADEUS_CARD`), which its errors name.
    pub fn parse(
        prefix: &'static str,
        number: &str,
        expiry: &str,
        holder: &str,
        security_code: Option<&str>,
    ) -> Result<AgencyCard, CardError> {
        let number: String = number.chars().filter(|c| !c.is_whitespace()).collect();
        if !(12..=19).contains(&number.len()) || !number.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CardError::Number(prefix));
        }
        let valid_expiry = chrono::NaiveDate::parse_from_str(&format!("{expiry}-01"), "%Y-%m-%d")
            .is_ok()
            && expiry.len() == 7;
        if !valid_expiry {
            return Err(CardError::Expiry(prefix));
        }
        if let Some(code) = security_code
            && (!(3..=4).contains(&code.len()) || !code.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(CardError::SecurityCode(prefix));
        }
        let holder = holder.trim();
        if holder.is_empty() || holder.len() > 64 {
            return Err(CardError::Holder(prefix));
        }
        Ok(AgencyCard {
            brand: brand(&number).ok_or(CardError::Brand(prefix))?,
            number,
            expiry: expiry.to_string(),
            holder: holder.to_string(),
            security_code: security_code.map(str::to_string),
        })
    }

    pub fn number(&self) -> &str {
        &self.number
    }

    pub fn brand(&self) -> CardBrand {
        self.brand
    }

    /// `YYYY-MM`.
    pub fn expiry(&self) -> &str {
        &self.expiry
    }

    pub fn holder(&self) -> &str {
        &self.holder
    }

    pub fn security_code(&self) -> Option<&str> {
        self.security_code.as_deref()
    }
}

/// The brand, by the card number's leading digits (its issuer identification number).
fn brand(number: &str) -> Option<CardBrand> {
    let two: u32 = number.get(..2)?.parse().ok()?;
    let four: u32 = number.get(..4)?.parse().ok()?;
    match () {
        _ if number.starts_with('4') => Some(CardBrand::Visa),
        _ if (51..=55).contains(&two) || (2221..=2720).contains(&four) => {
            Some(CardBrand::Mastercard)
        }
        _ if two == 34 || two == 37 => Some(CardBrand::AmericanExpress),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AMADEUS: &str = "ITINERA_AMADEUS_CARD";

    #[test]
    fn the_brand_comes_from_the_number_and_debug_hides_it() {
        let visa = AgencyCard::parse(
            AMADEUS,
            "4111 1111 1111 1111",
            "2027-08",
            "ADA TRAVEL",
            Some("123"),
        )
        .unwrap();
        assert_eq!(visa.brand(), CardBrand::Visa);
        assert_eq!(visa.number(), "4111111111111111");
        let shown = format!("{visa:?}");
        assert!(shown.contains("1111") && !shown.contains("4111111111111111"));
        let mastercard =
            AgencyCard::parse(AMADEUS, "2221000000000009", "2027-08", "A", None).unwrap();
        assert_eq!(mastercard.brand(), CardBrand::Mastercard);
        let amex = AgencyCard::parse(AMADEUS, "378282246310005", "2027-08", "A", None).unwrap();
        assert_eq!(amex.brand(), CardBrand::AmericanExpress);
    }

    #[test]
    fn a_card_that_cannot_be_sent_is_refused_with_the_variable_to_fix() {
        let parse = |number, expiry, holder, code| {
            AgencyCard::parse("ITINERA_BOOKINGCOM_CARD", number, expiry, holder, code)
        };
        let brand = parse("6011111111111117", "2027-08", "A", None);
        assert_eq!(brand, Err(CardError::Brand("ITINERA_BOOKINGCOM_CARD")));
        assert!(
            brand
                .unwrap_err()
                .to_string()
                .starts_with("ITINERA_BOOKINGCOM_CARD_NUMBER ")
        );
        assert!(matches!(
            parse("4111", "2027-08", "A", None),
            Err(CardError::Number(_))
        ));
        assert!(matches!(
            parse("4111111111111111", "08/27", "A", None),
            Err(CardError::Expiry(_))
        ));
        let expiry = parse("4111111111111111", "2027-13", "A", None).unwrap_err();
        assert_eq!(
            expiry.to_string(),
            "ITINERA_BOOKINGCOM_CARD_EXPIRY must be YYYY-MM, e.g. 2027-08"
        );
        assert!(matches!(
            parse("4111111111111111", "2027-08", "A", Some("12a")),
            Err(CardError::SecurityCode(_))
        ));
        assert!(matches!(
            parse("4111111111111111", "2027-08", " ", None),
            Err(CardError::Holder(_))
        ));
    }
}
