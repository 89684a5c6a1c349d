//! A snapshot of every tool's public surface: name, title, description, annotations and schemas.
//! A change to it must be deliberate: run with `UPDATE_SNAPSHOTS=1` and review the diff.

mod common;

use common::Harness;
use serde_json::{Value, json};

const SNAPSHOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/snapshots/tools.json");

#[tokio::test]
async fn the_tool_surface_matches_the_snapshot() {
    let h = Harness::start().await;
    let tools = h.client.list_all_tools().await.unwrap();
    let surface: Vec<Value> = tools
        .iter()
        .map(|tool| {
            json!({
                "name": tool.name,
                "title": tool.title,
                "description": tool.description,
                "annotations": tool.annotations,
                "input_schema": tool.input_schema,
                "output_schema": tool.output_schema,
            })
        })
        .collect();
    let current = serde_json::to_string_pretty(&surface).unwrap() + "\n";
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(SNAPSHOT, &current).unwrap();
    }
    let expected =
        std::fs::read_to_string(SNAPSHOT).expect("no snapshot yet: run with UPDATE_SNAPSHOTS=1");
    assert!(
        current == expected,
        "the tool surface changed; if deliberate, run UPDATE_SNAPSHOTS=1 cargo test --test schema_snapshot and review tests/snapshots/tools.json"
    );

    for tool in &tools {
        let annotations = tool
            .annotations
            .as_ref()
            .unwrap_or_else(|| panic!("{} has no annotations", tool.name));
        assert!(tool.title.is_some(), "{} has no title", tool.name);
        for hint in [
            annotations.read_only_hint,
            annotations.destructive_hint,
            annotations.idempotent_hint,
            annotations.open_world_hint,
        ] {
            assert!(hint.is_some(), "{} leaves a hint unset", tool.name);
        }
        assert!(
            tool.output_schema.is_some(),
            "{} has no output schema",
            tool.name
        );
    }
}
