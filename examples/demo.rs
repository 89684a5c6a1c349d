//! A scripted assistant books a Paris weekend through Itinera's MCP tools, in process, on the
//! sandbox: `cargo run --example demo`. It prints each tool call and the answer that matters,
//! and approves the plan when the server asks, as a person would in their MCP client.

use std::sync::Arc;

use chrono::{Duration, Utc};
use itinera::app::App;
use itinera::config::Config;
use itinera::ports::SystemClock;
use rmcp::model::{
    CallToolRequestParams, ClientCapabilities, ClientConfig, ElicitRequestParams, ElicitResult,
    ElicitationAction, Implementation,
};
use rmcp::service::{RequestContext, RunningService};
use rmcp::{ClientHandler, RoleClient, ServiceExt};
use serde_json::{Value, json};

/// The person: shown the approval prompt, they approve.
#[derive(Clone)]
struct Person;

impl ClientHandler for Person {
    fn get_info(&self) -> ClientConfig {
        ClientConfig::new(
            ClientCapabilities::builder().enable_elicitation().build(),
            Implementation::new("itinera-demo", "0.1.0"),
        )
    }

    async fn create_elicitation(
        &self,
        request: ElicitRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, rmcp::ErrorData> {
        if let ElicitRequestParams::FormElicitationParams { message, .. } = request {
            println!(
                "\n--- the client shows the person ---\n{message}\n--- the person approves ---\n"
            );
        }
        Ok(ElicitResult::new(ElicitationAction::Accept).with_content(json!({"approve": true})))
    }
}

async fn call(
    client: &RunningService<RoleClient, Person>,
    tool: &str,
    args: Value,
) -> Result<Value, String> {
    println!("> {tool} {args}");
    let Value::Object(args) = args else {
        return Err("arguments must be an object".into());
    };
    let result = client
        .call_tool(CallToolRequestParams::new(tool.to_string()).with_arguments(args))
        .await
        .map_err(|e| e.to_string())?;
    match (result.is_error, result.structured_content) {
        (Some(true), _) | (_, None) => Err(format!("{tool} failed: {:?}", result.content)),
        (_, Some(value)) => Ok(value),
    }
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let app = App::start(&Config::in_dir(dir.path()), Arc::new(SystemClock))
        .await
        .map_err(|e| e.to_string())?;
    let (server_io, client_io) = tokio::io::duplex(1 << 20);
    let server = app.server();
    tokio::spawn(async move {
        if let Ok(running) = server.serve(server_io).await {
            let _ = running.waiting().await;
        }
    });
    let client = Person.serve(client_io).await.map_err(|e| e.to_string())?;

    let day = |n: i64| (Utc::now().date_naive() + Duration::days(n)).to_string();
    let flights = call(
        &client,
        "search_flights",
        json!({"origin": "LHR", "destination": "CDG", "date": day(14), "currency": "EUR"}),
    )
    .await?;
    let flight = &flights["offers"][0];
    println!(
        "  {} — {} {}",
        flight["title"], flight["price"]["amount"], flight["price"]["currency"]
    );
    let plan = call(
        &client,
        "create_travel_plan",
        json!({
            "title": "Paris weekend",
            "travellers": [{"given_name": "Ada", "family_name": "Lovelace"}],
            "payment_method": "pm_sandbox_visa",
            "budget": {"amount": "2500", "currency": "EUR"},
            "items": [
                {"offer_id": flight["id"]},
                {"hotel": {"city": "Paris", "check_in": day(14), "check_out": day(16), "currency": "EUR", "refundable_only": true}},
                {"activity": {"city": "Paris", "date": day(15), "currency": "EUR"}, "priority": "optional"},
            ],
        }),
    )
    .await?;
    println!(
        "  plan {} totals {} {}, phases {}",
        plan["plan_id"], plan["total"]["amount"], plan["total"]["currency"], plan["phases"]
    );
    let approval = call(
        &client,
        "confirm_travel_plan",
        json!({"plan_id": plan["plan_id"]}),
    )
    .await?;
    println!("  approval: {}", approval["message"]);
    let order = call(
        &client,
        "execute_travel_plan",
        json!({"plan_id": plan["plan_id"]}),
    )
    .await?;
    println!(
        "  order {} is {}; captured {} {}",
        order["order_id"],
        order["status"],
        order["captured"]["amount"],
        order["captured"]["currency"]
    );
    for document in order["documents"].as_array().into_iter().flatten() {
        println!("  {}: {}", document["title"], document["confirmation"]);
    }
    let cancelled = call(
        &client,
        "cancel_booking",
        json!({"order_id": order["order_id"]}),
    )
    .await?;
    println!(
        "  cancelled: {}; refunded {} {}",
        cancelled["status"], cancelled["refunded"]["amount"], cancelled["refunded"]["currency"]
    );
    client.cancel().await.map_err(|e| e.to_string())?;
    Ok(())
}
