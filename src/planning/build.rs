//! Creating and changing plans from offer ids or criteria.

use std::collections::HashMap;

use crate::domain::ids::PaymentMethodToken;
use crate::domain::ids::{ItemId, OfferId, OwnerId, PlanId};
use crate::domain::money::{Currency, Money};
use crate::domain::offer::Offer;
use crate::domain::order::OrderStatus;
use crate::domain::plan::{
    PaymentPreference, PlanError, PlanItem, Priority, SplitPart, TravelPlan, Traveller,
};
use crate::payment_router;
use crate::ports::store::OrderFilter;
use crate::saved_methods::own_method;

use super::pick::Pick;
use super::{Planner, PlanningError};

/// Longest plan title we keep.
const MAX_TITLE_CHARS: usize = 200;
/// Most items one plan may hold.
const MAX_ITEMS: usize = 30;

/// Where an item's offer comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemSource {
    Offer(OfferId),
    Pick(Box<Pick>),
}

/// One item to add to a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemRequest {
    pub source: ItemSource,
    pub priority: Priority,
    /// A name other items of the same request can use in `depends_on`.
    pub label: Option<String>,
    /// Labels from the same request, or ids of items already in the plan.
    pub depends_on: Vec<String>,
}

/// A plan to create.
#[derive(Debug, Clone)]
pub struct NewPlan {
    pub title: String,
    pub travellers: Vec<Traveller>,
    pub currency: Option<Currency>,
    pub budget: Option<Money>,
    pub payment_method: PaymentMethodToken,
    pub payment_preference: PaymentPreference,
    /// Parts paid with other methods before `payment_method`, which pays the rest.
    pub payment_split: Vec<SplitPart>,
    pub items: Vec<ItemRequest>,
}

/// Changes to a plan; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct PlanChanges {
    pub title: Option<String>,
    pub travellers: Option<Vec<Traveller>>,
    pub budget: Option<Money>,
    pub clear_budget: bool,
    pub payment_method: Option<PaymentMethodToken>,
    pub payment_preference: Option<PaymentPreference>,
    /// Replaces the split; an empty list pays everything with `payment_method`.
    pub payment_split: Option<Vec<SplitPart>>,
    pub add_items: Vec<ItemRequest>,
    /// Removed items also disappear from other items' `depends_on`.
    pub remove_items: Vec<ItemId>,
}

fn clean_title(title: &str) -> Result<String, PlanningError> {
    let title = title.trim();
    if title.chars().count() > MAX_TITLE_CHARS {
        return Err(PlanningError::InvalidItems(format!(
            "the title is longer than {MAX_TITLE_CHARS} characters"
        )));
    }
    // The title is shown to the person (prompt, page, log line): no line breaks or direction
    // overrides that could make it look like something else.
    if title
        .chars()
        .any(|c| c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'))
    {
        return Err(PlanningError::InvalidItems(
            "the title contains line breaks or other control characters: use one plain line".into(),
        ));
    }
    Ok(if title.is_empty() {
        "Trip".to_string()
    } else {
        title.to_string()
    })
}

impl Planner {
    pub async fn create_plan(
        &self,
        owner: &OwnerId,
        new: NewPlan,
    ) -> Result<TravelPlan, PlanningError> {
        if new.items.is_empty() {
            return Err(PlanError::Empty.into());
        }
        let items = self.resolve_items(owner, &new.items, &[]).await?;
        let currency = new
            .currency
            .or_else(|| items.first().map(|item| item.offer.price.currency()))
            .ok_or(PlanError::Empty)?;
        let now = self.clock.now();
        let plan = TravelPlan {
            id: PlanId::generate(),
            owner: owner.clone(),
            title: clean_title(&new.title)?,
            currency,
            travellers: new.travellers,
            items,
            budget: new.budget,
            payment_method: new.payment_method,
            payment_preference: new.payment_preference,
            payment_split: new.payment_split,
            created_at: now,
            updated_at: now,
        };
        plan.validate(now.date_naive())?;
        self.check_payment_method(&plan).await?;
        self.store.insert_plan(&plan).await?;
        Ok(plan)
    }

    /// Some configured payment provider must be able to take the plan's payment, so a wrong
    /// method or currency is told before the person is asked to approve; and a method someone
    /// else saved is never theirs to pay with, whatever the provider would accept.
    async fn check_payment_method(&self, plan: &TravelPlan) -> Result<(), PlanningError> {
        let methods = std::iter::once(&plan.payment_method)
            .chain(plan.payment_split.iter().map(|part| &part.method));
        for method in methods {
            own_method(self.store.as_ref(), &self.providers, &plan.owner, method).await?;
        }
        if let Some(region) = &plan.payment_preference.region
            && (region.len() != 2 || !region.chars().all(|c| c.is_ascii_uppercase()))
        {
            return Err(PlanningError::PaymentRegion(region.clone()));
        }
        let route = payment_router::route(self.providers.payments(), plan, |_| None);
        if !route.unplaced.is_empty() {
            return Err(PlanningError::PaymentSplit(route.why_none()));
        }
        if route.choices.is_empty() {
            return Err(PlanningError::PaymentMethod {
                method: plan.payment_method.as_str().to_string(),
                currency: plan.currency.code().to_string(),
                reasons: route.why_none(),
            });
        }
        Ok(())
    }

    pub async fn plan(&self, owner: &OwnerId, id: &PlanId) -> Result<TravelPlan, PlanningError> {
        self.store
            .plan(owner, id)
            .await?
            .ok_or_else(|| PlanningError::PlanNotFound(id.clone()))
    }

    pub async fn update_plan(
        &self,
        owner: &OwnerId,
        id: &PlanId,
        changes: PlanChanges,
    ) -> Result<TravelPlan, PlanningError> {
        let mut plan = self.plan(owner, id).await?;
        self.ensure_editable(owner, &plan).await?;
        if let Some(missing) = changes
            .remove_items
            .iter()
            .find(|id| plan.item(id).is_none())
        {
            return Err(PlanningError::InvalidItems(format!(
                "item {missing} is not in plan {}: get_travel_plan lists its items",
                plan.id
            )));
        }
        plan.items
            .retain(|item| !changes.remove_items.contains(&item.id));
        for item in &mut plan.items {
            item.depends_on
                .retain(|dep| !changes.remove_items.contains(dep));
        }
        let added = self
            .resolve_items(owner, &changes.add_items, &plan.items)
            .await?;
        plan.items.extend(added);
        if let Some(title) = changes.title {
            plan.title = clean_title(&title)?;
        }
        if let Some(travellers) = changes.travellers {
            plan.travellers = travellers;
        }
        if changes.clear_budget {
            plan.budget = None;
        }
        if let Some(budget) = changes.budget {
            plan.budget = Some(budget);
        }
        if let Some(preference) = changes.payment_preference {
            plan.payment_preference = preference;
        }
        if let Some(method) = changes.payment_method {
            plan.payment_method = method;
        }
        if let Some(split) = changes.payment_split {
            plan.payment_split = split;
        }
        let now = self.clock.now();
        plan.updated_at = now;
        plan.validate(now.date_naive())?;
        self.check_payment_method(&plan).await?;
        self.store.update_plan(&plan).await?;
        Ok(plan)
    }

    /// A plan with a live order is frozen; after a failed order it may be fixed and retried.
    async fn ensure_editable(
        &self,
        owner: &OwnerId,
        plan: &TravelPlan,
    ) -> Result<(), PlanningError> {
        let filter = OrderFilter {
            plan: Some(plan.id.clone()),
            limit: 1,
            ..Default::default()
        };
        match self
            .store
            .list_orders(owner, &filter)
            .await?
            .into_iter()
            .next()
        {
            Some(order) if order.status != OrderStatus::Failed => Err(PlanningError::Locked {
                plan: plan.id.clone(),
                order: order.id,
                status: order.status,
            }),
            _ => Ok(()),
        }
    }

    /// Turns requests into plan items: looks offers up or picks them, then resolves labels.
    async fn resolve_items(
        &self,
        owner: &OwnerId,
        requests: &[ItemRequest],
        existing: &[PlanItem],
    ) -> Result<Vec<PlanItem>, PlanningError> {
        if existing.len() + requests.len() > MAX_ITEMS {
            return Err(PlanningError::InvalidItems(format!(
                "a plan holds at most {MAX_ITEMS} items: split the trip into several plans"
            )));
        }
        let mut labels: HashMap<&str, ItemId> = HashMap::new();
        let mut items = Vec::with_capacity(requests.len());
        for (index, request) in requests.iter().enumerate() {
            let offer = self.offer_for(owner, index, &request.source).await?;
            let id = ItemId::generate();
            if let Some(label) = &request.label
                && labels.insert(label.as_str(), id.clone()).is_some()
            {
                return Err(PlanningError::InvalidItems(format!(
                    "the label '{label}' is used by more than one item: give each item its own label"
                )));
            }
            items.push(PlanItem {
                id,
                priority: request.priority,
                depends_on: Vec::new(),
                offer,
            });
        }
        for (item, request) in items.iter_mut().zip(requests) {
            for reference in &request.depends_on {
                let dependency = labels
                    .get(reference.as_str())
                    .cloned()
                    .or_else(|| {
                        ItemId::parse(reference)
                            .ok()
                            .filter(|id| existing.iter().any(|other| &other.id == id))
                    })
                    .ok_or_else(|| {
                        PlanningError::InvalidItems(format!(
                            "depends_on '{reference}' is neither the label of an item in this request nor an item of the plan"
                        ))
                    })?;
                item.depends_on.push(dependency);
            }
        }
        Ok(items)
    }

    async fn offer_for(
        &self,
        owner: &OwnerId,
        index: usize,
        source: &ItemSource,
    ) -> Result<Offer, PlanningError> {
        match source {
            ItemSource::Offer(id) => self
                .store
                .offer(owner, id)
                .await?
                .ok_or_else(|| PlanningError::OfferNotFound(id.clone())),
            ItemSource::Pick(pick) => {
                let offers = self.search(owner, pick.query()).await?;
                pick.choose(&offers)
                    .map_err(|reason| PlanningError::NoMatch { index, reason })
            }
        }
    }
}
