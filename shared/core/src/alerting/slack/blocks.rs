//! Block Kit blocks, built within Slack's limits: every constructor cuts what it is given to the
//! size its block allows (see [`super::limits`]), so no caller can build an oversized block; and
//! [`message`] keeps a whole message within the limits of a message.

use super::SlackMessage;
use super::blockkit::{Block, Button, Element, Section, Style, Text};
use super::limits;
use super::mrkdwn;

/// Most characters of one section of a list, under [`limits::SECTION_TEXT`].
pub(crate) const LIST_SECTION: usize = 2800;

/// `lines` after `title` (which may be empty), one a line, over as many sections of at most
/// [`LIST_SECTION`] characters as they need, no line cut between two. Past `budget` characters
/// the rest are counted in a last line, `… and {n} more{after_more}`, not named.
pub(crate) fn list_sections(
    title: &str,
    lines: &[String],
    budget: usize,
    after_more: &str,
) -> Vec<Block> {
    let mut sections = Vec::new();
    let mut current = title.to_owned();
    let mut add = |current: &mut String, line: &str| {
        if !current.is_empty() && mrkdwn::len(current) + 1 + mrkdwn::len(line) > LIST_SECTION {
            sections.push(section(current));
            current.clear();
        }
        if !current.is_empty() {
            current.push('\n');
        }
        current.push_str(line);
    };
    let mut used = 0;
    let mut listed = 0;
    for line in lines {
        let l = mrkdwn::len(line);
        if used + l > budget {
            break;
        }
        add(&mut current, line);
        used += l + 1;
        listed += 1;
    }
    if listed < lines.len() {
        let more = format!("… and {} more{after_more}", lines.len() - listed);
        add(&mut current, &more);
    }
    if !current.is_empty() {
        sections.push(section(&current));
    }
    sections
}

/// A text object must not be empty.
fn non_empty(text: String) -> String {
    if text.trim().is_empty() {
        "\u{2014}".to_owned()
    } else {
        text
    }
}

fn mrkdwn_object(text: &str, max: usize) -> Text {
    Text::mrkdwn(non_empty(mrkdwn::truncate(text, max)))
}

/// Slack does not read mentions or links in plain text, but event text in a payload must never
/// carry `<…>` at all: angle brackets become the look-alike `‹ ›`, which read the same to a person
/// and mean nothing to Slack (entities would show as `&lt;` in plain text).
pub(crate) fn defang(text: &str) -> String {
    text.replace('<', "\u{2039}").replace('>', "\u{203A}")
}

fn plain_object(text: &str, max: usize) -> Text {
    Text::plain_emoji(non_empty(mrkdwn::truncate_plain(&defang(text), max)))
}

/// A header: plain text in a larger, bold font.
pub(crate) fn header(text: &str) -> Block {
    Block::Header {
        text: plain_object(text, limits::HEADER_TEXT),
    }
}

/// A section of mrkdwn.
pub(crate) fn section(text: &str) -> Block {
    Block::section(mrkdwn_object(text, limits::SECTION_TEXT))
}

/// A section of mrkdwn with a button beside it.
pub(crate) fn section_with(text: &str, accessory: Button) -> Block {
    Block::Section(Section {
        text: Some(mrkdwn_object(text, limits::SECTION_TEXT)),
        accessory: Some(accessory.into()),
        ..Section::default()
    })
}

/// A section of fields, shown in two columns. Fields past the tenth are left out.
pub(crate) fn fields(fields: &[String]) -> Block {
    let fields = fields
        .iter()
        .take(limits::SECTION_FIELDS)
        .map(|f| mrkdwn_object(f, limits::FIELD_TEXT))
        .collect();
    Block::Section(Section {
        fields: Some(fields),
        ..Section::default()
    })
}

/// A context line of mrkdwn elements. Elements past the tenth are left out.
pub(crate) fn context(elements: &[String]) -> Block {
    Block::context(
        elements
            .iter()
            .take(limits::CONTEXT_ELEMENTS)
            .map(|e| mrkdwn_object(e, limits::SECTION_TEXT))
            .collect(),
    )
}

/// A row of elements. Elements past the twenty-fifth are left out.
pub(crate) fn actions(elements: Vec<Element>) -> Block {
    Block::Actions {
        elements: elements
            .into_iter()
            .take(limits::ACTIONS_ELEMENTS)
            .collect(),
    }
}

/// A button that sends `action_id` and `value` to the app.
pub(crate) fn button(text: &str, action_id: &str, value: &str, primary: bool) -> Element {
    let button = Button::new(
        plain_object(text, limits::BUTTON_TEXT),
        mrkdwn::truncate_plain(action_id, limits::ACTION_ID),
    )
    .value(mrkdwn::truncate_plain(value, limits::BUTTON_VALUE));
    if primary {
        button.style(Style::Primary).into()
    } else {
        button.into()
    }
}

/// A button that opens `url`, when it is an http(s) URL Slack accepts.
pub(crate) fn link_button(text: &str, action_id: &str, url: &str) -> Option<Button> {
    let usable = (url.starts_with("https://") || url.starts_with("http://"))
        && mrkdwn::len(url) <= limits::BUTTON_URL
        && !url.chars().any(|c| c.is_control() || c.is_whitespace());
    usable.then(|| Button::new(plain_object(text, limits::BUTTON_TEXT), action_id).url(url))
}

/// The length of the text of `block`, as [`limits::BLOCKS_TEXT`] counts it.
pub(crate) fn text_len(block: &Block) -> usize {
    block
        .texts()
        .into_iter()
        .map(|t| mrkdwn::len(t.text()))
        .sum()
}

/// A message of `blocks` with the notification `text` (raw; escaped and cut here), within the
/// limits of a whole message.
pub(crate) fn message(text: &str, mut blocks: Vec<Block>) -> SlackMessage {
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
fn fit(blocks: &mut Vec<Block>) {
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
        let len = mrkdwn::len(longest);
        let target = len.saturating_sub(excess).max(len / 2).max(1);
        *longest = mrkdwn::truncate(longest, target);
    }
    // Whatever still does not fit goes, from the end, keeping the first block.
    while blocks.len() > 1 && blocks.iter().map(text_len).sum::<usize>() > limits::BLOCKS_TEXT {
        blocks.pop();
    }
}

/// The longest mrkdwn text in `blocks` (the first of the longest).
fn longest_mrkdwn(blocks: &mut [Block]) -> Option<&mut String> {
    let mut best: Option<(usize, &mut String)> = None;
    for text in blocks.iter_mut().flat_map(Block::mrkdwn_mut) {
        let len = mrkdwn::len(text);
        if best.as_ref().is_none_or(|(b, _)| len > *b) {
            best = Some((len, text));
        }
    }
    best.map(|(_, text)| text)
}
