//! The Slack messages end to end: every case rendered against golden files, what each message
//! must say, what text from events can and cannot do to it, and Slack's limits held for any
//! input.

mod cases;
mod content;
#[path = "../common/diff.rs"]
mod diff;
mod escaping;
mod golden;
mod properties;
#[path = "../common/scenes.rs"]
mod scenes;
