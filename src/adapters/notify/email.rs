//! E-mail to the traveller over SMTP (lettre): a booking confirmation when the order is booked,
//! and a short message when it fails, is cancelled or refunded, or needs the person to act.
//! Plain text and HTML in one message. The Message-ID is derived from the notice id, so a message
//! sent again after a crash is the same message to the mail system.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::approval_page::html::escape;
use crate::config::Secret;
use crate::domain::notice::OrderNotice;
use crate::domain::order::OrderStatus;
use crate::domain::plan::TravelPlan;
use crate::ports::{Notifier, NotifyError, Store};

/// How long one SMTP exchange may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// Where mail goes out.
#[derive(Clone)]
pub struct EmailSettings {
    /// `smtps://user:password@host` (TLS from the first byte),
    /// `smtp://user:password@host:587?tls=required` (STARTTLS), or plain `smtp://127.0.0.1:25`
    /// to a relay on this machine (the configuration refuses plain SMTP anywhere else).
    pub url: Secret,
    /// The sender, e.g. `Itinera <trips@example.com>`.
    pub from: Mailbox,
}

impl std::fmt::Debug for EmailSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailSettings")
            .field("url", &"[redacted]")
            .field("from", &self.from.to_string())
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("ITINERA_SMTP_URL cannot be used: {0}")]
pub struct EmailSetupError(String);

pub struct EmailNotifier {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// The plan names the traveller to write to; its personal data stays sealed elsewhere.
    store: Arc<dyn Store>,
}

impl EmailNotifier {
    pub fn new(settings: &EmailSettings, store: Arc<dyn Store>) -> Result<Self, EmailSetupError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(settings.url.expose())
            .map_err(|e| EmailSetupError(e.to_string()))?
            .timeout(Some(SMTP_TIMEOUT))
            .build();
        Ok(EmailNotifier {
            transport,
            from: settings.from.clone(),
            store,
        })
    }

    async fn recipient(&self, notice: &OrderNotice) -> Result<(TravelPlan, Mailbox), NotifyError> {
        let plan = self
            .store
            .plan(&notice.owner, &notice.plan_id)
            .await
            .map_err(|e| NotifyError::Failed(format!("the plan cannot be read: {e}")))?
            .ok_or_else(|| NotifyError::NobodyToTell("the order's plan is gone".into()))?;
        let traveller = plan
            .travellers
            .iter()
            .find(|traveller| traveller.email.is_some())
            .ok_or_else(|| {
                NotifyError::NobodyToTell("no traveller of the plan gave an e-mail address".into())
            })?;
        let name = format!("{} {}", traveller.given_name, traveller.family_name);
        let address = traveller
            .email
            .as_deref()
            .unwrap_or_default()
            .parse()
            .map_err(|e| {
                NotifyError::NobodyToTell(format!("the e-mail address is unusable: {e}"))
            })?;
        Ok((plan, Mailbox::new(Some(name), address)))
    }
}

#[async_trait]
impl Notifier for EmailNotifier {
    fn channel(&self) -> &str {
        "email"
    }

    fn wants(&self, notice: &OrderNotice) -> bool {
        notice.worth_an_email()
    }

    async fn deliver(&self, notice: &OrderNotice) -> Result<(), NotifyError> {
        let (plan, to) = self.recipient(notice).await?;
        let letter = Letter::of(notice, &plan.title);
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(letter.subject)
            .message_id(Some(format!("<{}@itinera>", notice.id)))
            .multipart(MultiPart::alternative_plain_html(letter.text, letter.html))
            .map_err(|e| NotifyError::Undeliverable(format!("the message cannot be built: {e}")))?;
        // The server's own words may repeat the address: only its SMTP code is kept.
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            // A 5xx answer (an address refused, a message rejected) will not change.
            Err(error) if error.is_permanent() => Err(NotifyError::Undeliverable(format!(
                "the mail server refused it{}",
                smtp_code(&error)
            ))),
            Err(error) if error.status().is_some() => Err(NotifyError::Failed(format!(
                "the mail server deferred it{}",
                smtp_code(&error)
            ))),
            // No answer from the server: a connection, TLS or timeout failure, no address in it.
            Err(error) => Err(NotifyError::Failed(format!("not sent: {error}"))),
        }
    }
}

fn smtp_code(error: &lettre::transport::smtp::Error) -> String {
    error
        .status()
        .map_or_else(String::new, |code| format!(" (SMTP {code})"))
}

/// What one message says.
struct Letter {
    subject: String,
    text: String,
    html: String,
}

impl Letter {
    fn of(notice: &OrderNotice, trip: &str) -> Letter {
        let booked = matches!(
            notice.status,
            OrderStatus::Confirmed | OrderStatus::PartiallyConfirmed
        );
        let subject = if booked {
            format!("Booking confirmed: {trip}")
        } else {
            format!("Your booking for {trip}: {}", headline(notice.status))
        };
        let mut text = format!(
            "{}\n\n{}\n\nOrder {}\n",
            headline(notice.status),
            notice.message,
            notice.order_id
        );
        let mut rows = String::new();
        for item in &notice.items {
            let confirmation = item.confirmation.as_deref().unwrap_or("-");
            text.push_str(&format!(
                "- {} ({}): {}, {}, confirmation {}\n",
                item.title,
                item.kind.as_str(),
                item.status.as_str(),
                item.price,
                confirmation
            ));
            rows.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&item.title),
                escape(item.status.as_str()),
                escape(&item.price.to_string()),
                escape(confirmation)
            ));
        }
        text.push_str(&format!(
            "\nTotal {}; charged {}; refunded {}.\n",
            notice.total, notice.captured, notice.refunded
        ));
        let html = format!(
            "<!doctype html><html><body><h1>{}</h1><p>{}</p><p>Order {}</p>\
             <table><thead><tr><th>Item</th><th>Status</th><th>Price</th><th>Confirmation</th></tr></thead>\
             <tbody>{rows}</tbody></table><p>Total {}; charged {}; refunded {}.</p></body></html>",
            escape(headline(notice.status)),
            escape(&notice.message),
            escape(notice.order_id.as_str()),
            escape(&notice.total.to_string()),
            escape(&notice.captured.to_string()),
            escape(&notice.refunded.to_string()),
        );
        Letter {
            subject,
            text,
            html,
        }
    }
}

/// The status in the traveller's words.
fn headline(status: OrderStatus) -> &'static str {
    match status {
        OrderStatus::Confirmed => "Your trip is booked and paid.",
        OrderStatus::PartiallyConfirmed => {
            "Your trip is booked; some optional items could not be, and were not charged."
        }
        OrderStatus::PaymentActionRequired => "Your bank asks you to confirm the payment.",
        OrderStatus::Failed => "Your trip could not be booked; nothing was charged.",
        OrderStatus::Cancelled => "Your booking is cancelled.",
        OrderStatus::Refunded => "Your booking is cancelled and refunded.",
        OrderStatus::RefundRequested => "Your cancellation is under way.",
        OrderStatus::Draft | OrderStatus::PaymentPending | OrderStatus::PaymentProcessing => {
            "Your booking is under way."
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fixtures::paris_order;
    use crate::domain::order::OrderEvent;

    #[test]
    fn a_confirmation_lists_every_item_with_its_confirmation_and_escapes_html() {
        let mut order = paris_order();
        order.items[0].title = "Flight <LHR> & back".into();
        let event = OrderEvent {
            at: order.updated_at,
            status: OrderStatus::Confirmed,
            message: "All booked".into(),
        };
        let notice = OrderNotice::of(
            "evt_1".into(),
            1,
            &order,
            Some(OrderStatus::PaymentProcessing),
            &event,
        );
        let letter = Letter::of(&notice, "Paris");
        assert_eq!(letter.subject, "Booking confirmed: Paris");
        assert!(letter.text.contains("Flight <LHR> & back (flight): booked"));
        assert!(letter.text.contains("confirmation PNR123"));
        assert!(letter.text.contains("Total EUR 750.00"), "{}", letter.text);
        assert!(letter.html.contains("Flight &lt;LHR&gt; &amp; back"));
        assert!(!letter.html.contains("<LHR>"));
    }
}
