//! What the person is asked in the MCP client's approval prompt.

use crate::domain::approval::Approval;
use crate::domain::personal;
use crate::domain::plan::{TravelPlan, Traveller};
use crate::domain::risk::RiskFlag;

/// Every item with its price and terms, the total, the card, the risks and where else to answer.
pub fn approval_prompt(
    plan: &TravelPlan,
    approval: &Approval,
    risks: &[RiskFlag],
    page_url: &str,
) -> String {
    let mut lines = vec![
        format!("Approve paying for \"{}\"?", plan.title),
        String::new(),
    ];
    for item in &plan.items {
        lines.push(format!(
            "• {} — {} ({})",
            item.offer.title,
            item.offer.price,
            item.offer.cancellation.describe()
        ));
    }
    let travellers: Vec<String> = plan.travellers.iter().map(traveller_line).collect();
    lines.push(String::new());
    lines.push(format!("Travellers: {}", travellers.join(", ")));
    lines.push(format!("Total: {}", approval.amount_cap));
    lines.push(format!("Payment method: {}", plan.payment_method.masked()));
    for risk in risks {
        lines.push(format!("⚠ Please check: {}", risk.reason));
    }
    lines.push(format!(
        "This approval is for exactly this plan (version {}) and expires at {} UTC.",
        approval.digest.short(),
        approval.expires_at.format("%Y-%m-%d %H:%M")
    ));
    lines.push(format!("You can also answer on Itinera's page: {page_url}"));
    lines.join("\n")
}

/// "Ada Lovelace (passport •••••5678, born 1990-••-••)": the name in full, details masked.
fn traveller_line(traveller: &Traveller) -> String {
    let details: Vec<String> = [
        traveller
            .passport_number
            .as_deref()
            .map(|number| format!("passport {}", personal::mask_passport(number))),
        traveller
            .date_of_birth
            .map(|born| format!("born {}", personal::mask_date_of_birth(born))),
        traveller
            .phone
            .as_deref()
            .map(|phone| format!("phone {}", personal::mask_phone(phone))),
        traveller
            .email
            .as_deref()
            .map(|email| format!("e-mail {}", personal::mask_email(email))),
    ]
    .into_iter()
    .flatten()
    .collect();
    let name = format!("{} {}", traveller.given_name, traveller.family_name);
    if details.is_empty() {
        name
    } else {
        format!("{name} ({})", details.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fixtures::paris_plan;

    #[test]
    fn a_traveller_is_named_in_full_with_details_masked() {
        let mut plan = paris_plan();
        let mut second = plan.travellers[0].clone();
        plan.travellers[0].passport_number = Some("X12345678".into());
        plan.travellers[0].date_of_birth = chrono::NaiveDate::from_ymd_opt(1990, 5, 17);
        plan.travellers[0].phone = Some("+33 6 12 34 56 78".into());
        plan.travellers[0].email = Some("ada@example.com".into());
        second.given_name = "Charles".into();
        second.family_name = "Babbage".into();
        plan.travellers.push(second);
        assert_eq!(
            traveller_line(&plan.travellers[0]),
            "Ada Lovelace (passport •••••5678, born 1990-••-••, phone +33 ••••••78, e-mail a•••@example.com)"
        );
        assert_eq!(traveller_line(&plan.travellers[1]), "Charles Babbage");
    }
}
