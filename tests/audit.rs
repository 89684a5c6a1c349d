//! The audit log: approvals and every order step recorded, shown to their owner, and any edit,
//! deletion or insertion caught by `itinera audit verify`.

mod common;

use common::Harness;
use serde_json::json;

fn verify(h: &Harness) -> (Option<i32>, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_itinera"))
        .args(["audit", "verify"])
        .env("ITINERA_DATA_DIR", h.dir.path())
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8(output.stdout).unwrap(),
    )
}

async fn tamper(h: &Harness, sql: &'static str) {
    let pool = sqlx::SqlitePool::connect(&h.store_url()).await.unwrap();
    sqlx::query(sql).execute(&pool).await.unwrap();
    pool.close().await;
}

/// A booked and cancelled trip: plenty of entries.
async fn trip(h: &Harness) {
    let (plan_id, _) = h.approved_paris_plan("pm_sandbox_visa").await;
    let order = h
        .ok("execute_travel_plan", json!({"plan_id": plan_id}))
        .await;
    h.ok("cancel_booking", json!({"order_id": order["order_id"]}))
        .await;
}

#[tokio::test]
async fn approvals_payments_and_refunds_are_recorded_and_shown() {
    let h = Harness::start().await;
    trip(&h).await;
    let log = h.ok("get_audit_log", json!({"limit": 500})).await;
    let entries = log["entries"].as_array().unwrap();
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        &actions[..2],
        ["approval.requested", "approval.approved"],
        "{actions:?}"
    );
    let details: Vec<&str> = entries
        .iter()
        .map(|e| e["detail"].as_str().unwrap())
        .collect();
    for expected in ["Hold of EUR", "Captured EUR", "Booked", "Refunded EUR"] {
        assert!(
            details.iter().any(|d| d.contains(expected)),
            "no entry mentions {expected}: {details:?}"
        );
    }
    for pair in entries.windows(2) {
        assert_eq!(
            pair[1]["prev_hash"], pair[0]["hash"],
            "each entry links to the one before"
        );
    }
    let recent = h.ok("get_audit_log", json!({"limit": 3})).await;
    assert_eq!(recent["entries"].as_array().unwrap().len(), 3);
    assert_eq!(
        recent["entries"][2],
        entries[entries.len() - 1],
        "the most recent entries"
    );
    assert!(
        h.err("get_audit_log", json!({"limit": 0}))
            .await
            .contains("between 1 and 500")
    );
}

#[tokio::test]
async fn verify_passes_an_intact_log_and_names_an_edited_entry() {
    let h = Harness::start().await;
    trip(&h).await;
    let (code, report) = verify(&h);
    assert_eq!(code, Some(0), "{report}");
    assert!(report.contains("intact"), "{report}");

    tamper(
        &h,
        "UPDATE audit_log SET detail = 'Refunded EUR 9999.00' WHERE seq = 5",
    )
    .await;
    let (code, report) = verify(&h);
    assert_eq!(code, Some(1));
    assert!(report.contains("entry 5 was changed"), "{report}");
}

#[tokio::test]
async fn verify_catches_a_deleted_or_inserted_entry() {
    let h = Harness::start().await;
    trip(&h).await;
    tamper(&h, "DELETE FROM audit_log WHERE seq = 4").await;
    let (code, report) = verify(&h);
    assert_eq!(code, Some(1));
    assert!(report.contains("deleted or inserted"), "{report}");

    // A forged entry slipped in at position 3, the later ones renumbered to make room.
    let h = Harness::start().await;
    trip(&h).await;
    tamper(&h, "UPDATE audit_log SET seq = -seq WHERE seq >= 3").await;
    tamper(&h, "UPDATE audit_log SET seq = 1 - seq WHERE seq < 0").await;
    tamper(
        &h,
        "INSERT INTO audit_log (seq, owner, at, action, subject, detail, prev_hash, hash) \
         SELECT 3, owner, at, 'order.event', subject, '[refunded] Refunded EUR 500.00', hash, 'forged' \
         FROM audit_log WHERE seq = 2",
    )
    .await;
    let (code, report) = verify(&h);
    assert_eq!(code, Some(1), "{report}");
    assert!(report.contains("entry 3"), "{report}");
}
