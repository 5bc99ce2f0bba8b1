//! Slack's Block Kit as types: the blocks, elements and composition objects cachewatch sends, and
//! the modal it opens. Serde writes them as Slack reads them (`type` names the variant; fields
//! left unset are left out), so a message is built from values that cannot be misspelt.
//!
//! Only what cachewatch uses is here. The shapes follow Slack's reference:
//! <https://docs.slack.dev/reference/block-kit/blocks/section-block> (and its neighbours for the
//! header, context, actions, divider and input blocks),
//! <https://docs.slack.dev/reference/block-kit/block-elements/button-element>,
//! <https://docs.slack.dev/reference/block-kit/block-elements/select-menu-element>,
//! <https://docs.slack.dev/reference/block-kit/block-elements/radio-button-group-element>,
//! <https://docs.slack.dev/reference/block-kit/block-elements/plain-text-input-element>,
//! <https://docs.slack.dev/reference/block-kit/composition-objects/text-object>,
//! <https://docs.slack.dev/reference/block-kit/composition-objects/option-object> and
//! <https://docs.slack.dev/reference/views/modal-views>.
//!
//! The types hold whatever they are given; the sizes Slack allows are kept by the builders of
//! `slack::blocks` and checked by [`super::limits::check`].

use serde::{Deserialize, Serialize};

/// A text object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Text {
    /// Formatted with Slack's mrkdwn.
    Mrkdwn {
        /// The text.
        text: String,
    },
    /// Shown as written.
    PlainText {
        /// The text.
        text: String,
        /// Whether `:emoji:` codes are shown as emoji (left out: Slack's default).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        emoji: Option<bool>,
    },
}

impl Text {
    /// A mrkdwn text.
    pub fn mrkdwn(text: impl Into<String>) -> Self {
        Self::Mrkdwn { text: text.into() }
    }

    /// A plain text, `emoji` left to Slack's default.
    pub fn plain(text: impl Into<String>) -> Self {
        Self::PlainText {
            text: text.into(),
            emoji: None,
        }
    }

    /// A plain text with `emoji: true`.
    pub fn plain_emoji(text: impl Into<String>) -> Self {
        Self::PlainText {
            text: text.into(),
            emoji: Some(true),
        }
    }

    /// The text itself.
    pub fn text(&self) -> &str {
        match self {
            Self::Mrkdwn { text } | Self::PlainText { text, .. } => text,
        }
    }

    /// Whether it is mrkdwn.
    pub fn is_mrkdwn(&self) -> bool {
        matches!(self, Self::Mrkdwn { .. })
    }
}

/// A block of a message or a modal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Block {
    /// Plain text in a larger, bold font.
    Header {
        /// The text (plain text only).
        text: Text,
    },
    /// A text, or fields in two columns, with an element beside them.
    Section(Section),
    /// Small text objects on one line.
    Context {
        /// The texts.
        elements: Vec<Text>,
    },
    /// A row of interactive elements.
    Actions {
        /// The elements.
        elements: Vec<Element>,
    },
    /// A horizontal rule.
    Divider,
    /// A labelled field of a modal.
    Input(Input),
}

impl Block {
    /// A section of `text`.
    pub fn section(text: Text) -> Self {
        Self::Section(Section {
            text: Some(text),
            ..Section::default()
        })
    }

    /// A context line of `elements`.
    pub fn context(elements: Vec<Text>) -> Self {
        Self::Context { elements }
    }

    /// Every text object of the block, in the order Slack's JSON names them (keys in alphabetical
    /// order, list items in theirs).
    pub fn texts(&self) -> Vec<&Text> {
        match self {
            Self::Header { text } => vec![text],
            Self::Section(s) => {
                let accessory = s.accessory.iter().flat_map(Element::texts);
                let fields = s.fields.iter().flatten();
                accessory.chain(fields).chain(&s.text).collect()
            }
            Self::Context { elements } => elements.iter().collect(),
            Self::Actions { elements } => elements.iter().flat_map(Element::texts).collect(),
            Self::Divider => Vec::new(),
            Self::Input(i) => i.element.texts().into_iter().chain([&i.label]).collect(),
        }
    }

    /// The mrkdwn texts of the block, to be changed in place, in the order of [`Block::texts`]
    /// (the elements cachewatch sends hold plain text only).
    pub fn mrkdwn_mut(&mut self) -> Vec<&mut String> {
        let texts: Vec<&mut Text> = match self {
            Self::Section(s) => s.fields.iter_mut().flatten().chain(&mut s.text).collect(),
            Self::Context { elements } => elements.iter_mut().collect(),
            _ => Vec::new(),
        };
        texts
            .into_iter()
            .filter_map(|t| match t {
                Text::Mrkdwn { text } => Some(text),
                Text::PlainText { .. } => None,
            })
            .collect()
    }
}

/// A section block.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Section {
    /// Its text (if no fields).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<Text>,
    /// Its fields (if no text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<Vec<Text>>,
    /// The element beside it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accessory: Option<Element>,
}

/// An input block of a modal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Input {
    /// Its id: the submission's answers are keyed by it.
    pub block_id: String,
    /// The label above it (plain text).
    pub label: Text,
    /// What the user fills in.
    pub element: Element,
    /// Whether it may be left empty.
    pub optional: bool,
}

/// An interactive element.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Element {
    /// A button.
    Button(Button),
    /// A menu of static options.
    StaticSelect(StaticSelect),
    /// A group of radio buttons.
    RadioButtons(RadioButtons),
    /// A text field.
    PlainTextInput(PlainTextInput),
}

impl Element {
    /// Every text object of the element, in the order of [`Block::texts`].
    pub fn texts(&self) -> Vec<&Text> {
        fn options(o: &[OptionObject]) -> Vec<&Text> {
            o.iter().map(|o| &o.text).collect()
        }
        match self {
            Self::Button(b) => vec![&b.text],
            Self::StaticSelect(s) => {
                let mut texts = options(&s.options);
                texts.extend(&s.placeholder);
                texts
            }
            Self::RadioButtons(r) => {
                let mut texts: Vec<&Text> = r.initial_option.iter().map(|o| &o.text).collect();
                texts.extend(options(&r.options));
                texts
            }
            Self::PlainTextInput(p) => p.placeholder.iter().collect(),
        }
    }
}

/// A button: it sends its `action_id` and `value` to the app, or opens its `url`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Button {
    /// Its label (plain text).
    pub text: Text,
    /// What the app is told was pressed.
    pub action_id: String,
    /// What the app is told with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// The page it opens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Its colour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub style: Option<Style>,
}

impl Button {
    /// A button labelled `text` that sends `action_id`.
    pub fn new(text: Text, action_id: impl Into<String>) -> Self {
        Self {
            text,
            action_id: action_id.into(),
            value: None,
            url: None,
            style: None,
        }
    }

    /// The same button, sending `value`.
    #[must_use]
    pub fn value(self, value: impl Into<String>) -> Self {
        Self {
            value: Some(value.into()),
            ..self
        }
    }

    /// The same button, opening `url`.
    #[must_use]
    pub fn url(self, url: impl Into<String>) -> Self {
        Self {
            url: Some(url.into()),
            ..self
        }
    }

    /// The same button, in `style`.
    #[must_use]
    pub fn style(self, style: Style) -> Self {
        Self {
            style: Some(style),
            ..self
        }
    }
}

impl From<Button> for Element {
    fn from(button: Button) -> Self {
        Self::Button(button)
    }
}

/// A button's colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Style {
    /// Green: the one affirmative action of a set.
    Primary,
    /// Red: a destructive action.
    Danger,
}

/// A menu of static options.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaticSelect {
    /// What the app is told was picked from.
    pub action_id: String,
    /// Shown before anything is picked (plain text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placeholder: Option<Text>,
    /// The options.
    pub options: Vec<OptionObject>,
}

/// A group of radio buttons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RadioButtons {
    /// What the app is told was picked from.
    pub action_id: String,
    /// The options.
    pub options: Vec<OptionObject>,
    /// The option picked at first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_option: Option<OptionObject>,
}

/// A text field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlainTextInput {
    /// What the answer is keyed by.
    pub action_id: String,
    /// Shown while it is empty (plain text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placeholder: Option<Text>,
    /// Whether it takes several lines.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub multiline: bool,
    /// The most characters it takes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<usize>,
}

/// One option of a menu or a group of radio buttons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptionObject {
    /// What it shows (plain text).
    pub text: Text,
    /// What the app is told when it is picked.
    pub value: String,
}

impl OptionObject {
    /// An option showing `text` (plain) and meaning `value`.
    pub fn new(text: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            text: Text::plain(text),
            value: value.into(),
        }
    }
}

/// A view the app opens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum View {
    /// A modal.
    Modal(Modal),
}

/// A modal view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Modal {
    /// What its submission is recognised by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_id: Option<String>,
    /// What Slack gives back with its submission.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_metadata: Option<String>,
    /// Its title (plain text).
    pub title: Text,
    /// The label of its submit button (plain text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submit: Option<Text>,
    /// The label of its close button (plain text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub close: Option<Text>,
    /// Its blocks.
    pub blocks: Vec<Block>,
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    /// `value` serialised is `expected`, and `expected` read back is `value`.
    fn assert_shape<T>(value: &T, expected: Value)
    where
        T: Serialize + for<'de> Deserialize<'de> + PartialEq + std::fmt::Debug,
    {
        assert_eq!(serde_json::to_value(value).unwrap(), expected);
        assert_eq!(&serde_json::from_value::<T>(expected).unwrap(), value);
    }

    #[test]
    fn text_objects_are_mrkdwn_or_plain_text_with_emoji_only_when_set() {
        assert_shape(
            &Text::mrkdwn("*bold*"),
            json!({"type": "mrkdwn", "text": "*bold*"}),
        );
        assert_shape(
            &Text::plain("Record"),
            json!({"type": "plain_text", "text": "Record"}),
        );
        assert_shape(
            &Text::plain_emoji("🚨 Alert"),
            json!({"type": "plain_text", "text": "🚨 Alert", "emoji": true}),
        );
    }

    #[test]
    fn a_header_and_a_divider_are_as_slack_documents_them() {
        assert_shape(
            &Block::Header {
                text: Text::plain_emoji("Budget Performance"),
            },
            json!({"type": "header", "text": {"type": "plain_text", "text": "Budget Performance", "emoji": true}}),
        );
        assert_shape(&Block::Divider, json!({"type": "divider"}));
    }

    #[test]
    fn a_section_has_a_text_or_fields_and_maybe_a_button_beside_it() {
        let button = Button::new(Text::plain("Open runbook"), "open").url("https://example.com/r");
        assert_shape(
            &Block::Section(Section {
                text: Some(Text::mrkdwn("A message *with some bold text*")),
                accessory: Some(button.into()),
                ..Section::default()
            }),
            json!({
                "type": "section",
                "text": {"type": "mrkdwn", "text": "A message *with some bold text*"},
                "accessory": {
                    "type": "button",
                    "text": {"type": "plain_text", "text": "Open runbook"},
                    "action_id": "open",
                    "url": "https://example.com/r",
                },
            }),
        );
        assert_shape(
            &Block::Section(Section {
                fields: Some(vec![
                    Text::mrkdwn("*Type:*\nPaid"),
                    Text::mrkdwn("*When:*\nNow"),
                ]),
                ..Section::default()
            }),
            json!({"type": "section", "fields": [
                {"type": "mrkdwn", "text": "*Type:*\nPaid"},
                {"type": "mrkdwn", "text": "*When:*\nNow"},
            ]}),
        );
    }

    #[test]
    fn a_context_holds_text_objects() {
        assert_shape(
            &Block::context(vec![Text::mrkdwn("Event `3f9a`")]),
            json!({"type": "context", "elements": [{"type": "mrkdwn", "text": "Event `3f9a`"}]}),
        );
    }

    #[test]
    fn actions_hold_buttons_with_a_value_and_a_style_and_selects_with_options() {
        let ack = Button::new(Text::plain_emoji("Acknowledge"), "ack")
            .value("m-1")
            .style(Style::Primary);
        let select = StaticSelect {
            action_id: "pick".into(),
            placeholder: Some(Text::plain("Pick one")),
            options: vec![OptionObject::new("orders-001", "m-1")],
        };
        assert_shape(
            &Block::Actions {
                elements: vec![ack.into(), Element::StaticSelect(select)],
            },
            json!({"type": "actions", "elements": [
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": "Acknowledge", "emoji": true},
                    "action_id": "ack",
                    "value": "m-1",
                    "style": "primary",
                },
                {
                    "type": "static_select",
                    "action_id": "pick",
                    "placeholder": {"type": "plain_text", "text": "Pick one"},
                    "options": [{"text": {"type": "plain_text", "text": "orders-001"}, "value": "m-1"}],
                },
            ]}),
        );
    }

    #[test]
    fn a_modal_holds_input_blocks_of_radio_buttons_and_text_fields() {
        let no = OptionObject::new("No", "no");
        let radio = Element::RadioButtons(RadioButtons {
            action_id: "site".into(),
            options: vec![no.clone(), OptionObject::new("Yes", "yes")],
            initial_option: Some(no),
        });
        let note = Element::PlainTextInput(PlainTextInput {
            action_id: "note".into(),
            placeholder: None,
            multiline: true,
            max_length: Some(3000),
        });
        let input = |block_id: &str, element, optional| {
            Block::Input(Input {
                block_id: block_id.into(),
                label: Text::plain("Label"),
                element,
                optional,
            })
        };
        let view = View::Modal(Modal {
            callback_id: Some("outcome".into()),
            private_metadata: Some("{}".into()),
            title: Text::plain("Record outcome"),
            submit: Some(Text::plain("Record")),
            close: None,
            blocks: vec![input("site", radio, false), input("note", note, true)],
        });
        let label = json!({"type": "plain_text", "text": "Label"});
        let (yes, no) = (
            json!({"text": {"type": "plain_text", "text": "Yes"}, "value": "yes"}),
            json!({"text": {"type": "plain_text", "text": "No"}, "value": "no"}),
        );
        assert_shape(
            &view,
            json!({
                "type": "modal",
                "callback_id": "outcome",
                "private_metadata": "{}",
                "title": {"type": "plain_text", "text": "Record outcome"},
                "submit": {"type": "plain_text", "text": "Record"},
                "blocks": [
                    {"type": "input", "block_id": "site", "label": label, "optional": false, "element":
                        {"type": "radio_buttons", "action_id": "site", "options": [no, yes], "initial_option": no}},
                    {"type": "input", "block_id": "note", "label": label, "optional": true, "element":
                        {"type": "plain_text_input", "action_id": "note", "multiline": true, "max_length": 3000}},
                ],
            }),
        );
    }

    #[test]
    fn the_texts_of_a_block_are_listed_in_the_order_of_its_json() {
        let mut block = Block::Section(Section {
            text: Some(Text::mrkdwn("text")),
            fields: Some(vec![Text::mrkdwn("field")]),
            accessory: Some(Button::new(Text::plain("button"), "b").into()),
        });
        let texts: Vec<&str> = block.texts().into_iter().map(Text::text).collect();
        assert_eq!(texts, ["button", "field", "text"]);
        let mrkdwn: Vec<String> = block.mrkdwn_mut().into_iter().map(|t| t.clone()).collect();
        assert_eq!(mrkdwn, ["field", "text"]);
    }
}
