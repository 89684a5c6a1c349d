//! Bad input: every case is a tool error that says what to do, and nothing is written.

mod common;

use common::Harness;
use serde_json::{Value, json};

/// Rows in every table a tool could write.
async fn footprint(h: &Harness) -> Vec<i64> {
    let mut counts = Vec::new();
    for table in [
        "offers",
        "plans",
        "approvals",
        "orders",
        "order_items",
        "order_events",
    ] {
        counts.push(h.rows(table).await);
    }
    counts
}

/// Calls the tool, expects an error containing `expected`, and checks nothing was written.
async fn refused(h: &Harness, tool: &str, arguments: Value, expected: &str) {
    let before = footprint(h).await;
    let error = h.err(tool, arguments).await;
    assert!(
        error.to_lowercase().contains(&expected.to_lowercase()),
        "{tool}: expected '{expected}' in: {error}"
    );
    assert_eq!(
        footprint(h).await,
        before,
        "{tool} wrote something although it failed: {error}"
    );
}

fn traveller() -> Value {
    json!([{"given_name": "Ada", "family_name": "Lovelace"}])
}

#[tokio::test]
async fn searches_with_bad_places_dates_or_currencies_are_refused() {
    let h = Harness::start().await;
    let day = h.day(10);
    refused(
        &h,
        "search_flights",
        json!({"origin": "XQZ", "destination": "CDG", "date": day}),
        "unknown airport code 'XQZ'",
    )
    .await;
    refused(
        &h,
        "search_flights",
        json!({"origin": "LHR", "destination": "CDG", "date": h.day(-1)}),
        "in the past",
    )
    .await;
    refused(
        &h,
        "search_flights",
        json!({"origin": "LHR", "destination": "CDG", "date": "12/03/2026"}),
        "YYYY-MM-DD",
    )
    .await;
    refused(
        &h,
        "search_flights",
        json!({"origin": "LHR", "destination": "LGW", "date": day}),
        "same city",
    )
    .await;
    refused(
        &h,
        "search_flights",
        json!({"origin": "LHR", "destination": "CDG", "date": day, "currency": "XYZ"}),
        "unknown currency 'XYZ'",
    )
    .await;
    refused(
        &h,
        "search_flights",
        json!({"origin": "LHR", "destination": "CDG", "date": day, "passengers": 0}),
        "1 to 9",
    )
    .await;
    refused(
        &h,
        "search_hotels",
        json!({"city": "Paris", "check_in": h.day(12), "check_out": h.day(10)}),
        "must be after check-in",
    )
    .await;
    refused(
        &h,
        "search_hotels",
        json!({"city": "Atlantis", "check_in": day, "check_out": h.day(12)}),
        "unknown city",
    )
    .await;
    refused(
        &h,
        "search_activities",
        json!({"city": "Paris", "date": h.day(-3)}),
        "in the past",
    )
    .await;
    refused(
        &h,
        "search_car_rentals",
        json!({"city": "Paris", "pick_up_date": h.day(12), "drop_off_date": h.day(11)}),
        "must be after pick-up",
    )
    .await;
    refused(&h, "search_car_rentals", json!({"city": "Paris", "pick_up_date": day, "drop_off_date": h.day(12), "pick_up_time": "25:00"}), "HH:MM").await;
}

#[tokio::test]
async fn plans_with_bad_amounts_items_or_dependencies_are_refused() {
    let h = Harness::start().await;
    let offers = h.paris_offers().await;
    let one = json!([{"offer_id": offers[0]["id"]}]);
    let eur = |amount: Value| json!({"budget": {"amount": amount, "currency": "EUR"}});
    // (items, fields that replace the valid defaults, what the error must say)
    let cases = [
        (json!([]), json!({}), "no items"),
        (one.clone(), eur(json!("-5")), "negative"),
        (one.clone(), eur(json!("10.001")), "more decimal places"),
        (one.clone(), eur(json!(10.5)), "invalid type"),
        (
            one.clone(),
            json!({"budget": {"amount": "10", "currency": "ABC"}}),
            "unknown currency",
        ),
        (one.clone(), eur(json!("1.00")), "exceeds the budget"),
        (
            one.clone(),
            json!({"currency": "USD"}),
            "priced in EUR but the plan is in USD",
        ),
        (one.clone(), json!({"travellers": []}), "no travellers"),
        (
            one.clone(),
            json!({"travellers": [{"given_name": " ", "family_name": "X"}]}),
            "given_name is empty",
        ),
        (
            one.clone(),
            json!({"travellers": [{"given_name": "Ada", "family_name": "Lovelace", "passport_number": "X12"}]}),
            "traveller 0: passport_number must be 5 to 20 letters and digits",
        ),
        (
            one.clone(),
            json!({"travellers": [{"given_name": "Ada", "family_name": "Lovelace", "date_of_birth": h.day(1)}]}),
            "traveller 0: date_of_birth is in the future",
        ),
        (
            one.clone(),
            json!({"travellers": [{"given_name": "Ada", "family_name": "Lovelace", "phone": "06 12 34 56 78"}]}),
            "traveller 0: phone must be in international form",
        ),
        (
            one.clone(),
            json!({"travellers": [{"given_name": "Ada", "family_name": "Lovelace", "email": "ada.example.com"}]}),
            "traveller 0: email must be an address like name@example.com",
        ),
        (
            one.clone(),
            json!({"payment_method": "visa card!"}),
            "not a valid payment method token",
        ),
        (
            one.clone(),
            json!({"payment_method": "auto", "payment_preference": {"region": "china"}}),
            "the payment region 'china' is not a country code: use two capital letters",
        ),
        (
            one.clone(),
            json!({"payment_method": "pm_card_visa"}),
            "no configured payment provider can take the payment method 'pm_card_visa' in EUR (sandbox_payments: the sandbox charges its test payment methods only",
        ),
        (
            json!([{"offer_id": "off_fl_doesnotexist"}]),
            json!({}),
            "no offer off_fl_doesnotexist",
        ),
        (
            json!([{"priority": "must_have"}]),
            json!({}),
            "exactly one of offer_id",
        ),
        (
            json!([{"offer_id": offers[0]["id"]}, {"offer_id": offers[0]["id"]}]),
            json!({}),
            "appears twice",
        ),
        (
            json!([
                {"offer_id": offers[1]["id"], "label": "hotel", "depends_on": ["tour"]},
                {"offer_id": offers[2]["id"], "label": "tour", "depends_on": ["hotel"]},
            ]),
            json!({}),
            "cycle",
        ),
        (
            json!([{"offer_id": offers[1]["id"], "depends_on": ["nowhere"]}]),
            json!({}),
            "depends_on 'nowhere'",
        ),
    ];
    for (items, fields, expected) in cases {
        let mut args =
            json!({"travellers": traveller(), "payment_method": "pm_sandbox_visa", "items": items});
        if let (Value::Object(args), Value::Object(fields)) = (&mut args, fields) {
            args.extend(fields);
        }
        refused(&h, "create_travel_plan", args, expected).await;
    }
}

#[tokio::test]
async fn unknown_and_malformed_ids_are_refused() {
    let h = Harness::start().await;
    let missing_plan = "plan_00000000000000000000000000000000";
    refused(
        &h,
        "get_travel_plan",
        json!({"plan_id": missing_plan}),
        "there is no travel plan",
    )
    .await;
    refused(
        &h,
        "get_travel_plan",
        json!({"plan_id": "plan_123"}),
        "not a valid travel plan id",
    )
    .await;
    refused(
        &h,
        "confirm_travel_plan",
        json!({"plan_id": missing_plan}),
        "there is no travel plan",
    )
    .await;
    refused(
        &h,
        "execute_travel_plan",
        json!({"plan_id": missing_plan}),
        "there is no travel plan",
    )
    .await;
    refused(
        &h,
        "get_booking_status",
        json!({"order_id": "ord_00000000000000000000000000000000"}),
        "there is no order",
    )
    .await;
    refused(
        &h,
        "get_booking_status",
        json!({"order_id": missing_plan}),
        "not a valid order id",
    )
    .await;
    refused(
        &h,
        "cancel_booking",
        json!({"order_id": "ord_00000000000000000000000000000000"}),
        "there is no order",
    )
    .await;
    refused(
        &h,
        "list_bookings",
        json!({"limit": 0}),
        "between 1 and 100",
    )
    .await;
}

#[tokio::test]
async fn card_numbers_and_oversize_strings_are_refused_anywhere() {
    let h = Harness::start().await;
    let offers = h.paris_offers().await;
    let items = json!([{"offer_id": offers[0]["id"]}]);
    for card in [
        "4242424242424242",
        "4242 4242 4242 4242",
        "4000-0566-5566-5556",
    ] {
        refused(
            &h,
            "create_travel_plan",
            json!({"title": format!("pay with {card}"), "travellers": traveller(), "payment_method": "pm_sandbox_visa", "items": items}),
            "card number",
        )
        .await;
        refused(
            &h,
            "create_travel_plan",
            json!({"travellers": [{"given_name": "Ada", "family_name": card}], "payment_method": "pm_sandbox_visa", "items": items}),
            "arguments.travellers[0].family_name",
        )
        .await;
        refused(
            &h,
            "create_travel_plan",
            json!({"travellers": traveller(), "payment_method": card, "items": items}),
            "tokenized payment method",
        )
        .await;
        refused(
            &h,
            "search_hotels",
            json!({"city": card, "check_in": h.day(3), "check_out": h.day(4)}),
            "card number",
        )
        .await;
    }
    let error = h
        .err(
            "search_hotels",
            json!({"city": "4242424242424242", "check_in": h.day(3), "check_out": h.day(4)}),
        )
        .await;
    assert!(
        !error.contains("4242"),
        "the refusal must not repeat the number: {error}"
    );
    refused(
        &h,
        "create_travel_plan",
        json!({"title": "x".repeat(5000), "travellers": traveller(), "payment_method": "pm_sandbox_visa", "items": items}),
        "the limit is 2000",
    )
    .await;
}
