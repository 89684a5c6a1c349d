//! What the person is asked in the MCP client's approval prompt.

use crate::domain::approval::Approval;
use crate::domain::plan::TravelPlan;
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
    let travellers: Vec<String> = plan
        .travellers
        .iter()
        .map(|t| format!("{} {}", t.given_name, t.family_name))
        .collect();
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
