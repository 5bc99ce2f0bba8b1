//! The runbooks end to end: every template and topology rendered against golden files, which
//! template is chosen for which event, overrides by file, and what event text can and cannot do
//! to the output.

mod cases;
#[path = "../common/diff.rs"]
mod diff;
mod escaping;
mod golden;
mod overrides;
mod rules;
#[path = "../common/scenes.rs"]
mod scenes;
mod selection;
