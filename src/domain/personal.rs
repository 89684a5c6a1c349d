//! Travellers' personal details: what we accept, and how they may be shown.
//!
//! Providers need the full values, so plans keep them (encrypted at rest by the store). Anything a
//! tool, prompt or log shows uses the masks here instead: enough for the person to recognise their
//! own details, not enough for anyone reading over their shoulder, or the model, to copy them.

use chrono::{Datelike, Months, NaiveDate};

/// Stands for every hidden character.
const HIDDEN: char = '•';
/// Oldest a traveller can plausibly be.
const MAX_AGE_YEARS: u32 = 130;
/// RFC 5321's limit on an address.
const MAX_EMAIL_CHARS: usize = 254;

/// A passport number: 5 to 20 ASCII letters and digits once spaces are removed.
pub fn check_passport(number: &str) -> Result<(), String> {
    let compact = without(number, &[' ']);
    if (5..=20).contains(&compact.len()) && compact.chars().all(|c| c.is_ascii_alphanumeric()) {
        Ok(())
    } else {
        Err(
            "passport_number must be 5 to 20 letters and digits as printed on the passport \
             (spaces are ignored), e.g. X12345678"
                .into(),
        )
    }
}

/// A date of birth: not after `today`, and within a human lifetime of it.
pub fn check_date_of_birth(born: NaiveDate, today: NaiveDate) -> Result<(), String> {
    if born > today {
        return Err("date_of_birth is in the future: give it as YYYY-MM-DD".into());
    }
    let oldest = today.checked_sub_months(Months::new(12 * MAX_AGE_YEARS));
    if oldest.is_some_and(|oldest| born < oldest) {
        return Err(format!(
            "date_of_birth is more than {MAX_AGE_YEARS} years ago: check the year (YYYY-MM-DD)"
        ));
    }
    Ok(())
}

/// A phone number in international form: `+`, then 7 to 15 digits, the first not 0; spaces and
/// dashes between them are allowed.
pub fn check_phone(phone: &str) -> Result<(), String> {
    let valid = phone.strip_prefix('+').is_some_and(|rest| {
        let digits = without(rest, &[' ', '-']);
        (7..=15).contains(&digits.len())
            && digits.chars().all(|c| c.is_ascii_digit())
            && !digits.starts_with('0')
    });
    if valid {
        Ok(())
    } else {
        Err(
            "phone must be in international form: + then the country code and number, \
             7 to 15 digits (spaces and dashes allowed), e.g. +33 6 12 34 56 78"
                .into(),
        )
    }
}

/// A plausible e-mail address: `local@domain.tld`, one `@`, no spaces.
pub fn check_email(email: &str) -> Result<(), String> {
    let valid = email.chars().count() <= MAX_EMAIL_CHARS
        && !email.chars().any(char::is_whitespace)
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && domain.split('.').all(|label| !label.is_empty())
        });
    if valid {
        Ok(())
    } else {
        Err(
            "email must be an address like name@example.com: one @, no spaces, a dot in the domain"
                .into(),
        )
    }
}

/// `•••••5678`: the last four characters of a long number, three of a short one.
/// A phone as providers take it (E.164): the `+` and the digits, without spaces, dashes or
/// brackets.
pub fn e164(phone: &str) -> String {
    phone
        .chars()
        .filter(|c| *c == '+' || c.is_ascii_digit())
        .collect()
}

pub fn mask_passport(number: &str) -> String {
    let chars: Vec<char> = without(number, &[' ']).chars().collect();
    let shown = match chars.len() {
        0..5 => 0,
        5..8 => 3,
        _ => 4,
    };
    let tail: String = chars[chars.len() - shown..].iter().collect();
    format!("{}{tail}", hidden(5))
}

/// `1990-••-••`: the year only.
pub fn mask_date_of_birth(born: NaiveDate) -> String {
    format!("{:04}-{}-{}", born.year(), hidden(2), hidden(2))
}

/// `+33 ••••••78`: the country calling code and the last two digits.
pub fn mask_phone(phone: &str) -> String {
    let digits: Vec<char> = phone.chars().filter(char::is_ascii_digit).collect();
    let code_len = calling_code_len(&digits).min(digits.len());
    let shown = if digits.len() >= code_len + 4 { 2 } else { 0 };
    let code: String = digits[..code_len].iter().collect();
    let tail: String = digits[digits.len() - shown..].iter().collect();
    format!("+{code} {}{tail}", hidden(6))
}

/// `a•••@example.com`: the first character of the mailbox, and the domain.
pub fn mask_email(email: &str) -> String {
    match email.rsplit_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}{}@{domain}", hidden(3))
        }
        None => hidden(3),
    }
}

fn hidden(count: usize) -> String {
    std::iter::repeat_n(HIDDEN, count).collect()
}

fn without(text: &str, removed: &[char]) -> String {
    text.chars().filter(|c| !removed.contains(c)).collect()
}

/// How many leading digits of an international number are the country calling code. ITU-T E.164
/// codes are prefix-free: 1 and 7 stand alone; in each other zone, some two-digit prefixes are
/// whole codes and the rest start three-digit codes.
fn calling_code_len(digits: &[char]) -> usize {
    let two_digit: &[char] = match digits.first() {
        Some('1' | '7') => return 1,
        Some('2') => &['0', '7'],
        Some('3') => &['0', '1', '2', '3', '4', '6', '9'],
        Some('4') => &['0', '1', '3', '4', '5', '6', '7', '8', '9'],
        Some('5') => &['1', '2', '3', '4', '5', '6', '7', '8'],
        Some('6') => &['0', '1', '2', '3', '4', '5', '6'],
        Some('8') => &['1', '2', '4', '6'],
        Some('9') => &['0', '1', '2', '3', '4', '5', '8'],
        _ => return 1,
    };
    match digits.get(1) {
        Some(second) if two_digit.contains(second) => 2,
        _ => 3,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn passport_numbers_are_letters_and_digits() {
        for good in ["X12345678", "x1234 5678", "AB123", "12345678901234567890"] {
            assert!(check_passport(good).is_ok(), "{good}");
        }
        for bad in [
            "X123",
            "123456789012345678901",
            "X1234-5678",
            "X12345678é",
            "",
        ] {
            let problem = check_passport(bad).unwrap_err();
            assert!(problem.contains("5 to 20 letters and digits"), "{problem}");
        }
    }

    #[test]
    fn dates_of_birth_are_in_a_lifetime() {
        let today = day("2026-12-01");
        assert!(check_date_of_birth(day("1990-05-17"), today).is_ok());
        assert!(check_date_of_birth(today, today).is_ok(), "born today");
        assert!(check_date_of_birth(day("1896-12-01"), today).is_ok());
        let future = check_date_of_birth(day("2026-12-02"), today).unwrap_err();
        assert!(future.contains("in the future"), "{future}");
        let ancient = check_date_of_birth(day("1896-11-30"), today).unwrap_err();
        assert!(ancient.contains("more than 130 years ago"), "{ancient}");
    }

    #[test]
    fn phones_are_international() {
        for good in [
            "+33 6 12 34 56 78",
            "+1-415-555-0132",
            "+4915112345678",
            "+3531234",
        ] {
            assert!(check_phone(good).is_ok(), "{good}");
        }
        for bad in [
            "06 12 34 56 78",    // no country code
            "+33 (6) 12345678",  // brackets
            "+123456",           // too short
            "+1234567890123456", // too long
            "+0 612 345 678",    // no country code starts with 0
            "+",
        ] {
            let problem = check_phone(bad).unwrap_err();
            assert!(problem.contains("international form"), "{bad}: {problem}");
        }
    }

    #[test]
    fn emails_are_plausible() {
        for good in ["ada@example.com", "a.b+trip@mail.example.co.uk"] {
            assert!(check_email(good).is_ok(), "{good}");
        }
        for bad in [
            "ada",
            "ada@example",
            "@example.com",
            "ada@@example.com",
            "ada@ex@ample.com",
            "ada lovelace@example.com",
            "ada@example.",
            "ada@.com",
        ] {
            let problem = check_email(bad).unwrap_err();
            assert!(problem.contains("name@example.com"), "{bad}: {problem}");
        }
    }

    #[test]
    fn masks_keep_only_what_the_person_needs_to_recognise() {
        assert_eq!(mask_passport("X12345678"), "•••••5678");
        assert_eq!(mask_passport("X 1234 5678"), "•••••5678");
        assert_eq!(mask_passport("AB123"), "•••••123");
        assert_eq!(mask_passport("?"), "•••••", "never more than it has");
        assert_eq!(mask_date_of_birth(day("1990-05-17")), "1990-••-••");
        assert_eq!(mask_phone("+33 6 12 34 56 78"), "+33 ••••••78");
        assert_eq!(mask_phone("+1-415-555-0132"), "+1 ••••••32");
        assert_eq!(mask_phone("+353 1 234 5678"), "+353 ••••••78");
        assert_eq!(mask_phone("+49 151 1234 5678"), "+49 ••••••78");
        assert_eq!(mask_phone("+"), "+ ••••••", "never more than it has");
        assert_eq!(mask_email("ada@example.com"), "a•••@example.com");
        assert_eq!(mask_email("nobody"), "•••");
    }
}
