//! Text helpers shared by the string functions: splitting into user-perceived characters
//! (Terraform counts `length`, `substr` and `format` widths in grapheme clusters) and the
//! Go string behaviours Terraform inherits (`strings.Title`, simple case mapping).
//!
//! The grapheme segmentation is an approximation of Unicode's extended grapheme clusters
//! that needs no tables: combining marks, variation selectors, emoji modifiers, zero-width
//! joiner sequences, regional-indicator pairs and CRLF stay together.

/// Splits `s` into grapheme clusters.
pub(super) fn graphemes(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut prev: Option<char> = None;
    let mut regional_run = 0;
    for (i, c) in s.char_indices() {
        let joins = match prev {
            None => false,
            Some(p) => {
                (p == '\r' && c == '\n')
                    || is_extender(c)
                    || (p == '\u{200D}' && is_pictographic(c))
                    || (is_regional(p) && is_regional(c) && regional_run % 2 == 1)
            }
        };
        if !joins && i > 0 {
            out.push(&s[start..i]);
            start = i;
            regional_run = 0;
        }
        if is_regional(c) {
            regional_run += 1;
        }
        prev = Some(c);
    }
    if start < s.len() {
        out.push(&s[start..]);
    }
    out
}

/// The number of grapheme clusters in `s`.
pub(super) fn grapheme_count(s: &str) -> usize {
    graphemes(s).len()
}

/// Characters that attach to the preceding one.
fn is_extender(c: char) -> bool {
    matches!(c as u32,
        0x0300..=0x036F // combining diacritical marks
        | 0x0483..=0x0489
        | 0x0591..=0x05BD | 0x05BF | 0x05C1..=0x05C2 | 0x05C4..=0x05C5 | 0x05C7
        | 0x0610..=0x061A | 0x064B..=0x065F | 0x0670 | 0x06D6..=0x06DC | 0x06DF..=0x06E4
        | 0x06E7..=0x06E8 | 0x06EA..=0x06ED
        | 0x0900..=0x0903 | 0x093A..=0x094F | 0x0951..=0x0957 | 0x0962..=0x0963
        | 0x0981..=0x0983 | 0x09BC..=0x09D7 | 0x0A01..=0x0A03 | 0x0A3C..=0x0A51
        | 0x0E31 | 0x0E34..=0x0E3A | 0x0E47..=0x0E4E
        | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF
        | 0x200C..=0x200D // zero-width non-joiner and joiner
        | 0x20D0..=0x20FF
        | 0x302A..=0x302F | 0x3099..=0x309A
        | 0xFE00..=0xFE0F // variation selectors
        | 0xFE20..=0xFE2F
        | 0x1F3FB..=0x1F3FF // emoji skin-tone modifiers
        | 0xE0020..=0xE007F // emoji tag sequences
        | 0xE0100..=0xE01EF
    )
}

fn is_regional(c: char) -> bool {
    matches!(c as u32, 0x1F1E6..=0x1F1FF)
}

/// Characters that can follow a zero-width joiner in an emoji sequence.
fn is_pictographic(c: char) -> bool {
    matches!(c as u32, 0x2190..=0x2BFF | 0x1F000..=0x1FAFF)
}

/// Go's `strings.Title`: upper-cases the first letter of each word, leaving the rest alone.
pub(super) fn title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev_separator = true;
    for c in s.chars() {
        if prev_separator {
            out.push(simple_upper(c));
        } else {
            out.push(c);
        }
        prev_separator = is_word_separator(c);
    }
    out
}

/// Go's word separator rule for `strings.Title`.
fn is_word_separator(c: char) -> bool {
    if c.is_ascii() {
        return !(c.is_ascii_alphanumeric() || c == '_');
    }
    if c.is_alphanumeric() {
        return false;
    }
    c.is_whitespace()
}

/// Go's `unicode.ToUpper`: one character in, one character out (so `ß` stays `ß`).
pub(super) fn simple_upper(c: char) -> char {
    let mut upper = c.to_uppercase();
    match (upper.next(), upper.next()) {
        (Some(u), None) => u,
        _ => c,
    }
}

/// Go's `unicode.ToLower`.
pub(super) fn simple_lower(c: char) -> char {
    let mut lower = c.to_lowercase();
    match (lower.next(), lower.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

/// A string quoted for an error message, like Go's `%q`.
pub(super) fn quote(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graphemes_keep_clusters_together() {
        assert_eq!(graphemes("hello"), vec!["h", "e", "l", "l", "o"]);
        assert_eq!(graphemes(""), Vec::<&str>::new());
        assert_eq!(grapheme_count("👾🕹️"), 2);
        assert_eq!(grapheme_count("💃🏿"), 1);
        assert_eq!(grapheme_count("e\u{301}a"), 2);
        assert_eq!(grapheme_count("🇫🇷🇩🇪"), 2);
        assert_eq!(grapheme_count("👩‍👩‍👧"), 1);
        assert_eq!(grapheme_count("a\r\nb"), 3);
        assert_eq!(grapheme_count("日本語"), 3);
    }

    #[test]
    fn title_matches_go() {
        assert_eq!(title("hello world"), "Hello World");
        assert_eq!(title("hELLO wORLD"), "HELLO WORLD");
        assert_eq!(title("foo-bar_baz x.y"), "Foo-Bar_baz X.Y");
        assert_eq!(title("élan vital"), "Élan Vital");
    }

    #[test]
    fn case_mapping_is_one_to_one() {
        assert_eq!(simple_upper('ß'), 'ß');
        assert_eq!(simple_upper('а'), 'А');
        assert_eq!(simple_lower('Ä'), 'ä');
        assert_eq!(quote("a\"b"), "\"a\\\"b\"");
    }
}
