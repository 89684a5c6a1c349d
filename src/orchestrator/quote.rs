//! Re-quoting before any money moves: the price a person approved is a ceiling.

use futures::future::join_all;

use crate::domain::offer::Offer;
use crate::domain::plan::TravelPlan;
use crate::ports::BookingError;
use crate::ports::ProviderError;

use super::{ExecutionError, Orchestrator};

impl Orchestrator {
    /// Fresh quotes for every item, in plan order. A price rise updates the plan (so the person
    /// must approve again) and stops; an offer that is gone, or now comes with other dates or
    /// cancellation terms, stops without changing anything.
    pub(super) async fn requote(&self, plan: &TravelPlan) -> Result<Vec<Offer>, ExecutionError> {
        let quotes = join_all(plan.items.iter().map(|item| async move {
            match self.providers.booking(&item.offer.provider) {
                Some(provider) => provider.quote(&item.offer).await,
                None => Err(BookingError::Provider(ProviderError::unavailable(
                    &item.offer.provider,
                    "this provider is not configured",
                ))),
            }
        }))
        .await;
        let mut gone = Vec::new();
        let mut rose = Vec::new();
        let mut fresh = Vec::with_capacity(quotes.len());
        for (item, quote) in plan.items.iter().zip(quotes) {
            match quote {
                Ok(quote) if quote.price.currency() != item.offer.price.currency() => {
                    gone.push(format!(
                        "'{}' is now priced in {}",
                        item.offer.title,
                        quote.price.currency()
                    ))
                }
                // The person approved these terms, not whatever the provider offers now.
                Ok(quote)
                    if quote.cancellation != item.offer.cancellation
                        || (quote.starts_on, quote.ends_on)
                            != (item.offer.starts_on, item.offer.ends_on) =>
                {
                    gone.push(format!(
                        "'{}' now comes with other terms ({}, {} to {}) than approved ({}, {} to {})",
                        item.offer.title,
                        quote.cancellation.describe(),
                        quote.starts_on,
                        quote.ends_on,
                        item.offer.cancellation.describe(),
                        item.offer.starts_on,
                        item.offer.ends_on
                    ))
                }
                Ok(quote) => {
                    if quote.price > item.offer.price {
                        rose.push(format!(
                            "'{}' from {} to {}",
                            item.offer.title, item.offer.price, quote.price
                        ));
                    }
                    fresh.push(quote);
                }
                Err(error) => gone.push(format!("'{}': {error}", item.offer.title)),
            }
        }
        if !gone.is_empty() {
            return Err(ExecutionError::OffersGone {
                problems: gone.join("; "),
            });
        }
        if !rose.is_empty() {
            let mut updated = plan.clone();
            for (item, quote) in updated.items.iter_mut().zip(&fresh) {
                item.offer = quote.clone();
            }
            updated.updated_at = self.clock.now();
            self.store.update_plan(&updated).await?;
            return Err(ExecutionError::PriceRose {
                changes: rose.join("; "),
                new_total: updated.total()?,
            });
        }
        Ok(fresh)
    }
}
