//! Calling Itinera's tools from an in-process MCP client, for the benchmarks that drive plans.

use rmcp::RoleClient;
use rmcp::model::CallToolRequestParams;
use rmcp::service::RunningService;
use serde_json::{Value, json};

pub type Client = RunningService<RoleClient, ()>;

/// Calls a tool that must succeed; its structured output.
pub async fn call(client: &Client, tool: &str, args: Value) -> Value {
    let Value::Object(args) = args else {
        panic!("object arguments")
    };
    let result = client
        .call_tool(CallToolRequestParams::new(tool.to_string()).with_arguments(args))
        .await
        .expect("tool call");
    assert_ne!(result.is_error, Some(true), "{tool}: {:?}", result.content);
    result.structured_content.expect("structured output")
}

/// Creates a plan of these offers and has it approved (the benchmarks' servers approve by
/// themselves): the plan as `create_travel_plan` returned it.
pub async fn approved_plan(client: &Client, offer_ids: &[Value]) -> Value {
    let items: Vec<Value> = offer_ids.iter().map(|id| json!({"offer_id": id})).collect();
    let plan = call(
        client,
        "create_travel_plan",
        json!({"travellers": [{"given_name": "Ada", "family_name": "Lovelace"}], "payment_method": "pm_sandbox_visa", "items": items}),
    )
    .await;
    call(
        client,
        "confirm_travel_plan",
        json!({"plan_id": plan["plan_id"]}),
    )
    .await;
    plan
}
