//! Slack mrkdwn as cachewatch writes it: event text escaped, identifiers in code spans, times as
//! `<!date^…>` tokens that each reader sees in their own zone, and truncation that never cuts an
//! entity, a token or a code block in half.
//!
//! Lengths are counted in UTF-16 code units, which is never less than the count of characters,
//! so a text within a limit here is within Slack's limit however Slack counts.

use chrono::{DateTime, Utc};

use crate::model::timefmt::Zone;
use crate::runbook::escape;

/// What marks a cut: one character.
pub const ELLIPSIS: &str = "…";

/// Slack has no escape for a backtick inside code: code shows this look-alike instead.
const BACKTICK_LOOKALIKE: char = 'ˋ';

/// The length of `text` as limits count it (UTF-16 code units).
pub fn len(text: &str) -> usize {
    text.encode_utf16().count()
}

/// `raw` for mrkdwn: `&`, `<` and `>` as entities, so nothing in it becomes a mention, a channel
/// ping, a link or a date token. Control characters other than line breaks become spaces;
/// invisible and bidirectional characters are written out (`[U+202E]`).
pub fn escape(raw: &str) -> String {
    let flat: String = crate::model::invisible::shown(raw)
        .chars()
        .map(|c| if c.is_control() && c != '\n' { ' ' } else { c })
        .collect();
    escape::slack(&flat)
}

/// `raw` as escaped text on one line: line breaks become spaces too.
pub fn escape_line(raw: &str) -> String {
    escape(&raw.replace('\n', " "))
}

/// Whether `token` is a link to an `https://` page, `<https://address|text>`: an address with
/// no space, `|`, `<` or `>`, and a text with no `<` or `>` (escaped as entities).
pub fn is_https_link(token: &str) -> bool {
    let Some(inner) = token
        .strip_prefix("<https://")
        .and_then(|t| t.strip_suffix('>'))
    else {
        return false;
    };
    let Some((address, text)) = inner.split_once('|') else {
        return false;
    };
    !address.is_empty()
        && address
            .chars()
            .all(|c| c.is_ascii_graphic() && !"|<>\"'".contains(c))
        && !text.trim().is_empty()
        && !text.contains(['<', '>'])
}

/// `raw` as an inline code span on one line (identifiers): shown as written, never formatted.
pub fn code(raw: &str) -> String {
    let text = escape_line(&raw.replace('`', &BACKTICK_LOOKALIKE.to_string()));
    if text.trim().is_empty() {
        "` `".to_owned()
    } else {
        format!("`{text}`")
    }
}

/// `raw` as a code block (commands, an event's original text).
pub fn code_block(raw: &str) -> String {
    let text = escape(&raw.replace('`', &BACKTICK_LOOKALIKE.to_string()));
    let text = text.trim_matches('\n');
    if text.trim().is_empty() {
        "``` ```".to_owned()
    } else {
        format!("```{text}```")
    }
}

/// How much of a time a date token shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateStyle {
    /// The date and the time: `tomorrow 19:00` for the reader, `2026-06-25 19:00 UTC` as fallback.
    DateTime,
    /// The time only: `20:00` for the reader, `20:00 UTC` as fallback.
    Time,
}

/// A `<!date^…>` token: Slack shows `at` in each reader's own zone, and clients that cannot
/// show it show the fallback, written in `zone`.
pub fn date(at: DateTime<Utc>, zone: Zone, style: DateStyle) -> String {
    let (tokens, fallback) = match style {
        DateStyle::DateTime => ("{date_short_pretty} {time}", zone.format(at)),
        DateStyle::Time => ("{time}", zone.format_with(at, "%H:%M")),
    };
    // A fallback is text after `|`, up to the token's closing `>`: it must hold neither.
    let fallback = escape_line(&fallback).replace('|', "/");
    format!("<!date^{}^{tokens}|{fallback}>", at.timestamp())
}

/// A date token's parts, when `token` is one (`<!date^1782414000^{time}|19:00 UTC>`).
pub fn parse_date(token: &str) -> Option<DateToken<'_>> {
    let inner = token.strip_prefix("<!date^")?.strip_suffix('>')?;
    let (spec, fallback) = inner.split_once('|')?;
    let mut parts = spec.splitn(3, '^');
    let timestamp = parts.next()?.parse::<i64>().ok()?;
    let tokens = parts.next()?;
    let link = parts.next();
    let well_formed = !tokens.is_empty()
        && !inner.contains(['<', '>'])
        && !fallback.contains('|')
        && link.is_none_or(|l| l.starts_with("https://") || l.starts_with("http://"));
    well_formed.then_some(DateToken {
        timestamp,
        tokens,
        link,
        fallback,
    })
}

/// The parts of a `<!date^timestamp^tokens^link|fallback>` token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateToken<'a> {
    /// Seconds since the epoch.
    pub timestamp: i64,
    /// The format (`{date_short_pretty} {time}`).
    pub tokens: &'a str,
    /// The optional link.
    pub link: Option<&'a str>,
    /// What clients that cannot format it show.
    pub fallback: &'a str,
}

/// The pieces of mrkdwn that must not be cut: an entity, a `<…>` token, an inline code span, a
/// code fence; everything else is one character.
fn atoms(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        let take = if rest.starts_with("```") {
            3
        } else if let Some(after) = rest.strip_prefix('`') {
            // A span closes at the next backtick on its line, unless that starts a fence.
            let line = after.split('\n').next().unwrap_or_default();
            match line.find('`') {
                Some(end) if !after[end..].starts_with("```") => end + 2,
                _ => 1,
            }
        } else if rest.starts_with('&') {
            entity_len(rest).unwrap_or(1)
        } else if rest.starts_with('<') {
            match rest.find('>') {
                Some(end) if !rest[1..end].contains('<') => end + 1,
                _ => 1,
            }
        } else {
            rest.chars().next().map_or(1, char::len_utf8)
        };
        out.push(&rest[..take]);
        i += take;
    }
    out
}

/// The length of the entity `rest` starts with (`&amp;`, `&#62;`), if it starts with one.
fn entity_len(rest: &str) -> Option<usize> {
    let end = rest[1..].find(';')? + 1;
    let name = &rest[1..end];
    let named = (2..=8).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphabetic());
    let numeric = name.len() >= 2
        && name.len() <= 8
        && name.starts_with('#')
        && name[1..].chars().all(|c| c.is_ascii_digit());
    (named || numeric).then_some(end + 1)
}

/// `text` cut to at most `max` (see [`len`]), ending with `…` when cut. An entity, a `<…>`
/// token or a code span is kept whole or left out; an open code block is closed.
pub fn truncate(text: &str, max: usize) -> String {
    if len(text) <= max {
        return text.to_owned();
    }
    let atoms = atoms(text);
    let keep = |reserve: usize| {
        let mut out = String::new();
        let mut used = 0;
        for atom in &atoms {
            let l = len(atom);
            if used + l + reserve > max {
                break;
            }
            out.push_str(atom);
            used += l;
        }
        out
    };
    let open_fence = |s: &str| s.matches("```").count() % 2 == 1;
    let mut out = keep(len(ELLIPSIS));
    if open_fence(&out) {
        out = keep(len(ELLIPSIS) + 3);
        if open_fence(&out) {
            out.push_str(ELLIPSIS);
            out.push_str("```");
            return out;
        }
    }
    out.push_str(ELLIPSIS);
    out
}

/// Plain text (a header, a button) cut to at most `max`, on one line.
pub fn truncate_plain(text: &str, max: usize) -> String {
    let flat: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if len(&flat) <= max {
        return flat;
    }
    let mut out = String::new();
    let mut used = 0;
    for c in flat.chars() {
        if used + c.len_utf16() + len(ELLIPSIS) > max {
            break;
        }
        out.push(c);
        used += c.len_utf16();
    }
    out.push_str(ELLIPSIS);
    out
}

/// The first `max` characters of raw text from an event, before escaping: bounds the work done
/// on a very long message.
pub(crate) fn clip_raw(raw: &str, max_chars: usize) -> String {
    match raw.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}{ELLIPSIS}", &raw[..cut]),
        None => raw.to_owned(),
    }
}

/// Whether `raw` is a Slack mention of a user group (`<!subteam^S…>`) or a user (`<@U…>`,
/// `<@W…>`): upper-case letters and digits only, so that nothing else can ride along.
pub fn is_mention(raw: &str) -> bool {
    let id = |s: &str, first: &[char]| {
        s.starts_with(first)
            && s.len() >= 2
            && s.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    };
    if let Some(rest) = raw
        .strip_prefix("<!subteam^")
        .and_then(|r| r.strip_suffix('>'))
    {
        return id(rest, &['S']);
    }
    raw.strip_prefix("<@")
        .and_then(|r| r.strip_suffix('>'))
        .is_some_and(|rest| id(rest, &['U', 'W']))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn event_text_turns_into_entities() {
        assert_eq!(
            escape("<!channel> & <@U1>\t<http://x|y>"),
            "&lt;!channel&gt; &amp; &lt;@U1&gt; &lt;http://x|y&gt;"
        );
        assert_eq!(escape_line("a\nb"), "a b");
        assert_eq!(code("a`b <x>"), "`aˋb &lt;x&gt;`");
        assert_eq!(code(""), "` `");
        assert_eq!(code_block("ls ```\n"), "```ls ˋˋˋ```");
    }

    #[test]
    fn date_tokens_carry_a_fallback_in_the_chosen_zone() {
        let t = at("2026-06-25T19:00:00Z");
        assert_eq!(
            date(t, Zone::Utc, DateStyle::DateTime),
            "<!date^1782414000^{date_short_pretty} {time}|2026-06-25 19:00 UTC>"
        );
        let tokyo: Zone = "Asia/Tokyo".parse().unwrap();
        assert_eq!(
            date(t, tokyo, DateStyle::Time),
            "<!date^1782414000^{time}|04:00 JST>"
        );
        let token = date(t, Zone::Utc, DateStyle::Time);
        let parsed = parse_date(&token).unwrap();
        assert_eq!(parsed.timestamp, 1_782_414_000);
        assert_eq!(parsed.fallback, "19:00 UTC");
        assert!(parse_date("<!date^x^{time}|y>").is_none());
        assert!(parse_date("<!channel>").is_none());
    }

    #[test]
    fn truncation_keeps_entities_and_tokens_whole() {
        let token = date(at("2026-06-25T19:00:00Z"), Zone::Utc, DateStyle::Time);
        let text = format!("ab &amp; {token} tail");
        for max in 1..len(&text) {
            let cut = truncate(&text, max);
            assert!(len(&cut) <= max, "{max}: {cut}");
            assert!(cut.ends_with(ELLIPSIS), "{max}: {cut}");
            let body = cut.trim_end_matches(ELLIPSIS);
            assert!(text.starts_with(body), "{max}: {cut}");
            assert!(
                !body.ends_with("&am") && !body.ends_with('&'),
                "{max}: {cut}"
            );
            assert_eq!(
                body.matches('<').count(),
                body.matches('>').count(),
                "{cut}"
            );
        }
        assert_eq!(truncate(&text, len(&text)), text);
    }

    #[test]
    fn truncation_closes_an_open_code_block() {
        let text = format!("intro ```{}``` after", "x".repeat(100));
        let cut = truncate(&text, 50);
        assert!(len(&cut) <= 50, "{cut}");
        assert!(cut.ends_with("…```"), "{cut}");
        assert_eq!(cut.matches("```").count() % 2, 0, "{cut}");
    }

    #[test]
    fn truncation_counts_what_slack_counts() {
        let emoji = "😀".repeat(10);
        let cut = truncate(&emoji, 7);
        assert_eq!(cut, "😀😀😀…");
        assert_eq!(truncate_plain("a\nb", 10), "a b");
        assert_eq!(truncate_plain(&"x".repeat(200), 150).chars().count(), 150);
    }

    #[test]
    fn raw_text_is_clipped_by_characters() {
        assert_eq!(clip_raw("héllo", 2), "hé…");
        assert_eq!(clip_raw("hé", 2), "hé");
    }
}
