//! confirm_travel_plan: freeze the plan and ask the person, through the client, to approve it.
//!
//! Legacy sessions ask with an `elicitation/create` request. 2026-07-28 sessions cannot send
//! server-to-client requests, so the tool answers `input_required` and the client repeats the
//! call with the person's answer. Either way the answer comes from the client's prompt to the
//! person; the model has no argument that approves.

use rmcp::handler::server::tool::{InputResponses, RequestState, schema_for_output};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{
    CallToolResponse, CallToolResult, ContentBlock, ElicitRequest, ElicitRequestParams,
    ElicitResult, ElicitationAction, ElicitationSchema, InputRequest, InputRequests,
    InputRequiredResult, ProtocolVersion,
};
use rmcp::service::{ElicitationError, RequestContext};
use rmcp::{ErrorData as McpError, RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::approval::approval_prompt;
use crate::domain::approval::{Approval, ApprovalStatus};
use crate::domain::ids::PlanId;
use crate::domain::plan::TravelPlan;

use super::ItineraServer;
use super::plans::PlanIdArgs;
use super::views::ApprovalView;

/// The person's answer to the approval prompt.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct ApprovalAnswer {
    /// Approve paying the total shown for exactly this plan.
    pub approve: bool,
}
rmcp::elicit_safe!(ApprovalAnswer);

/// The key of the approval question in an `input_required` round.
const QUESTION: &str = "approve_payment";

const NO_PROMPT: &str = "This MCP client cannot show an approval prompt to the person (it does not support \
    elicitation), so the plan cannot be approved from here. Use a client that supports elicitation, or have the \
    person set ITINERA_AUTO_APPROVE_LIMIT in Itinera's configuration for trips up to an amount they choose.";

/// What one round of confirmation produced.
enum Round {
    Done(ApprovalView),
    Ask(InputRequiredResult),
}

#[tool_router(router = approval_router, vis = "pub(super)")]
impl ItineraServer {
    /// Freeze the plan (items, prices, currency, total, travellers, payment method) and ask the
    /// person to approve paying for it. The client shows them the itinerary and total; only their
    /// answer (or an auto-approve limit they configured) approves. Nothing is charged here. Any
    /// later change to the plan voids the approval. Next: execute_travel_plan.
    #[tool(
        title = "Confirm travel plan and ask for approval",
        output_schema = schema_for_output::<ApprovalView>(),
        annotations(read_only_hint = false, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn confirm_travel_plan(
        &self,
        Parameters(args): Parameters<PlanIdArgs>,
        InputResponses(responses): InputResponses,
        RequestState(state): RequestState,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let round = self
            .confirm_round(&args.plan_id, responses, state, &ctx)
            .await;
        Ok(match round {
            Ok(Round::Done(view)) => {
                let value = serde_json::to_value(&view)
                    .map_err(|e| McpError::internal_error(e.to_string(), None))?;
                CallToolResult::structured(value).into()
            }
            Ok(Round::Ask(ask)) => ask.into(),
            Err(message) => CallToolResult::error(vec![ContentBlock::text(message)]).into(),
        })
    }
}

impl ItineraServer {
    async fn confirm_round(
        &self,
        plan_id: &str,
        responses: Option<rmcp::model::InputResponses>,
        state: Option<String>,
        ctx: &RequestContext<RoleServer>,
    ) -> Result<Round, String> {
        let id = PlanId::parse(plan_id).map_err(|e| e.to_string())?;
        let plan = self
            .services
            .planner
            .plan(&self.owner, &id)
            .await
            .map_err(|e| e.to_string())?;
        let approval = self
            .services
            .approvals
            .request(&plan)
            .await
            .map_err(|e| e.to_string())?;
        if approval.status != ApprovalStatus::Pending {
            return Ok(Round::Done(ApprovalView::new(&approval)));
        }
        if ctx
            .client_capabilities()
            .is_none_or(|c| c.elicitation.is_none())
        {
            return Ok(Round::Done(
                ApprovalView::new(&approval).with_message(NO_PROMPT),
            ));
        }
        let modern = ctx
            .protocol_version()
            .is_some_and(|v| v >= ProtocolVersion::V_2026_07_28);
        let answer = if modern {
            match responses.as_ref().and_then(|r| r.get(QUESTION)) {
                None => return ask_in_round(&plan, &approval).map(Round::Ask),
                Some(raw) => {
                    // The answer must be for the approval the person was shown.
                    if state.as_deref() != Some(approval.id.as_str()) {
                        return Err("the plan changed while the person was being asked: call confirm_travel_plan again".into());
                    }
                    let result: ElicitResult =
                        serde_json::from_value(raw.clone()).map_err(|e| {
                            format!("the client sent an unreadable approval answer: {e}")
                        })?;
                    match result.action {
                        ElicitationAction::Accept => Some(
                            result
                                .content
                                .as_ref()
                                .and_then(|c| c["approve"].as_bool())
                                .unwrap_or(false),
                        ),
                        ElicitationAction::Decline => Some(false),
                        _ => None,
                    }
                }
            }
        } else {
            match ctx
                .peer
                .elicit::<ApprovalAnswer>(approval_prompt(&plan, &approval))
                .await
            {
                Ok(Some(ApprovalAnswer { approve })) => Some(approve),
                Ok(None) | Err(ElicitationError::UserDeclined) => Some(false),
                Err(ElicitationError::UserCancelled) => None,
                Err(error) => return Err(format!("asking the person failed: {error}. Try again")),
            }
        };
        let Some(approve) = answer else {
            return Ok(Round::Done(ApprovalView::new(&approval).with_message(
                "The person dismissed the approval prompt without answering. Call confirm_travel_plan to ask again.",
            )));
        };
        let decided = self
            .services
            .approvals
            .decide(&plan, &approval, approve)
            .await
            .map_err(|e| e.to_string())?;
        Ok(Round::Done(ApprovalView::new(&decided)))
    }
}

fn ask_in_round(plan: &TravelPlan, approval: &Approval) -> Result<InputRequiredResult, String> {
    let schema = ElicitationSchema::from_type::<ApprovalAnswer>().map_err(|e| e.to_string())?;
    let mut requests = InputRequests::new();
    requests.insert(
        QUESTION.into(),
        InputRequest::Elicitation(ElicitRequest::new(
            ElicitRequestParams::FormElicitationParams {
                meta: None,
                message: approval_prompt(plan, approval),
                requested_schema: schema,
            },
        )),
    );
    Ok(InputRequiredResult::new(
        Some(requests),
        Some(approval.id.to_string()),
    ))
}
