//! The page's words in English and Chinese, chosen by the browser's `Accept-Language`.

use chrono::{DateTime, Utc};

use crate::domain::money::Money;
use crate::domain::offer::{CancellationPolicy, ItemKind};

/// Every sentence the page shows, in one language.
pub struct Texts {
    /// The `lang` attribute of the page.
    pub lang: &'static str,
    pub title: &'static str,
    pub intro: &'static str,
    pub items: &'static str,
    pub item: &'static str,
    pub dates: &'static str,
    pub price: &'static str,
    pub cancellation: &'static str,
    pub total: &'static str,
    pub travellers: &'static str,
    pub payment_method: &'static str,
    pub expires: &'static str,
    pub version: &'static str,
    pub risks: &'static str,
    pub approve: &'static str,
    pub decline: &'static str,
    pub approved_title: &'static str,
    pub approved_body: &'static str,
    pub declined_title: &'static str,
    pub declined_body: &'static str,
    pub cannot_title: &'static str,
    pub invalid_link: &'static str,
    pub forged: &'static str,
    pub already_approved: &'static str,
    pub already_declined: &'static str,
    pub expired: &'static str,
    pub plan_changed: &'static str,
    pub failed: &'static str,
    pub new_risk: &'static str,
    pub payment_done_title: &'static str,
    pub payment_done_body: &'static str,
    pub code_label: &'static str,
    pub code_hint: &'static str,
    pub code_needed: &'static str,
    pub code_locked: &'static str,
    wrong_code: &'static str,
    kinds: [&'static str; 4],
    non_refundable: &'static str,
    free_until: &'static str,
    then_fee: &'static str,
    refundable_until: &'static str,
    less_fee: &'static str,
}

pub const ENGLISH: Texts = Texts {
    lang: "en",
    title: "Approve this payment?",
    intro: "Your assistant prepared this trip. Nothing has been booked or charged. Check every line: approving allows Itinera to charge at most the total below, for exactly this plan.",
    items: "Itinerary",
    item: "Item",
    dates: "Dates",
    price: "Price",
    cancellation: "Cancellation",
    total: "Total",
    travellers: "Travellers",
    payment_method: "Payment method",
    expires: "This request expires at",
    version: "Plan version",
    risks: "Please check before approving",
    approve: "Approve and allow payment",
    decline: "Decline",
    approved_title: "Approved",
    approved_body: "Thank you. You can close this page and tell your assistant to go ahead with the booking.",
    declined_title: "Declined",
    declined_body: "Nothing will be booked or charged. Tell your assistant what you would like to change.",
    cannot_title: "This page cannot take an answer",
    invalid_link: "This approval link is not valid. It may be mistyped, or Itinera was restarted since it was made. Ask your assistant to confirm the plan again for a new link.",
    forged: "The answer could not be verified as coming from this page. Reload the page and answer again.",
    already_approved: "This link was already used: the plan was approved. Nothing more to do here.",
    already_declined: "This link was already used: the plan was declined. Ask your assistant to confirm the plan again if you changed your mind.",
    expired: "This approval request has expired. Ask your assistant to confirm the plan again for a new link.",
    plan_changed: "The plan was changed after this page was opened, so this page cannot approve it. Ask your assistant to confirm the plan again: you will get a new link showing the plan as it is now.",
    failed: "Something went wrong while recording your answer. Nothing was charged. Try again in a moment.",
    new_risk: "Something changed that you should know about before approving (see the risks your assistant is told about). Ask your assistant to confirm the plan again: the new page will show it.",
    payment_done_title: "Payment step finished",
    payment_done_body: "Your bank's check is done. Go back to your assistant and ask it to continue the booking.",
    code_label: "One-time code",
    code_hint: "This link came to you through your assistant, so approving also takes the code Itinera sent you separately (in its log). Declining does not.",
    code_needed: "To approve through this link, enter the one-time code Itinera sent you. Go back, type it in and approve again.",
    code_locked: "Too many wrong codes: this approval request was cancelled. Ask your assistant to confirm the plan again.",
    wrong_code: "That code is not right. Attempts left:",
    kinds: ["Flight", "Hotel", "Activity", "Car rental"],
    non_refundable: "Non-refundable",
    free_until: "Free cancellation until",
    then_fee: "then a fee of",
    refundable_until: "Refundable until",
    less_fee: "less a fee of",
};

pub const CHINESE: Texts = Texts {
    lang: "zh-CN",
    title: "批准这笔付款？",
    intro: "您的助手已为您准备好这次行程。目前尚未预订，也未扣款。请逐项核对：批准后，Itinera 最多按下方总额收费，且仅用于这份行程。",
    items: "行程",
    item: "项目",
    dates: "日期",
    price: "价格",
    cancellation: "取消政策",
    total: "总额",
    travellers: "旅客",
    payment_method: "支付方式",
    expires: "本请求失效时间",
    version: "行程版本",
    risks: "批准前请确认",
    approve: "批准并允许付款",
    decline: "拒绝",
    approved_title: "已批准",
    approved_body: "谢谢。您可以关闭此页面，并告诉助手继续预订。",
    declined_title: "已拒绝",
    declined_body: "不会预订，也不会扣款。请告诉助手您想如何修改。",
    cannot_title: "此页面无法接受答复",
    invalid_link: "此批准链接无效。可能链接有误，或 Itinera 在生成链接后已重启。请让助手重新确认行程以获取新链接。",
    forged: "无法确认此答复来自本页面。请刷新页面后重新答复。",
    already_approved: "此链接已使用过：行程已获批准。无需其他操作。",
    already_declined: "此链接已使用过：行程已被拒绝。如您改变主意，请让助手重新确认行程。",
    expired: "此批准请求已过期。请让助手重新确认行程以获取新链接。",
    plan_changed: "此页面打开后行程已被修改，因此无法用此页面批准。请让助手重新确认行程：您将收到显示最新行程的新链接。",
    failed: "记录您的答复时出错。未产生任何扣款。请稍后重试。",
    new_risk: "出现了您在批准前应当了解的新情况。请让助手重新确认行程：新页面会显示相关说明。",
    payment_done_title: "支付验证已完成",
    payment_done_body: "银行验证已完成。请回到助手，让它继续预订。",
    code_label: "一次性验证码",
    code_hint: "此链接经由您的助手转交给您，因此批准时还需输入 Itinera 另行发送给您的验证码（在其日志中）。拒绝则无需验证码。",
    code_needed: "要通过此链接批准，请输入 Itinera 发送给您的一次性验证码。请返回页面，输入后再次批准。",
    code_locked: "验证码错误次数过多：此批准请求已取消。请让助手重新确认行程。",
    wrong_code: "验证码不正确。剩余尝试次数：",
    kinds: ["航班", "酒店", "活动", "租车"],
    non_refundable: "不可退款",
    free_until: "免费取消截止",
    then_fee: "之后收取手续费",
    refundable_until: "可退款截止",
    less_fee: "扣除手续费",
};

impl Texts {
    pub fn wrong_code(&self, attempts_left: u32) -> String {
        format!("{} {attempts_left}", self.wrong_code)
    }

    pub fn kind(&self, kind: ItemKind) -> &'static str {
        match kind {
            ItemKind::Flight => self.kinds[0],
            ItemKind::Hotel => self.kinds[1],
            ItemKind::Activity => self.kinds[2],
            ItemKind::CarRental => self.kinds[3],
        }
    }

    pub fn cancellation(&self, policy: &CancellationPolicy) -> String {
        match policy {
            CancellationPolicy::NonRefundable => self.non_refundable.to_string(),
            CancellationPolicy::Refundable {
                free_until,
                penalty,
            } => format!(
                "{} {}, {} {}",
                self.free_until,
                utc(free_until),
                self.then_fee,
                amount(penalty)
            ),
            CancellationPolicy::RefundableUntil { deadline, penalty } => format!(
                "{} {}, {} {}",
                self.refundable_until,
                utc(deadline),
                self.less_fee,
                amount(penalty)
            ),
        }
    }
}

/// A time as the page shows it.
pub fn utc(at: &DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// An amount as the page shows it: the figure, then the currency code.
pub fn amount(money: &Money) -> String {
    format!("{} {}", money.amount(), money.currency().code())
}

/// The language the browser prefers most among those the page speaks; English otherwise.
pub fn choose(accept_language: Option<&str>) -> &'static Texts {
    let mut best: Option<(f32, &'static Texts)> = None;
    for range in accept_language.unwrap_or_default().split(',') {
        let mut parts = range.split(';');
        let tag = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let quality = parts
            .find_map(|p| p.trim().strip_prefix("q="))
            .and_then(|q| q.parse::<f32>().ok())
            .unwrap_or(1.0);
        let texts = if tag == "zh" || tag.starts_with("zh-") {
            &CHINESE
        } else if tag == "en" || tag.starts_with("en-") {
            &ENGLISH
        } else {
            continue;
        };
        if quality > 0.0 && best.is_none_or(|(q, _)| quality > q) {
            best = Some((quality, texts));
        }
    }
    best.map_or(&ENGLISH, |(_, texts)| texts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_browsers_preferred_language_wins() {
        assert_eq!(choose(Some("zh-CN,zh;q=0.9,en;q=0.8")).lang, "zh-CN");
        assert_eq!(choose(Some("en-GB,zh;q=0.5")).lang, "en");
        assert_eq!(choose(Some("fr-FR, zh-TW;q=0.7")).lang, "zh-CN");
        assert_eq!(choose(Some("de")).lang, "en");
        assert_eq!(choose(Some("zh;q=0")).lang, "en");
        assert_eq!(choose(None).lang, "en");
    }
}
