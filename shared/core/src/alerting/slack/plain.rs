//! A message as plain text for a terminal: what the CLI prints when Slack is not configured.
//!
//! Date tokens become their fallback (written in the team's zone), entities become the
//! characters they stand for, links show their URL, and mrkdwn's emphasis marks go; code blocks
//! are indented. Text from an event comes out as it was written: a terminal pings nobody.

use super::SlackMessage;
use super::blockkit::{Block, Element, Section, Text};
use super::mrkdwn;

/// `message` as readable plain text, one block after another.
pub fn to_text(message: &SlackMessage) -> String {
    if message.blocks.is_empty() {
        return format!("{}\n", plain(&message.text).trim_end());
    }
    let parts: Vec<String> = message
        .blocks
        .iter()
        .filter_map(block_text)
        .filter(|p| !p.trim().is_empty())
        .collect();
    format!("{}\n", parts.join("\n\n"))
}

/// The text of a text object: plain text as is, mrkdwn made plain.
fn object_text(object: &Text) -> String {
    match object {
        Text::Mrkdwn { text } => plain(text),
        Text::PlainText { text, .. } => text.clone(),
    }
}

/// A button as `[ label ]`, or `[ label: url ]`; other elements show nothing.
fn element_text(element: &Element) -> String {
    let Element::Button(button) = element else {
        return "[  ]".to_owned();
    };
    let label = object_text(&button.text);
    match &button.url {
        Some(url) => format!("[ {label}: {url} ]"),
        None => format!("[ {label} ]"),
    }
}

fn section_text(section: &Section) -> String {
    let mut lines = Vec::new();
    if let Some(text) = &section.text {
        lines.push(object_text(text).trim_end().to_owned());
    }
    for field in section.fields.iter().flatten() {
        let text = object_text(field);
        let mut field_lines = text.lines();
        let first = field_lines.next().unwrap_or_default().trim();
        let rest: Vec<&str> = field_lines.map(str::trim).collect();
        lines.push(if rest.is_empty() {
            first.to_owned()
        } else {
            format!("{first}: {}", rest.join(", "))
        });
    }
    if let Some(accessory) = &section.accessory {
        lines.push(element_text(accessory));
    }
    lines.join("\n")
}

fn block_text(block: &Block) -> Option<String> {
    Some(match block {
        Block::Header { text } => {
            let text = object_text(text);
            let width = text.chars().count().max(3);
            format!("{text}\n{}", "=".repeat(width))
        }
        Block::Section(section) => section_text(section),
        Block::Context { elements } => elements
            .iter()
            .map(|e| object_text(e).trim().to_owned())
            .collect::<Vec<_>>()
            .join("   "),
        Block::Actions { elements } => elements
            .iter()
            .map(element_text)
            .collect::<Vec<_>>()
            .join("  "),
        Block::Divider => "-".repeat(40),
        Block::Input(_) => return None,
    })
}

/// Entities back to characters.
fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// What a `<…>` token shows.
fn token_text(token: &str) -> String {
    if let Some(date) = mrkdwn::parse_date(token) {
        return unescape(date.fallback);
    }
    let inner = &token[1..token.len() - 1];
    let (target, label) = match inner.split_once('|') {
        Some((t, l)) => (t, Some(l)),
        None => (inner, None),
    };
    let label = label.map(unescape);
    if let Some(special) = target.strip_prefix('!') {
        let name = special.split('^').next().unwrap_or_default();
        return format!("@{}", label.unwrap_or_else(|| name.to_owned()));
    }
    if let Some(user) = target.strip_prefix('@') {
        return format!("@{}", label.unwrap_or_else(|| user.to_owned()));
    }
    if let Some(channel) = target.strip_prefix('#') {
        return format!("#{}", label.unwrap_or_else(|| channel.to_owned()));
    }
    let url = unescape(target);
    match label {
        Some(l) if l != url => format!("{l} ({url})"),
        _ => url,
    }
}

/// Whether `c` may stand right outside an emphasis mark.
fn boundary(c: Option<char>) -> bool {
    c.is_none_or(|c| {
        c.is_whitespace() || (c.is_ascii_punctuation() && !matches!(c, '*' | '_' | '~'))
    })
}

/// mrkdwn as plain text.
pub(crate) fn plain(text: &str) -> String {
    let scan = Scan {
        chars: text.chars().collect(),
    };
    let mut out = String::new();
    let mut i = 0;
    while i < scan.chars.len() {
        if let Some(next) = scan
            .code_block(i, &mut out)
            .or_else(|| scan.enclosed(i, &mut out))
            .or_else(|| scan.emphasis(i, &mut out))
        {
            i = next;
            continue;
        }
        out.push(scan.chars[i]);
        i += 1;
    }
    out
}

/// mrkdwn being read, a character at a time.
struct Scan {
    chars: Vec<char>,
}

impl Scan {
    /// Whether `s` stands at `i`.
    fn at(&self, i: usize, s: &str) -> bool {
        s.chars()
            .enumerate()
            .all(|(k, c)| self.chars.get(i + k) == Some(&c))
    }

    /// Where `s` next stands from `from` (on the same line, when asked).
    fn find(&self, from: usize, s: &str, same_line: bool) -> Option<usize> {
        (from..self.chars.len())
            .take_while(|&k| !same_line || self.chars[k] != '\n')
            .find(|&k| self.at(k, s))
    }

    fn text(&self, from: usize, to: usize) -> String {
        self.chars[from..to].iter().collect()
    }

    /// A code block at `i` as indented lines (an unclosed fence as it is); where reading goes
    /// on.
    fn code_block(&self, i: usize, out: &mut String) -> Option<usize> {
        if !self.at(i, "```") {
            return None;
        }
        let Some(close) = self.find(i + 3, "```", false) else {
            out.push_str("```");
            return Some(i + 3);
        };
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        for line in unescape(&self.text(i + 3, close)).lines() {
            out.push_str("    ");
            out.push_str(line);
            out.push('\n');
        }
        let after = close + 3;
        Some(after + usize::from(self.chars.get(after) == Some(&'\n')))
    }

    /// Inline code, a `<…>` token or an entity at `i`, as text; where reading goes on.
    fn enclosed(&self, i: usize, out: &mut String) -> Option<usize> {
        let c = self.chars[i];
        if c == '`'
            && let Some(close) = self.find(i + 1, "`", true)
        {
            out.push_str(&unescape(&self.text(i + 1, close)));
            return Some(close + 1);
        }
        if c == '<'
            && let Some(close) = self.find(i + 1, ">", false)
        {
            out.push_str(&token_text(&self.text(i, close + 1)));
            return Some(close + 1);
        }
        if c == '&'
            && let Some(entity) = ["&amp;", "&lt;", "&gt;"].iter().find(|e| self.at(i, e))
        {
            out.push_str(&unescape(entity));
            return Some(i + entity.chars().count());
        }
        None
    }

    /// Bold, italic or strike-through at `i`, its marks dropped; where reading goes on.
    fn emphasis(&self, i: usize, out: &mut String) -> Option<usize> {
        let chars = &self.chars;
        let c = chars[i];
        let opens = matches!(c, '*' | '_' | '~')
            && boundary(i.checked_sub(1).map(|k| chars[k]))
            && chars
                .get(i + 1)
                .is_some_and(|n| !n.is_whitespace() && *n != c);
        if !opens {
            return None;
        }
        let close = (i + 2..chars.len())
            .take_while(|&k| chars[k] != '\n')
            .find(|&k| {
                chars[k] == c
                    && !chars[k - 1].is_whitespace()
                    && boundary(chars.get(k + 1).copied())
            })?;
        out.push_str(&plain(&self.text(i + 1, close)));
        Some(close + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mrkdwn_reads_as_plain_text() {
        let cases = [
            ("*Deadline:* soon", "Deadline: soon"),
            (
                "<!date^1782414000^{date_short_pretty} {time}|2026-06-25 19:00 UTC>",
                "2026-06-25 19:00 UTC",
            ),
            ("`&lt;!channel&gt;` &amp; more", "<!channel> & more"),
            (
                "<https://x.example/r|the runbook>",
                "the runbook (https://x.example/r)",
            ),
            ("<https://x.example/r>", "https://x.example/r"),
            ("<@U123> and <!here>", "@U123 and @here"),
            ("snake_case_name and a*b*c", "snake_case_name and a*b*c"),
            ("_Application team:_ stop", "Application team: stop"),
            (
                "run:\n```ls -l\npwd```\nafter",
                "run:\n    ls -l\n    pwd\nafter",
            ),
            ("a ``` b", "a ``` b"),
        ];
        for (mrkdwn, expected) in cases {
            assert_eq!(plain(mrkdwn), expected, "{mrkdwn}");
        }
    }
}
