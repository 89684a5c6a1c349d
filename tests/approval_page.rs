//! The approval page and the out-of-band code: what a person sees and does when their MCP client
//! cannot prompt them, and why neither the model nor another website can answer for them.
//!
//! Two links lead to the page: the one in tool output (the model saw it, so approving through it
//! takes the code) and the one sent to the person with the code (a click approves).

mod common;

use common::{Harness, Options, Person, page};
use serde_json::{Value, json};

/// A headless client: confirm answers with the page link (and the code goes to the person).
async fn headless() -> Harness {
    Harness::with(Options {
        person: Person::headless(),
        ..Options::default()
    })
    .await
}

/// A planned Paris trip, confirmed: (plan id, the confirm output).
async fn confirmed(h: &Harness) -> (String, Value) {
    let offers = h.paris_offers().await;
    let items: Vec<(Value, &str)> = offers.iter().map(|o| (o.clone(), "must_have")).collect();
    let plan = h.plan_of(&items, "pm_sandbox_visa").await;
    let plan_id = plan["plan_id"].as_str().unwrap().to_string();
    let approval = h
        .ok("confirm_travel_plan", json!({"plan_id": plan_id}))
        .await;
    (plan_id, approval)
}

/// The link the person received with their code.
fn persons_link(h: &Harness) -> String {
    h.codes.latest().page_url
}

fn url_of(approval: &Value) -> String {
    approval["approval_url"]
        .as_str()
        .unwrap_or_else(|| panic!("no approval_url in {approval}"))
        .to_string()
}

async fn execute_refused(h: &Harness, plan_id: &str) -> String {
    h.err("execute_travel_plan", json!({"plan_id": plan_id}))
        .await
}

#[tokio::test]
async fn the_page_shows_the_plan_and_approving_there_lets_it_execute() {
    let h = headless().await;
    let (plan_id, approval) = confirmed(&h).await;
    assert_eq!(approval["status"], "pending");
    let url = url_of(&approval);
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");

    let shown = page::get(&url, "en-GB,en;q=0.9").await;
    assert_eq!(shown.status, 200);
    let plan = h.ok("get_travel_plan", json!({"plan_id": plan_id})).await;
    for item in plan["items"].as_array().unwrap() {
        let title = item["offer"]["title"].as_str().unwrap();
        assert!(shown.body.contains(title), "item {title} not shown");
        let price = &item["offer"]["price"];
        let figure = format!(
            "{} {}",
            price["amount"].as_str().unwrap(),
            price["currency"].as_str().unwrap()
        );
        assert!(shown.body.contains(&figure), "price {figure} not shown");
    }
    let total = format!("{} EUR", plan["total"]["amount"].as_str().unwrap());
    assert!(
        shown
            .body
            .contains(&format!("<span id=\"total\">{total}</span>")),
        "total {total}"
    );
    assert!(shown.body.contains("pm_…visa"), "the card is shown masked");
    assert!(!shown.body.contains("pm_sandbox_visa"));
    assert!(shown.body.contains("Free cancellation until"));
    assert!(shown.body.contains("<html lang=\"en\">"));

    // The link came through the model: the page asks for the code the person got separately.
    assert!(shown.body.contains("id=\"code\""), "no code field");
    let code = h.codes.latest().code;
    let answered = page::answer(&url, true, Some(&code)).await;
    assert_eq!(answered.status, 200, "{}", answered.body);
    assert!(answered.body.contains("Approved"));
    let order = h
        .ok("execute_travel_plan", json!({"plan_id": plan_id}))
        .await;
    assert_eq!(order["status"], "confirmed", "{order}");
    let status = h.ok("get_travel_plan", json!({"plan_id": plan_id})).await;
    assert_eq!(status["approval"]["method"], "approval_page");
}

#[tokio::test]
async fn the_link_the_model_saw_cannot_approve_without_the_persons_code() {
    let h = headless().await;
    let (plan_id, approval) = confirmed(&h).await;
    let url = url_of(&approval);
    let missing = page::answer(&url, true, None).await;
    assert_eq!(missing.status, 403);
    assert!(
        missing.body.contains("enter the one-time code"),
        "{}",
        missing.body
    );
    let wrong = page::answer(&url, true, Some("0000-0000")).await;
    assert_eq!(wrong.status, 403);
    assert!(wrong.body.contains("Attempts left: 4"), "{}", wrong.body);
    assert!(
        execute_refused(&h, &plan_id)
            .await
            .contains("has not answered")
    );
    // The person's own link needs no code, and shows no code field.
    let own = persons_link(&h);
    assert_ne!(own, url);
    assert!(!page::get(&own, "en").await.body.contains("id=\"code\""));
    assert_eq!(page::answer(&own, true, None).await.status, 200);
    let order = h
        .ok("execute_travel_plan", json!({"plan_id": plan_id}))
        .await;
    assert_eq!(order["status"], "confirmed");
}

/// What a screen reader, a keyboard and a phone need is in the markup.
#[tokio::test]
async fn the_page_is_labelled_keyboard_operable_and_fits_a_phone() {
    let h = headless().await;
    let (_, approval) = confirmed(&h).await;
    let page = page::get(&url_of(&approval), "en").await.body;
    assert!(
        page.contains(r#"<meta name="viewport" content="width=device-width, initial-scale=1">"#)
    );
    assert!(page.contains(r#"<html lang="en">"#));
    assert!(
        page.contains(r#"<label for="code">"#),
        "the code field has a label"
    );
    assert!(page.contains(r#"aria-describedby="code-hint""#));
    assert!(
        page.contains(r#"<button id="approve" type="submit""#),
        "native, focusable buttons"
    );
    assert!(page.contains(r#"<button id="decline" type="submit""#));
    assert!(
        page.contains(r#"<th scope="col">"#),
        "table headers name their columns"
    );
    assert!(
        page.contains("@media (max-width:32rem)"),
        "a narrow-screen layout"
    );
    assert!(
        page.contains(r#"data-label="Price""#),
        "cells keep their labels when stacked"
    );
    assert!(page.contains(":focus-visible"), "focus is visible");
}

#[tokio::test]
async fn declining_on_the_page_refuses_execution() {
    let h = headless().await;
    let (plan_id, approval) = confirmed(&h).await;
    // Declining needs no code.
    let answered = page::answer(&url_of(&approval), false, None).await;
    assert!(answered.body.contains("Declined"), "{}", answered.body);
    let refusal = execute_refused(&h, &plan_id).await;
    assert!(refusal.contains("declined"), "{refusal}");
    assert!(h.ledger_bookings().await.is_empty());
}

#[tokio::test]
async fn the_page_speaks_chinese_to_a_chinese_browser() {
    let h = headless().await;
    let (_, approval) = confirmed(&h).await;
    let shown = page::get(&url_of(&approval), "zh-CN,zh;q=0.9,en;q=0.5").await;
    assert!(shown.body.contains("<html lang=\"zh-CN\">"));
    assert!(shown.body.contains("批准并允许付款"));
    assert!(shown.body.contains("拒绝"));
    assert!(shown.body.contains("总额"));
}

#[tokio::test]
async fn a_forged_link_shows_nothing_and_approves_nothing() {
    let h = headless().await;
    let (plan_id, approval) = confirmed(&h).await;
    let url = url_of(&approval);
    let (base, token) = url.rsplit_once('/').unwrap();
    let forged_token = format!("{base}/{}", "0".repeat(token.len()));
    let other_approval = url.replace(
        approval["approval_id"].as_str().unwrap(),
        "apr_00000000000000000000000000000000",
    );
    for forged in [forged_token, other_approval, format!("{base}/short")] {
        let shown = page::get(&forged, "en").await;
        assert_eq!(shown.status, 404, "{forged}");
        assert!(shown.body.contains("not valid"));
        assert!(!shown.body.contains("csrf"));
        let posted = page::post(
            &forged,
            &[("csrf", "x"), ("digest", "y"), ("decision", "approve")],
            Some(&page::origin(&forged)),
        )
        .await;
        assert_eq!(posted.status, 404);
    }
    assert!(
        execute_refused(&h, &plan_id)
            .await
            .contains("has not answered")
    );
}

/// A form's fields, as a browser posts them.
type Fields<'a> = &'a [(&'a str, &'a str)];

#[tokio::test]
async fn an_answer_without_the_pages_token_or_from_another_site_is_refused() {
    let h = headless().await;
    let (plan_id, approval) = confirmed(&h).await;
    let url = url_of(&approval);
    let shown = page::get(&url, "en").await;
    let (csrf, digest) = (shown.field("csrf"), shown.field("digest"));
    let origin = page::origin(&url);
    let attempts: [(Fields, Option<&str>); 5] = [
        (
            &[
                ("csrf", "0000"),
                ("digest", &digest),
                ("decision", "approve"),
            ],
            Some(&origin),
        ),
        (
            &[
                ("csrf", &csrf),
                ("digest", &digest),
                ("decision", "approve"),
            ],
            Some("http://evil.example"),
        ),
        (
            &[
                ("csrf", &csrf),
                ("digest", &digest),
                ("decision", "approve"),
            ],
            None,
        ),
        (
            &[
                ("csrf", &csrf),
                ("digest", &digest),
                ("decision", "yes please"),
            ],
            Some(&origin),
        ),
        (
            &[("digest", &digest), ("decision", "approve")],
            Some(&origin),
        ),
    ];
    for (fields, from) in attempts {
        let posted = page::post(&url, fields, from).await;
        assert_eq!(
            posted.status, 403,
            "{fields:?} from {from:?}: {}",
            posted.body
        );
        assert!(
            posted.body.contains("could not be verified"),
            "{}",
            posted.body
        );
        assert_eq!(
            posted.headers_frame, "DENY",
            "refusals carry the page's protections"
        );
    }
    assert!(
        execute_refused(&h, &plan_id)
            .await
            .contains("has not answered")
    );
    // The genuine page still works afterwards.
    let code = h.codes.latest().code;
    assert_eq!(page::answer(&url, true, Some(&code)).await.status, 200);
}

#[tokio::test]
async fn a_used_link_cannot_be_replayed() {
    let h = headless().await;
    let (plan_id, _) = confirmed(&h).await;
    let url = persons_link(&h);
    let shown = page::get(&url, "en").await;
    let fields = [
        ("csrf", shown.field("csrf")),
        ("digest", shown.field("digest")),
    ];
    let post = |decision: &'static str| {
        let url = url.clone();
        let fields = fields.clone();
        async move {
            page::post(
                &url,
                &[
                    ("csrf", &fields[0].1),
                    ("digest", &fields[1].1),
                    ("decision", decision),
                ],
                Some(&page::origin(&url)),
            )
            .await
        }
    };
    assert_eq!(post("approve").await.status, 200);
    let replay = post("decline").await;
    assert_eq!(replay.status, 410);
    assert!(replay.body.contains("already used"), "{}", replay.body);
    let again = page::get(&url, "en").await;
    assert_eq!(again.status, 410);
    assert!(!again.body.contains("csrf"));
    let order = h
        .ok("execute_travel_plan", json!({"plan_id": plan_id}))
        .await;
    assert_eq!(order["status"], "confirmed");
}

#[tokio::test]
async fn a_page_opened_before_an_edit_cannot_approve_the_edited_plan() {
    let h = headless().await;
    let (plan_id, approval) = confirmed(&h).await;
    let url = url_of(&approval);
    let shown = page::get(&url, "en").await;
    h.ok(
        "update_travel_plan",
        json!({"plan_id": plan_id, "travellers": [{"given_name": "Charles", "family_name": "Babbage"}]}),
    )
    .await;
    let posted = page::post(
        &url,
        &[
            ("csrf", &shown.field("csrf")),
            ("digest", &shown.field("digest")),
            ("decision", "approve"),
        ],
        Some(&page::origin(&url)),
    )
    .await;
    assert_eq!(posted.status, 409);
    assert!(posted.body.contains("plan was changed"), "{}", posted.body);
    let refusal = execute_refused(&h, &plan_id).await;
    assert!(
        refusal.contains("has not answered") || refusal.contains("changed"),
        "{refusal}"
    );
    assert!(h.ledger_bookings().await.is_empty());

    // Confirming again gives a new link for the plan as it is now.
    let fresh = h
        .ok("confirm_travel_plan", json!({"plan_id": plan_id}))
        .await;
    assert_ne!(url_of(&fresh), url);
    let new_page = page::get(&url_of(&fresh), "en").await;
    assert!(new_page.body.contains("Charles Babbage"));
}

#[tokio::test]
async fn an_expired_link_says_so() {
    let h = headless().await;
    let (_, approval) = confirmed(&h).await;
    h.clock.advance(chrono::Duration::minutes(31));
    let shown = page::get(&url_of(&approval), "en").await;
    assert_eq!(shown.status, 410);
    assert!(shown.body.contains("expired"), "{}", shown.body);
}

#[tokio::test]
async fn a_client_with_url_elicitation_sends_the_person_to_the_page() {
    for lifecycle in [common::Lifecycle::Legacy, common::Lifecycle::Modern] {
        let h = Harness::with(Options {
            person: Person::with_browser(common::Answer::Approve),
            lifecycle,
            ..Options::default()
        })
        .await;
        let (plan_id, approval) = confirmed(&h).await;
        assert_eq!(approval["status"], "approved", "{lifecycle:?}: {approval}");
        assert_eq!(approval["method"], "approval_page");
        assert!(
            !approval.to_string().contains("/approve/"),
            "the link went to the client, not the model: {approval}"
        );
        assert_eq!(h.person.opened.lock().unwrap().len(), 1);
        assert!(
            h.person.prompts.lock().unwrap().is_empty(),
            "no form prompt"
        );
        let order = h
            .ok("execute_travel_plan", json!({"plan_id": plan_id}))
            .await;
        assert_eq!(order["status"], "confirmed");
    }
}

#[tokio::test]
async fn the_code_goes_to_the_person_never_to_the_model_and_approves_once_passed_on() {
    let h = headless().await;
    let (plan_id, approval) = confirmed(&h).await;
    let notice = h.codes.latest();
    assert_eq!(
        notice.approval.as_str(),
        approval["approval_id"].as_str().unwrap()
    );
    let output = approval.to_string();
    assert!(
        !output.contains(&notice.code),
        "the code must not reach the model"
    );
    assert!(!output.contains(&notice.code.replace('-', "")));
    assert!(notice.message().contains(&notice.code));
    assert!(notice.message().contains("EUR"), "{}", notice.message());
    assert!(
        !output.contains(&notice.page_url),
        "the person's own link stays theirs"
    );

    let order = h
        .ok(
            "execute_travel_plan",
            json!({"plan_id": plan_id, "approval_code": notice.code.to_lowercase()}),
        )
        .await;
    assert_eq!(order["status"], "confirmed", "{order}");
    let plan = h.ok("get_travel_plan", json!({"plan_id": plan_id})).await;
    assert_eq!(plan["approval"]["method"], "out_of_band_code");
}

#[tokio::test]
async fn wrong_codes_are_counted_and_void_the_request() {
    let h = headless().await;
    let (plan_id, _) = confirmed(&h).await;
    for left in (1..=4).rev() {
        let refusal = h
            .err(
                "execute_travel_plan",
                json!({"plan_id": plan_id, "approval_code": "0000-0000"}),
            )
            .await;
        assert!(
            refusal.contains(&format!("{left} attempt(s) left")),
            "{refusal}"
        );
    }
    let locked = h
        .err(
            "execute_travel_plan",
            json!({"plan_id": plan_id, "approval_code": "0000-0000"}),
        )
        .await;
    assert!(locked.contains("voided"), "{locked}");
    // Even the right code no longer works for the voided request.
    let code = h.codes.latest().code;
    let after = h
        .err(
            "execute_travel_plan",
            json!({"plan_id": plan_id, "approval_code": code}),
        )
        .await;
    assert!(after.contains("confirm_travel_plan"), "{after}");
    assert!(h.ledger_bookings().await.is_empty());
    let log = h.ok("get_audit_log", json!({})).await.to_string();
    assert!(log.contains("approval.wrong_code"), "{log}");
    assert!(log.contains("approval.voided"), "{log}");
    assert!(!log.contains(&code), "codes are never written down");
}

#[tokio::test]
async fn an_older_link_of_the_same_plan_cannot_answer_once_a_newer_one_exists() {
    let h = headless().await;
    let (plan_id, _) = confirmed(&h).await;
    let old_link = persons_link(&h);
    let ada = json!([{"given_name": "Ada", "family_name": "Lovelace"}]);
    let charles = json!([{"given_name": "Charles", "family_name": "Babbage"}]);
    h.ok(
        "update_travel_plan",
        json!({"plan_id": plan_id, "travellers": charles}),
    )
    .await;
    h.ok("confirm_travel_plan", json!({"plan_id": plan_id}))
        .await;
    // Back to the plan the old link showed: still, the newer request is the one to answer.
    h.ok(
        "update_travel_plan",
        json!({"plan_id": plan_id, "travellers": ada}),
    )
    .await;
    let shown = page::get(&old_link, "en").await;
    assert_eq!(shown.status, 409, "{}", shown.body);
    assert!(
        execute_refused(&h, &plan_id)
            .await
            .contains("has not answered")
    );
}

#[tokio::test]
async fn a_request_for_another_host_name_is_refused() {
    let h = headless().await;
    let (plan_id, approval) = confirmed(&h).await;
    let url = url_of(&approval);
    let port = page::origin(&url).rsplit(':').next().unwrap().to_string();
    // What a DNS-rebinding page would send: our address, but its own host name.
    let rebound = reqwest::Client::new()
        .get(&url)
        .header("host", format!("evil.example:{port}"))
        .send()
        .await
        .unwrap();
    assert_eq!(rebound.status(), 421);
    let localhost = url.replace("127.0.0.1", "localhost");
    assert_eq!(page::get(&localhost, "en").await.status, 200);
    assert!(
        execute_refused(&h, &plan_id)
            .await
            .contains("has not answered")
    );
}
