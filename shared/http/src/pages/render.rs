//! The pages' templates (under `templates/`, built into the binary) and the one environment that
//! renders them. Every value printed into an `.html` or `.svg` template is escaped for HTML, with
//! invisible and bidirectional characters written out (see [`escape::html`]); only HTML this code
//! wrote itself from escaped parts is passed in as safe.

use std::sync::OnceLock;

use cachewatch_core::runbook::escape;
use minijinja::{AutoEscape, Environment, UndefinedBehavior, Value};
use serde::Serialize;

/// The templates, by name: the name's extension decides the escaping.
const TEMPLATES: [(&str, &str); 4] = [
    ("page.html", include_str!("templates/page.html")),
    ("runbook.html", include_str!("templates/runbook.html")),
    ("history.html", include_str!("templates/history.html")),
    ("timeline.svg", include_str!("templates/timeline.svg")),
];

/// How a template's name says it is escaped: HTML for `.html` and `.svg`, nothing else exists.
fn auto_escape(name: &str) -> AutoEscape {
    if name.ends_with(".html") || name.ends_with(".svg") {
        AutoEscape::Html
    } else {
        AutoEscape::None
    }
}

fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        let syntax = minijinja::syntax::SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .keep_trailing_newline(true)
            .build()
            .expect("the default delimiters always make a valid syntax");
        env.set_syntax(syntax);
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_auto_escape_callback(auto_escape);
        env.set_formatter(|out, state, value| {
            if value.is_none() {
                return Ok(());
            }
            let text = if value.is_safe() || *state.auto_escape() == AutoEscape::None {
                value.to_string()
            } else {
                escape::html(&value.to_string())
            };
            out.write_str(&text).map_err(|e| {
                minijinja::Error::new(minijinja::ErrorKind::WriteFailure, e.to_string())
            })
        });
        for (name, source) in TEMPLATES {
            env.add_template(name, source)
                .expect("the pages' templates are valid");
        }
        env
    })
}

/// A view-model for a template.
pub(super) fn view(model: &impl Serialize) -> Value {
    Value::from(minijinja::value::Serde(model))
}

/// HTML this code wrote from escaped parts, to print as is.
pub(super) fn safe(html: String) -> Value {
    Value::from_safe_string(html)
}

/// The template `name` filled with `view`.
pub(super) fn render(name: &str, view: Value) -> String {
    environment()
        .get_template(name)
        .and_then(|t| t.render(view))
        .unwrap_or_else(|e| panic!("the page template {name} renders: {e:#}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_template_is_escaped_for_html() {
        for (name, _) in TEMPLATES {
            assert_eq!(auto_escape(name), AutoEscape::Html, "{name}");
            let template = environment().get_template(name).unwrap();
            let state = template.new_state();
            assert_eq!(*state.auto_escape(), AutoEscape::Html, "{name}");
        }
    }
}
