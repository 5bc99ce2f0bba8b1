//! Dates as ElastiCache and its tools write them.
//!
//! - API and CLI timestamps: RFC 3339 in its variants (`2026-06-10T15:22:03.336Z`,
//!   `2026-06-10T15:22:03.336000+00:00`, `2026-06-10 15:22:03+00:00`) or epoch seconds.
//! - The console: `June 11, 2022, 00:22:03 (UTC+09:00)`.
//! - Maintenance windows inside message texts: `Jun 25 19:00 UTC`, often **without a year**. The
//!   year is the one that puts the time closest to the event that announced it, so a January window
//!   announced in December lands in the next year, and Feb 29 only lands in a leap year.

use chrono::{
    DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc,
};

/// The earliest time an input may name: the Unix epoch, from which the stores count time. An
/// earlier date in an input is a misread number, not an event.
pub fn earliest_date() -> DateTime<Utc> {
    DateTime::UNIX_EPOCH
}

/// The latest time an input may name: the end of the year 9999, the last year RFC 3339 (four
/// digits) can write. Anything later (an epoch in microseconds read as milliseconds, a year-less
/// window rolled past 9999) could be stored but never read back as the contract writes times.
pub fn latest_date() -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(9999, 12, 31)
        .and_then(|d| d.and_hms_milli_opt(23, 59, 59, 999))
        .map_or(DateTime::<Utc>::MAX_UTC, |t| t.and_utc())
}

/// Whether `at` lies between [`earliest_date`] and [`latest_date`].
pub fn date_in_range(at: DateTime<Utc>) -> bool {
    (earliest_date()..=latest_date()).contains(&at)
}

/// Reads an API or CLI timestamp.
pub(crate) fn parse_timestamp(raw: &str) -> Option<DateTime<Utc>> {
    let raw = raw.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Some(t.with_timezone(&Utc));
    }
    // `2026-06-10 15:22:03.336000+00:00` (boto3 printed with str()).
    if let Ok(t) = DateTime::parse_from_str(raw, "%Y-%m-%d %H:%M:%S%.f%:z") {
        return Some(t.with_timezone(&Utc));
    }
    // A zone-less ISO time is UTC, as every AWS API means it.
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(raw, format) {
            return Some(t.and_utc());
        }
    }
    let trimmed = raw.strip_suffix(" UTC").unwrap_or(raw);
    if trimmed != raw {
        return parse_timestamp(trimmed);
    }
    parse_epoch(raw)
}

/// Epoch seconds (possibly fractional) or epoch milliseconds, as some exporters write them.
pub(crate) fn parse_epoch(raw: &str) -> Option<DateTime<Utc>> {
    let value: f64 = raw.trim().parse().ok()?;
    if !value.is_finite() || value < 0.0 {
        return None;
    }
    // Past 10^11 seconds is the year 5138: such a number is milliseconds.
    let millis = if value >= 1e11 { value } else { value * 1000.0 };
    if millis > 1e15 {
        return None;
    }
    DateTime::from_timestamp_millis(millis as i64)
}

/// The pieces of a date and time found in free text.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Pieces {
    year: Option<i32>,
    month: Option<u32>,
    day: Option<u32>,
    time: Option<NaiveTime>,
    offset: Option<FixedOffset>,
}

fn month_number(word: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let lower = word.to_ascii_lowercase();
    if lower.len() < 3 {
        return None;
    }
    let full = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    MONTHS
        .iter()
        .zip(full)
        .position(|(abbr, name)| {
            lower == *abbr || lower == name || (lower == "sept" && *abbr == "sep")
        })
        .map(|i| i as u32 + 1)
}

fn is_weekday(word: &str) -> bool {
    let lower = word.to_ascii_lowercase();
    ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        .iter()
        .any(|d| lower.starts_with(d) && lower.len() <= 9)
}

/// `UTC`, `GMT`, `Z`, `+09:00`, `UTC+09:00`, `UTC-5`, `(UTC+09:00)`.
fn parse_offset(word: &str) -> Option<FixedOffset> {
    let w = word.trim_matches(|c| c == '(' || c == ')');
    let upper = w.to_ascii_uppercase();
    let rest = upper
        .strip_prefix("UTC")
        .or_else(|| upper.strip_prefix("GMT"))
        .unwrap_or(&upper);
    if rest.is_empty() || rest == "Z" && upper == "Z" {
        return FixedOffset::east_opt(0);
    }
    let (sign, digits) = match rest.as_bytes().first()? {
        b'+' => (1, &rest[1..]),
        b'-' => (-1, &rest[1..]),
        _ => return None,
    };
    // Only digits and a colon: the byte slicing below then stays on character boundaries, and a
    // second sign (`UTC+-5`) is not read as one.
    if !digits.bytes().all(|b| b.is_ascii_digit() || b == b':') {
        return None;
    }
    let (hours, minutes) = match digits.split_once(':') {
        Some((h, m)) => (h.parse::<i32>().ok()?, m.parse::<i32>().ok()?),
        None if digits.len() == 4 => (digits[..2].parse().ok()?, digits[2..].parse().ok()?),
        // `GMT-500`, as the older console wrote five hours west.
        None if digits.len() == 3 => (digits[..1].parse().ok()?, digits[1..].parse().ok()?),
        None => (digits.parse().ok()?, 0),
    };
    if hours > 14 || minutes > 59 {
        return None;
    }
    FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60))
}

fn parse_clock(word: &str) -> Option<NaiveTime> {
    let parts: Vec<&str> = word.split(':').collect();
    if !(2..=3).contains(&parts.len()) {
        return None;
    }
    let h: u32 = parts[0].parse().ok()?;
    let m: u32 = parts[1].parse().ok()?;
    let (s, nanos) = match parts.get(2) {
        Some(sec) => {
            let (whole, frac) = sec.split_once('.').unwrap_or((sec, ""));
            let s: u32 = whole.parse().ok()?;
            let nanos = if frac.is_empty() {
                0
            } else {
                let digits: String = frac.chars().take(9).collect();
                digits.parse::<u32>().ok()? * 10u32.pow(9 - digits.len() as u32)
            };
            (s, nanos)
        }
        None => (0, 0),
    };
    NaiveTime::from_hms_nano_opt(h, m, s, nanos)
}

/// A zone's name after an offset, as browsers print dates: `GMT-0500 (Central Daylight Time)`.
fn without_zone_name(text: &str) -> &str {
    let trimmed = text.trim_end();
    match trimmed.strip_suffix(')').and_then(|t| t.rsplit_once('(')) {
        Some((head, name))
            if !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphabetic() || c == ' ')
                && head.to_ascii_uppercase().contains("GMT") =>
        {
            head
        }
        _ => trimmed,
    }
}

fn pieces_of(text: &str) -> Option<Pieces> {
    let mut p = Pieces::default();
    let cleaned = without_zone_name(text).replace(['(', ')'], " ");
    for word in cleaned.split(|c: char| c.is_whitespace() || c == ',') {
        let word = word.trim_end_matches('.');
        if word.is_empty() || is_weekday(word) {
            continue;
        }
        if let Some(m) = month_number(word) {
            if p.month.replace(m).is_some() {
                return None;
            }
        } else if word.contains(':') && word.as_bytes()[0].is_ascii_digit() {
            if p.time.replace(parse_clock(word)?).is_some() {
                return None;
            }
        } else if word.bytes().all(|b| b.is_ascii_digit()) {
            let n: u32 = word.parse().ok()?;
            if word.len() == 4 {
                if p.year.replace(n as i32).is_some() {
                    return None;
                }
            } else if (1..=31).contains(&n) && word.len() <= 2 && p.day.is_none() {
                p.day = Some(n);
            } else {
                return None;
            }
        } else if let Some(offset) = parse_offset(word) {
            p.offset = Some(offset);
        } else {
            return None;
        }
    }
    (p.month.is_some() && p.day.is_some()).then_some(p)
}

fn to_utc(date: NaiveDate, time: NaiveTime, offset: FixedOffset) -> Option<DateTime<Utc>> {
    offset
        .from_local_datetime(&date.and_time(time))
        .single()
        .map(|t| t.with_timezone(&Utc))
}

/// A console date: `June 11, 2022, 00:22:03 (UTC+09:00)`.
pub(crate) fn parse_console_date(raw: &str) -> Option<DateTime<Utc>> {
    if let Some(t) = parse_timestamp(raw) {
        return Some(t);
    }
    let p = pieces_of(raw)?;
    let date = NaiveDate::from_ymd_opt(p.year?, p.month?, p.day?)?;
    to_utc(date, p.time?, p.offset.unwrap_or(FixedOffset::east_opt(0)?))
}

/// How far from the event that announced it a year-less time may be. For every day but Feb 29 the
/// closest year is at most half a year away; a Feb 29 farther than that is not a day of the
/// event's year or its neighbours', and naming the next leap year instead would invent a date.
const YEARLESS_REACH_DAYS: i64 = 184;

/// A time inside a message text, with the year inferred from `reference` (the event's date) when
/// the text does not give one: the candidate year closest to the reference wins, if it is within
/// half a year of it.
pub(crate) fn parse_text_time(raw: &str, reference: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let raw = raw.trim().trim_end_matches('.');
    if let Some(t) = parse_timestamp(raw) {
        return Some(t);
    }
    let p = pieces_of(raw)?;
    let time = p.time.unwrap_or(NaiveTime::MIN);
    let offset = p.offset.unwrap_or(FixedOffset::east_opt(0)?);
    let (month, day) = (p.month?, p.day?);
    if let Some(year) = p.year {
        return to_utc(NaiveDate::from_ymd_opt(year, month, day)?, time, offset);
    }
    let year = reference.year();
    [year - 1, year, year + 1]
        .into_iter()
        .filter_map(|y| to_utc(NaiveDate::from_ymd_opt(y, month, day)?, time, offset))
        .min_by_key(|candidate| (*candidate - reference).abs())
        .filter(|closest| (*closest - reference).abs() <= Duration::days(YEARLESS_REACH_DAYS))
}

/// The end of a window, read relative to its start: a window from Dec 31 23:00 to Jan 1 01:00 ends
/// in the next year.
pub(crate) fn parse_window_end(raw: &str, start: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let end = parse_text_time(raw, start)?;
    if end >= start {
        return Some(end);
    }
    // The closest year put the end before the start: the window runs into the following year.
    let shifted = end.with_year(end.year() + 1)?;
    (shifted >= start && shifted - start < Duration::days(31)).then_some(shifted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn api_timestamps_in_their_variants() {
        let cases = [
            ("2026-06-10T15:22:03.336Z", "2026-06-10T15:22:03.336Z"),
            (
                "2026-06-10T15:22:03.336000+00:00",
                "2026-06-10T15:22:03.336Z",
            ),
            (
                "2026-06-10 15:22:03.336000+00:00",
                "2026-06-10T15:22:03.336Z",
            ),
            ("2026-06-10 15:22:03+09:00", "2026-06-10T06:22:03Z"),
            ("2026-06-10T15:22:03", "2026-06-10T15:22:03Z"),
            ("1781104923", "2026-06-10T15:22:03Z"),
            ("1781104923336", "2026-06-10T15:22:03.336Z"),
        ];
        for (raw, want) in cases {
            assert_eq!(parse_timestamp(raw), Some(at(want)), "{raw}");
        }
        assert_eq!(parse_timestamp("yesterday"), None);
        assert_eq!(parse_timestamp("-5"), None);
    }

    #[test]
    fn console_dates_carry_their_zone() {
        let cases = [
            (
                "June 11, 2022, 00:22:03 (UTC+09:00)",
                "2022-06-10T15:22:03Z",
            ),
            ("June 11, 2022, 00:22:03 (UTC)", "2022-06-11T00:22:03Z"),
            ("Jan 3, 2027, 23:05:00 (UTC-05:00)", "2027-01-04T04:05:00Z"),
            (
                "September 30, 2026, 9:00:00 (UTC+05:30)",
                "2026-09-30T03:30:00Z",
            ),
        ];
        for (raw, want) in cases {
            assert_eq!(parse_console_date(raw), Some(at(want)), "{raw}");
        }
        assert_eq!(parse_console_date("June 31, 2022, 00:22:03 (UTC)"), None);
    }

    #[test]
    fn window_years_are_inferred_from_the_announcing_event() {
        let cases = [
            // (text, event date, expected)
            (
                "Jun 25 19:00 UTC",
                "2026-06-10T00:00:00Z",
                "2026-06-25T19:00:00Z",
            ),
            (
                "Jan 03 19:00 UTC",
                "2026-12-20T08:00:00Z",
                "2027-01-03T19:00:00Z",
            ),
            (
                "Dec 30 19:00 UTC",
                "2027-01-02T08:00:00Z",
                "2026-12-30T19:00:00Z",
            ),
            (
                "Feb 29 02:00 UTC",
                "2028-02-10T00:00:00Z",
                "2028-02-29T02:00:00Z",
            ),
            (
                "Feb 29 02:00 UTC",
                "2027-12-15T00:00:00Z",
                "2028-02-29T02:00:00Z",
            ),
            (
                "Wed Jun 26 19:00:00 UTC 2019",
                "2019-06-10T00:00:00Z",
                "2019-06-26T19:00:00Z",
            ),
            (
                "June 25, 2026 19:00 UTC",
                "2026-06-10T00:00:00Z",
                "2026-06-25T19:00:00Z",
            ),
            (
                "Jun 25 19:00",
                "2026-06-10T00:00:00Z",
                "2026-06-25T19:00:00Z",
            ),
            (
                "Jun 25 19:00:30 UTC.",
                "2026-06-10T00:00:00Z",
                "2026-06-25T19:00:30Z",
            ),
            (
                "2026-06-25 19:00:00 UTC",
                "2026-06-10T00:00:00Z",
                "2026-06-25T19:00:00Z",
            ),
        ];
        for (raw, reference, want) in cases {
            assert_eq!(
                parse_text_time(raw, at(reference)),
                Some(at(want)),
                "{raw} @ {reference}"
            );
        }
    }

    #[test]
    fn an_impossible_feb_29_is_not_a_time() {
        assert_eq!(
            parse_text_time("Feb 29 02:00 UTC", at("2026-02-10T00:00:00Z")),
            None
        );
        // The next Feb 29 is more than a year after the event: not the window it announces.
        assert_eq!(
            parse_text_time("Feb 29 02:00 UTC", at("2027-02-10T00:00:00Z")),
            None
        );
        // Nor is the last one, almost a year before.
        assert_eq!(
            parse_text_time("Feb 29 02:00 UTC", at("2029-01-20T00:00:00Z")),
            None
        );
        assert_eq!(
            parse_text_time("Foo 12 02:00 UTC", at("2026-02-10T00:00:00Z")),
            None
        );
        assert_eq!(
            parse_text_time("Jun 25 25:00 UTC", at("2026-02-10T00:00:00Z")),
            None
        );
    }

    #[test]
    fn offsets_are_signed_digits_and_nothing_else() {
        assert_eq!(
            parse_offset("UTC+0930"),
            FixedOffset::east_opt(9 * 3600 + 1800)
        );
        assert_eq!(parse_offset("(UTC-05:00)"), FixedOffset::west_opt(5 * 3600));
        // Four bytes that are not four digits are never sliced inside a character.
        assert_eq!(parse_offset("UTC-ア4"), None);
        assert_eq!(parse_offset("+1é1"), None);
        assert_eq!(parse_offset("UTC+-5"), None);
        assert_eq!(
            parse_console_date("June 18, 2026, 05:36:00 (UTC-ア4)"),
            None
        );
    }

    #[test]
    fn a_window_end_after_new_year_is_next_year() {
        let start = at("2026-12-31T23:00:00Z");
        assert_eq!(
            parse_window_end("Jan 1 01:00 UTC", start),
            Some(at("2027-01-01T01:00:00Z"))
        );
        let start = at("2026-06-25T19:00:00Z");
        assert_eq!(
            parse_window_end("Jun 25 20:00 UTC", start),
            Some(at("2026-06-25T20:00:00Z"))
        );
    }
}
