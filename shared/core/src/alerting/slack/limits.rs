//! Slack's limits on a message, and a check of every message against them and against what
//! cachewatch's mrkdwn may contain.
//!
//! The sizes are Block Kit's documented limits (header, section, fields, context, actions,
//! button), plus two of our own: the notification `text` is kept to 3,000 characters (Slack
//! accepts more, but a notification is one line), and the text of all blocks together to
//! [`BLOCKS_TEXT`], below the cumulative limit Slack enforces without documenting it
//! (`msg_blocks_too_long` from about 12,000 characters). Lengths are counted as
//! [`mrkdwn::len`] counts them.
//!
//! Beyond sizes, [`check`] holds every mrkdwn text to what cachewatch writes: `&` only in
//! `&amp;`, `&lt;` and `&gt;`, and `<` only in a well-formed `<!date^…>` token, an `https` link,
//! or the mention of one user group or user ([`mrkdwn::is_mention`]: reminders mention the owners
//! `cachewatch.toml` names). Text from an event is escaped, so it can never mention, ping or link
//! anyone, and no message can reach `@channel`, `@here` or `@everyone`.

use std::collections::BTreeSet;
use std::fmt;

use serde_json::Value;

use super::SlackMessage;
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
/// Most characters in a `block_id`.
pub const BLOCK_ID: usize = 255;
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
        collect_mrkdwn(&format!("blocks[{i}]"), block, &mut out);
    }
    out
}

fn collect_mrkdwn<'a>(at: &str, value: &'a Value, out: &mut Vec<(String, &'a str)>) {
    match value {
        Value::Object(map) => {
            if map.get("type").and_then(Value::as_str) == Some("mrkdwn")
                && let Some(text) = map.get("text").and_then(Value::as_str)
            {
                out.push((format!("{at}.text"), text));
            }
            for (key, inner) in map {
                collect_mrkdwn(&format!("{at}.{key}"), inner, out);
            }
        }
        Value::Array(items) => {
            for (i, inner) in items.iter().enumerate() {
                collect_mrkdwn(&format!("{at}[{i}]"), inner, out);
            }
        }
        _ => {}
    }
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
    fn text_object(&mut self, at: &str, value: Option<&Value>, max: usize, plain_only: bool) {
        let Some(object) = value else {
            self.fail(at, "missing");
            return;
        };
        let text = object
            .get("text")
            .and_then(Value::as_str)
            .unwrap_or_default();
        self.blocks_text += mrkdwn::len(text);
        match object.get("type").and_then(Value::as_str) {
            Some("plain_text") => {
                if text.trim().is_empty() {
                    self.fail(at, "empty");
                }
                if text.contains(['<', '>']) {
                    self.fail(at, "angle brackets in plain text");
                }
                self.length(at, text, max);
            }
            Some("mrkdwn") if !plain_only => self.mrkdwn(at, text, max),
            other => self.fail(at, format!("a text object of type {other:?} here")),
        }
    }

    fn button(&mut self, at: &str, button: &Value, action_ids: &mut BTreeSet<String>) {
        self.text_object(&format!("{at}.text"), button.get("text"), BUTTON_TEXT, true);
        let field = |key: &str| button.get(key).and_then(Value::as_str);
        if let Some(id) = field("action_id") {
            self.length(&format!("{at}.action_id"), id, ACTION_ID);
            if !action_ids.insert(id.to_owned()) {
                self.fail(&format!("{at}.action_id"), format!("{id} used twice"));
            }
        }
        if let Some(value) = field("value") {
            self.length(&format!("{at}.value"), value, BUTTON_VALUE);
        }
        if let Some(url) = field("url") {
            self.length(&format!("{at}.url"), url, BUTTON_URL);
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                self.fail(&format!("{at}.url"), "not an http(s) URL");
            }
        }
        if let Some(style) = field("style")
            && !matches!(style, "primary" | "danger")
        {
            self.fail(&format!("{at}.style"), format!("unknown style {style}"));
        }
    }

    /// A static select: a placeholder, 1 to [`SELECT_OPTIONS`] options of plain text.
    fn select(&mut self, at: &str, select: &Value, action_ids: &mut BTreeSet<String>) {
        if let Some(id) = select.get("action_id").and_then(Value::as_str) {
            self.length(&format!("{at}.action_id"), id, ACTION_ID);
            if !action_ids.insert(id.to_owned()) {
                self.fail(&format!("{at}.action_id"), format!("{id} used twice"));
            }
        }
        if select.get("placeholder").is_some() {
            let placeholder = select.get("placeholder");
            self.text_object(
                &format!("{at}.placeholder"),
                placeholder,
                OPTION_TEXT * 2,
                true,
            );
        }
        let options = select
            .get("options")
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice);
        if options.is_empty() || options.len() > SELECT_OPTIONS {
            self.fail(
                &format!("{at}.options"),
                format!("{} options (1 to {SELECT_OPTIONS})", options.len()),
            );
        }
        for (i, o) in options.iter().enumerate() {
            let at = format!("{at}.options[{i}]");
            self.text_object(&format!("{at}.text"), o.get("text"), OPTION_TEXT, true);
            let value = o.get("value").and_then(Value::as_str).unwrap_or_default();
            self.length(&format!("{at}.value"), value, OPTION_VALUE);
        }
    }

    fn block(&mut self, at: &str, block: &Value) {
        if let Some(id) = block.get("block_id").and_then(Value::as_str) {
            self.length(&format!("{at}.block_id"), id, BLOCK_ID);
        }
        let mut action_ids = BTreeSet::new();
        match block.get("type").and_then(Value::as_str) {
            Some("header") => {
                self.text_object(&format!("{at}.text"), block.get("text"), HEADER_TEXT, true);
            }
            Some("section") => {
                let text = block.get("text");
                let fields = block.get("fields").and_then(Value::as_array);
                if text.is_none() && fields.is_none() {
                    self.fail(at, "a section needs a text or fields");
                }
                if text.is_some() {
                    self.text_object(&format!("{at}.text"), text, SECTION_TEXT, false);
                }
                if let Some(fields) = fields {
                    if fields.is_empty() || fields.len() > SECTION_FIELDS {
                        self.fail(
                            &format!("{at}.fields"),
                            format!("{} fields (1 to {SECTION_FIELDS})", fields.len()),
                        );
                    }
                    for (i, f) in fields.iter().enumerate() {
                        self.text_object(&format!("{at}.fields[{i}]"), Some(f), FIELD_TEXT, false);
                    }
                }
                if let Some(accessory) = block.get("accessory") {
                    self.button(&format!("{at}.accessory"), accessory, &mut action_ids);
                }
            }
            Some("context") => {
                let elements = block
                    .get("elements")
                    .and_then(Value::as_array)
                    .map_or(&[][..], Vec::as_slice);
                if elements.is_empty() || elements.len() > CONTEXT_ELEMENTS {
                    self.fail(
                        &format!("{at}.elements"),
                        format!("{} elements (1 to {CONTEXT_ELEMENTS})", elements.len()),
                    );
                }
                for (i, e) in elements.iter().enumerate() {
                    self.text_object(&format!("{at}.elements[{i}]"), Some(e), SECTION_TEXT, false);
                }
            }
            Some("actions") => {
                let elements = block
                    .get("elements")
                    .and_then(Value::as_array)
                    .map_or(&[][..], Vec::as_slice);
                if elements.is_empty() || elements.len() > ACTIONS_ELEMENTS {
                    self.fail(
                        &format!("{at}.elements"),
                        format!("{} elements (1 to {ACTIONS_ELEMENTS})", elements.len()),
                    );
                }
                for (i, e) in elements.iter().enumerate() {
                    let at = format!("{at}.elements[{i}]");
                    match e.get("type").and_then(Value::as_str) {
                        Some("button") => self.button(&at, e, &mut action_ids),
                        Some("static_select") => self.select(&at, e, &mut action_ids),
                        _ => self.fail(&at, "not a button or a select"),
                    }
                }
            }
            Some("divider") => {}
            other => self.fail(at, format!("a block of type {other:?}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn message(blocks: Vec<Value>) -> SlackMessage {
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
        let long = "x".repeat(3001);
        let bad = message(vec![
            json!({"type": "header", "text": {"type": "plain_text", "text": "h".repeat(151)}}),
            json!({"type": "section", "text": {"type": "mrkdwn", "text": long}}),
            json!({"type": "section", "fields": (0..11).map(|_| json!({"type": "mrkdwn", "text": "f"})).collect::<Vec<_>>()}),
            json!({"type": "context", "elements": []}),
            json!({"type": "actions", "elements": [
                {"type": "button", "text": {"type": "plain_text", "text": "b".repeat(76)}, "action_id": "a"},
                {"type": "button", "text": {"type": "plain_text", "text": "ok"}, "action_id": "a", "url": "javascript:x"},
            ]}),
            json!({"type": "section", "text": {"type": "mrkdwn", "text": "<!channel>"}}),
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
        let blocks = vec![json!({"type": "divider"}); BLOCKS + 1];
        let found = check(&message(blocks));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].at, "blocks");
    }
}
