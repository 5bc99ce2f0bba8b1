//! Slack's limits on a message, and a check of every message against them and against what
//! cachewatch's mrkdwn may contain.
//!
//! The sizes are Block Kit's documented limits (header, section, fields, context, actions,
//! button: <https://docs.slack.dev/reference/block-kit/blocks/section-block>,
//! <https://docs.slack.dev/reference/block-kit/block-elements/button-element>,
//! <https://docs.slack.dev/reference/block-kit/block-elements/select-menu-element>), plus two of
//! our own: the notification `text` is kept to 3,000 characters (Slack
//! accepts more, but a notification is one line), and the text of all blocks together to
//! [`BLOCKS_TEXT`], below the cumulative limit Slack enforces without documenting it
//! (`msg_blocks_too_long` from about 12,000 characters). Lengths are counted as
//! [`mrkdwn::len`] counts them.
//!
//! The check reads the typed blocks of [`super::blockkit`]: what Slack would refuse that a type
//! can still hold (a length, a count, an empty text, mrkdwn where only plain text goes, an
//! `action_id` twice in one block) is found here.
//!
//! Beyond sizes, [`check`] holds every mrkdwn text to what cachewatch writes: `&` only in
//! `&amp;`, `&lt;` and `&gt;`, and `<` only in a well-formed `<!date^…>` token, an `https` link,
//! or the mention of one user group or user ([`mrkdwn::is_mention`]: reminders mention the owners
//! `cachewatch.toml` names). Text from an event is escaped, so it can never mention, ping or link
//! anyone, and no message can reach `@channel`, `@here` or `@everyone`.

use std::collections::BTreeSet;
use std::fmt;

use super::SlackMessage;
use super::blockkit::{Block, Button, Element, Section, StaticSelect, Text};
use super::mrkdwn;

/// Most options in a static select.
pub const SELECT_OPTIONS: usize = 100;
/// Most characters in an option's text.
pub const OPTION_TEXT: usize = 75;
/// Most characters in an option's value.
pub const OPTION_VALUE: usize = 150;

/// Most characters in a header block's text.
pub const HEADER_TEXT: usize = 150;
/// Most characters in a section block's text, and in any text object.
pub const SECTION_TEXT: usize = 3000;
/// Most fields in a section block.
pub const SECTION_FIELDS: usize = 10;
/// Most characters in one field of a section block.
pub const FIELD_TEXT: usize = 2000;
/// Most elements in a context block.
pub const CONTEXT_ELEMENTS: usize = 10;
/// Most elements in an actions block.
pub const ACTIONS_ELEMENTS: usize = 25;
/// Most characters in a button's text.
pub const BUTTON_TEXT: usize = 75;
/// Most characters in an `action_id`.
pub const ACTION_ID: usize = 255;
/// Most characters in a button's `value`.
pub const BUTTON_VALUE: usize = 2000;
/// Most characters in a button's `url`.
pub const BUTTON_URL: usize = 3000;
/// Most blocks in a message.
pub const BLOCKS: usize = 50;
/// Most characters in a message's notification `text` (ours; see the module header).
pub const MESSAGE_TEXT: usize = 3000;
/// Most characters of text in all the blocks of a message together (ours; see the module
/// header).
pub const BLOCKS_TEXT: usize = 8000;

/// What is wrong with a message, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Where: `text`, `blocks[3].fields[1].text`, ...
    pub at: String,
    /// What.
    pub problem: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.at, self.problem)
    }
}

/// Everything in `message` that Slack would refuse or that cachewatch must never send; empty
/// when the message is fine.
pub fn check(message: &SlackMessage) -> Vec<Violation> {
    let mut c = Checker::default();
    c.mrkdwn("text", &message.text, MESSAGE_TEXT);
    if message.blocks.len() > BLOCKS {
        c.fail(
            "blocks",
            format!("{} blocks (at most {BLOCKS})", message.blocks.len()),
        );
    }
    for (i, block) in message.blocks.iter().enumerate() {
        c.block(&format!("blocks[{i}]"), block);
    }
    if c.blocks_text > BLOCKS_TEXT {
        c.fail(
            "blocks",
            format!(
                "{} characters of text in all (at most {BLOCKS_TEXT})",
                c.blocks_text
            ),
        );
    }
    c.found
}

/// Every mrkdwn text of `message`, with where it is: the notification text first.
pub fn mrkdwn_texts(message: &SlackMessage) -> Vec<(String, &str)> {
    let mut out = vec![("text".to_owned(), message.text.as_str())];
    for (i, block) in message.blocks.iter().enumerate() {
        let at = format!("blocks[{i}]");
        let texts: Vec<(String, &Text)> = match block {
            Block::Section(s) => {
                let fields = s.fields.iter().flatten().enumerate();
                let fields = fields.map(|(j, f)| (format!("{at}.fields[{j}]"), f));
                let text = s.text.iter().map(|t| (format!("{at}.text"), t));
                fields.chain(text).collect()
            }
            Block::Context { elements } => (elements.iter().enumerate())
                .map(|(j, e)| (format!("{at}.elements[{j}]"), e))
                .collect(),
            _ => Vec::new(),
        };
        out.extend(
            texts
                .into_iter()
                .filter(|(_, t)| t.is_mrkdwn())
                .map(|(at, t)| (format!("{at}.text"), t.text())),
        );
    }
    out
}

/// The problems of one mrkdwn text: a `&` that starts no entity, or a `<` that starts neither
/// a date token nor a link to an `https://` page (AWS's documentation, cited by alerts).
pub fn markup_problems(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find(['&', '<', '>']) {
        let tail = &rest[i..];
        let step = if tail.starts_with('&') {
            match ["&amp;", "&lt;", "&gt;"]
                .iter()
                .find(|e| tail.starts_with(**e))
            {
                Some(entity) => entity.len(),
                None => {
                    found.push(format!("a bare `&` at {:?}", excerpt(tail)));
                    1
                }
            }
        } else if tail.starts_with('<') {
            match tail.find('>').map(|end| &tail[..=end]) {
                Some(token) if mrkdwn::parse_date(token).is_some() => token.len(),
                Some(token) if mrkdwn::is_https_link(token) => token.len(),
                Some(token) if mrkdwn::is_mention(token) => token.len(),
                token => {
                    found.push(format!("`<` outside a date token at {:?}", excerpt(tail)));
                    token.map_or(1, str::len)
                }
            }
        } else {
            found.push(format!("a bare `>` at {:?}", excerpt(tail)));
            1
        };
        rest = &tail[step..];
    }
    found
}

fn excerpt(s: &str) -> String {
    s.chars().take(40).collect()
}

#[derive(Default)]
struct Checker {
    found: Vec<Violation>,
    blocks_text: usize,
}

impl Checker {
    fn fail(&mut self, at: &str, problem: impl Into<String>) {
        self.found.push(Violation {
            at: at.to_owned(),
            problem: problem.into(),
        });
    }

    fn length(&mut self, at: &str, text: &str, max: usize) {
        let n = mrkdwn::len(text);
        if n > max {
            self.fail(at, format!("{n} characters (at most {max})"));
        }
    }

    fn count(&mut self, at: &str, what: &str, n: usize, max: usize) {
        if n == 0 || n > max {
            self.fail(at, format!("{n} {what} (1 to {max})"));
        }
    }

    fn mrkdwn(&mut self, at: &str, text: &str, max: usize) {
        if text.trim().is_empty() {
            self.fail(at, "empty");
        }
        self.length(at, text, max);
        for problem in markup_problems(text) {
            self.fail(at, problem);
        }
    }

    /// A text object: `plain_text` (limited to `max`) or `mrkdwn` (also held to our markup).
    fn text_object(&mut self, at: &str, object: &Text, max: usize, plain_only: bool) {
        let text = object.text();
        self.blocks_text += mrkdwn::len(text);
        match object {
            Text::PlainText { .. } => {
                if text.trim().is_empty() {
                    self.fail(at, "empty");
                }
                if text.contains(['<', '>']) {
                    self.fail(at, "angle brackets in plain text");
                }
                self.length(at, text, max);
            }
            Text::Mrkdwn { .. } if !plain_only => self.mrkdwn(at, text, max),
            Text::Mrkdwn { .. } => self.fail(at, "a mrkdwn text object here"),
        }
    }

    fn action_id(&mut self, at: &str, id: &str, action_ids: &mut BTreeSet<String>) {
        let at = format!("{at}.action_id");
        self.length(&at, id, ACTION_ID);
        if !action_ids.insert(id.to_owned()) {
            self.fail(&at, format!("{id} used twice"));
        }
    }

    fn button(&mut self, at: &str, button: &Button, action_ids: &mut BTreeSet<String>) {
        self.text_object(&format!("{at}.text"), &button.text, BUTTON_TEXT, true);
        self.action_id(at, &button.action_id, action_ids);
        if let Some(value) = &button.value {
            self.length(&format!("{at}.value"), value, BUTTON_VALUE);
        }
        if let Some(url) = &button.url {
            self.length(&format!("{at}.url"), url, BUTTON_URL);
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                self.fail(&format!("{at}.url"), "not an http(s) URL");
            }
        }
    }

    /// A static select: a placeholder, 1 to [`SELECT_OPTIONS`] options of plain text.
    fn select(&mut self, at: &str, select: &StaticSelect, action_ids: &mut BTreeSet<String>) {
        self.action_id(at, &select.action_id, action_ids);
        if let Some(placeholder) = &select.placeholder {
            let at = format!("{at}.placeholder");
            self.text_object(&at, placeholder, OPTION_TEXT * 2, true);
        }
        let n = select.options.len();
        self.count(&format!("{at}.options"), "options", n, SELECT_OPTIONS);
        for (i, o) in select.options.iter().enumerate() {
            let at = format!("{at}.options[{i}]");
            self.text_object(&format!("{at}.text"), &o.text, OPTION_TEXT, true);
            self.length(&format!("{at}.value"), &o.value, OPTION_VALUE);
        }
    }

    fn section(&mut self, at: &str, section: &Section) {
        if section.text.is_none() && section.fields.is_none() {
            self.fail(at, "a section needs a text or fields");
        }
        if let Some(text) = &section.text {
            self.text_object(&format!("{at}.text"), text, SECTION_TEXT, false);
        }
        if let Some(fields) = &section.fields {
            let at = format!("{at}.fields");
            self.count(&at, "fields", fields.len(), SECTION_FIELDS);
            for (i, f) in fields.iter().enumerate() {
                self.text_object(&format!("{at}[{i}]"), f, FIELD_TEXT, false);
            }
        }
        match &section.accessory {
            Some(Element::Button(b)) => {
                self.button(&format!("{at}.accessory"), b, &mut BTreeSet::new());
            }
            Some(_) => self.fail(&format!("{at}.accessory"), "not a button"),
            None => {}
        }
    }

    fn block(&mut self, at: &str, block: &Block) {
        match block {
            Block::Header { text } => {
                self.text_object(&format!("{at}.text"), text, HEADER_TEXT, true);
            }
            Block::Section(section) => self.section(at, section),
            Block::Context { elements } => {
                let at = format!("{at}.elements");
                self.count(&at, "elements", elements.len(), CONTEXT_ELEMENTS);
                for (i, e) in elements.iter().enumerate() {
                    self.text_object(&format!("{at}[{i}]"), e, SECTION_TEXT, false);
                }
            }
            Block::Actions { elements } => {
                let at = format!("{at}.elements");
                self.count(&at, "elements", elements.len(), ACTIONS_ELEMENTS);
                let mut action_ids = BTreeSet::new();
                for (i, e) in elements.iter().enumerate() {
                    let at = format!("{at}[{i}]");
                    match e {
                        Element::Button(b) => self.button(&at, b, &mut action_ids),
                        Element::StaticSelect(s) => self.select(&at, s, &mut action_ids),
                        _ => self.fail(&at, "not a button or a select"),
                    }
                }
            }
            Block::Divider => {}
            Block::Input(_) => self.fail(at, "an input block in a message"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerting::slack::blockkit::Section;

    fn message(blocks: Vec<Block>) -> SlackMessage {
        SlackMessage {
            text: "An alert".into(),
            blocks,
            thread_ts: None,
            metadata: None,
        }
    }

    #[test]
    fn markup_allows_entities_date_tokens_and_owner_mentions_only() {
        assert!(markup_problems("a &amp; b &lt;x&gt; <!date^1^{time}|19:00 UTC>").is_empty());
        assert!(markup_problems("<@U123> and <!subteam^S0OPS>").is_empty());
        assert_eq!(markup_problems("<!channel>").len(), 1);
        assert_eq!(markup_problems("<@u123> and <http://x|y>").len(), 2);
        assert_eq!(markup_problems("a & b").len(), 1);
        assert_eq!(markup_problems("a > b").len(), 1);
        assert_eq!(markup_problems("<!date^1^{time}|a<!here>>").len(), 2);
    }

    #[test]
    fn the_check_finds_each_broken_limit() {
        // Arrange
        let section = |text: String| Block::section(Text::mrkdwn(text));
        let bad = message(vec![
            Block::Header {
                text: Text::plain("h".repeat(151)),
            },
            section("x".repeat(3001)),
            Block::Section(Section {
                fields: Some(vec![Text::mrkdwn("f"); 11]),
                ..Section::default()
            }),
            Block::context(Vec::new()),
            Block::Actions {
                elements: vec![
                    Button::new(Text::plain("b".repeat(76)), "a").into(),
                    Button::new(Text::plain("ok"), "a")
                        .url("javascript:x")
                        .into(),
                ],
            },
            section("<!channel>".into()),
            Block::Header {
                text: Text::mrkdwn("*h*"),
            },
        ]);

        // Act
        let found: Vec<String> = check(&bad).iter().map(ToString::to_string).collect();

        // Assert
        let expect = [
            "blocks[0].text: 151 characters",
            "blocks[1].text: 3001 characters",
            "blocks[2].fields: 11 fields",
            "blocks[3].elements: 0 elements",
            "blocks[4].elements[0].text: 76 characters",
            "blocks[4].elements[1].action_id: a used twice",
            "blocks[4].elements[1].url: not an http(s) URL",
            "blocks[5].text: `<` outside a date token",
            "blocks[6].text: a mrkdwn text object here",
        ];
        for e in expect {
            assert!(
                found.iter().any(|f| f.starts_with(e)),
                "{e} not in {found:#?}"
            );
        }
        assert_eq!(found.len(), expect.len(), "{found:#?}");
    }

    #[test]
    fn a_message_of_too_many_blocks_is_refused() {
        let blocks = vec![Block::Divider; BLOCKS + 1];
        let found = check(&message(blocks));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].at, "blocks");
    }
}
