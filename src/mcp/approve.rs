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

use crate::approval::{ApprovalFlowError, Audience, Requested, approval_prompt};
use crate::domain::approval::{Approval, ApprovalMethod, ApprovalStatus};
use crate::domain::ids::PlanId;

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

/// Over HTTP, a client that cannot prompt leaves no private way to reach the person.
const NO_PROMPT_OVER_HTTP: &str = "nothing was approved: this client cannot show the person a prompt, and over HTTP Itinera has no private channel to send them an approval code. Use an MCP client that supports elicitation, then call confirm_travel_plan again";

const NO_PROMPT: &str = "This MCP client cannot show the person an approval prompt, so they approve elsewhere. Give \
    them approval_url: it opens Itinera's approval page, where they see the plan and approve with the one-time code \
    Itinera sent them (in its log), or decline. Or they can tell you that code; then call execute_travel_plan with \
    approval_code. Never guess a code.";

const ON_PAGE: &str = "The person was sent to Itinera's approval page. Once they say they have answered there, \
    call execute_travel_plan.";

/// What one round of confirmation produced.
enum Round {
    Done(ApprovalView),
    Ask(InputRequiredResult),
}

#[tool_router(router = approval_router, vis = "pub(super)")]
impl ItineraServer {
    /// Freeze the plan (items, prices, currency, total, travellers, payment method) and ask the
    /// person to approve paying for it: the client shows them the itinerary and total (or sends
    /// them to Itinera's approval page). Only the person approves (or an auto-approve limit they
    /// configured, for totals that show no risk). If the client cannot prompt, the answer carries
    /// approval_url for the person to open, and the person gets a one-time code they may pass on.
    /// Nothing is charged here. Any later change to the plan voids the approval. Next:
    /// execute_travel_plan.
    #[tool(
        title = "Confirm travel plan and ask for approval",
        output_schema = schema_for_output::<ApprovalView>(),
        annotations(read_only_hint = false, destructive_hint = false, idempotent_hint = false, open_world_hint = false)
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
        let approvals = &self.services.approvals;
        let plan = self
            .services
            .planner
            .plan(&self.owner, &id)
            .await
            .map_err(|e| e.to_string())?;
        let Requested { approval, risks } =
            approvals.request(&plan).await.map_err(|e| e.to_string())?;
        let route = self.services.orchestrator.payment_route(&plan);
        let view = |approval: &Approval| {
            ApprovalView::new(approval)
                .with_risks(&risks)
                .with_route(&route)
        };
        if approval.status != ApprovalStatus::Pending {
            return Ok(Round::Done(view(&approval)));
        }
        // The person's own link (a click approves) goes only where the model does not read it;
        // tool output carries the link minted for the assistant, which also takes the code.
        let url = approvals.page_url(&approval.id, Audience::Person);
        let pending = |message: &str| {
            view(&approval)
                .with_page(approvals.page_url(&approval.id, Audience::Assistant))
                .with_message(message)
        };
        let Some(elicitation) = ctx.client_capabilities().and_then(|c| c.elicitation) else {
            if self.owner_per_request {
                // The code would go to the server's log, which other users' operators read.
                return Err(NO_PROMPT_OVER_HTTP.into());
            }
            approvals.send_code(&plan, &approval, &risks);
            return Ok(Round::Done(pending(NO_PROMPT)));
        };
        let modern = ctx
            .protocol_version()
            .is_some_and(|v| v >= ProtocolVersion::V_2026_07_28);
        let question = if elicitation.url.is_some() {
            Question::Page(ElicitRequestParams::UrlElicitationParams {
                meta: None,
                message: format!(
                    "Review and approve paying {} for \"{}\" on Itinera's approval page.",
                    approval.amount_cap, plan.title
                ),
                url: url.clone(),
                elicitation_id: approval.id.to_string(),
            })
        } else {
            Question::Form(approval_prompt(&plan, &approval, &risks, &url))
        };
        let answer = if modern {
            match responses.as_ref().and_then(|r| r.get(QUESTION)) {
                None => return ask_in_round(question, &approval).map(Round::Ask),
                Some(raw) => {
                    // The answer must be for the approval the person was shown.
                    if state.as_deref() != Some(approval.id.as_str()) {
                        return Err(ApprovalFlowError::Stale.to_string());
                    }
                    let result: ElicitResult =
                        serde_json::from_value(raw.clone()).map_err(|e| {
                            format!("the client sent an unreadable approval answer: {e}")
                        })?;
                    Answer::from_result(&question, &result)
                }
            }
        } else {
            match &question {
                Question::Form(prompt) => {
                    match ctx.peer.elicit::<ApprovalAnswer>(prompt.clone()).await {
                        Ok(Some(ApprovalAnswer { approve })) => Answer::Decided(approve),
                        Ok(None) | Err(ElicitationError::UserDeclined) => Answer::Decided(false),
                        Err(ElicitationError::UserCancelled) => Answer::Dismissed,
                        Err(error) => {
                            return Err(format!("asking the person failed: {error}. Try again"));
                        }
                    }
                }
                Question::Page(params) => match ctx.peer.create_elicitation(params.clone()).await {
                    Ok(result) => Answer::from_result(&question, &result),
                    Err(error) => {
                        tracing::warn!(%error, "the client did not open the approval page");
                        Answer::OnPage
                    }
                },
            }
        };
        match answer {
            Answer::Decided(approve) => {
                let decided = approvals
                    .decide(&approval, approve, ApprovalMethod::Elicitation)
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(Round::Done(view(&decided)))
            }
            Answer::Dismissed => Ok(Round::Done(pending(
                "The person dismissed the approval prompt without answering. Call confirm_travel_plan to ask again.",
            ))),
            Answer::OnPage => {
                // The person answers on the page itself; report where it stands now.
                let latest = approvals
                    .latest(&self.owner, &plan)
                    .await
                    .map_err(|e| e.to_string())?
                    .unwrap_or(approval.clone());
                if latest.status == ApprovalStatus::Pending {
                    // The client has the page open: no link for the model.
                    Ok(Round::Done(view(&latest).with_message(ON_PAGE)))
                } else {
                    Ok(Round::Done(view(&latest)))
                }
            }
        }
    }
}

/// How the person is asked.
enum Question {
    /// The client's own form: Approve or not.
    Form(String),
    /// The client sends the person to Itinera's approval page.
    Page(ElicitRequestParams),
}

/// What came back from asking.
enum Answer {
    Decided(bool),
    Dismissed,
    /// The person was sent to the page, where they answer.
    OnPage,
}

impl Answer {
    fn from_result(question: &Question, result: &ElicitResult) -> Answer {
        match (question, &result.action) {
            (Question::Page(_), _) => Answer::OnPage,
            (Question::Form(_), ElicitationAction::Accept) => Answer::Decided(
                result
                    .content
                    .as_ref()
                    .and_then(|c| c["approve"].as_bool())
                    .unwrap_or(false),
            ),
            (Question::Form(_), ElicitationAction::Decline) => Answer::Decided(false),
            (Question::Form(_), _) => Answer::Dismissed,
        }
    }
}

fn ask_in_round(question: Question, approval: &Approval) -> Result<InputRequiredResult, String> {
    let params = match question {
        Question::Form(message) => ElicitRequestParams::FormElicitationParams {
            meta: None,
            message,
            requested_schema: ElicitationSchema::from_type::<ApprovalAnswer>()
                .map_err(|e| e.to_string())?,
        },
        Question::Page(params) => params,
    };
    let mut requests = InputRequests::new();
    requests.insert(
        QUESTION.into(),
        InputRequest::Elicitation(ElicitRequest::new(params)),
    );
    Ok(InputRequiredResult::new(
        Some(requests),
        Some(approval.id.to_string()),
    ))
}
