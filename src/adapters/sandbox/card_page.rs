//! The sandbox's card page, standing in for Stripe Checkout's setup page: the person picks one of
//! the test cards (no card number is typed anywhere) or cancels. Picking one saves a fresh token
//! that behaves like that test card.
//!
//! The page takes a plain form post without a CSRF token: it listens on loopback only, and its
//! address carries a session id nobody can guess (from the setup's random id), so another site cannot
//! aim a form at it; it stands for a provider's page, whose own protections are the provider's.

use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Html;
use serde::Deserialize;

use super::Sandbox;
use super::action_page::{page, page_with};
use super::card_ledger::CardSetup;
use super::payment::{DECLINED, INSUFFICIENT_FUNDS, SUCCEEDS, THREE_D_SECURE};

/// A test card the page offers, and the magic token whose behaviour its saved token has.
pub(super) struct TestCard {
    /// The form value that picks it.
    pub choice: &'static str,
    pub behaves_as: &'static str,
    pub label: &'static str,
}

pub(super) const TEST_CARDS: &[TestCard] = &[
    TestCard {
        choice: "visa",
        behaves_as: SUCCEEDS,
        label: "sandbox Visa •••• 4242, expires 12/2030 (approves)",
    },
    TestCard {
        choice: "3ds",
        behaves_as: THREE_D_SECURE,
        label: "sandbox Visa •••• 3155, expires 12/2030 (asks for 3-D Secure)",
    },
    TestCard {
        choice: "declined",
        behaves_as: DECLINED,
        label: "sandbox Visa •••• 0002, expires 12/2030 (declined)",
    },
    TestCard {
        choice: "insufficient_funds",
        behaves_as: INSUFFICIENT_FUNDS,
        label: "sandbox Visa •••• 9995, expires 12/2030 (insufficient funds)",
    },
];

/// What the choose button sends: a test card's `choice`, or `cancel`.
#[derive(Deserialize)]
pub(super) struct Choice {
    card: String,
}

pub(super) async fn show(
    State(sandbox): State<Arc<Sandbox>>,
    Path(session): Path<String>,
) -> (StatusCode, Html<String>) {
    match sandbox.ledger.card_setup(&session).await {
        Ok(Some(setup)) if is_open(&sandbox, &setup) => (StatusCode::OK, choices(&session)),
        other => ended(&sandbox, other),
    }
}

pub(super) async fn choose(
    State(sandbox): State<Arc<Sandbox>>,
    Path(session): Path<String>,
    Form(choice): Form<Choice>,
) -> (StatusCode, Html<String>) {
    let answer = if choice.card == "cancel" {
        sandbox.ledger.cancel_card_setup(&session).await
    } else {
        let Some(card) = TEST_CARDS.iter().find(|card| card.choice == choice.card) else {
            return (
                StatusCode::BAD_REQUEST,
                page("Unknown card", "Choose one of the test cards on the page."),
            );
        };
        sandbox
            .ledger
            .choose_card(&session, card.behaves_as, card.label, sandbox.clock.now())
            .await
    };
    ended(&sandbox, answer)
}

fn is_open(sandbox: &Sandbox, setup: &CardSetup) -> bool {
    setup.status == "open" && sandbox.clock.now() <= setup.expires_at
}

/// The page once nothing more can be chosen on it (or it does not exist).
fn ended(
    sandbox: &Sandbox,
    setup: Result<Option<CardSetup>, super::ledger::LedgerError>,
) -> (StatusCode, Html<String>) {
    match setup {
        Ok(Some(CardSetup {
            card: Some(card), ..
        })) => (
            StatusCode::OK,
            page(
                "Card saved",
                &format!(
                    "{} is saved. Go back to your assistant: it can now pay with it.",
                    card.label
                ),
            ),
        ),
        Ok(Some(setup)) if setup.status == "cancelled" => (
            StatusCode::OK,
            page(
                "Nothing saved",
                "You cancelled: no card was saved. Go back to your assistant.",
            ),
        ),
        Ok(Some(setup)) if is_open(sandbox, &setup) => (StatusCode::OK, choices(&setup.id)),
        Ok(Some(_)) => (
            StatusCode::GONE,
            page(
                "Page expired",
                "This page expired before a card was saved. Ask your assistant for a new one.",
            ),
        ),
        Ok(None) => (
            StatusCode::NOT_FOUND,
            page(
                "Unknown page",
                "This link does not belong to any card page.",
            ),
        ),
        Err(error) => (
            StatusCode::SERVICE_UNAVAILABLE,
            page("Try again", &error.to_string()),
        ),
    }
}

/// The open page: one button per test card, and one to cancel.
fn choices(session: &str) -> Html<String> {
    let buttons: String = TEST_CARDS
        .iter()
        .map(|card| button(session, card.choice, card.label))
        .chain(std::iter::once(button(
            session,
            "cancel",
            "Cancel: save no card",
        )))
        .collect();
    page_with(
        "Save a card",
        "Choose the test card to save. This sandbox never asks for a card number.",
        &buttons,
    )
}

fn button(session: &str, choice: &str, label: &str) -> String {
    format!(
        "<form method=\"post\" action=\"/sandbox/cards/{session}\" style=\"margin: .5rem 0\">\
         <input type=\"hidden\" name=\"card\" value=\"{choice}\">\
         <button type=\"submit\">{label}</button></form>"
    )
}
