//! Escaping for every place a value from an event can land: Markdown text, a Markdown code span
//! or fenced block, a shell word, Slack mrkdwn and HTML.
//!
//! Identifiers and texts that come from events are kept as written (see [`crate::model::ids`]), so a
//! cluster may be named `<!channel>` or `$(reboot)`. Each function here makes such a value inert
//! in one output: it reads as the same characters and never as structure (a heading, a step, a
//! mention, a tag, a second shell command).

/// Characters that carry meaning in Markdown text and are escaped with a backslash.
const MARKDOWN_SPECIAL: &[char] = &['\\', '`', '*', '_', '[', ']', '<', '>', '~', '&', '|'];

/// Control characters (newlines included) become spaces: a value stays on its line.
fn one_line(raw: &str) -> impl Iterator<Item = char> + '_ {
    raw.chars().map(|c| if c.is_control() { ' ' } else { c })
}

/// `raw` as Markdown text that reads as itself: special characters backslash-escaped, line
/// breaks flattened, and a leading list or quote marker neutralised.
pub fn markdown_text(raw: &str) -> String {
    let raw = crate::model::invisible::shown(raw);
    let mut out = String::with_capacity(raw.len() + 8);
    for (i, c) in one_line(&raw).enumerate() {
        if MARKDOWN_SPECIAL.contains(&c) || (i == 0 && matches!(c, '-' | '+' | '#')) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The longest run of `mark` in `text`.
fn longest_run(text: &str, mark: char) -> usize {
    let (mut best, mut run) = (0, 0);
    for c in text.chars() {
        run = if c == mark { run + 1 } else { 0 };
        best = best.max(run);
    }
    best
}

/// `raw` as a Markdown code span: fenced by more backticks than it contains, padded when it
/// starts or ends with a backtick, on one line.
pub fn code_span(raw: &str) -> String {
    let text: String = one_line(raw).collect();
    if text.trim().is_empty() {
        return "` `".to_owned();
    }
    let fence = "`".repeat(longest_run(&text, '`') + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

/// `raw` as a fenced Markdown block with the info string `info`, fenced by more backticks than
/// any run in it, so no line of it can close the block. Ends with a newline.
pub fn fenced_block(raw: &str, info: &str) -> String {
    let body: String = raw
        .chars()
        .map(|c| if c.is_control() && c != '\n' { ' ' } else { c })
        .collect();
    let fence = "`".repeat((longest_run(&body, '`') + 1).max(3));
    let mut out = format!("{fence}{info}\n");
    for line in body.lines() {
        out.push_str(line);
        out.push('\n');
    }
    out.push_str(&fence);
    out.push('\n');
    out
}

/// Whether a shell would read `c` as itself, unquoted.
fn shell_plain(c: char) -> bool {
    c.is_ascii_alphanumeric() || "@%+=:,./_-".contains(c)
}

/// `raw` as one shell word: as is when it is plain, else single-quoted. Control characters,
/// which no ElastiCache identifier contains, become `?`, so the command stays on one line.
pub fn shell_word(raw: &str) -> String {
    let text: String = raw
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if !text.is_empty() && text.chars().all(shell_plain) {
        return text;
    }
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// `raw` for Slack mrkdwn: `&`, `<` and `>` as entities, so nothing becomes a mention, a
/// channel ping or a link.
pub fn slack(raw: &str) -> String {
    with_entities(raw, markup_entity)
}

/// `raw` for HTML text and attribute values; invisible and bidirectional characters written out
/// (`[U+202E]`), so that a page shows what the text holds.
pub fn html(raw: &str) -> String {
    let raw = crate::model::invisible::shown(raw);
    with_entities(&raw, |c| match c {
        '"' => Some("&quot;"),
        '\'' => Some("&#39;"),
        c => markup_entity(c),
    })
}

/// The entity of `c` where it would start markup (`&`, `<`, `>`), in Slack's mrkdwn as in HTML.
fn markup_entity(c: char) -> Option<&'static str> {
    match c {
        '&' => Some("&amp;"),
        '<' => Some("&lt;"),
        '>' => Some("&gt;"),
        _ => None,
    }
}

/// `raw` with each character that `entity` names written as that entity.
fn with_entities(raw: &str, entity: impl Fn(char) -> Option<&'static str>) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        match entity(c) {
            Some(e) => out.push_str(e),
            None => out.push(c),
        }
    }
    out
}

/// A template environment for HTML and SVG: templates whose names end in `.html` or `.svg` print
/// every value escaped with [`html`] unless it was marked safe (HTML written here from escaped
/// parts); blocks trim their own line; an undefined value is an error, not an empty string.
pub fn html_templates(
    templates: &[(&'static str, &'static str)],
) -> Result<minijinja::Environment<'static>, minijinja::Error> {
    use minijinja::{AutoEscape, Environment, UndefinedBehavior};
    let mut env = Environment::new();
    let syntax = minijinja::syntax::SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .keep_trailing_newline(true)
        .build()?;
    env.set_syntax(syntax);
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".html") || name.ends_with(".svg") {
            AutoEscape::Html
        } else {
            AutoEscape::None
        }
    });
    env.set_formatter(|out, state, value| {
        if value.is_none() {
            return Ok(());
        }
        let text = if value.is_safe() || *state.auto_escape() == AutoEscape::None {
            value.to_string()
        } else {
            html(&value.to_string())
        };
        out.write_str(&text)
            .map_err(|e| minijinja::Error::new(minijinja::ErrorKind::WriteFailure, e.to_string()))
    });
    for (name, source) in templates {
        env.add_template(name, source)?;
    }
    Ok(env)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Asserts that `escape` turns each case's raw text into the text beside it.
    fn each_case(escape: fn(&str) -> String, cases: &[(&str, &str)]) {
        for (raw, expected) in cases {
            assert_eq!(escape(raw), *expected, "{raw:?}");
        }
    }

    #[test]
    fn markdown_text_escapes_structure_and_flattens_lines() {
        let cases = [
            ("orders-0001-002", "orders-0001-002"),
            ("<!channel>", r"\<!channel\>"),
            ("a*b_c`d", r"a\*b\_c\`d"),
            ("- [app] forged", r"\- \[app\] forged"),
            ("# heading", r"\# heading"),
            ("line\n## two", "line ## two"),
            (r"back\slash", r"back\\slash"),
        ];
        each_case(markdown_text, &cases);
    }

    #[test]
    fn code_spans_are_fenced_longer_than_their_content() {
        let cases = [
            ("orders", "`orders`"),
            ("a`b", "``a`b``"),
            ("`edge`", "`` `edge` ``"),
            ("x```y", "````x```y````"),
            ("two\nlines", "`two lines`"),
            ("", "` `"),
        ];
        each_case(code_span, &cases);
    }

    #[test]
    fn fenced_blocks_cannot_be_closed_from_inside() {
        let block = fenced_block("first\n```\nstill inside", "text");
        assert_eq!(block, "````text\nfirst\n```\nstill inside\n````\n");
    }

    #[test]
    fn shell_words_are_quoted_only_when_needed() {
        let cases = [
            ("orders-0001-002", "orders-0001-002"),
            ("us-east-1", "us-east-1"),
            ("", "''"),
            ("a b", "'a b'"),
            ("$(reboot)", "'$(reboot)'"),
            ("it's", r"'it'\''s'"),
            ("`x`;y", "'`x`;y'"),
            ("new\nline", "'new?line'"),
        ];
        each_case(shell_word, &cases);
    }

    #[test]
    fn slack_and_html_escape_their_markup() {
        assert_eq!(
            slack("<!channel> & <@U1>"),
            "&lt;!channel&gt; &amp; &lt;@U1&gt;"
        );
        assert_eq!(
            html(r#"<script>"x" & 'y'"#),
            "&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39;"
        );
    }
}
