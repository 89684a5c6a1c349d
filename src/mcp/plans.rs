//! Plan tools: create, change and read travel plans.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::{Json, tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::domain::ids::PaymentMethodToken;
use crate::domain::ids::{ItemId, OfferId, PlanId};
use crate::domain::money::Money;
use crate::domain::plan::{PaymentPreference, Priority, SplitPart, TravelPlan, Traveller};
use crate::domain::scoring::FlightPreferences;
use crate::planning::{ItemRequest, ItemSource, NewPlan, Pick, PlanChanges};

use super::ItineraServer;
use super::search::{
    SearchActivitiesArgs, SearchCarRentalsArgs, SearchFlightsArgs, SearchHotelsArgs, parse_currency,
};
use super::views::PlanView;

/// A flight chosen by the server: the best of the search by price 40 %, time 30 %, airline 20 %, stops 10 %.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct FlightPickArgs {
    #[serde(flatten)]
    pub search: SearchFlightsArgs,
    #[serde(default)]
    pub preferences: FlightPreferences,
}

/// A stay chosen by the server: the cheapest that meets the limits.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct HotelPickArgs {
    #[serde(flatten)]
    pub search: SearchHotelsArgs,
    /// Fewest stars acceptable.
    pub min_stars: Option<u8>,
    /// Only stays that can be cancelled for a refund.
    #[serde(default)]
    pub refundable_only: bool,
    pub max_price: Option<Money>,
}

/// An activity chosen by the server: the cheapest within `max_price`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct ActivityPickArgs {
    #[serde(flatten)]
    pub search: SearchActivitiesArgs,
    pub max_price: Option<Money>,
}

/// A car chosen by the server: the cheapest within `max_price`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct CarPickArgs {
    #[serde(flatten)]
    pub search: SearchCarRentalsArgs,
    pub max_price: Option<Money>,
}

/// One item: give `offer_id` from a search, or exactly one of `flight`, `hotel`, `activity`,
/// `car_rental` for the server to search and choose.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct ItemArgs {
    /// An offer id from a search result.
    pub offer_id: Option<String>,
    pub flight: Option<FlightPickArgs>,
    pub hotel: Option<HotelPickArgs>,
    pub activity: Option<ActivityPickArgs>,
    pub car_rental: Option<CarPickArgs>,
    /// must_have (default): its failure cancels the whole order. preferred / optional: the order
    /// goes ahead without it and it is not charged.
    #[serde(default)]
    pub priority: Priority,
    /// A name for this item that other items of the same call can list in `depends_on`.
    pub label: Option<String>,
    /// Labels of items in this call, or item ids already in the plan, that must be booked first.
    /// Hotels, cars and activities already wait for the flight or stay in their city.
    #[serde(default)]
    pub depends_on: Vec<String>,
}

impl ItemArgs {
    fn request(self, index: usize) -> Result<ItemRequest, String> {
        let mut sources = Vec::new();
        if let Some(id) = &self.offer_id {
            sources.push(ItemSource::Offer(
                OfferId::parse(id).map_err(|e| e.to_string())?,
            ));
        }
        if let Some(flight) = self.flight {
            sources.push(ItemSource::Pick(Box::new(Pick::Flight {
                query: flight.search.query()?,
                preferences: flight.preferences,
            })));
        }
        if let Some(hotel) = self.hotel {
            sources.push(ItemSource::Pick(Box::new(Pick::Hotel {
                query: hotel.search.query()?,
                min_stars: hotel.min_stars,
                refundable_only: hotel.refundable_only,
                max_price: hotel.max_price,
            })));
        }
        if let Some(activity) = self.activity {
            sources.push(ItemSource::Pick(Box::new(Pick::Cheapest {
                query: activity.search.query()?,
                max_price: activity.max_price,
            })));
        }
        if let Some(car) = self.car_rental {
            sources.push(ItemSource::Pick(Box::new(Pick::Cheapest {
                query: car.search.query()?,
                max_price: car.max_price,
            })));
        }
        let source = match (sources.pop(), sources.is_empty()) {
            (Some(source), true) => source,
            _ => {
                return Err(format!(
                    "items[{index}] needs exactly one of offer_id, flight, hotel, activity or car_rental"
                ));
            }
        };
        Ok(ItemRequest {
            source,
            priority: self.priority,
            label: self.label,
            depends_on: self.depends_on,
        })
    }
}

fn item_requests(items: Vec<ItemArgs>) -> Result<Vec<ItemRequest>, String> {
    items
        .into_iter()
        .enumerate()
        .map(|(index, item)| item.request(index))
        .collect()
}

fn payment_method(value: &str) -> Result<PaymentMethodToken, String> {
    PaymentMethodToken::parse(value).map_err(|e| e.to_string())
}

fn plan_id(value: &str) -> Result<PlanId, String> {
    PlanId::parse(value).map_err(|e| e.to_string())
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct CreatePlanArgs {
    /// A short name for the trip, e.g. "Paris, 3–6 December".
    #[serde(default)]
    pub title: String,
    /// Everyone travelling, names as on their passports. Passport number, date of birth, phone and
    /// e-mail are optional; they are stored encrypted and shown masked.
    pub travellers: Vec<Traveller>,
    /// A payment method token from the person's payment provider, e.g. "pm_sandbox_visa",
    /// "paypal", "antom_ALIPAY_CN", "wechat_native"; or "auto" to let Itinera choose a provider
    /// and a method the person can pay with (confirm_travel_plan shows the choice). Never card digits.
    pub payment_method: String,
    /// Which payment provider the person prefers and the country they pay from; the router
    /// ranks providers by these.
    #[serde(default)]
    pub payment_preference: PaymentPreference,
    /// To split the total over several methods (a voucher or travel credit and a card, two
    /// cards): the parts paid with other methods, each with its amount; payment_method pays
    /// what they leave. Each part is held first; if any is refused, the others are released
    /// and nothing is charged. Captured in this order, refunded in the reverse order.
    #[serde(default)]
    pub payment_split: Vec<SplitPart>,
    /// The most the whole trip may cost, e.g. {"amount": "2000.00", "currency": "EUR"}.
    pub budget: Option<Money>,
    /// The plan's currency; defaults to the first item's. Every item must be priced in it.
    pub currency: Option<String>,
    pub items: Vec<ItemArgs>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct UpdatePlanArgs {
    pub plan_id: String,
    pub title: Option<String>,
    /// Replaces the travellers.
    pub travellers: Option<Vec<Traveller>>,
    /// Replaces the payment method token ("auto" lets Itinera choose).
    pub payment_method: Option<String>,
    /// Replaces the payment preference.
    pub payment_preference: Option<PaymentPreference>,
    /// Replaces the split of the total over several methods; [] pays everything with
    /// payment_method.
    pub payment_split: Option<Vec<SplitPart>>,
    /// Sets the budget.
    pub budget: Option<Money>,
    /// Removes the budget.
    #[serde(default)]
    pub clear_budget: bool,
    /// Items to add.
    #[serde(default)]
    pub add_items: Vec<ItemArgs>,
    /// Item ids to remove; they also disappear from other items' depends_on.
    #[serde(default)]
    pub remove_item_ids: Vec<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct PlanIdArgs {
    /// The plan id, e.g. "plan_8f14e45fceea167a5a36dedd4bea2543".
    pub plan_id: String,
}

#[tool_router(router = plan_router, vis = "pub(super)")]
impl ItineraServer {
    /// Create a travel plan from offer ids (from the search tools) or from criteria the server
    /// resolves by searching and choosing. Items carry a priority and dependencies; hotels, cars
    /// and activities automatically wait for the flight or stay in their city. Nothing is booked
    /// or charged: next, review the plan with the person and call confirm_travel_plan.
    #[tool(
        title = "Create travel plan",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = true
        )
    )]
    async fn create_travel_plan(
        &self,
        Parameters(args): Parameters<CreatePlanArgs>,
    ) -> Result<Json<PlanView>, String> {
        let new = NewPlan {
            title: args.title,
            travellers: args.travellers,
            currency: args.currency.as_deref().map(parse_currency).transpose()?,
            budget: args.budget,
            payment_method: payment_method(&args.payment_method)?,
            payment_preference: args.payment_preference,
            payment_split: args.payment_split,
            items: item_requests(args.items)?,
        };
        let plan = self
            .services
            .planner
            .create_plan(&self.owner, new)
            .await
            .map_err(|e| e.to_string())?;
        self.plan_view(&plan).await
    }

    /// Change a plan: add or remove items, replace travellers or the payment method, set or clear
    /// the budget. Any change voids an earlier approval: confirm the plan again afterwards. A plan
    /// whose order is live cannot change.
    #[tool(
        title = "Update travel plan",
        annotations(
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = false,
            open_world_hint = true
        )
    )]
    async fn update_travel_plan(
        &self,
        Parameters(args): Parameters<UpdatePlanArgs>,
    ) -> Result<Json<PlanView>, String> {
        let id = plan_id(&args.plan_id)?;
        let changes = PlanChanges {
            title: args.title,
            travellers: args.travellers,
            budget: args.budget,
            clear_budget: args.clear_budget,
            payment_method: args
                .payment_method
                .as_deref()
                .map(payment_method)
                .transpose()?,
            payment_preference: args.payment_preference,
            payment_split: args.payment_split,
            add_items: item_requests(args.add_items)?,
            remove_items: args
                .remove_item_ids
                .iter()
                .map(|id| ItemId::parse(id).map_err(|e| e.to_string()))
                .collect::<Result<_, _>>()?,
        };
        let plan = self
            .services
            .planner
            .update_plan(&self.owner, &id, changes)
            .await
            .map_err(|e| e.to_string())?;
        self.plan_view(&plan).await
    }

    /// Read a plan: items with offers and prices, dependencies, booking phases, total, budget,
    /// travellers, and where its approval stands.
    #[tool(
        title = "Get travel plan",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn get_travel_plan(
        &self,
        Parameters(args): Parameters<PlanIdArgs>,
    ) -> Result<Json<PlanView>, String> {
        let plan = self
            .services
            .planner
            .plan(&self.owner, &plan_id(&args.plan_id)?)
            .await
            .map_err(|e| e.to_string())?;
        self.plan_view(&plan).await
    }
}

impl ItineraServer {
    async fn plan_view(&self, plan: &TravelPlan) -> Result<Json<PlanView>, String> {
        let approval = self
            .services
            .approvals
            .latest(&self.owner, plan)
            .await
            .map_err(|e| e.to_string())?;
        PlanView::new(plan, approval.as_ref())
            .map(Json)
            .map_err(|e| e.to_string())
    }
}
