//! The approval page in a real browser: headless Chromium driven through ChromeDriver (W3C
//! WebDriver). Skipped, loudly, where Chromium is not installed, unless
//! `ITINERA_REQUIRE_BROWSER=1` (as `.ci/run` sets) makes a missing browser a failure.

mod common;

use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{Harness, Options, Person};
use serde_json::{Value, json};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// The W3C WebDriver key of an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A browser session; the driver process dies with it.
struct Browser {
    driver: Child,
    http: reqwest::Client,
    session: String,
}

impl Browser {
    /// Starts ChromeDriver and a headless Chromium preferring `language`; `None` if they are not
    /// installed here and not required.
    async fn start(language: &str) -> Option<Browser> {
        if !std::path::Path::new(CHROMEDRIVER).exists() {
            assert!(
                std::env::var("ITINERA_REQUIRE_BROWSER").is_err(),
                "ITINERA_REQUIRE_BROWSER is set but {CHROMEDRIVER} is missing: apt-get install chromium chromium-driver"
            );
            // Written past the test harness's capture, which hides a passing test's output.
            let _ = writeln!(
                std::io::stderr(),
                "\n*** SKIPPED: the browser test needs {CHROMEDRIVER} and {CHROMIUM} (apt-get install chromium chromium-driver) ***\n"
            );
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        for _ in 0..100 {
            if http.get(format!("{base}/status")).send().await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         format!("--lang={language}")],
                "prefs": {"intl.accept_languages": language},
            }
        }}});
        let created: Value = http
            .post(format!("{base}/session"))
            .json(&capabilities)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let session = created["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("ChromeDriver did not start a session: {created}"))
            .to_string();
        Some(Browser {
            driver,
            http,
            session: format!("{base}/session/{session}"),
        })
    }

    /// Sends a WebDriver command: its value, or the error WebDriver answered.
    async fn try_command(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Value,
    ) -> Result<Value, Value> {
        let request = self.http.request(method, format!("{}{path}", self.session));
        let request = if body.is_null() {
            request
        } else {
            request.json(&body)
        };
        let answer: Value = request.send().await.unwrap().json().await.unwrap();
        match answer["value"].get("error") {
            Some(_) => Err(answer),
            None => Ok(answer["value"].clone()),
        }
    }

    async fn command(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        self.try_command(method, path, body)
            .await
            .unwrap_or_else(|error| panic!("WebDriver {path}: {error}"))
    }

    /// Waits for the page the browser moves to (after a click) to show `css` with text
    /// containing `expected`.
    async fn wait_for(&self, css: &str, expected: &str) -> String {
        let mut last = String::new();
        for _ in 0..100 {
            let found = self
                .try_command(
                    reqwest::Method::POST,
                    "/element",
                    json!({"using": "css selector", "value": css}),
                )
                .await;
            if let Ok(element) = found
                && let Some(id) = element[ELEMENT].as_str()
                && let Ok(text) = self
                    .try_command(
                        reqwest::Method::GET,
                        &format!("/element/{id}/text"),
                        Value::Null,
                    )
                    .await
            {
                last = text.as_str().unwrap_or_default().to_string();
                if last.contains(expected) {
                    return last;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the page never showed '{expected}' in {css}; last seen: '{last}'")
    }

    async fn open(&self, url: &str) {
        self.command(reqwest::Method::POST, "/url", json!({"url": url}))
            .await;
    }

    async fn element(&self, css: &str) -> String {
        let found = self
            .command(
                reqwest::Method::POST,
                "/element",
                json!({"using": "css selector", "value": css}),
            )
            .await;
        found[ELEMENT].as_str().unwrap().to_string()
    }

    async fn text(&self, css: &str) -> String {
        let element = self.element(css).await;
        let text = self
            .command(
                reqwest::Method::GET,
                &format!("/element/{element}/text"),
                Value::Null,
            )
            .await;
        text.as_str().unwrap().to_string()
    }

    async fn texts(&self, css: &str) -> Vec<String> {
        let found = self
            .command(
                reqwest::Method::POST,
                "/elements",
                json!({"using": "css selector", "value": css}),
            )
            .await;
        let mut texts = Vec::new();
        for element in found
            .as_array()
            .unwrap_or_else(|| panic!("elements {css}: {found}"))
        {
            let id = element[ELEMENT]
                .as_str()
                .unwrap_or_else(|| panic!("not an element: {element}"));
            let text = self
                .command(
                    reqwest::Method::GET,
                    &format!("/element/{id}/text"),
                    Value::Null,
                )
                .await;
            texts.push(text.as_str().unwrap().to_string());
        }
        texts
    }

    async fn click(&self, css: &str) {
        let element = self.element(css).await;
        self.command(
            reqwest::Method::POST,
            &format!("/element/{element}/click"),
            json!({}),
        )
        .await;
    }

    /// Types into a field, key by key, as a person would.
    async fn type_into(&self, css: &str, text: &str) {
        let element = self.element(css).await;
        self.command(
            reqwest::Method::POST,
            &format!("/element/{element}/value"),
            json!({"text": text}),
        )
        .await;
    }

    async fn close(self) {
        let _ = self.http.delete(&self.session).send().await;
    }
}

impl Drop for Browser {
    /// A failing test still stops ChromeDriver (and with it the browser).
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

async fn headless_harness() -> Harness {
    Harness::with(Options {
        person: Person::headless(),
        ..Options::default()
    })
    .await
}

/// A confirmed four-item plan: (plan id, approval page URL, the plan as the tools show it).
async fn confirmed(h: &Harness) -> (String, String, Value) {
    let offers = h.paris_offers().await;
    let items: Vec<(Value, &str)> = offers.iter().map(|o| (o.clone(), "must_have")).collect();
    let plan = h.plan_of(&items, "pm_sandbox_visa").await;
    let plan_id = plan["plan_id"].as_str().unwrap().to_string();
    let approval = h
        .ok("confirm_travel_plan", json!({"plan_id": plan_id}))
        .await;
    let url = approval["approval_url"].as_str().unwrap().to_string();
    (plan_id, url, plan)
}

#[tokio::test]
async fn a_person_approves_in_the_browser_and_the_plan_executes() {
    let h = headless_harness().await;
    let Some(browser) = Browser::start("en-US").await else {
        return;
    };
    let (plan_id, url, plan) = confirmed(&h).await;
    browser.open(&url).await;

    let titles = browser.texts("tr.item .title").await;
    let expected: Vec<String> = plan["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["offer"]["title"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(titles, expected, "every item is shown, in order");
    let prices = browser.texts("tr.item .price").await;
    assert_eq!(prices.len(), 4);
    let total = browser.text("#total").await;
    assert_eq!(
        total,
        format!("{} EUR", plan["total"]["amount"].as_str().unwrap())
    );
    assert_eq!(browser.text("#payment-method").await, "pm_…visa");

    // The link came through the assistant: the person types the code they got separately.
    browser.type_into("#code", &h.codes.latest().code).await;
    browser.click("#approve").await;
    browser.wait_for("h1", "Approved").await;
    let order = h
        .ok("execute_travel_plan", json!({"plan_id": plan_id}))
        .await;
    assert_eq!(order["status"], "confirmed", "{order}");
    assert_eq!(h.ledger_bookings().await.len(), 4);
    browser.close().await;
}

/// Keyboard only: the code typed and Enter pressed approves (the form's first button).
#[tokio::test]
async fn a_person_approves_with_the_keyboard_alone() {
    let h = headless_harness().await;
    let Some(browser) = Browser::start("en-US").await else {
        return;
    };
    let (plan_id, url, _) = confirmed(&h).await;
    browser.open(&url).await;
    let code = h.codes.latest().code;
    browser.type_into("#code", &format!("{code}\u{E007}")).await;
    browser.wait_for("h1", "Approved").await;
    let order = h
        .ok("execute_travel_plan", json!({"plan_id": plan_id}))
        .await;
    assert_eq!(order["status"], "confirmed", "{order}");
    browser.close().await;
}

#[tokio::test]
async fn declining_in_the_browser_refuses_execution() {
    let h = headless_harness().await;
    let Some(browser) = Browser::start("zh-CN").await else {
        return;
    };
    let (plan_id, url, _) = confirmed(&h).await;
    browser.open(&url).await;
    assert_eq!(browser.text("#decline").await, "拒绝");
    browser.click("#decline").await;
    browser.wait_for("h1", "已拒绝").await;
    let refusal = h
        .err("execute_travel_plan", json!({"plan_id": plan_id}))
        .await;
    assert!(refusal.contains("declined"), "{refusal}");
    assert!(h.ledger_bookings().await.is_empty());
    browser.close().await;
}

#[tokio::test]
async fn a_page_opened_before_an_edit_cannot_approve_the_edited_plan() {
    let h = headless_harness().await;
    let Some(browser) = Browser::start("en-US").await else {
        return;
    };
    let (plan_id, url, plan) = confirmed(&h).await;
    browser.open(&url).await;
    let last_item = plan["items"][3]["item_id"].as_str().unwrap();
    h.ok(
        "update_travel_plan",
        json!({"plan_id": plan_id, "remove_item_ids": [last_item]}),
    )
    .await;
    browser.type_into("#code", &h.codes.latest().code).await;
    browser.click("#approve").await;
    browser
        .wait_for(
            "#message",
            "The plan was changed after this page was opened",
        )
        .await;
    let refusal = h
        .err("execute_travel_plan", json!({"plan_id": plan_id}))
        .await;
    assert!(refusal.contains("has not answered"), "{refusal}");
    assert!(h.ledger_bookings().await.is_empty());
    browser.close().await;
}
