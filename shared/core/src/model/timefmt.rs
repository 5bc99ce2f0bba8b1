//! Times as people read them: in their zone, and how far away.
//!
//! Slack shows each reader their own zone (`<!date^…>`); every other rendering (the CLI, e-mail-like
//! text, runbooks) uses one zone chosen by the team (`CACHEWATCH_TZ`), UTC by default.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

/// The zone plain-text renderings use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Zone {
    /// UTC.
    #[default]
    Utc,
    /// An IANA zone (`Asia/Tokyo`).
    Named(Tz),
}

/// A zone name that is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a time zone: use an IANA name like Europe/Paris or Asia/Tokyo, or UTC")]
pub struct BadZone(pub String);

impl FromStr for Zone {
    type Err = BadZone;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let raw = raw.trim();
        if raw.is_empty() || raw.eq_ignore_ascii_case("utc") || raw == "Z" {
            return Ok(Zone::Utc);
        }
        raw.parse::<Tz>()
            .map(Zone::Named)
            .map_err(|_| BadZone(raw.to_owned()))
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Zone::Utc => f.write_str("UTC"),
            Zone::Named(tz) => f.write_str(tz.name()),
        }
    }
}

impl Zone {
    /// `2026-06-25 19:00 UTC`, or `2026-06-26 04:00 JST` in a named zone.
    pub fn format(&self, at: DateTime<Utc>) -> String {
        self.format_with(at, "%Y-%m-%d %H:%M")
    }

    /// `at` with a strftime `pattern`, followed by the zone's abbreviation.
    pub fn format_with(&self, at: DateTime<Utc>, pattern: &str) -> String {
        match self {
            Zone::Utc => format!("{} UTC", at.format(pattern)),
            Zone::Named(tz) => {
                let local = at.with_timezone(tz);
                format!("{} {}", local.format(pattern), local.format("%Z"))
            }
        }
    }

    /// The wall-clock time at `at` in this zone.
    pub fn local(&self, at: DateTime<Utc>) -> chrono::NaiveDateTime {
        match self {
            Zone::Utc => at.naive_utc(),
            Zone::Named(tz) => at.with_timezone(tz).naive_local(),
        }
    }

    /// A window: `2026-06-25 19:00–20:00 UTC`, or with both dates when it spans midnight. A
    /// window that ends where it starts is a start whose end was not given (an AWS e-mail names
    /// only the replacement time): `from 2026-09-30 09:00 UTC (end not given)`.
    pub fn format_window(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> String {
        if start == end {
            return format!("from {} (end not given)", self.format(start));
        }
        let (s, e) = (self.local(start), self.local(end));
        let zone = self.format_with(end, "").trim().to_owned();
        if s.date() == e.date() {
            format!(
                "{}–{} {zone}",
                s.format("%Y-%m-%d %H:%M"),
                e.format("%H:%M")
            )
        } else {
            format!(
                "{} – {} {zone}",
                s.format("%Y-%m-%d %H:%M"),
                e.format("%Y-%m-%d %H:%M")
            )
        }
    }
}

/// How far `at` is from `now`, in the two largest units: `in 3 days 4 hours`, `2 hours ago`,
/// `now`.
pub fn relative(now: DateTime<Utc>, at: DateTime<Utc>) -> String {
    let delta = at - now;
    let span = human_duration(delta.abs());
    if delta.abs() < Duration::minutes(1) {
        "now".to_owned()
    } else if delta > Duration::zero() {
        format!("in {span}")
    } else {
        format!("{span} ago")
    }
}

/// A duration in its two largest units: `3 days 4 hours`, `2 minutes`, `45 seconds`.
pub fn human_duration(d: Duration) -> String {
    let secs = d.num_seconds().max(0);
    let units = [
        ("day", 86_400),
        ("hour", 3_600),
        ("minute", 60),
        ("second", 1),
    ];
    let mut parts = Vec::new();
    let mut rest = secs;
    for (name, size) in units {
        let n = rest / size;
        if n > 0 {
            parts.push(format!("{n} {name}{}", if n == 1 { "" } else { "s" }));
            rest -= n * size;
        } else if !parts.is_empty() {
            break;
        }
        if parts.len() == 2 {
            break;
        }
    }
    if parts.is_empty() {
        "0 seconds".to_owned()
    } else {
        parts.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn zones_render_in_their_local_time() {
        let t = at("2026-06-25T19:00:00Z");
        assert_eq!(Zone::Utc.format(t), "2026-06-25 19:00 UTC");
        let tokyo: Zone = "Asia/Tokyo".parse().unwrap();
        assert_eq!(tokyo.format(t), "2026-06-26 04:00 JST");
        assert!("Mars/Olympus".parse::<Zone>().is_err());
        assert_eq!("utc".parse::<Zone>().unwrap(), Zone::Utc);
    }

    #[test]
    fn windows_show_one_date_when_they_can() {
        let (s, e) = (at("2026-06-25T19:00:00Z"), at("2026-06-25T20:00:00Z"));
        assert_eq!(Zone::Utc.format_window(s, e), "2026-06-25 19:00–20:00 UTC");
        let tokyo: Zone = "Asia/Tokyo".parse().unwrap();
        assert_eq!(tokyo.format_window(s, e), "2026-06-26 04:00–05:00 JST");
        let (s, e) = (at("2026-12-31T23:00:00Z"), at("2027-01-01T01:00:00Z"));
        assert_eq!(
            Zone::Utc.format_window(s, e),
            "2026-12-31 23:00 – 2027-01-01 01:00 UTC"
        );
    }

    #[test]
    fn distances_read_like_speech() {
        let now = at("2026-06-20T12:00:00Z");
        assert_eq!(
            relative(now, at("2026-06-23T16:30:00Z")),
            "in 3 days 4 hours"
        );
        assert_eq!(relative(now, at("2026-06-20T10:00:00Z")), "2 hours ago");
        assert_eq!(relative(now, at("2026-06-20T12:00:20Z")), "now");
        assert_eq!(relative(now, at("2026-06-20T12:01:00Z")), "in 1 minute");
        assert_eq!(
            human_duration(Duration::seconds(125)),
            "2 minutes 5 seconds"
        );
        assert_eq!(human_duration(Duration::days(2)), "2 days");
    }
}
