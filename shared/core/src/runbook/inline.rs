//! The inline Markdown of runbook texts, read into spans so that every output format can show it
//! its own way.
//!
//! Runbook texts use a small subset: backslash escapes, code spans (`` `x` ``, fenced by any
//! number of backticks), strong emphasis (`**x**`) and links to `https://` pages
//! (`[text](https://…)`), which templates use to cite AWS's documentation. Anything else is
//! text. Values printed from events have `[`, `]` and `*` escaped, so they never form a link.

/// A piece of inline text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Span {
    /// Plain text, escapes resolved.
    Text(String),
    /// A code span's content.
    Code(String),
    /// Strong emphasis around more spans.
    Strong(Vec<Span>),
    /// A link: its text (escapes resolved) and an `https://` address without spaces, quotes,
    /// angle brackets or parentheses.
    Link {
        /// What the link says.
        text: String,
        /// Where it points.
        url: String,
    },
}

/// Reads inline Markdown into spans.
pub fn parse(markdown: &str) -> Vec<Span> {
    let chars: Vec<char> = markdown.chars().collect();
    parse_range(&chars, 0, chars.len())
}

/// The text of `spans` without any markup.
pub fn plain(spans: &[Span]) -> String {
    let mut out = String::new();
    for span in spans {
        match span {
            Span::Text(t) | Span::Code(t) => out.push_str(t),
            Span::Strong(inner) => out.push_str(&plain(inner)),
            Span::Link { text, url } => {
                out.push_str(text);
                out.push_str(" (");
                out.push_str(url);
                out.push(')');
            }
        }
    }
    out
}

/// Whether `url` may be a link's address: `https://`, then characters that need no escaping
/// in any output (no spaces, quotes, angle brackets, parentheses, pipes or backslashes).
fn link_address(url: &str) -> bool {
    url.len() > "https://".len()
        && url.starts_with("https://")
        && url
            .chars()
            .all(|c| c.is_ascii_graphic() && !"\"'<>()|\\`*[]{}".contains(c))
}

/// The link opened by `[` at `open`: its text, its address and the index after its `)`.
fn link_at(chars: &[char], open: usize, end: usize) -> Option<(String, String, usize)> {
    let mut text = String::new();
    let mut i = open + 1;
    loop {
        if i >= end {
            return None;
        }
        match chars[i] {
            '\\' if i + 1 < end && chars[i + 1].is_ascii_punctuation() => {
                text.push(chars[i + 1]);
                i += 2;
            }
            '[' | '`' | '*' => return None,
            ']' => break,
            c => {
                text.push(c);
                i += 1;
            }
        }
    }
    if text.trim().is_empty() || i + 1 >= end || chars[i + 1] != '(' {
        return None;
    }
    let start = i + 2;
    let close = (start..end).find(|&k| chars[k] == ')')?;
    let url: String = chars[start..close].iter().collect();
    link_address(&url).then_some((text, url, close + 1))
}

fn run_length(chars: &[char], at: usize, end: usize, mark: char) -> usize {
    chars[at..end].iter().take_while(|&&c| c == mark).count()
}

/// Where the code span opened by `ticks` backticks at `open` closes: the index of a run of
/// exactly `ticks` backticks.
fn code_close(chars: &[char], open: usize, ticks: usize, end: usize) -> Option<usize> {
    let mut i = open + ticks;
    while i < end {
        if chars[i] == '`' {
            let run = run_length(chars, i, end, '`');
            if run == ticks {
                return Some(i);
            }
            i += run;
        } else {
            i += 1;
        }
    }
    None
}

/// Where the strong emphasis opened at `open` closes: the next `**` outside code spans and
/// escapes.
fn strong_close(chars: &[char], open: usize, end: usize) -> Option<usize> {
    let mut i = open + 2;
    while i < end {
        match chars[i] {
            '\\' => i += 2,
            '`' => {
                let ticks = run_length(chars, i, end, '`');
                i = code_close(chars, i, ticks, end).map_or(i + ticks, |c| c + ticks);
            }
            '*' if i + 1 < end && chars[i + 1] == '*' => return Some(i),
            _ => i += 1,
        }
    }
    None
}

fn parse_range(chars: &[char], start: usize, end: usize) -> Vec<Span> {
    let mut spans = Vec::new();
    let mut text = String::new();
    let mut i = start;
    let flush = |text: &mut String, spans: &mut Vec<Span>| {
        if !text.is_empty() {
            spans.push(Span::Text(std::mem::take(text)));
        }
    };
    while i < end {
        let c = chars[i];
        match c {
            '\\' if i + 1 < end && chars[i + 1].is_ascii_punctuation() => {
                text.push(chars[i + 1]);
                i += 2;
            }
            '`' => {
                let ticks = run_length(chars, i, end, '`');
                match code_close(chars, i, ticks, end) {
                    Some(close) => {
                        flush(&mut text, &mut spans);
                        let mut content: String = chars[i + ticks..close].iter().collect();
                        if content.len() >= 2
                            && content.starts_with(' ')
                            && content.ends_with(' ')
                            && !content.trim().is_empty()
                        {
                            content = content[1..content.len() - 1].to_owned();
                        }
                        spans.push(Span::Code(content));
                        i = close + ticks;
                    }
                    None => {
                        text.extend(&chars[i..i + ticks]);
                        i += ticks;
                    }
                }
            }
            '*' if i + 1 < end && chars[i + 1] == '*' => match strong_close(chars, i, end) {
                Some(close) => {
                    flush(&mut text, &mut spans);
                    spans.push(Span::Strong(parse_range(chars, i + 2, close)));
                    i = close + 2;
                }
                None => {
                    text.push_str("**");
                    i += 2;
                }
            },
            '[' => match link_at(chars, i, end) {
                Some((link, url, next)) => {
                    flush(&mut text, &mut spans);
                    spans.push(Span::Link { text: link, url });
                    i = next;
                }
                None => {
                    text.push('[');
                    i += 1;
                }
            },
            c => {
                text.push(c);
                i += 1;
            }
        }
    }
    flush(&mut text, &mut spans);
    spans
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Span {
        Span::Text(s.into())
    }

    fn code(s: &str) -> Span {
        Span::Code(s.into())
    }

    #[test]
    fn escapes_code_and_strong_are_read() {
        let cases = [
            ("plain", vec![text("plain")]),
            (r"\<!channel\>", vec![text("<!channel>")]),
            (
                "run `DBSIZE` now",
                vec![text("run "), code("DBSIZE"), text(" now")],
            ),
            ("``a`b``", vec![code("a`b")]),
            ("`` `x` ``", vec![code("`x`")]),
            (
                "**Deadline: `x`** soon",
                vec![
                    Span::Strong(vec![text("Deadline: "), code("x")]),
                    text(" soon"),
                ],
            ),
            ("a ** b", vec![text("a ** b")]),
            ("`open", vec![text("`open")]),
            (r"\\`x`", vec![text("\\"), code("x")]),
            ("`**`", vec![code("**")]),
        ];
        for (raw, expected) in cases {
            assert_eq!(parse(raw), expected, "{raw}");
        }
    }

    #[test]
    fn links_to_https_pages_are_read_and_nothing_else_is() {
        let link = |t: &str, u: &str| Span::Link {
            text: t.into(),
            url: u.into(),
        };
        let cases = [
            (
                "see [Replacing nodes](https://docs.aws.amazon.com/x.html).",
                vec![
                    text("see "),
                    link("Replacing nodes", "https://docs.aws.amazon.com/x.html"),
                    text("."),
                ],
            ),
            (
                "[a](javascript:alert(1))",
                vec![text("[a](javascript:alert(1))")],
            ),
            ("[a](http://x.example)", vec![text("[a](http://x.example)")]),
            (
                r"\[a\](https://x.example)",
                vec![text("[a](https://x.example)")],
            ),
            (
                "[a](https://x.example/<b>)",
                vec![text("[a](https://x.example/<b>)")],
            ),
            ("[a] b", vec![text("[a] b")]),
        ];
        for (raw, expected) in cases {
            assert_eq!(parse(raw), expected, "{raw}");
        }
        assert_eq!(
            plain(&parse("[AWS](https://docs.aws.amazon.com/a)")),
            "AWS (https://docs.aws.amazon.com/a)"
        );
    }

    #[test]
    fn plain_text_drops_the_markup() {
        assert_eq!(plain(&parse(r"**Primary** `orders\`")), r"Primary orders\");
    }
}
