//! Characters that change how text looks without being seen: zero-width characters, bidirectional
//! controls (which reorder what follows them), and other format characters. In an identifier they
//! make look-alike names (`orders` and `orders` with a zero-width space); in a message they can
//! make a text read differently from what it says. Identifiers refuse them; free text keeps them
//! as written and shows each as `[U+202E]` wherever it is shown to people.

use std::borrow::Cow;

/// Whether `c` is invisible or reorders text: Unicode's format characters (category Cf: the
/// bidirectional embeddings, overrides, isolates and marks, zero-width spaces and joiners, the
/// byte-order mark, the soft hyphen, invisible operators, tag characters), the line and paragraph
/// separators, variation selectors and the Hangul fillers that render as blanks.
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{110BD}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}'
    ) || ('\u{0600}'..='\u{0605}').contains(&c)
        || c == '\u{06DD}'
        || c == '\u{070F}'
        || c == '\u{08E2}'
}

/// `text` with each invisible character written out as `[U+XXXX]`, so that what is shown is
/// what is there.
pub fn shown(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_invisible) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if is_invisible(c) {
            out.push_str(&format!("[U+{:04X}]", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bidi_controls_and_zero_width_characters_are_shown() {
        assert_eq!(
            shown("orders\u{200B}-001 \u{202E}tset\u{202C}"),
            "orders[U+200B]-001 [U+202E]tset[U+202C]"
        );
        assert_eq!(
            shown("\u{2066}a\u{2069}\u{FEFF}"),
            "[U+2066]a[U+2069][U+FEFF]"
        );
    }

    #[test]
    fn ordinary_text_of_any_script_is_left_alone() {
        for text in [
            "orders-0001-001",
            "Кэш узел",
            "キャッシュ",
            "café",
            "a b\tc",
        ] {
            assert!(matches!(shown(text), Cow::Borrowed(_)), "{text}");
        }
    }
}
