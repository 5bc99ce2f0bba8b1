//! The pages' templates (under `templates/`, built into the binary) and the one environment that
//! renders them. Every value printed into an `.html` or `.svg` template is escaped for HTML, with
//! invisible and bidirectional characters written out (see [`escape::html`]); only HTML this code
//! wrote itself from escaped parts is passed in as safe.

use std::sync::OnceLock;

use cachewatch_core::runbook::escape;
use minijinja::{Environment, Value};
use serde::Serialize;

/// The templates, by name: the name's extension decides the escaping (`.html` and `.svg`: HTML).
const TEMPLATES: [(&str, &str); 4] = [
    ("page.html", include_str!("templates/page.html")),
    ("runbook.html", include_str!("templates/runbook.html")),
    ("history.html", include_str!("templates/history.html")),
    ("timeline.svg", include_str!("templates/timeline.svg")),
];

fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| escape::html_templates(&TEMPLATES).expect("the pages' templates are valid"))
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
    use minijinja::AutoEscape;

    #[test]
    fn every_embedded_template_is_escaped_for_html() {
        for (name, _) in TEMPLATES {
            let template = environment().get_template(name).unwrap();
            let state = template.new_state();
            assert_eq!(*state.auto_escape(), AutoEscape::Html, "{name}");
        }
    }
}
