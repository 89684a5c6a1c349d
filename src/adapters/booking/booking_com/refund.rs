//! What a cancelled order gives back: what was paid less the fee Booking.com kept, read from
//! the order, never guessed.

use super::*;

impl BookingComHotels {
    /// One order's accommodation part: its status, fee and currency.
    pub(super) async fn accommodation_order(
        &self,
        order: &str,
    ) -> Result<AccommodationOrder, BookingError> {
        let found: Envelope<Vec<AccommodationOrder>> = self
            .client
            .post(
                "/orders/details/accommodations",
                &AccommodationOrdersQuery::Orders {
                    orders: vec![order.to_string()],
                },
            )
            .await?;
        found.data.into_iter().next().ok_or_else(|| {
            ProviderError::rejected(
                NAME,
                "order_not_found",
                format!("Booking.com shows no accommodation order {order}"),
            )
            .into()
        })
    }

    /// What was paid for the order, in `currency`; `None` when Booking.com shows no payment in
    /// it.
    pub(super) async fn paid(
        &self,
        order: &str,
        currency: Currency,
    ) -> Result<Option<Money>, BookingError> {
        let page: OrdersPage = self
            .client
            .post(
                "/orders/details",
                &OrdersQuery::Orders {
                    orders: vec![order.to_string()],
                    currency: currency.code().to_string(),
                    extras: ["payment"],
                },
            )
            .await?;
        let Some(payments) = page
            .data
            .into_iter()
            .find(|summary| summary.id == order)
            .and_then(|summary| summary.payment)
        else {
            return Ok(None);
        };
        if payments.paid.is_empty()
            || payments
                .paid
                .iter()
                .any(|paid| paid.transaction_currency != currency.code())
        {
            return Ok(None);
        }
        let amounts = payments
            .paid
            .iter()
            .map(|paid| mapping::money(paid.amount.0, currency))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|problem| unreadable(&problem))?;
        Money::sum(currency, &amounts)
            .map(Some)
            .map_err(|e| unreadable(&e.to_string()))
    }

    /// The refund of a cancelled order: what was paid less the fee Booking.com kept. Either
    /// unknown or unreadable, it is said so, for a person to read it at Booking.com, rather than
    /// guessed; the order is cancelled either way, and the message says that too. (No answer at
    /// all stays an outage: the cancel is sent again, finds the order cancelled and reads again.)
    pub(super) async fn refund_of(&self, order: &str) -> Result<CancellationReceipt, BookingError> {
        self.read_refund(order).await.map_err(|error| match error {
            BookingError::Provider(ProviderError::Rejected { code, message, .. })
                if code != "refund_unknown" =>
            {
                refund_unknown(order, &format!("its answer could not be read ({message})"))
            }
            other => other,
        })
    }

    pub(super) async fn read_refund(
        &self,
        order: &str,
    ) -> Result<CancellationReceipt, BookingError> {
        let cancelled = self.accommodation_order(order).await?;
        let currency = cancelled
            .currency
            .as_ref()
            .and_then(|currencies| Currency::parse(&currencies.accommodation).ok());
        let fee = cancelled
            .cancellation_details
            .as_ref()
            .zip(currency)
            .map(|(details, currency)| {
                mapping::money(details.fee.accommodation_currency.0, currency)
            })
            .transpose()
            .map_err(|problem| unreadable(&problem))?;
        let paid = match currency {
            Some(currency) => self.paid(order, currency).await?,
            None => None,
        };
        let (Some(fee), Some(paid)) = (fee, paid) else {
            return Err(refund_unknown(
                order,
                "it does not show both what was paid and the fee it kept",
            ));
        };
        let refund = paid
            .saturating_sub(&fee)
            .map_err(|e| unreadable(&e.to_string()))?;
        Ok(CancellationReceipt { refund })
    }
}

/// A cancelled order whose refund Itinera cannot tell, and why.
pub(super) fn refund_unknown(order: &str, why: &str) -> BookingError {
    ProviderError::rejected(
        NAME,
        "refund_unknown",
        format!(
            "Booking.com cancelled order {order}, but {why}: read the refund in Booking.com's partner tools and pass it on with refund_payment"
        ),
    )
    .into()
}
