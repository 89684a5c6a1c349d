//! Finding again an order whose create got no answer: Booking.com takes no idempotency key, so
//! the order is looked for by the label Itinera gave it.

use super::*;

impl BookingComHotels {
    /// The order made under `label` since `since`, if Booking.com shows one: the orders created
    /// in the window, then their labels.
    pub(super) async fn order_labelled(
        &self,
        label: &str,
        since: DateTime<Utc>,
        currency: Currency,
    ) -> Result<Option<(String, AccommodationOrder)>, BookingError> {
        let from = since - LOOKUP_MARGIN;
        // A margin either side: clocks differ, and the window's ends are whole seconds.
        let to = (self.clock.now() + LOOKUP_MARGIN).min(from + MAX_WINDOW);
        let mut by_reservation = std::collections::HashMap::new();
        let mut query = OrdersQuery::Created {
            created: Window {
                from: from.to_rfc3339_opts(SecondsFormat::Secs, true),
                to: to.to_rfc3339_opts(SecondsFormat::Secs, true),
            },
            currency: currency.code().to_string(),
            services: ["accommodations"],
            maximum_results: 100,
        };
        // Every order of the window must be read: one left unread may be ours, and "not found"
        // would then release the traveller's money while Booking.com charged the agency.
        let mut read_all = false;
        for _ in 0..MAX_PAGES {
            let page: OrdersPage = self.client.post("/orders/details", &query).await?;
            for order in page.data {
                if let Some(reservation) = order.accommodations.and_then(|a| a.reservation) {
                    by_reservation.insert(reservation, order.id);
                }
            }
            match page.metadata.and_then(|metadata| metadata.next_page) {
                Some(next) => query = OrdersQuery::Page { page: next },
                None => {
                    read_all = true;
                    break;
                }
            }
        }
        let reservations: Vec<u64> = by_reservation.keys().copied().collect();
        for chunk in reservations.chunks(IDS_PER_CALL) {
            let found: Envelope<Vec<AccommodationOrder>> = self
                .client
                .post(
                    "/orders/details/accommodations",
                    &AccommodationOrdersQuery::Reservations {
                        reservations: chunk.to_vec(),
                    },
                )
                .await?;
            let labelled = found
                .data
                .into_iter()
                .find(|order| order.label.as_deref() == Some(label));
            if let Some(order) = labelled {
                // Ours, but not tied back to its order: it exists, so never "not found".
                let id = order
                    .reservation
                    .and_then(|reservation| by_reservation.get(&reservation).cloned())
                    .ok_or_else(unknown)?;
                return Ok(Some((id, order)));
            }
        }
        if !read_all {
            tracing::warn!(
                pages = MAX_PAGES,
                "Booking.com shows more orders than Itinera reads: the lost order stays unsettled"
            );
            return Err(unknown().into());
        }
        Ok(None)
    }
}

/// What an order found under our label settles.
pub(super) fn confirmation_of(
    order: String,
    found: &AccommodationOrder,
) -> Result<BookingConfirmation, BookingError> {
    let confirmation = found
        .reservation
        .map_or_else(|| order.clone(), |reservation| reservation.to_string());
    match found.status {
        OrderStatus::Booked | OrderStatus::Stayed | OrderStatus::NoShow => {
            Ok(BookingConfirmation {
                reference: order,
                confirmation,
            })
        }
        OrderStatus::Cancelled
        | OrderStatus::CancelledByAccommodation
        | OrderStatus::CancelledByGuest => Err(ProviderError::rejected(
            NAME,
            "order_cancelled",
            format!(
                "Booking.com shows order {order} made for this stay as cancelled: search again and book another hotel"
            ),
        )
        .into()),
        OrderStatus::Other => Err(unknown().into()),
    }
}

/// A booking sent before whose order is not found: unsettled while it may still show,
/// then left for a person. The message names no traveller: it is logged.
pub(super) fn not_found(
    request: &BookingRequest<'_>,
    label: &str,
    now: DateTime<Utc>,
) -> BookingError {
    let recent = request
        .first_sent_at
        .is_none_or(|first| now - first < ORDER_SHOWS_WITHIN);
    if recent {
        return unknown().into();
    }
    BookingError::MayHoldABooking {
        provider: NAME.into(),
        message: format!(
            "the booking of {} ({} to {}) got no answer from Booking.com, and no order labelled {label} shows since: Booking.com takes no idempotency key, so Itinera will not send it again and risk booking the room twice. Look for an order labelled {label} in Booking.com's partner tools and cancel it if it is there, before booking again",
            hotel_name(request.offer),
            request.offer.starts_on,
            request.offer.ends_on,
        ),
    }
}
