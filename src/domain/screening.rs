//! Screening of free-form input: raw card numbers and oversize strings are refused anywhere.
//!
//! Itinera never handles card digits: payment methods are provider tokens. A card number that
//! reaches a tool argument, a plan note or a traveller field is refused before anything is
//! parsed or stored, and the error never repeats it.

use serde_json::Value;

/// The longest string any tool argument may carry.
pub const MAX_STRING_CHARS: usize = 2_000;

/// Why an input was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScreeningError {
    #[error(
        "the field '{field}' contains what looks like a payment card number. Itinera never accepts card digits: \
         remove them and pass a tokenized payment method from your payment provider instead \
         (in the sandbox: pm_sandbox_visa)"
    )]
    CardNumber { field: String },
    #[error("the field '{field}' is {chars} characters long; the limit is {MAX_STRING_CHARS}")]
    TooLong { field: String, chars: usize },
}

/// Walks a JSON value and refuses the first card number or oversize string, naming its path.
pub fn screen_json(value: &Value) -> Result<(), ScreeningError> {
    screen_at(value, &mut String::from("arguments"))
}

fn screen_at(value: &Value, path: &mut String) -> Result<(), ScreeningError> {
    match value {
        Value::String(text) => screen_text(text, path),
        Value::Number(number) => screen_text(&number.to_string(), path),
        Value::Array(values) => values.iter().enumerate().try_for_each(|(index, value)| {
            with_segment(path, &format!("[{index}]"), |path| screen_at(value, path))
        }),
        Value::Object(map) => map.iter().try_for_each(|(key, value)| {
            screen_text(key, path)?;
            with_segment(path, &format!(".{key}"), |path| screen_at(value, path))
        }),
        Value::Bool(_) | Value::Null => Ok(()),
    }
}

fn with_segment<T>(path: &mut String, segment: &str, f: impl FnOnce(&mut String) -> T) -> T {
    let len = path.len();
    path.push_str(segment);
    let result = f(path);
    path.truncate(len);
    result
}

fn screen_text(text: &str, field: &str) -> Result<(), ScreeningError> {
    let chars = text.chars().count();
    if chars > MAX_STRING_CHARS {
        return Err(ScreeningError::TooLong {
            field: field.to_string(),
            chars,
        });
    }
    if contains_card_number(text) {
        return Err(ScreeningError::CardNumber {
            field: field.to_string(),
        });
    }
    Ok(())
}

/// True when the text holds a standalone run of 13–19 digits, possibly grouped by single spaces
/// or dashes, that passes the Luhn check and is not an international phone number. Digits inside a longer word (an id such as
/// `plan_8f4242424242424242…`) are not a card number.
pub fn contains_card_number(text: &str) -> bool {
    let chars: Vec<char> = text.chars().collect();
    let mut start = 0;
    while start < chars.len() {
        let standalone_start = start == 0 || !is_word(chars[start - 1]);
        if !chars[start].is_ascii_digit() || !standalone_start {
            start += 1;
            continue;
        }
        let mut digits = Vec::new();
        let mut end = start;
        let mut trailing_separator = false;
        while let Some(&c) = chars.get(end) {
            if let Some(digit) = c.to_digit(10) {
                digits.push(digit as u8);
                trailing_separator = false;
            } else if (c == ' ' || c == '-') && !trailing_separator {
                trailing_separator = true;
            } else {
                break;
            }
            end += 1;
        }
        let after = if trailing_separator { end - 1 } else { end };
        let standalone_end = chars.get(after).is_none_or(|&c| !is_word(c));
        // "+86 138 0013 8000": an international phone number (E.164, at most 15 digits), which
        // passes Luhn about one time in ten.
        let phone = start > 0 && chars[start - 1] == '+' && digits.len() <= 15;
        if standalone_end && !phone && is_card_number(&digits) {
            return true;
        }
        start = end;
    }
    false
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn is_card_number(digits: &[u8]) -> bool {
    (13..=19).contains(&digits.len()) && luhn_valid(digits)
}

fn luhn_valid(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(position, &digit)| {
            let digit = u32::from(digit);
            if position % 2 == 1 {
                let doubled = digit * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                digit
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_international_phone_number_is_not_a_card_even_when_it_passes_luhn() {
        // 4222222222222 is a 13-digit test card number, so it passes Luhn.
        assert!(contains_card_number("4222222222222"));
        assert!(!contains_card_number("+4222222222222"));
        assert!(!contains_card_number("phone +42 2222 222 2222"));
        // Longer than any phone number: still a card, plus sign or not.
        assert!(contains_card_number("+4111111111111111"));
    }

    #[test]
    fn card_numbers_are_found_however_they_are_grouped() {
        for text in [
            "4242424242424242",
            "my card is 4242 4242 4242 4242 thanks",
            "4000-0566-5566-5556",
            "378282246310005",
        ] {
            assert!(contains_card_number(text), "{text}");
        }
    }

    #[test]
    fn other_numbers_pass() {
        for text in [
            "4242424242424241", // fails Luhn
            "+1 415 555 2671",  // a phone number
            "2026-12-03",       // a date
            "ord_8f14e45fceea167a5a36dedd4bea2543",
            "123456789012", // too short
        ] {
            assert!(!contains_card_number(text), "{text}");
        }
    }

    #[test]
    fn screening_names_the_field_but_never_repeats_the_number() {
        let args =
            json!({"travellers": [{"given_name": "Ada", "family_name": "4242 4242 4242 4242"}]});
        let err = screen_json(&args).unwrap_err().to_string();
        assert!(err.contains("arguments.travellers[0].family_name"), "{err}");
        assert!(!err.contains("4242"), "{err}");
        let long = json!({"title": "x".repeat(MAX_STRING_CHARS + 1)});
        assert!(matches!(
            screen_json(&long),
            Err(ScreeningError::TooLong { .. })
        ));
        assert!(screen_json(&json!({"amount": 4242424242424242u64})).is_err());
    }
}
