//! Times as the store keeps them on both databases: RFC 3339 text, exactly as sqlx's SQLite
//! driver wrote them before PostgreSQL was supported (`2026-11-26T12:00:00.123+00:00`).
//!
//! Text rather than PostgreSQL's `timestamptz`: the `Any` driver that lets one set of queries run
//! on both databases carries no date type, and `timestamptz` keeps microseconds only, so a time
//! read back would differ from the one written, and the compare-and-swap on a platform account's
//! `refreshed_at` would never match. The text sorts as time does under byte order, which the
//! PostgreSQL schema asks for (`COLLATE "C"`) on every time column.

use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::any::{AnyTypeInfo, AnyValueRef};
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::{Any, Decode, Encode, Type};

/// A point in time bound to, or read from, a query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Timestamp(pub DateTime<Utc>);

impl Timestamp {
    fn text(self) -> String {
        self.0.to_rfc3339_opts(SecondsFormat::AutoSi, false)
    }
}

impl Type<Any> for Timestamp {
    fn type_info() -> AnyTypeInfo {
        <String as Type<Any>>::type_info()
    }

    fn compatible(ty: &AnyTypeInfo) -> bool {
        <String as Type<Any>>::compatible(ty)
    }
}

impl Encode<'_, Any> for Timestamp {
    fn encode_by_ref(
        &self,
        buf: &mut <Any as sqlx::Database>::ArgumentBuffer,
    ) -> Result<IsNull, BoxDynError> {
        <String as Encode<Any>>::encode(self.text(), buf)
    }
}

impl<'r> Decode<'r, Any> for Timestamp {
    fn decode(value: AnyValueRef<'r>) -> Result<Self, BoxDynError> {
        let text = <&str as Decode<Any>>::decode(value)?;
        Ok(Timestamp(
            DateTime::parse_from_rfc3339(text)?.with_timezone(&Utc),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn times_are_written_as_the_sqlite_driver_wrote_them() {
        let whole = Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap();
        assert_eq!(Timestamp(whole).text(), "2026-11-26T12:00:00+00:00");
        let nanos = whole + chrono::Duration::nanoseconds(123_456_789);
        assert_eq!(
            Timestamp(nanos).text(),
            "2026-11-26T12:00:00.123456789+00:00"
        );
    }

    #[test]
    fn the_text_sorts_as_the_times_do() {
        let base = Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap();
        let times = [
            base,
            base + chrono::Duration::nanoseconds(1),
            base + chrono::Duration::milliseconds(100),
            base + chrono::Duration::milliseconds(500),
            base + chrono::Duration::seconds(1),
        ];
        let texts: Vec<String> = times.iter().map(|t| Timestamp(*t).text()).collect();
        let mut sorted = texts.clone();
        sorted.sort();
        assert_eq!(texts, sorted);
    }
}
