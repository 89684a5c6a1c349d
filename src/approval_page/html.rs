//! The page's HTML: plain markup and inline CSS, labelled for screen readers, usable with a
//! keyboard and readable on a phone. Every value from a plan or provider is escaped.

use crate::approval::PageView;

use super::lang::{Texts, amount, utc};

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0 auto;max-width:46rem;padding:1rem;\
line-height:1.5;color:#1a1a1a}h1{font-size:1.5rem}table{border-collapse:collapse;width:100%}\
th,td{text-align:left;padding:.5rem;border-bottom:1px solid #ccc;vertical-align:top}\
.total{font-size:1.25rem;font-weight:bold}.risk{background:#fff4e5;border-left:4px solid #b85c00;\
padding:.5rem 1rem}.actions{display:flex;flex-wrap:wrap;gap:1rem;margin-top:1.5rem}\
button{font-size:1.1rem;padding:.75rem 1.25rem;border-radius:.4rem;border:2px solid #1a1a1a;cursor:pointer}\
button:focus-visible{outline:3px solid #0b5fff;outline-offset:2px}\
#approve{background:#0a6b2d;color:#fff;border-color:#0a6b2d}#decline{background:#fff}\
label{display:block;font-weight:bold;margin-top:1rem}input{font-size:1.2rem;padding:.5rem;\
letter-spacing:.15em;max-width:12rem}input:focus-visible{outline:3px solid #0b5fff}\
@media (max-width:32rem){thead{display:none}td{display:block;border:none;padding:.15rem 0}\
td[data-label]::before{content:attr(data-label) \": \";font-weight:bold}\
tr{display:block;border-bottom:1px solid #ccc;padding:.5rem 0}}";

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

fn document(texts: &Texts, title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} — Itinera</title><style>{STYLE}</style></head>\
         <body><main>{body}</main></body></html>",
        lang = texts.lang,
        title = escape(title),
    )
}

/// The approval request, with the form that answers it.
pub fn approval_page(texts: &Texts, view: &PageView, action: &str) -> String {
    let plan = &view.plan;
    let rows: String = plan
        .items
        .iter()
        .map(|item| {
            let offer = &item.offer;
            format!(
                "<tr class=\"item\"><td><span class=\"kind\">{kind}</span>: <span class=\"title\">{title}</span></td>\
                 <td data-label=\"{dates}\">{from} → {to}</td><td class=\"price\" data-label=\"{price_label}\">{price}</td>\
                 <td data-label=\"{cancellation}\">{policy}</td></tr>",
                dates = texts.dates,
                price_label = texts.price,
                cancellation = texts.cancellation,
                kind = texts.kind(offer.kind),
                title = escape(&offer.title),
                from = offer.starts_on,
                to = offer.ends_on,
                price = escape(&amount(&offer.price)),
                policy = escape(&texts.cancellation(&offer.cancellation)),
            )
        })
        .collect();
    let travellers: Vec<String> = plan
        .travellers
        .iter()
        .map(|t| escape(&format!("{} {}", t.given_name, t.family_name)))
        .collect();
    let risks = if view.risks.is_empty() {
        String::new()
    } else {
        let reasons: String = view
            .risks
            .iter()
            .map(|risk| format!("<li>{}</li>", escape(&risk.reason)))
            .collect();
        format!(
            "<section class=\"risk\" role=\"alert\"><h2>{}</h2><ul>{reasons}</ul></section>",
            texts.risks
        )
    };
    let code = if view.needs_code {
        format!(
            "<label for=\"code\">{label}</label><p id=\"code-hint\">{hint}</p>\
             <input id=\"code\" name=\"code\" type=\"text\" autocomplete=\"one-time-code\" \
             autocapitalize=\"characters\" spellcheck=\"false\" maxlength=\"12\" aria-describedby=\"code-hint\">",
            label = texts.code_label,
            hint = texts.code_hint,
        )
    } else {
        String::new()
    };
    let approval = &view.approval;
    let body = format!(
        "<h1>{title}</h1><p>{intro}</p><h2 id=\"plan-title\">{plan_title}</h2>\
         <table aria-labelledby=\"plan-title\"><caption>{items}</caption><thead><tr><th scope=\"col\">{item}</th>\
         <th scope=\"col\">{dates}</th><th scope=\"col\">{price}</th><th scope=\"col\">{cancellation}</th></tr></thead>\
         <tbody>{rows}</tbody></table>\
         <p class=\"total\">{total_label}: <span id=\"total\">{total}</span></p>\
         <dl><dt>{travellers_label}</dt><dd id=\"travellers\">{travellers}</dd>\
         <dt>{payment_label}</dt><dd id=\"payment-method\">{payment}</dd>\
         <dt>{expires_label}</dt><dd id=\"expires\">{expires}</dd>\
         <dt>{version_label}</dt><dd id=\"version\">{version}</dd></dl>{risks}\
         <form method=\"post\" action=\"{action}\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><input type=\"hidden\" name=\"digest\" value=\"{digest}\">\
         {code}<div class=\"actions\"><button id=\"approve\" type=\"submit\" name=\"decision\" value=\"approve\">{approve}</button>\
         <button id=\"decline\" type=\"submit\" name=\"decision\" value=\"decline\">{decline}</button></div></form>",
        title = texts.title,
        intro = texts.intro,
        plan_title = escape(&plan.title),
        items = texts.items,
        item = texts.item,
        dates = texts.dates,
        price = texts.price,
        cancellation = texts.cancellation,
        total_label = texts.total,
        total = escape(&amount(&approval.amount_cap)),
        travellers_label = texts.travellers,
        travellers = travellers.join(", "),
        payment_label = texts.payment_method,
        payment = escape(&plan.payment_method.masked()),
        expires_label = texts.expires,
        expires = utc(&approval.expires_at),
        version_label = texts.version,
        version = escape(approval.digest.short()),
        action = escape(action),
        csrf = escape(&view.csrf),
        digest = escape(&approval.digest.0),
        approve = texts.approve,
        decline = texts.decline,
    );
    document(texts, texts.title, &body)
}

/// A page with a heading and one message: an answer recorded, or why none can be.
pub fn message_page(texts: &Texts, heading: &str, message: &str) -> String {
    let body = format!(
        "<h1>{}</h1><p id=\"message\" role=\"status\">{}</p>",
        escape(heading),
        escape(message)
    );
    document(texts, heading, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_values_is_escaped() {
        assert_eq!(
            escape("<script>alert('x') & \"y\"</script>"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;"
        );
    }
}
