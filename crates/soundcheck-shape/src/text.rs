//! Text from users (layer names and types of a spec, file names) shown on a terminal. A name
//! holding an ANSI or OSC escape or a NUL would otherwise be sent raw, recolouring or retitling
//! the terminal or hiding text; ripgrep and cargo print such bytes escaped, and so does this.

use std::borrow::Cow;

/// `text` with every control character except line breaks and tabs (which lay out reports)
/// written as an escape: `\x1b` for ASCII ones (NUL is `\x00`), `\u{9b}` for the others.
/// Text without any is returned as it is.
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    let escaped = |c: char| c.is_control() && c != '\n' && c != '\t';
    if !text.chars().any(escaped) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            c if !escaped(c) => out.push(c),
            c if c.is_ascii() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_layout_kept() {
        assert_eq!(
            escape_controls("a\u{1b}[31mred\u{1b}]0;title\u{7}\0\u{9b}\n\tb"),
            "a\\x1b[31mred\\x1b]0;title\\x07\\x00\\u{9b}\n\tb"
        );
        assert!(matches!(escape_controls("plain é\n"), Cow::Borrowed(_)));
    }
}
