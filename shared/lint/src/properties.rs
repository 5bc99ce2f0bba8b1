//! Spring configuration read as `dotted.key=value` lines, whichever way it was written.
//!
//! `application.yml` nests keys by indentation; `application.properties` writes them dotted.
//! Rules with `view = "properties"` see both the same way: one `key=value` line per value,
//! each mapped back to the line it was written on. YAML is read for what configuration files
//! use (maps, lists of scalars, `---` between documents, comments); anything else is skipped,
//! not guessed.

/// A file flattened: its `key=value` lines and, for each, the original line (from 1).
pub struct Flattened {
    /// `key=value` lines, joined with `\n`.
    pub text: String,
    /// `lines[i]` is the original line of flattened line `i`.
    pub lines: Vec<usize>,
}

/// Flattens Spring configuration: YAML when `name` ends in `.yml` or `.yaml`, properties
/// otherwise.
pub fn flatten(name: &str, text: &str) -> Flattened {
    if name.ends_with(".yml") || name.ends_with(".yaml") {
        yaml(text)
    } else {
        properties(text)
    }
}

fn push(out: &mut Flattened, key: &str, value: &str, line: usize) {
    out.text.push_str(key);
    out.text.push('=');
    out.text.push_str(value);
    out.text.push('\n');
    out.lines.push(line);
}

fn properties(text: &str) -> Flattened {
    let mut out = Flattened {
        text: String::new(),
        lines: Vec::new(),
    };
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with('!') {
            continue;
        }
        let split = line.find(['=', ':']).unwrap_or(line.len());
        let key = line[..split].trim();
        let value = line.get(split + 1..).unwrap_or("").trim();
        push(&mut out, key, value, i + 1);
    }
    out
}

/// Strips a trailing ` # comment` that is not inside quotes.
fn strip_comment(line: &str) -> &str {
    let mut quote = None;
    let bytes = line.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match (quote, b) {
            (None, b'"' | b'\'') => quote = Some(b),
            (Some(q), c) if c == q => quote = None,
            (None, b'#') if i == 0 || bytes[i - 1] == b' ' || bytes[i - 1] == b'\t' => {
                return &line[..i];
            }
            _ => {}
        }
    }
    line
}

fn unquote(value: &str) -> &str {
    let v = value.trim();
    if v.len() >= 2
        && ((v.starts_with('"') && v.ends_with('"')) || (v.starts_with('\'') && v.ends_with('\'')))
    {
        &v[1..v.len() - 1]
    } else {
        v
    }
}

fn yaml(text: &str) -> Flattened {
    let mut out = Flattened {
        text: String::new(),
        lines: Vec::new(),
    };
    // The keys open above the current line, with their indentation.
    let mut open: Vec<(usize, String)> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        if raw.trim_start().starts_with("---") {
            open.clear();
            continue;
        }
        let line = strip_comment(raw).trim_end();
        let content = line.trim_start();
        if content.is_empty() {
            continue;
        }
        let indent = line.len() - content.len();
        let (indent, content) = match content.strip_prefix("- ") {
            Some(item) => {
                // A list may sit at its key's indentation (`key:` then `- item`).
                while open.last().is_some_and(|(at, _)| *at > indent) {
                    open.pop();
                }
                if !item.contains(": ") && !item.ends_with(':') {
                    let key = open
                        .iter()
                        .map(|(_, k)| k.as_str())
                        .collect::<Vec<_>>()
                        .join(".");
                    push(&mut out, &key, unquote(item), i + 1);
                    continue;
                }
                (indent + 2, item)
            }
            None => (indent, content),
        };
        while open.last().is_some_and(|(at, _)| *at >= indent) {
            open.pop();
        }
        let Some(colon) = content
            .find(": ")
            .or_else(|| content.ends_with(':').then(|| content.len() - 1))
        else {
            continue;
        };
        let key = unquote(&content[..colon]).to_string();
        let value = content[colon + 1..].trim();
        if value.is_empty() {
            open.push((indent, key));
        } else {
            let mut full: Vec<&str> = open.iter().map(|(_, k)| k.as_str()).collect();
            full.push(&key);
            push(&mut out, &full.join("."), unquote(value), i + 1);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_yaml_becomes_dotted_keys_on_their_own_lines() {
        let yml = "spring:\n  data:\n    redis:\n      cluster:\n        nodes:\n          - a:6379 # first\n          - b:6379\n      timeout: 2s\nmanagement:\n  health:\n    redis:\n      enabled: false\n";
        let flat = flatten("application.yml", yml);
        assert_eq!(
            flat.text,
            "spring.data.redis.cluster.nodes=a:6379\nspring.data.redis.cluster.nodes=b:6379\nspring.data.redis.timeout=2s\nmanagement.health.redis.enabled=false\n"
        );
        assert_eq!(flat.lines, vec![6, 7, 8, 12]);
    }

    #[test]
    fn properties_keep_their_keys_and_lines() {
        let props = "# comment\nspring.redis.cluster.nodes=a:1,b:2\n\nmanagement.health.redis.enabled : true\n";
        let flat = flatten("application.properties", props);
        assert_eq!(
            flat.text,
            "spring.redis.cluster.nodes=a:1,b:2\nmanagement.health.redis.enabled=true\n"
        );
        assert_eq!(flat.lines, vec![2, 4]);
    }

    #[test]
    fn documents_start_again_after_a_separator() {
        let yml = "spring:\n  profiles: a\n---\nmanagement:\n  endpoint:\n    health:\n      group:\n        liveness:\n          include: livenessState,redis\n";
        let flat = flatten("application.yaml", yml);
        assert!(
            flat.text.contains(
                "management.endpoint.health.group.liveness.include=livenessState,redis\n"
            )
        );
    }
}
