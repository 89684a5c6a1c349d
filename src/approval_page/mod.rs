//! Itinera's approval page: a surface for the person, served on loopback, at a one-time link.
//!
//! The model gets the link (so it can hand it to the person) but not the form's CSRF token, which
//! only the page carries; answers are checked against the link, the token, the plan version the
//! page showed, and the browser's `Origin`. Responses forbid framing and caching and send the
//! referrer only to the page itself, so the link does not leak from it.

pub(crate) mod html;
mod lang;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use crate::approval::{Approvals, PageAnswer, PageError};
use crate::domain::approval::{ApprovalStatus, PlanDigest};
use crate::platforms::{Accounts, CallbackAnswer};

use lang::Texts;

/// The approval page's listening socket, bound before the services exist so they know its URL.
pub struct PageListener {
    listener: tokio::net::TcpListener,
    base_url: String,
    port: u16,
}

/// What the handlers share.
#[derive(Clone)]
struct PageState {
    approvals: Approvals,
    accounts: Accounts,
    /// The `Host` values this server answers to. Anything else is a DNS-rebinding attempt.
    hosts: Arc<[String]>,
}

#[derive(Debug, thiserror::Error)]
pub enum PageServerError {
    #[error(
        "the approval page must be served on a loopback address (127.0.0.1 or ::1), not {0}: set ITINERA_APPROVAL_PAGE_ADDR"
    )]
    NotLoopback(SocketAddr),
    #[error(
        "cannot serve the approval page on {addr}: {error}. Set ITINERA_APPROVAL_PAGE_ADDR to a free port (or port 0)"
    )]
    Bind { addr: SocketAddr, error: String },
}

impl PageListener {
    pub async fn bind(addr: SocketAddr) -> Result<PageListener, PageServerError> {
        if !addr.ip().is_loopback() {
            return Err(PageServerError::NotLoopback(addr));
        }
        let bind_error = |error: std::io::Error| PageServerError::Bind {
            addr,
            error: error.to_string(),
        };
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(bind_error)?;
        let local = listener.local_addr().map_err(bind_error)?;
        Ok(PageListener {
            listener,
            base_url: format!("http://{local}"),
            port: local.port(),
        })
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Where a payment provider sends the customer back after 3-D Secure.
    pub fn payment_return_url(&self) -> String {
        format!("{}/payment-complete", self.base_url)
    }

    /// Where a platform sends the person back after they sign in (the OAuth redirect URI).
    pub fn oauth_callback_url(&self) -> String {
        format!("{}/oauth/callback", self.base_url)
    }

    /// Serves the page until the process ends.
    pub fn serve(self, approvals: Approvals, accounts: Accounts) {
        let port = self.port;
        let hosts = ["127.0.0.1", "localhost", "[::1]"]
            .iter()
            .map(|host| format!("{host}:{port}"))
            .collect();
        let app = Router::new()
            .route("/approve/{id}/{token}", get(show).post(answer))
            .route("/payment-complete", get(payment_complete))
            .route("/oauth/callback", get(oauth_callback))
            .layer(axum::middleware::map_response(protect))
            .with_state(PageState {
                approvals,
                accounts,
                hosts,
            });
        tracing::info!(url = %self.base_url, "approval page listening");
        tokio::spawn(async move {
            if let Err(error) = axum::serve(self.listener, app).await {
                tracing::error!(%error, "the approval page stopped");
            }
        });
    }
}

#[derive(Debug, Deserialize)]
struct AnswerForm {
    csrf: String,
    digest: String,
    decision: String,
    /// The out-of-band code, asked for when the link passed through the model.
    #[serde(default)]
    code: Option<String>,
}

async fn show(
    State(state): State<PageState>,
    Path((id, token)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let texts = lang::choose(header_text(&headers, header::ACCEPT_LANGUAGE));
    if !state.known_host(&headers) {
        return unknown_host(texts);
    }
    match state.approvals.open_page(&id, &token).await {
        Ok(view) => {
            let action = format!("/approve/{id}/{token}");
            respond(StatusCode::OK, html::approval_page(texts, &view, &action))
        }
        Err(error) => refusal(texts, &error),
    }
}

/// Where the bank's 3-D Secure page sends the customer back.
async fn payment_complete(headers: HeaderMap) -> Response {
    let texts = lang::choose(header_text(&headers, header::ACCEPT_LANGUAGE));
    respond(
        StatusCode::OK,
        html::message_page(texts, texts.payment_done_title, texts.payment_done_body),
    )
}

/// Where a platform sends the person back after signing in (RFC 6749 §4.1.2): the code is
/// exchanged only for the sign-in whose `state` it carries, within its hour.
async fn oauth_callback(State(state): State<PageState>, headers: HeaderMap, uri: Uri) -> Response {
    let texts = lang::choose(header_text(&headers, header::ACCEPT_LANGUAGE));
    if !state.known_host(&headers) {
        return unknown_host(texts);
    }
    let failed = |message: &str| {
        respond(
            StatusCode::BAD_REQUEST,
            html::message_page(texts, "Sign-in failed", message),
        )
    };
    let Ok(answer) = serde_urlencoded::from_str::<CallbackAnswer>(uri.query().unwrap_or_default())
    else {
        return failed("This page takes a platform's answer to a sign-in (its code and state).");
    };
    match state.accounts.callback(&answer).await {
        Ok(platform) => respond(
            StatusCode::OK,
            html::message_page(
                texts,
                "Signed in",
                &format!(
                    "You are signed in to your {platform}. You can close this tab and go back to the assistant."
                ),
            ),
        ),
        Err(error) => failed(&error.to_string()),
    }
}

async fn answer(
    State(state): State<PageState>,
    Path((id, token)): Path<(String, String)>,
    headers: HeaderMap,
    form: Result<Form<AnswerForm>, FormRejection>,
) -> Response {
    let texts = lang::choose(header_text(&headers, header::ACCEPT_LANGUAGE));
    if !state.known_host(&headers) {
        return unknown_host(texts);
    }
    let (Ok(Form(form)), true) = (form, from_the_page(&headers)) else {
        return refusal(texts, &PageError::Forged);
    };
    let approve = match form.decision.as_str() {
        "approve" => true,
        "decline" => false,
        _ => return refusal(texts, &PageError::Forged),
    };
    let answer = PageAnswer {
        csrf: &form.csrf,
        shown: PlanDigest(form.digest.clone()),
        approve,
        code: form.code.as_deref(),
    };
    match state.approvals.answer_on_page(&id, &token, answer).await {
        Ok(decided) if decided.status == ApprovalStatus::Approved => respond(
            StatusCode::OK,
            html::message_page(texts, texts.approved_title, texts.approved_body),
        ),
        Ok(_) => respond(
            StatusCode::OK,
            html::message_page(texts, texts.declined_title, texts.declined_body),
        ),
        Err(error) => refusal(texts, &error),
    }
}

impl PageState {
    fn known_host(&self, headers: &HeaderMap) -> bool {
        header_text(headers, header::HOST).is_some_and(|host| self.hosts.iter().any(|h| h == host))
    }
}

/// A form post must come from this server's own page: browsers send `Origin` on every POST, and
/// it must name the host the page was served from; `Sec-Fetch-Site`, where sent, must agree.
/// (A program that forges these headers still needs the link, and through a link the model saw,
/// the code.)
fn from_the_page(headers: &HeaderMap) -> bool {
    let same_origin = match (
        header_text(headers, header::ORIGIN),
        header_text(headers, header::HOST),
    ) {
        (Some(origin), Some(host)) => origin == format!("http://{host}"),
        _ => false,
    };
    same_origin && header_text(headers, "sec-fetch-site").is_none_or(|site| site == "same-origin")
}

fn header_text(headers: &HeaderMap, name: impl header::AsHeaderName) -> Option<&str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

/// A request for a host name this server does not go by: a DNS-rebinding page, or a proxy.
fn unknown_host(texts: &Texts) -> Response {
    respond(
        StatusCode::MISDIRECTED_REQUEST,
        html::message_page(texts, texts.cannot_title, texts.invalid_link),
    )
}

fn refusal(texts: &Texts, error: &PageError) -> Response {
    let wrong_code;
    let (status, message) = match error {
        PageError::InvalidLink => (StatusCode::NOT_FOUND, texts.invalid_link),
        PageError::Forged => (StatusCode::FORBIDDEN, texts.forged),
        PageError::AlreadyDecided {
            status: ApprovalStatus::Declined,
            ..
        } => (StatusCode::GONE, texts.already_declined),
        PageError::AlreadyDecided { .. } => (StatusCode::GONE, texts.already_approved),
        PageError::Expired(_) => (StatusCode::GONE, texts.expired),
        PageError::PlanChanged => (StatusCode::CONFLICT, texts.plan_changed),
        PageError::NewRisk => (StatusCode::CONFLICT, texts.new_risk),
        PageError::CodeNeeded => (StatusCode::FORBIDDEN, texts.code_needed),
        PageError::WrongCode(left) => {
            wrong_code = texts.wrong_code(*left);
            (StatusCode::FORBIDDEN, wrong_code.as_str())
        }
        PageError::CodeLocked => (StatusCode::FORBIDDEN, texts.code_locked),
        PageError::Store(_) | PageError::Guard(_) | PageError::Plan(_) => {
            tracing::error!(%error, "the approval page could not answer");
            (StatusCode::INTERNAL_SERVER_ERROR, texts.failed)
        }
    };
    respond(
        status,
        html::message_page(texts, texts.cannot_title, message),
    )
}

fn respond(status: StatusCode, body: String) -> Response {
    (status, Html(body)).into_response()
}

/// Every answer of the page, its own and axum's (404, 405), forbids framing, caching, sniffing
/// and foreign resources, and sends the referrer only to the page itself.
async fn protect(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CACHE_CONTROL, "no-store"),
        // Not `no-referrer`: browsers then send `Origin: null` on the form post.
        (header::REFERRER_POLICY, "same-origin"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}
