//! Block Kit blocks, built within Slack's limits: every constructor cuts what it is given to the
//! size its block allows (see [`super::limits`]), so no caller can build an oversized block; and
//! [`message`] keeps a whole message within the limits of a message.

use serde_json::{Value, json};

use super::SlackMessage;
use super::limits;
use super::mrkdwn;

fn mrkdwn_object(text: &str, max: usize) -> Value {
    let text = mrkdwn::truncate(text, max);
    // A text object must not be empty.
    let text = if text.trim().is_empty() {
        "\u{2014}".to_owned()
    } else {
        text
    };
    json!({"type": "mrkdwn", "text": text})
}

/// Slack does not read mentions or links in plain text, but event text in a payload must never
/// carry `<…>` at all: angle brackets become the look-alike `‹ ›`, which read the same to a person
/// and mean nothing to Slack (entities would show as `&lt;` in plain text).
fn defang(text: &str) -> String {
    text.replace('<', "\u{2039}").replace('>', "\u{203A}")
}

fn plain_object(text: &str, max: usize) -> Value {
    let text = mrkdwn::truncate_plain(&defang(text), max);
    let text = if text.trim().is_empty() {
        "\u{2014}".to_owned()
    } else {
        text
    };
    json!({"type": "plain_text", "text": text, "emoji": true})
}

/// A header: plain text in a larger, bold font.
pub(crate) fn header(text: &str) -> Value {
    json!({"type": "header", "text": plain_object(text, limits::HEADER_TEXT)})
}

/// A section of mrkdwn.
pub(crate) fn section(text: &str) -> Value {
    json!({"type": "section", "text": mrkdwn_object(text, limits::SECTION_TEXT)})
}

/// A section of mrkdwn with a button beside it.
pub(crate) fn section_with(text: &str, accessory: Value) -> Value {
    json!({
        "type": "section",
        "text": mrkdwn_object(text, limits::SECTION_TEXT),
        "accessory": accessory,
    })
}

/// A section of fields, shown in two columns. Fields past the tenth are left out.
pub(crate) fn fields(fields: &[String]) -> Value {
    let fields: Vec<Value> = fields
        .iter()
        .take(limits::SECTION_FIELDS)
        .map(|f| mrkdwn_object(f, limits::FIELD_TEXT))
        .collect();
    json!({"type": "section", "fields": fields})
}

/// A context line of mrkdwn elements. Elements past the tenth are left out.
pub(crate) fn context(elements: &[String]) -> Value {
    let elements: Vec<Value> = elements
        .iter()
        .take(limits::CONTEXT_ELEMENTS)
        .map(|e| mrkdwn_object(e, limits::SECTION_TEXT))
        .collect();
    json!({"type": "context", "elements": elements})
}

/// A row of buttons. Buttons past the twenty-fifth are left out.
pub(crate) fn actions(buttons: Vec<Value>) -> Value {
    let buttons: Vec<Value> = buttons.into_iter().take(limits::ACTIONS_ELEMENTS).collect();
    json!({"type": "actions", "elements": buttons})
}

/// A horizontal rule.
pub(crate) fn divider() -> Value {
    json!({"type": "divider"})
}

/// A button that sends `action_id` and `value` to the app.
pub(crate) fn button(text: &str, action_id: &str, value: &str, primary: bool) -> Value {
    let mut b = json!({
        "type": "button",
        "text": plain_object(text, limits::BUTTON_TEXT),
        "action_id": mrkdwn::truncate_plain(action_id, limits::ACTION_ID),
        "value": mrkdwn::truncate_plain(value, limits::BUTTON_VALUE),
    });
    if primary {
        b["style"] = json!("primary");
    }
    b
}

/// A button that opens `url`, when it is an http(s) URL Slack accepts.
pub(crate) fn link_button(text: &str, action_id: &str, url: &str) -> Option<Value> {
    let usable = (url.starts_with("https://") || url.starts_with("http://"))
        && mrkdwn::len(url) <= limits::BUTTON_URL
        && !url.chars().any(|c| c.is_control() || c.is_whitespace());
    usable.then(|| {
        json!({
            "type": "button",
            "text": plain_object(text, limits::BUTTON_TEXT),
            "action_id": action_id,
            "url": url,
        })
    })
}

/// The length of the text of `block`, as [`limits::BLOCKS_TEXT`] counts it.
pub(crate) fn text_len(block: &Value) -> usize {
    match block {
        Value::Object(map) => map
            .iter()
            .map(|(key, v)| match (key.as_str(), v) {
                ("text", Value::String(s)) => mrkdwn::len(s),
                (_, inner) => text_len(inner),
            })
            .sum(),
        Value::Array(items) => items.iter().map(text_len).sum(),
        _ => 0,
    }
}

/// A message of `blocks` with the notification `text` (raw; escaped and cut here), within the
/// limits of a whole message.
pub(crate) fn message(text: &str, mut blocks: Vec<Value>) -> SlackMessage {
    fit(&mut blocks);
    SlackMessage {
        text: mrkdwn::truncate(&mrkdwn::escape_line(text), limits::MESSAGE_TEXT),
        blocks,
        thread_ts: None,
        metadata: None,
    }
}

/// Cuts the longest texts of `blocks` until all of them together are within
/// [`limits::BLOCKS_TEXT`] and there are at most [`limits::BLOCKS`] blocks.
fn fit(blocks: &mut Vec<Value>) {
    blocks.truncate(limits::BLOCKS);
    for _ in 0..64 {
        let total: usize = blocks.iter().map(text_len).sum();
        if total <= limits::BLOCKS_TEXT {
            return;
        }
        let excess = total - limits::BLOCKS_TEXT;
        let Some(longest) = longest_mrkdwn(blocks) else {
            break;
        };
        let len = mrkdwn::len(longest.as_str().unwrap_or_default());
        let target = len.saturating_sub(excess).max(len / 2).max(1);
        if let Some(text) = longest.as_str() {
            *longest = Value::String(mrkdwn::truncate(text, target));
        }
    }
    // Whatever still does not fit goes, from the end, keeping the first block.
    while blocks.len() > 1 && blocks.iter().map(text_len).sum::<usize>() > limits::BLOCKS_TEXT {
        blocks.pop();
    }
}

/// The longest `text` of a `mrkdwn` text object in `blocks`.
fn longest_mrkdwn(blocks: &mut [Value]) -> Option<&mut Value> {
    fn walk<'v>(value: &'v mut Value, best: &mut Option<(usize, &'v mut Value)>) {
        match value {
            Value::Object(map) => {
                let is_mrkdwn = map.get("type").and_then(Value::as_str) == Some("mrkdwn");
                for (key, inner) in map.iter_mut() {
                    if is_mrkdwn && key == "text" {
                        let len = mrkdwn::len(inner.as_str().unwrap_or_default());
                        if best.as_ref().is_none_or(|(b, _)| len > *b) {
                            *best = Some((len, inner));
                        }
                    } else {
                        walk(inner, best);
                    }
                }
            }
            Value::Array(items) => {
                for inner in items {
                    walk(inner, best);
                }
            }
            _ => {}
        }
    }
    let mut best = None;
    for block in blocks {
        walk(block, &mut best);
    }
    best.map(|(_, v)| v)
}
