//! Re-pricing a stay before it is booked: Booking.com's order preview, read against what the
//! person approved (price, cancellation terms, a room paid in full at booking).

use super::*;

impl BookingComHotels {
    /// The offer's product previewed now: its price, terms and order token. A product the
    /// accommodation no longer sells is gone.
    pub(super) async fn preview(&self, offer: &Offer) -> Result<Priced, BookingError> {
        let stay = StayRef::from_offer_id(&offer.id).map_err(|e| unreadable(&e.to_string()))?;
        let currency = offer.price.currency();
        let answer: Result<Envelope<PreviewAnswer>, Failure> = self
            .client
            .post(
                "/orders/preview",
                &Preview {
                    booker: self.booker(),
                    currency: currency.code().to_string(),
                    accommodation: PreviewAccommodationRequest {
                        id: stay.accommodation,
                        checkin: day(stay.checkin),
                        checkout: day(stay.checkout),
                        products: vec![PreviewProductRequest {
                            id: stay.product.clone(),
                            allocation: Allocation {
                                number_of_adults: stay.adults,
                                children: [],
                            },
                        }],
                    },
                },
            )
            .await;
        let previewed = match answer {
            Ok(envelope) => envelope.data,
            // Booking.com's error ids for a product sold out are not documented: a refused
            // preview asks whether the accommodation still sells the product, and says the
            // refusal as given when it does.
            Err(Failure::Refused(refusal)) if refusal.is_of_the_request() => {
                if !self.still_sold(&stay, currency).await? {
                    return Err(no_longer_available(offer));
                }
                return Err(BookingError::Provider(refusal.into()));
            }
            Err(other) => return Err(other.into()),
        };
        let fresh = self.read_preview(&previewed, &stay, offer)?;
        Ok(Priced {
            offer: fresh,
            order_token: previewed.order_token,
        })
    }

    /// Whether the accommodation still sells the stay's product (`/accommodations/availability`
    /// lists only the products it has).
    pub(super) async fn still_sold(
        &self,
        stay: &StayRef,
        currency: Currency,
    ) -> Result<bool, BookingError> {
        let available: Envelope<Available> = self
            .client
            .post(
                "/accommodations/availability",
                &Availability {
                    accommodation: stay.accommodation,
                    booker: self.booker(),
                    checkin: day(stay.checkin),
                    checkout: day(stay.checkout),
                    guests: Guests {
                        number_of_adults: stay.adults,
                        number_of_rooms: 1,
                    },
                    currency: currency.code().to_string(),
                    products: vec![stay.product.clone()],
                },
            )
            .await?;
        Ok(available
            .data
            .products
            .iter()
            .any(|product| product.id == stay.product))
    }

    /// The offer at the preview's price and terms.
    pub(super) fn read_preview(
        &self,
        previewed: &PreviewAnswer,
        stay: &StayRef,
        offer: &Offer,
    ) -> Result<Offer, BookingError> {
        let accommodation = &previewed.accommodation;
        let currency = offer.price.currency();
        if accommodation.currency.accommodation != currency.code() {
            return Err(ProviderError::rejected(
                NAME,
                "currency_changed",
                format!(
                    "the accommodation now prices in {}, not the {currency} of the plan: search again in {}",
                    accommodation.currency.accommodation, accommodation.currency.accommodation
                ),
            )
            .into());
        }
        let Some(product) = accommodation
            .products
            .iter()
            .find(|product| product.id == stay.product)
        else {
            return Err(no_longer_available(offer));
        };
        let (Some(now), Some(online)) = (
            &accommodation.general_policies.payment.pay_online_now,
            &product.price.chargeable_online,
        ) else {
            return Err(ProviderError::rejected(
                NAME,
                "paid_at_property",
                "the accommodation no longer takes this room paid online when booked, which is all Itinera sells (the traveller would pay twice): choose another hotel",
            )
            .into());
        };
        let price = mapping::money(online.accommodation_currency.0, currency)
            .map_err(|problem| unreadable(&problem))?;
        if !charged_in_full_now(now, online, self.clock.now()) {
            return Err(ProviderError::rejected(
                NAME,
                "paid_later",
                "Booking.com would charge part of this room after booking, when Itinera has already settled the traveller's payment: choose another hotel",
            )
            .into());
        }
        // The search tells no fee schedule, so its terms are the least Booking.com gives: they
        // stand while the schedule gives at least as much back; stricter terms are told, and
        // the saga stops on them.
        let cancellation = match &product.policies.cancellation {
            Some(steps) => match mapping::schedule_terms(steps, currency, price)
                .map_err(|problem| unreadable(&problem))?
            {
                Some(previewed)
                    if !mapping::gives_back_at_least(&previewed, &offer.cancellation) =>
                {
                    previewed
                }
                Some(_) | None => offer.cancellation.clone(),
            },
            // No schedule shown: nothing back is all that can be promised.
            None => CancellationPolicy::NonRefundable,
        };
        Ok(Offer {
            price,
            cancellation,
            expires_at: self.clock.now() + OFFER_TTL,
            ..offer.clone()
        })
    }
}

/// Whether paying online now charges the whole online price at booking: every charge dated by
/// tomorrow (the dates are the property's, whose day may be ahead of ours) and adding up to it.
/// A charge later would reach the agency's card after the traveller's payment settled.
pub(super) fn charged_in_full_now(
    timing: &wire::Charges,
    online: &wire::Amounts,
    now: DateTime<Utc>,
) -> bool {
    let latest = now.date_naive() + chrono::Duration::days(1);
    let total: rust_decimal::Decimal = timing
        .dates
        .iter()
        .map(|charge| charge.price.accommodation_currency.0)
        .sum();
    !timing.dates.is_empty()
        && timing.dates.iter().all(|charge| charge.at <= latest)
        && total == online.accommodation_currency.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn charges(dates: serde_json::Value) -> wire::Charges {
        serde_json::from_value(serde_json::json!({ "dates": dates })).unwrap()
    }

    #[test]
    fn only_a_room_charged_in_full_at_booking_is_paid_online_now() {
        let now: DateTime<Utc> = "2026-11-26T12:00:00Z".parse().unwrap();
        let online: wire::Amounts =
            serde_json::from_value(serde_json::json!({"accommodation_currency": 300.5})).unwrap();
        let at = |day: &str, amount: f64| serde_json::json!({"at": day, "price": {"accommodation_currency": amount}});
        let today = charges(serde_json::json!([at("2026-11-26", 300.5)]));
        assert!(charged_in_full_now(&today, &online, now));
        let split = charges(serde_json::json!([
            at("2026-11-26", 100.5),
            at("2026-11-27", 200.0)
        ]));
        assert!(
            charged_in_full_now(&split, &online, now),
            "the property's day may be ahead of ours"
        );
        let later = charges(serde_json::json!([
            at("2026-11-26", 100.5),
            at("2026-12-20", 200.0)
        ]));
        assert!(
            !charged_in_full_now(&later, &online, now),
            "a charge weeks later"
        );
        let short = charges(serde_json::json!([at("2026-11-26", 200.0)]));
        assert!(
            !charged_in_full_now(&short, &online, now),
            "not the whole price"
        );
        assert!(!charged_in_full_now(
            &charges(serde_json::json!([])),
            &online,
            now
        ));
    }
}
