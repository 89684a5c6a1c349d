//! The sandbox providers honour idempotency keys the way Stripe does: the same key and request
//! replay the first answer with no new effect; the same key with another request is refused.

use std::net::SocketAddr;
use std::sync::Arc;

use chrono::NaiveDate;
use itinera::adapters::sandbox::faults::Faults;
use itinera::adapters::sandbox::{Sandbox, SandboxBooking, SandboxPayments, SandboxSettings};
use itinera::domain::idempotency::{IdempotencyKey, Operation};
use itinera::domain::ids::{OrderId, PaymentMethodToken};
use itinera::domain::money::Currency;
use itinera::domain::places::City;
use itinera::domain::plan::{Traveller, TravellerKind};
use itinera::ports::booking::{BookingRequest, SearchQuery};
use itinera::ports::payment::AuthorizeRequest;
use itinera::ports::{
    BookingError, BookingProvider, PaymentError, PaymentProvider, ProviderError, SystemClock,
};

async fn sandbox(dir: &tempfile::TempDir) -> Arc<Sandbox> {
    let settings = SandboxSettings {
        ledger_url: format!("sqlite://{}", dir.path().join("ledger.db").display()),
        faults: Faults::none(),
        action_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        fault_seed: 0,
    };
    Sandbox::open(settings, Arc::new(SystemClock))
        .await
        .unwrap()
}

fn refused_for_key_reuse(error: &ProviderError) -> bool {
    matches!(error, ProviderError::Rejected { code, .. } if code == "idempotency_error")
}

#[tokio::test]
async fn a_repeated_booking_replays_and_a_reused_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = sandbox(&dir).await;
    let provider = SandboxBooking::new(sandbox.clone());
    let query = SearchQuery::Hotels {
        city: City::parse("Paris").unwrap(),
        check_in: NaiveDate::from_ymd_opt(2027, 3, 1).unwrap(),
        check_out: NaiveDate::from_ymd_opt(2027, 3, 3).unwrap(),
        guests: 1,
        currency: Currency::parse("EUR").unwrap(),
    };
    let offers = provider.search(&query).await.unwrap();
    let travellers = [Traveller {
        given_name: "Ada".into(),
        family_name: "Lovelace".into(),
        kind: TravellerKind::Adult,
        passport_number: None,
        date_of_birth: None,
        phone: None,
        email: None,
        title: None,
        gender: None,
    }];
    let order = OrderId::generate();
    let key = IdempotencyKey::derive(&order, None, Operation::Book, "1");
    let request = |offer| BookingRequest {
        order_id: &order,
        offer,
        travellers: &travellers,
        idempotency_key: &key,
        first_sent_at: None,
    };

    let first = provider.book(request(&offers[0])).await.unwrap();
    let again = provider.book(request(&offers[0])).await.unwrap();
    assert_eq!(
        first, again,
        "the same key and request give the same booking"
    );
    assert_eq!(
        sandbox.ledger().bookings().await.unwrap().len(),
        1,
        "and no second one"
    );

    match provider.book(request(&offers[1])).await {
        Err(BookingError::Provider(error)) => assert!(refused_for_key_reuse(&error), "{error}"),
        other => panic!("a reused key with another offer must be refused, got {other:?}"),
    }
    assert_eq!(sandbox.ledger().bookings().await.unwrap().len(), 1);
}

#[tokio::test]
async fn repeated_holds_and_captures_move_money_once() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = sandbox(&dir).await;
    let payments = SandboxPayments::new(sandbox.clone());
    let order = OrderId::generate();
    let method = PaymentMethodToken::parse("pm_sandbox_visa").unwrap();
    let key = IdempotencyKey::derive(&order, None, Operation::Authorize, "1");
    let amount = itinera::domain::money::Money::parse("120.00", "EUR").unwrap();
    let request = |amount| AuthorizeRequest {
        order_id: &order,
        amount,
        payment_method: &method,
        description: "test",
        idempotency_key: &key,
        return_url: "http://127.0.0.1:9/payment-complete",
        pay_by: None,
        customer: None,
    };

    let first = payments.authorize(request(amount)).await.unwrap();
    let again = payments.authorize(request(amount)).await.unwrap();
    assert_eq!(first.payment_id, again.payment_id);
    let other_amount = itinera::domain::money::Money::parse("99.00", "EUR").unwrap();
    match payments.authorize(request(other_amount)).await {
        Err(PaymentError::Provider(error)) => assert!(refused_for_key_reuse(&error), "{error}"),
        other => panic!("a reused key with another amount must be refused, got {other:?}"),
    }

    let capture_key = IdempotencyKey::derive(&order, None, Operation::Capture, "1");
    let part = itinera::domain::money::Money::parse("100.00", "EUR").unwrap();
    assert_eq!(
        payments
            .capture(&first.payment_id, part, &capture_key)
            .await
            .unwrap(),
        part
    );
    assert_eq!(
        payments
            .capture(&first.payment_id, part, &capture_key)
            .await
            .unwrap(),
        part
    );
    let kinds: Vec<String> = sandbox
        .ledger()
        .movements(&first.payment_id)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.kind)
        .collect();
    assert_eq!(
        kinds,
        ["hold", "capture"],
        "one hold and one capture, however often they were asked for"
    );
}
