//! `itinera doctor` on the real binary: silent and 0 when nothing needs a person; otherwise each
//! problem with what to do, and exit code 1.

mod common;

use common::amadeus_fake::{self, FakeAmadeus};
use common::avis_fake::{self, FakeAvis};
use common::booking_com_fake::{self, FakeBookingCom};
use common::duffel_fake::{self, FakeDuffel};
use common::getyourguide_fake::{self, FakeGetYourGuide};
use common::viator_fake::{self, FakeViator};
use common::{Harness, Options};
use serde_json::json;

fn doctor(h: &Harness, args: &[&str]) -> (Option<i32>, String) {
    doctor_with(h, args, &[])
}

/// `itinera doctor` on the harness's data, with more settings in the environment.
fn doctor_with(h: &Harness, args: &[&str], envs: &[(&str, &str)]) -> (Option<i32>, String) {
    let output = doctor_output(h, args, envs);
    (
        output.status.code(),
        String::from_utf8(output.stdout).unwrap(),
    )
}

fn doctor_output(h: &Harness, args: &[&str], envs: &[(&str, &str)]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_itinera"))
        .arg("doctor")
        .args(args)
        .env("ITINERA_DATA_DIR", h.dir.path())
        .env("RUST_LOG", "warn")
        .envs(envs.iter().copied())
        .output()
        .unwrap()
}

/// Amadeus (with `secret`) and Duffel configured against their fakes.
fn real_providers<'a>(
    duffel: &'a FakeDuffel,
    amadeus: &'a FakeAmadeus,
    secret: &'a str,
) -> Vec<(&'static str, &'a str)> {
    vec![
        ("ITINERA_DUFFEL_ACCESS_TOKEN", duffel_fake::TOKEN),
        ("ITINERA_DUFFEL_BASE_URL", &duffel.base_url),
        ("ITINERA_AMADEUS_CLIENT_ID", amadeus_fake::CLIENT_ID),
        ("ITINERA_AMADEUS_CLIENT_SECRET", secret),
        ("ITINERA_AMADEUS_BASE_URL", &amadeus.base_url),
        ("ITINERA_AMADEUS_AGENCY_EMAIL", "desk@agency.example"),
        ("ITINERA_AMADEUS_CARD_NUMBER", amadeus_fake::CARD_NUMBER),
        ("ITINERA_AMADEUS_CARD_EXPIRY", "2027-08"),
        ("ITINERA_AMADEUS_CARD_HOLDER", "AGENCY DESK"),
    ]
}

#[tokio::test]
async fn nothing_to_report_after_clean_bookings() {
    let h = Harness::start().await;
    let (plan_id, _) = h.approved_paris_plan("pm_sandbox_visa").await;
    h.ok("execute_travel_plan", json!({"plan_id": plan_id}))
        .await;
    let (code, report) = doctor(&h, &[]);
    assert_eq!(code, Some(0), "{report}");
    assert!(
        report.contains("  sandbox (flight, hotel, activity, car_rental): answers ("),
        "{report}"
    );
    assert!(report.ends_with("\nNo order needs a person.\n"), "{report}");
}

// Two workers: the binary runs on one (a blocking wait) while the fakes answer on the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_configured_provider_is_checked_and_one_refusing_the_credentials_says_what_to_fix() {
    let h = Harness::start().await;
    let duffel = FakeDuffel::start().await;
    let amadeus = FakeAmadeus::start().await;
    let envs = real_providers(&duffel, &amadeus, "a-secret-amadeus-refuses");
    let (code, report) = doctor_with(&h, &[], &envs);
    assert_eq!(
        code,
        Some(1),
        "a provider that does not answer needs a person"
    );
    assert!(report.contains("  duffel (flight): answers ("), "{report}");
    assert!(
        report.contains(
            "  amadeus (hotel): DOES NOT ANSWER: amadeus refused the request (invalid_client)"
        ),
        "{report}"
    );
    assert!(
        report.contains("check ITINERA_AMADEUS_CLIENT_ID and ITINERA_AMADEUS_CLIENT_SECRET"),
        "{report}"
    );
    assert!(
        report.contains("  sandbox (activity, car_rental): answers ("),
        "the sandbox sells what no real provider does: {report}"
    );
    assert!(
        report.contains("Payment providers, in order of preference: sandbox_payments"),
        "{report}"
    );
    assert_eq!(duffel.received_on("GET", "/air/airlines").len(), 1);
    assert!(!report.contains("a-secret-amadeus-refuses"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_product_and_activity_provider_is_asked_with_a_call_that_books_nothing() {
    let h = Harness::start().await;
    let duffel = FakeDuffel::start().await;
    let viator = FakeViator::start().await;
    let gyg = FakeGetYourGuide::start().await;
    let avis = FakeAvis::start().await;
    let envs = [
        ("ITINERA_DUFFEL_ACCESS_TOKEN", duffel_fake::TOKEN),
        ("ITINERA_DUFFEL_BASE_URL", &duffel.base_url),
        ("ITINERA_DUFFEL_PRODUCTS", "flights,stays,cars"),
        ("ITINERA_AVIS_CLIENT_ID", avis_fake::CLIENT_ID),
        ("ITINERA_AVIS_CLIENT_SECRET", avis_fake::CLIENT_SECRET),
        ("ITINERA_AVIS_BASE_URL", &avis.base_url),
        ("ITINERA_AVIS_CARD_NUMBER", avis_fake::CARD_NUMBER),
        ("ITINERA_AVIS_CARD_EXPIRY", "2027-08"),
        ("ITINERA_AVIS_CARD_HOLDER", "AGENCY DESK"),
        ("ITINERA_VIATOR_API_KEY", viator_fake::API_KEY),
        ("ITINERA_VIATOR_BASE_URL", &viator.base_url),
        (
            "ITINERA_GETYOURGUIDE_ACCESS_TOKEN",
            getyourguide_fake::TOKEN,
        ),
        ("ITINERA_GETYOURGUIDE_BASE_URL", &gyg.base_url),
    ];
    let (code, report) = doctor_with(&h, &[], &envs);
    assert_eq!(code, Some(0), "{report}");
    for line in [
        "  duffel (flight): answers (",
        "  duffel_stays (hotel): answers (",
        "  duffel_cars (car_rental): answers (",
        "  viator (activity): answers (",
        "  getyourguide (activity): answers (",
        "  avis (car_rental): answers (",
    ] {
        assert!(report.contains(line), "{line} missing from {report}");
    }
    assert_eq!(duffel.received_on("GET", "/stays/bookings").len(), 1);
    assert_eq!(
        viator.received_on("GET", "/bookings/cancel-reasons").len(),
        1
    );
    assert_eq!(gyg.received_on("GET", "/1/configuration/payment").len(), 1);
    assert_eq!(avis.received_on("GET", "/oauth/token/v2").len(), 1);
    assert!(!report.contains(avis_fake::CLIENT_SECRET), "{report}");
    assert!(
        duffel.stay_bookings().is_empty()
            && duffel.car_bookings().is_empty()
            && avis.reservations().is_empty(),
        "a check books nothing"
    );
}

/// Booking.com configured by its variables, as an operator would, is asked for ten cities; its
/// key is in neither the report nor the debug log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn booking_com_is_asked_with_a_lookup_that_books_nothing() {
    let h = Harness::start().await;
    let fake = FakeBookingCom::start().await;
    let affiliate = booking_com_fake::AFFILIATE_ID.to_string();
    let envs = [
        ("ITINERA_BOOKINGCOM_API_KEY", booking_com_fake::API_KEY),
        ("ITINERA_BOOKINGCOM_AFFILIATE_ID", affiliate.as_str()),
        ("ITINERA_BOOKINGCOM_BASE_URL", &fake.base_url),
        ("ITINERA_BOOKINGCOM_BOOKER_COUNTRY", "FR"),
        (
            "ITINERA_BOOKINGCOM_CARD_NUMBER",
            booking_com_fake::CARD_NUMBER,
        ),
        ("ITINERA_BOOKINGCOM_CARD_EXPIRY", "2030-10"),
        ("ITINERA_BOOKINGCOM_CARD_HOLDER", "AGENCY DESK"),
        ("ITINERA_BOOKINGCOM_CARD_CVC", booking_com_fake::CARD_CVC),
        ("RUST_LOG", "itinera=debug"),
    ];
    let output = doctor_output(&h, &[], &envs);
    let report = String::from_utf8(output.stdout).unwrap();
    let log = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(0), "{report}{log}");
    assert!(
        report.contains("  booking_com (hotel): answers ("),
        "{report}"
    );
    let [probe] = fake
        .received_on("/common/locations/cities")
        .try_into()
        .unwrap();
    assert_eq!(probe.json.unwrap()["rows"], 10);
    assert!(fake.orders().is_empty(), "a check books nothing");
    assert!(log.contains("/3.1/common/locations/cities"), "{log}");
    for secret in [booking_com_fake::API_KEY, booking_com_fake::CARD_NUMBER] {
        assert!(
            !report.contains(secret) && !log.contains(secret),
            "{secret} shown"
        );
    }

    let incomplete = doctor_output(
        &h,
        &[],
        &[
            ("ITINERA_BOOKINGCOM_API_KEY", "k"),
            ("ITINERA_BOOKINGCOM_BASE_URL", &fake.base_url),
        ],
    );
    let refused = format!(
        "{}{}",
        String::from_utf8_lossy(&incomplete.stdout),
        String::from_utf8_lossy(&incomplete.stderr)
    );
    assert_ne!(incomplete.status.code(), Some(0), "{refused}");
    assert!(
        refused.contains("ITINERA_BOOKINGCOM_AFFILIATE_ID"),
        "the missing settings are named: {refused}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_mode_is_said_first_and_takes_live_credentials_only() {
    let h = Harness::start().await;
    let viator = FakeViator::start().await;
    let live_dir = tempfile::tempdir().unwrap();
    let live_dir = live_dir.path().to_str().unwrap();
    let live = [
        ("ITINERA_DATA_DIR", live_dir),
        ("ITINERA_MODE", "live"),
        ("ITINERA_PAYMENT_PROVIDER", "stripe"),
        ("ITINERA_STRIPE_SECRET_KEY", "sk_live_never_called"),
        ("ITINERA_VIATOR_API_KEY", viator_fake::API_KEY),
        ("ITINERA_VIATOR_BASE_URL", &viator.base_url),
    ];
    let (code, report) = doctor_with(&h, &[], &live);
    assert_eq!(code, Some(0), "{report}");
    assert!(
        report.starts_with(
            "Mode: live (production hosts: bookings are real and cards are charged)\n"
        ),
        "{report}"
    );
    assert!(
        report.contains("  viator (activity): answers ("),
        "{report}"
    );
    assert!(
        !report.contains("sandbox"),
        "nothing runs at the sandbox in live mode: {report}"
    );
    assert!(
        report.contains("Payment providers, in order of preference: stripe ("),
        "{report}"
    );

    // The harness's store holds sandbox orders: never resumed with live credentials.
    let output = doctor_output(&h, &[], &live[1..]);
    let said = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(1), "{said}");
    assert!(
        said.contains("holds sandbox-mode plans and orders: live mode needs a store of its own"),
        "{said}"
    );

    let mut test_token = live.to_vec();
    test_token.push(("ITINERA_DUFFEL_ACCESS_TOKEN", "duffel_test_abc"));
    let output = doctor_output(&h, &[], &test_token);
    let said = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(2), "{said}");
    assert!(said.contains("not a live token (duffel_live_…)"), "{said}");
    assert!(!said.contains("duffel_test_abc"), "{said}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_debug_log_shows_every_provider_call_without_its_credentials() {
    let h = Harness::start().await;
    let duffel = FakeDuffel::start().await;
    let amadeus = FakeAmadeus::start().await;
    let mut envs = real_providers(&duffel, &amadeus, amadeus_fake::CLIENT_SECRET);
    envs.push(("RUST_LOG", "itinera=debug"));
    let output = doctor_output(&h, &[], &envs);
    let log = String::from_utf8(output.stderr).unwrap();

    assert_eq!(output.status.code(), Some(0), "{log}");
    assert!(
        log.contains(&format!(
            "sending GET {}/air/airlines?limit=1",
            duffel.base_url
        )),
        "{log}"
    );
    assert!(
        log.contains("grant_type=client_credentials&client_id=[redacted]&client_secret=[redacted]"),
        "{log}"
    );
    assert!(log.contains("status=200"), "{log}");
    for secret in [
        duffel_fake::TOKEN,
        amadeus_fake::CLIENT_SECRET,
        amadeus_fake::CARD_NUMBER,
    ] {
        assert!(!log.contains(secret), "{secret} leaked into the log: {log}");
    }
}

#[tokio::test]
async fn a_rollback_the_providers_refused_is_reported_with_what_to_do() {
    let faults = "hotel.book=fail,flight.cancel=fail,payment.void=fail";
    let h = Harness::with(Options {
        faults,
        ..Options::default()
    })
    .await;
    let offers = h.paris_offers().await;
    let order = h
        .execute(
            &[
                (offers[0].clone(), "must_have"),
                (offers[1].clone(), "must_have"),
            ],
            "pm_sandbox_visa",
        )
        .await;
    assert_eq!(order["status"], "failed");
    let flight = order["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["kind"] == "flight")
        .unwrap()
        .clone();
    assert_eq!(flight["status"], "cancellation_failed");

    let (code, report) = doctor(&h, &[]);
    assert_eq!(code, Some(1), "{report}");
    assert!(report.contains("2 finding(s)"), "{report}");
    assert!(
        report.contains(&format!(
            "cancel booking {}",
            flight["reference"].as_str().unwrap()
        )),
        "{report}"
    );
    assert!(
        report.contains(&format!(
            "Void payment {} at sandbox_payments",
            order["payment"]["reference"].as_str().unwrap()
        )),
        "{report}"
    );
}

#[tokio::test]
async fn a_call_unanswered_for_too_long_is_reported_with_its_key() {
    let h = Harness::with(Options {
        faults: "payment.capture=lost",
        ..Options::default()
    })
    .await;
    let (plan_id, _) = h.approved_paris_plan("pm_sandbox_visa").await;
    let order = h
        .ok("execute_travel_plan", json!({"plan_id": plan_id}))
        .await;
    assert_eq!(order["status"], "payment_processing");
    let (code, _) = doctor(&h, &[]);
    assert_eq!(
        code,
        Some(0),
        "a fresh unanswered call is recovery's business"
    );
    let (code, report) = doctor(&h, &["--stale-after-minutes", "0"]);
    assert_eq!(code, Some(1));
    assert!(
        report.contains("the outcome of capture") && report.contains("idempotency key itn_"),
        "{report}"
    );
}

#[tokio::test]
async fn an_owner_s_refund_left_unanswered_is_reported_with_how_to_settle_it() {
    let h = Harness::start().await;
    let (plan_id, _) = h.approved_paris_plan("pm_sandbox_visa").await;
    let order = h
        .ok("execute_travel_plan", json!({"plan_id": plan_id}))
        .await;
    h.set_faults("payment.refund=lost");
    h.err(
        "refund_payment",
        json!({"order_id": order["order_id"], "amount": {"amount": "25.00", "currency": "EUR"}, "reason": "late check-in"}),
    )
    .await;
    let (code, report) = doctor(&h, &["--stale-after-minutes", "0"]);
    assert_eq!(code, Some(1), "{report}");
    assert!(
        report.contains("the owner's refund of EUR 25.00")
            && report.contains("refund_payment")
            && report.contains("amount EUR 25.00"),
        "{report}"
    );
}

/// A split whose release is stuck names each part where the providers know it: their own
/// payment, amount and the key that part went under.
#[tokio::test]
async fn a_stuck_split_release_names_each_part_at_its_provider() {
    let fake = common::stripe_fake::FakeStripe::start().await;
    let h = Harness::with(Options {
        faults: "hotel.book=fail,payment.void=fail",
        fallback_payments: vec![itinera::config::PaymentSettings::Stripe {
            secret_key: common::stripe_fake::KEY.to_string().into(),
            base_url: fake.base_url.clone(),
            webhook_secret: None,
        }],
        ..Options::default()
    })
    .await;
    let (plan, _) = h
        .split_plan(&["must_have"; 4], "pm_card_visa", json!([{"method": "pm_sandbox_visa", "amount": {"amount": "100.00", "currency": "EUR"}}]))
        .await;
    h.ok("confirm_travel_plan", json!({"plan_id": plan["plan_id"]}))
        .await;
    let order = h
        .ok("execute_travel_plan", json!({"plan_id": plan["plan_id"]}))
        .await;
    let parts: Vec<String> =
        serde_json::from_str(order["payment"]["reference"].as_str().unwrap()).unwrap();
    let (code, report) = doctor(&h, &["--stale-after-minutes", "0"]);
    assert_eq!(code, Some(1), "{report}");
    assert!(
        report.contains(&format!(
            "part 0: payment {} at sandbox_payments for EUR 100.00 (idempotency key itn_",
            parts[0]
        )) && report.contains(&format!("part 1: payment {} at stripe", parts[1])),
        "{report}"
    );
}
